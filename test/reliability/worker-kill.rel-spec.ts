/**
 * Faults 1 and 2: the worker SIGKILLed (its whole process group, helm included, as when its pod
 * dies) while helm installs ten releases, and again while it upgrades them. A new worker must
 * unlock the releases helm left pending and bring every deployment to the state last asked for.
 *
 * Each helm run holds its release pending for a few seconds only, and on a busy two-core machine
 * the ten runs are staggered, so few would be pending at any one moment. A gate makes the moment
 * certain: the releases' PersistentVolumeClaims ask for a storage class nothing provisions, so
 * `helm --wait` holds every release pending until the test binds a PersistentVolume to the claim.
 * The kill comes while all ten wait; the gate opens afterwards, for the new worker.
 */
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exampleChart, REPO } from '../support/lifecycle';
import { convergenceProblems, createDeployments, deleteFleet, Deployment, readyAt, RelSuite, releasesPending, startRelSuite, StorageGate, waitAll, waitForPendingUnderHelm } from './support/harness';
import { scenario } from './support/results';
import { FLEET } from './support/fleet-size';

// A directory of this run's own: several runs may share .local/ at once.
const CHART_ROOT = join(REPO, '.local', 'reliability', 'charts', `kill-${process.pid}-${Date.now()}`);
const GATED_CHART = join(CHART_ROOT, 'webapp-gated-1.1.0');
const CHART_ROOTS = `${join(REPO, 'charts')},${CHART_ROOT}`;

/** charts/examples/webapp-1.1.0 plus a `cache` claim of its own class: an upgrade to it waits for that claim. */
function writeGatedChart(): void {
  mkdirSync(CHART_ROOT, { recursive: true });
  cpSync(join(REPO, 'charts', 'examples', 'webapp-1.1.0'), GATED_CHART, { recursive: true });
  writeFileSync(
    join(GATED_CHART, 'templates', 'cache-pvc.yaml'),
    [
      'apiVersion: v1',
      'kind: PersistentVolumeClaim',
      'metadata:',
      '  name: {{ include "webapp.fullname" . }}-cache',
      '  labels:',
      '    {{- include "webapp.labels" . | nindent 4 }}',
      'spec:',
      '  accessModes: ["ReadWriteOnce"]',
      '  storageClassName: {{ .Values.cache.storageClassName | quote }}',
      '  resources:',
      '    requests:',
      '      storage: 1Gi',
      '',
    ].join('\n'),
  );
  writeFileSync(join(GATED_CHART, 'values.yaml'), `${readFileSync(join(GATED_CHART, 'values.yaml'), 'utf8')}\ncache:\n  storageClassName: ""\n`);
  const schema = JSON.parse(readFileSync(join(GATED_CHART, 'values.schema.json'), 'utf8'));
  schema.properties.cache = { type: 'object', properties: { storageClassName: { type: 'string' } } };
  writeFileSync(join(GATED_CHART, 'values.schema.json'), JSON.stringify(schema, null, 2));
}

