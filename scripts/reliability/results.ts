/**
 * Results of the reliability suites (test/reliability): one JSON file per scenario under
 * `.local/reliability/results/` (git-ignored), written by the suites and read by
 * `npm run reliability:report`, which turns them into docs/RELIABILITY.md.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../stack/paths';

export const RESULTS_DIR = join(REPO_ROOT, '.local', 'reliability', 'results');

export type Outcome = 'passed' | 'failed' | 'skipped';
export type Category = 'fault' | 'race' | 'bad input' | 'authorization' | 'secrets' | 'least privilege';

export interface ScenarioMeta {
  /** Stable key, also the file name. */
  id: string;
  /** Row title in the report. */
  title: string;
  category: Category;
  /** What was counted: deployments in flight, requests, cases. */
  runs: number;
  unit: string;
  /** The spec file that produced it. */
  spec: string;
}

export interface ScenarioResult extends ScenarioMeta {
  outcome: Outcome;
  durationMs: number;
  /** What was observed (counts, timings), one short clause per item. */
  notes: string[];
  error?: string;
  finishedAt: string;
}

/** Every scenario, in report order; one without a result shows as "not run". */
export const SCENARIOS: Pick<ScenarioMeta, 'id' | 'title' | 'category' | 'spec'>[] = [
  { id: 'fault-1-kill-install', title: 'Worker SIGKILLed during helm install', category: 'fault', spec: 'test/reliability/worker-kill.rel-spec.ts' },
  { id: 'fault-2-kill-upgrade', title: 'Worker SIGKILLed during helm upgrade', category: 'fault', spec: 'test/reliability/worker-kill.rel-spec.ts' },
  { id: 'fault-3-temporal-restart', title: 'Temporal server restarted', category: 'fault', spec: 'test/reliability/temporal-restart.rel-spec.ts' },
  { id: 'fault-4-kube-outage', title: 'Kubernetes API unavailable for 60 s', category: 'fault', spec: 'test/reliability/kube-outage.rel-spec.ts' },
  { id: 'fault-5-postgres-outage', title: 'Postgres unavailable for 30 s during status write-back', category: 'fault', spec: 'test/reliability/postgres-outage.rel-spec.ts' },
  { id: 'fault-6-lost-signal', title: 'API restarted between the DB commit and the signal', category: 'fault', spec: 'test/reliability/lost-signal.rel-spec.ts' },
  { id: 'fault-7-stuck-delete', title: 'DELETE whose signal was lost on a deployment that failed for good', category: 'fault', spec: 'test/reliability/stuck-delete.rel-spec.ts' },
  { id: 'fault-8-two-workers-one-killed', title: 'Two workers share a burst of 50 creates; one is SIGKILLed mid-burst', category: 'fault', spec: 'test/reliability/two-workers.rel-spec.ts' },
  {
    id: 'fault-9-watcher-failover',
    title: "The cluster watcher's worker is SIGKILLed; a change made meanwhile is corrected once the watch moved",
    category: 'fault',
    spec: 'test/reliability/watcher-failover.rel-spec.ts',
  },
  {
    id: 'fault-10-delete-during-install',
    title: 'DELETE while helm installs releases that cannot become ready',
    category: 'fault',
    spec: 'test/reliability/delete-during-install.rel-spec.ts',
  },
  { id: 'race-values-upgrade', title: '50 concurrent values updates racing an upgrade on one deployment', category: 'race', spec: 'test/reliability/races.rel-spec.ts' },
  { id: 'race-if-match', title: 'Concurrent writers with the same If-Match generation', category: 'race', spec: 'test/reliability/races.rel-spec.ts' },
  { id: 'race-create-delete', title: 'Concurrent creates of one domain name; updates racing a delete', category: 'race', spec: 'test/reliability/races.rel-spec.ts' },
  { id: 'bad-input-catalogue', title: 'Bad-input catalogue over every route', category: 'bad input', spec: 'test/reliability/bad-input.rel-spec.ts' },
  { id: 'authorization-gaps', title: 'Authorization of the routes the e2e matrix does not list', category: 'authorization', spec: 'test/reliability/authorization.rel-spec.ts' },
  { id: 'secrets-never-leak', title: 'A secret value never appears in responses, logs, events, history or helm output', category: 'secrets', spec: 'test/reliability/secrets.rel-spec.ts' },
  {
    id: 'secret-client-envelope-refused',
    title: 'A client-made $caelusEncrypted envelope in values, defaults or a schema is a 400, nothing written',
    category: 'bad input',
    spec: 'test/reliability/secret-envelopes.rel-spec.ts',
  },
  { id: 'secret-envelope-bound', title: 'An envelope copied into another deployment row with SQL does not open there', category: 'secrets', spec: 'test/reliability/secret-envelopes.rel-spec.ts' },
  {
    id: 'secret-schema-constructs',
    title: 'Secrets under every schema construct and in template defaults: sealed, redacted, in clear only for helm',
    category: 'secrets',
    spec: 'test/reliability/secret-envelopes.rel-spec.ts',
  },
  {
    id: 'secret-encoded-helm-error',
    title: 'A secret helm errors print Go-quoted or in base64 stays out of lastError, events, logs and history',
    category: 'secrets',
    spec: 'test/reliability/secret-envelopes.rel-spec.ts',
  },
  { id: 'least-privilege-worker', title: 'Worker under the chart’s ServiceAccount: create, upgrade, drift, delete', category: 'least privilege', spec: 'test/reliability/least-privilege.rel-spec.ts' },
  {
    id: 'least-privilege-confinement-by-rbac',
    title: 'Confinement check off: the API server forbids a tenant object in another namespace and a cluster-scoped one',
    category: 'least privilege',
    spec: 'test/reliability/least-privilege.rel-spec.ts',
  },
];

export function readResults(dir = RESULTS_DIR): ScenarioResult[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  } catch {
    return [];
  }
  return files.map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as ScenarioResult);
}
