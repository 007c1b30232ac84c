/**
 * Which activity tasks a worker takes first when its task queue has a backlog (Temporal's task
 * queue priority: key 1 goes first, 3 is the default). One pool of activity slots serves every
 * step, and a release step holds its slot for as long as it waits (for a helm slot, or for
 * helm-controller). Under a burst of creates the backlog is release steps; the steps that finish
 * work already started (recording an applied release, loading the desired state) must not queue
 * behind it, or a release applied minutes ago is reported ready only when the whole burst has
 * been applied. So bookkeeping goes first, then the short cluster steps, then releases.
 *
 * The server orders only what it holds: with its priority matcher off (`matching.useNewMatcher`,
 * see docs/OPERATIONS.md) the queue stays first-in first-out and nothing else changes. Priority
 * is not part of a workflow's determinism: histories recorded without it replay unchanged.
 */
import type { Priority } from '@temporalio/common';

/** Postgres bookkeeping, a few milliseconds each; and the cluster watcher, which must always run. */
export const BOOKKEEPING: Priority = { priorityKey: 1 };
/** Cluster steps of a deployment: its namespace, a hold, an uninstall and a namespace deletion. */
export const CLUSTER_STEP: Priority = { priorityKey: 2 };
/** Applying a release: the long steps, which wait for a helm slot or for helm-controller. */
export const RELEASE_STEP: Priority = { priorityKey: 3 };
