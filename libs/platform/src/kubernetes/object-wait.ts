import { setTimeout as sleep } from 'node:timers/promises';

import type { KubeClient } from './kube.client';
import type { KubeObject, ObjectRef } from './kube.types';

/** The two calls a wait makes: a list (the object and where its watch starts), and the watch. */
export type ObjectWaitClient = Pick<KubeClient, 'listWithVersion' | 'watchObjects'>;

export interface ObjectWaitOptions {
  /** Epoch ms after which the wait gives up with `timeoutError()`. */
  deadline: number;
  timeoutError: () => Error;
  signal?: AbortSignal;
  /** How long one watch request lasts before the API server ends it and the next starts (default 120 s). */
  watchSeconds?: number;
  /** The pause before listing again after a watch failed (default 1 s). */
  retryPauseMs?: number;
}

/**
 * Waits, through watches, until `decide` returns something for the objects `refs` name (each
 * undefined while it does not exist). `decide` runs once on what the first lists read, then on
 * every change of any of the objects, in order; it may throw to end the wait with its error.
 *
 * Each object is followed on a watch of its own, narrowed to its name by a field selector, so a
 * wait costs one list and one long-running request per object however long it lasts. A watch the
 * server ends is resumed from its last resourceVersion; one that fails (410 Expired, the
 * connection lost) lists the object again and watches from there, so no change is missed.
 */
export async function waitForObjects<T>(kube: ObjectWaitClient, refs: readonly ObjectRef[], decide: (objects: (KubeObject | undefined)[]) => T | undefined, options: ObjectWaitOptions): Promise<T> {
  options.signal?.throwIfAborted();
  const latest: (KubeObject | undefined)[] = refs.map(() => undefined);
  const versions: string[] = refs.map(() => '');
  const stop = new AbortController();
  let outcome: { value: T } | { error: unknown } | undefined;
  const evaluate = () => {
    if (outcome) return;
    try {
      const value = decide(latest);
      if (value !== undefined) outcome = { value };
    } catch (error) {
      outcome = { error };
    }
    if (outcome) stop.abort();
  };
  const list = async (i: number) => {
    const ref = refs[i];
    const { items, resourceVersion } = await kube.listWithVersion(ref.apiVersion, ref.kind, { namespace: ref.namespace, fieldSelector: `metadata.name=${ref.name}` });
    latest[i] = items[0];
    versions[i] = resourceVersion;
  };
  const follow = async (i: number) => {
    const ref = refs[i];
    const watchSeconds = options.watchSeconds ?? 120;
    while (!stop.signal.aborted) {
      try {
        await kube.watchObjects(
          ref.apiVersion,
          ref.kind,
          {
            namespace: ref.namespace!,
            fieldSelector: `metadata.name=${ref.name}`,
            resourceVersion: versions[i],
            timeoutSeconds: watchSeconds,
            // Bookmarks come about once a minute; a stream silent past its own end is stuck.
            idleTimeoutMs: (watchSeconds + 30) * 1000,
            signal: stop.signal,
          },
          (event) => {
            versions[i] = event.object.metadata?.resourceVersion || versions[i];
            if (event.type === 'BOOKMARK') return;
            latest[i] = event.type === 'DELETED' ? undefined : event.object;
            evaluate();
          },
        );
      } catch {
        if (stop.signal.aborted) return;
        await sleep(options.retryPauseMs ?? 1000, undefined, { signal: stop.signal }).catch(() => undefined);
        if (stop.signal.aborted) return;
        // What changed while no watch ran is in the list; a failed list is tried again next round.
        const listed = await list(i).then(
          () => true,
          () => false,
        );
        if (listed) evaluate();
      }
    }
  };

  await Promise.all(refs.map((_, i) => list(i)));
  evaluate();
  if (!outcome) {
    const onAbort = () => stop.abort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => stop.abort(), Math.max(0, options.deadline - Date.now()));
    try {
      await Promise.all(refs.map((_, i) => follow(i)));
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      stop.abort();
    }
  }
  if (outcome && 'value' in outcome) return outcome.value;
  if (outcome) throw outcome.error;
  options.signal?.throwIfAborted();
  throw options.timeoutError();
}
