/**
 * Fault 4: the Kubernetes API unreachable for 60 s while ten installs are in flight. The shared
 * kube-apiserver is not touched: the worker (and the helm it runs) gets a kubeconfig whose server
 * is a TCP proxy in this test, and the proxy refuses connections and cuts the open ones for 60 s.
 */
import { convergenceProblems, createDeployments, deleteFleet, Deployment, helmProcesses, kubeProxy, readyAt, RelSuite, releasesPending, sleep, startRelSuite, TcpProxy, waitAll } from './support/harness';
import { scenario } from './support/results';
import { FLEET } from './support/fleet-size';

const OUTAGE_MS = Number(process.env.CAELUS_REL_KUBE_OUTAGE_MS ?? 60_000);

describe('Kubernetes API unavailable (reliability)', () => {
  let s: RelSuite;
  let proxy: TcpProxy;
  let kubeconfig: string;

  beforeAll(async () => {
    s = await startRelSuite('kube');
    ({ proxy, kubeconfig } = await kubeProxy(s.stack.KUBECONFIG, `kube-outage-${s.seed.productId.slice(0, 8)}`));
  });

  afterAll(async () => {
    await s?.close();
    await proxy?.close();
  });

  it(`converges after the Kubernetes API was unreachable for ${OUTAGE_MS / 1000} s`, async () => {
    await scenario('fault-4-kube-outage', FLEET, 'deployments', async (r) => {
      const worker = s.startWorker('a', { KUBECONFIG: kubeconfig });
      const fleet: Deployment[] = await createDeployments(s, FLEET);

      const deadline = Date.now() + 90_000;
      let pending: string[] = [];
      while (Date.now() < deadline) {
        const running = await helmProcesses(fleet);
        pending = (await releasesPending(s, fleet, 'install')).filter((uid) => running.some((l) => l.includes(uid)));
        if (pending.length >= Math.ceil(FLEET * 0.6)) break;
        await sleep(200);
      }
      await proxy.refuse();
      const cutAt = Date.now();
      r.note(`API cut with ${pending.length}/${FLEET} helm installs running`);
      await sleep(OUTAGE_MS);
      const during = await Promise.all(fleet.map((d) => s.api.http.get(`/users/${s.seed.userId}/deployments/${d.id}`).set(s.admin)));
      r.note(`after ${Math.round((Date.now() - cutAt) / 1000)}s of outage: ${during.filter((x) => x.body.status === 'ready').length} ready, ${during.filter((x) => x.body.status === 'error').length} in error`);
      await proxy.restore();
      const back = Date.now();

      await waitAll(s, fleet, 'ready at generation 1', readyAt(1), 360_000);
      r.note(`all ready ${Math.round((Date.now() - back) / 1000)}s after the API was back`);
      const problems = await convergenceProblems(s, fleet, {
        generation: 1,
        chartVersion: '1.0.0',
        templateId: s.seed.templates['1.0.0'],
        events: [
          ['created', 1],
          ['applied', 1],
        ],
        title: (i) => `Fleet ${i}`,
      });
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
