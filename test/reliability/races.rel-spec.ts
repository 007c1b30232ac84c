/**
 * Races on one deployment: 50 concurrent values updates with an admin upgrade in the middle of
 * them. Every write is accepted in some order, each with its own generation; the generation only
 * grows; there is one workflow; and what finally runs is what the last accepted request asked
 * for. Then writers that send the same If-Match generation: exactly one of them wins.
 */
import { allEvents, Deployment, getDeployment, readyAt, RelSuite, startRelSuite, waitAll, workflowRuns } from './support/harness';
import { scenario } from './support/results';
import { KubeObject } from '../../libs/platform/src';

const UPDATES = 50;

describe('races on one deployment (reliability)', () => {
  let s: RelSuite;
  let d: Deployment;

  beforeAll(async () => {
    s = await startRelSuite('race');
    s.startWorker('a');
    const res = await s.api.http
      .post(`/users/${s.seed.userId}/deployments`)
      .set(s.admin)
      .send({ templateId: s.seed.templates['1.0.0'], domainName: `race-${Date.now()}.example.com`, values: { title: 'Start' } });
    expect(res.status).toBe(202);
    d = res.body;
    await waitAll(s, [d], 'ready at generation 1', readyAt(1), 240_000);
  });

  afterAll(async () => {
    if (d) await s.api.http.delete(`/users/${s.seed.userId}/deployments/${d.id}`).set(s.admin);
    if (d) await waitAll(s, [d], 'deleted', (x) => x.status === 'deleted', 180_000).catch(() => undefined);
    await s?.close();
  });

  it('keeps the generation monotonic and applies the last accepted request under 50 updates and an upgrade', async () => {
    await scenario('race-values-upgrade', UPDATES + 1, 'concurrent requests', async (r) => {
      const path = `/users/${s.seed.userId}/deployments/${d.id}`;
      const requests: Promise<{ kind: string; title?: string; status: number; generation?: number; desiredTemplateId?: string; text: string }>[] = [];
      for (let i = 0; i < UPDATES; i++) {
        const title = `Race ${i}`;
        requests.push(
          s.api.http
            .put(path)
            .set(s.admin)
            .send({ values: { title } })
            .then((res) => ({ kind: 'put', title, status: res.status, generation: res.body.generation, desiredTemplateId: res.body.desiredTemplateId, text: res.text })),
        );
        if (i === UPDATES / 2) {
          requests.push(
            s.api.http
              .post(`${path}/upgrade`)
              .set(s.admin)
              .send({ templateId: s.seed.templates['1.1.0'] })
              .then((res) => ({ kind: 'upgrade', status: res.status, generation: res.body.generation, desiredTemplateId: res.body.desiredTemplateId, text: res.text })),
          );
        }
      }
      const answers = await Promise.all(requests);
      const refused = answers.filter((a) => a.status !== 202);
      expect(refused.map((a) => `${a.kind} ${a.status} ${a.text}`)).toEqual([]);

      // Each accepted write got a generation of its own: 2 … 52, no gaps, no repeats.
      const generations = answers.map((a) => a.generation!).sort((a, b) => a - b);
      expect(generations).toEqual(Array.from({ length: UPDATES + 1 }, (_, i) => i + 2));
      const last = answers.reduce((a, b) => (b.generation! > a.generation! ? b : a));
      const upgrade = answers.find((a) => a.kind === 'upgrade')!;
      const lastTitle = answers.filter((a) => a.kind === 'put').reduce((a, b) => (b.generation! > a.generation! ? b : a)).title!;
      r.note(`all ${answers.length} accepted with generations 2-${UPDATES + 2}; the upgrade got generation ${upgrade.generation}, the last write was a ${last.kind}`);
      expect(last.desiredTemplateId).toBe(s.seed.templates['1.1.0']);

      // The timeline tells the same story, in the same order.
      const timeline = (await allEvents(s, d)).filter((e) => ['created', 'values-updated', 'upgrade-requested'].includes(e.type));
      const seq = timeline.map((e) => e.generation);
      expect(seq).toEqual(Array.from({ length: UPDATES + 2 }, (_, i) => i + 1));

      const final = await waitAll(s, [d], `ready at generation ${UPDATES + 2}`, readyAt(UPDATES + 2), 300_000);
      expect(final[0]).toMatchObject({ appliedTemplateId: s.seed.templates['1.1.0'], desiredTemplateId: s.seed.templates['1.1.0'], values: { title: lastTitle }, lastError: null });
      const cm = await s.kube.get<KubeObject & { data?: Record<string, string> }>({ apiVersion: 'v1', kind: 'ConfigMap', name: `${d.deploymentUid}-config`, namespace: d.deploymentUid });
      expect(cm?.data).toMatchObject({ title: lastTitle, motd: 'Welcome!' });
      const rel = await s.storage.latest(d.deploymentUid, d.deploymentUid);
      expect(rel).toMatchObject({ status: 'deployed', chartVersion: '1.1.0' });

      const applied = (await allEvents(s, d)).filter((e) => e.type === 'applied').map((e) => e.generation);
      expect([...applied].sort((a, b) => a - b)).toEqual(applied);
      expect(applied.at(-1)).toBe(UPDATES + 2);
      const runs = await workflowRuns(s, d);
      expect(runs).toEqual({ byId: 1, byAttribute: 1, running: 1 });
      r.note(`converged to "${lastTitle}" on chart 1.1.0 at generation ${UPDATES + 2} after ${applied.length} helm applies (coalesced); one workflow`);
    });
  });

  it('lets exactly one of several writers with the same If-Match generation win', async () => {
    await scenario('race-if-match', 0, 'concurrent writers', async (r) => {
      const path = `/users/${s.seed.userId}/deployments/${d.id}`;
      let writers = 0;
      const rounds: string[] = [];
      // Three rounds of two writers, then ten writers at once.
      for (const round of [2, 2, 2, 10]) {
        const { generation } = await getDeployment(s, d);
        const answers = await Promise.all(
          Array.from({ length: round }, (_, i) =>
            s.api.http
              .put(path)
              .set(s.admin)
              .set('If-Match', `"${generation}"`)
              .send({ values: { title: `Writer ${generation}-${i}` } }),
          ),
        );
        writers += round;
        const won = answers.filter((a) => a.status === 202);
        const lost = answers.filter((a) => a.status === 409);
        expect({ won: won.length, lost: lost.length }).toEqual({ won: 1, lost: round - 1 });
        for (const l of lost) expect(l.body).toMatchObject({ statusCode: 409, message: expect.stringMatching(new RegExp(`generation ${generation + 1}, not ${generation}`)) });
        expect(won[0].body.generation).toBe(generation + 1);
        rounds.push(`${round} writers at generation ${generation}: 1 won, ${lost.length} got 409`);
      }
      r.setRuns(writers);
      r.note(rounds.join('; '));
      const latest = await getDeployment(s, d);
      await waitAll(s, [d], `ready at generation ${latest.generation}`, readyAt(latest.generation), 240_000);
    });
  });

  it('lets one of several creates of a domain name win, and orders updates racing a delete', async () => {
    await scenario('race-create-delete', 0, 'concurrent requests', async (r) => {
      const base = `/users/${s.seed.userId}/deployments`;
      const domainName = `race-domain-${Date.now()}.example.com`;
      const creates = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          s.api.http
            .post(base)
            .set(s.admin)
            .send({ templateId: s.seed.templates['1.0.0'], domainName, values: { title: `Create ${i}` } }),
        ),
      );
      const won = creates.filter((c) => c.status === 202);
      const lost = creates.filter((c) => c.status === 409);
      expect({ won: won.length, lost: lost.length }).toEqual({ won: 1, lost: 7 });
      for (const l of lost) expect(l.body.fields).toEqual([expect.objectContaining({ field: 'domainName' })]);
      const [{ n }] = await s.db.query<{ n: string }>(`select count(*)::text as n from deployments where domain_name = $1`, [domainName]);
      expect(n).toBe('1');
      const others = await Promise.all(
        [1, 2].map(
          async (i) =>
            (
              await s.api.http
                .post(base)
                .set(s.admin)
                .send({ templateId: s.seed.templates['1.0.0'], domainName: `race-${i}-${Date.now()}.example.com` })
                .expect(202)
            ).body as Deployment,
        ),
      );
      const fleet: Deployment[] = [won[0].body, ...others];

      // On each, updates and a delete at once, while the workflow is installing: each update lands
      // before the delete (202) or is refused after it (409), and the delete is never undone.
      const rounds = await Promise.all(
        fleet.map(async (x) => {
          const path = `${base}/${x.id}`;
          const answers = await Promise.all([
            ...Array.from({ length: 6 }, (_, i) =>
              s.api.http
                .put(path)
                .set(s.admin)
                .send({ values: { title: `Late ${i}` } })
                .then((res) => ({ kind: 'put', status: res.status, generation: res.body.generation as number | undefined })),
            ),
            s.api.http
              .delete(path)
              .set(s.admin)
              .then((res) => ({ kind: 'delete', status: res.status, generation: res.body.generation as number | undefined })),
          ]);
          const del = answers.find((a) => a.kind === 'delete')!;
          expect(del.status).toBe(202);
          const puts = answers.filter((a) => a.kind === 'put');
          expect(puts.every((p) => (p.status === 202 && p.generation! < del.generation!) || p.status === 409)).toBe(true);
          const timeline = (await allEvents(s, x)).filter((e) => ['created', 'values-updated', 'delete-requested'].includes(e.type));
          expect(timeline.map((e) => e.generation)).toEqual(Array.from({ length: timeline.length }, (_, i) => i + 1));
          expect(timeline.at(-1)!.type).toBe('delete-requested');
          return puts;
        }),
      );
      await waitAll(s, fleet, 'deleted', (v) => v.status === 'deleted', 240_000);
      for (const x of fleet) expect(await workflowRuns(s, x)).toMatchObject({ byId: 1, byAttribute: 1 });
      const puts = rounds.flat();
      r.setRuns(creates.length + 2 + puts.length + fleet.length);
      const accepted = puts.filter((p) => p.status === 202).length;
      r.note(
        `8 creates of one domain: 1 accepted, 7 got 409 on domainName, one row; on 3 installing deployments, 6 updates each racing a delete: ${accepted} landed before it, ${puts.length - accepted} got 409 after it; all deleted, one workflow each`,
      );
    });
  });
});