describe('worker killed mid-helm (reliability)', () => {
  let s: RelSuite;
  let gate: StorageGate;
  let fleet: Deployment[];
  let gated: { install: string; upgrade: string };

  beforeAll(async () => {
    writeGatedChart();
    s = await startRelSuite('kill', { apiEnv: { CAELUS_CHART_ROOTS: CHART_ROOTS } });
    gate = new StorageGate(s);
    const v2 = exampleChart('1.1.0');
    gated = {
      install: await gate.template('2.0.0'),
      upgrade: await gate.template('2.1.0', '1.1.0', {
        chartRef: GATED_CHART,
        defaultValues: { ...v2.defaultValues, persistence: { size: '1Gi', storageClassName: gate.storageClass }, cache: { storageClassName: gate.storageClass } },
        valuesSchema: JSON.parse(readFileSync(join(GATED_CHART, 'values.schema.json'), 'utf8')),
      }),
    };
  });

  afterAll(async () => {
    await s?.close();
    await gate?.cleanup();
    rmSync(CHART_ROOT, { recursive: true, force: true });
  });

  it('converges after a SIGKILL during helm install', async () => {
    await scenario('fault-1-kill-install', FLEET, 'deployments', async (r) => {
      const worker = s.startWorker('install-a', { CAELUS_CHART_ROOTS: CHART_ROOTS });
      fleet = await createDeployments(s, FLEET, undefined, gated.install);
      const pending = await waitForPendingUnderHelm(s, fleet, 'install');
      await worker.kill();
      const stuck = await releasesPending(s, fleet, 'install');
      r.note(`killed with ${pending.length}/${FLEET} releases pending-install under a running helm; ${stuck.length} still pending after the kill`);
      expect(stuck).toHaveLength(FLEET);

      await gate.open(fleet, 'data');
      const restarted = Date.now();
      s.startWorker('install-b', { CAELUS_CHART_ROOTS: CHART_ROOTS });
      await waitAll(s, fleet, 'ready at generation 1', readyAt(1), 300_000);
      r.note(`all ready ${Math.round((Date.now() - restarted) / 1000)}s after the new worker started`);
      const problems = await convergenceProblems(s, fleet, {
        generation: 1,
        chartVersion: '1.0.0',
        templateId: gated.install,
        events: [
          ['created', 1],
          ['applied', 1],
        ],
        title: (i) => `Fleet ${i}`,
      });
      expect(problems).toEqual([]);
      const unlocked = await countEvents(s, fleet, 'unlocked');
      r.note(`${unlocked} releases unlocked by the new worker`);
      expect(unlocked).toBeGreaterThanOrEqual(stuck.length);
    });
  });

  it('converges after a SIGKILL during helm upgrade', async () => {
    expect(fleet).toBeDefined();
    await scenario('fault-2-kill-upgrade', FLEET, 'deployments', async (r) => {
      const before = await countEvents(s, fleet, 'unlocked');
      await Promise.all(
        fleet.map(async (d) => {
          const res = await s.api.http.post(`/users/${s.seed.userId}/deployments/${d.id}/upgrade`).set(s.admin).send({ templateId: gated.upgrade });
          if (res.status !== 202) throw new Error(`upgrade: ${res.status} ${res.text}`);
        }),
      );
      const pending = await waitForPendingUnderHelm(s, fleet, 'upgrade');
      for (const w of s.workers) await w.kill();
      const stuck = await releasesPending(s, fleet, 'upgrade');
      r.note(`killed with ${pending.length}/${FLEET} releases pending-upgrade under a running helm; ${stuck.length} still pending after the kill`);
      expect(stuck).toHaveLength(FLEET);

      await gate.open(fleet, 'cache');
      const restarted = Date.now();
      s.startWorker('upgrade-b', { CAELUS_CHART_ROOTS: CHART_ROOTS });
      await waitAll(s, fleet, 'ready at generation 2', readyAt(2), 300_000);
      r.note(`all ready ${Math.round((Date.now() - restarted) / 1000)}s after the new worker started`);
      const problems = await convergenceProblems(s, fleet, {
        generation: 2,
        chartVersion: '1.1.0',
        templateId: gated.upgrade,
        events: [
          ['created', 1],
          ['applied', 1],
          ['upgrade-requested', 2],
          ['applied', 2],
        ],
        title: (i) => `Fleet ${i}`,
      });
      expect(problems).toEqual([]);
      const unlocked = (await countEvents(s, fleet, 'unlocked')) - before;
      r.note(`${unlocked} releases unlocked by the new worker`);
      expect(unlocked).toBeGreaterThanOrEqual(stuck.length);

      r.note(`fleet deleted in ${await deleteFleet(s, fleet)}s`);
    });
  });
});

async function countEvents(s: RelSuite, fleet: Deployment[], type: string): Promise<number> {
  const [row] = await s.db.query<{ n: string }>(`select count(*)::text as n from deployment_events where type = $1 and deployment_id = any($2::uuid[])`, [type, fleet.map((d) => d.id)]);
  return Number(row.n);
}
