/**
 * Fault 4: the Kubernetes API unreachable for 60 s while ten installs are in flight. The shared
 * kube-apiserver is not touched: the worker (and the helm it runs) gets a kubeconfig whose server
 * is a TCP proxy in this test, and the proxy refuses connections and cuts the open ones for 60 s.
 *
 * Five installs wait in `helm --wait` behind a storage-class gate (see StorageGate) when the API
 * goes; five more are created just before it goes, so their namespaces and the start of helm
 * meet the outage. The gate opens during the outage.
 */
import {
  convergenceProblems,
  createDeployments,
  deleteFleet,
  Deployment,
  kubeProxy,
  readyAt,
  RelSuite,
  sleep,
  startRelSuite,
  StorageGate,
  TcpProxy,
  waitAll,
  waitForPendingUnderHelm,
} from './support/harness';
import { scenario } from './support/results';
import { FLEET } from './support/fleet-size';

const OUTAGE_MS = Number(process.env.CAELUS_REL_KUBE_OUTAGE_MS ?? 60_000);

describe('Kubernetes API unavailable (reliability)', () => {
  let s: RelSuite;
  let proxy: TcpProxy;
  let kubeconfig: string;
  let gate: StorageGate;
  let gatedTemplate: string;

  beforeAll(async () => {
    s = await startRelSuite('kube');
    gate = new StorageGate(s);
    gatedTemplate = await gate.template('2.0.0');
    ({ proxy, kubeconfig } = await kubeProxy(s.stack.KUBECONFIG, `kube-outage-${s.seed.productId.slice(0, 8)}`));
  });

  afterAll(async () => {
    await proxy?.restore().catch(() => undefined);
    await s?.close();
    await gate?.cleanup();
    await proxy?.close();
  });

  it(`converges after the Kubernetes API was unreachable for ${OUTAGE_MS / 1000} s`, async () => {
    await scenario('fault-4-kube-outage', FLEET, 'deployments', async (r) => {
      const worker = s.startWorker('a', { KUBECONFIG: kubeconfig });
      const waiting: Deployment[] = await createDeployments(s, Math.ceil(FLEET / 2), undefined, gatedTemplate);
      await waitForPendingUnderHelm(s, waiting, 'install');
      const starting: Deployment[] = await createDeployments(s, FLEET - waiting.length, (i) => ({ title: `Fleet ${waiting.length + i}` }));
      const fleet = [...waiting, ...starting];
      await sleep(1500);
      await proxy.refuse();
      const cutAt = Date.now();
      r.note(`API cut with ${waiting.length} releases pending under helm --wait and ${starting.length} deployments created 1.5 s before`);
      await gate.open(waiting);
      await sleep(OUTAGE_MS);
      const during = await Promise.all(fleet.map((d) => s.api.http.get(`/users/${s.seed.userId}/deployments/${d.id}`).set(s.admin)));
      r.note(
        `after ${Math.round((Date.now() - cutAt) / 1000)}s of outage: ${during.filter((x) => x.body.status === 'ready').length} ready, ${during.filter((x) => x.body.status === 'error').length} in error`,
      );
      await proxy.restore();
      const back = Date.now();

      await waitAll(s, fleet, 'ready at generation 1', readyAt(1), 360_000);
      r.note(`all ready ${Math.round((Date.now() - back) / 1000)}s after the API was back`);
      const expectation = (templateId: string) => ({
        generation: 1,
        chartVersion: '1.0.0',
        templateId,
        events: [
          ['created', 1],
          ['applied', 1],
        ] as [string, number][],
      });
      const problems = [
        ...(await convergenceProblems(s, waiting, { ...expectation(gatedTemplate), title: (i) => `Fleet ${i}` })),
        ...(await convergenceProblems(s, starting, { ...expectation(s.seed.templates['1.0.0']), title: (i) => `Fleet ${waiting.length + i}` })),
      ];
      expect(problems).toEqual([]);
      expect(worker.child.exitCode).toBeNull();
      const [row] = await s.db.query<{ errors: string; unlocked: string }>(
        `select count(*) filter (where type = 'error')::text as errors, count(*) filter (where type = 'unlocked')::text as unlocked from deployment_events where deployment_id = any($1::uuid[])`,
        [fleet.map((d) => d.id)],
      );
      r.note(`${row.errors} error events recorded during the outage, ${row.unlocked} releases unlocked afterwards`);
      r.note(`fleet deleted in ${await deleteFleet(s, fleet)}s`);
    });
  });
});
