/**
 * POST …/upgrade?dryRun=true: the same checks as the upgrade, the diff of the manifests helm
 * renders for the applied and the target template, and no change anywhere.
 */
import { INestApplicationContext } from '@nestjs/common';
import { bearer, startTestApi, TestApi, uniqueName } from '../support/api';
import { E2eSuite, NIL_UUID, seedCatalog as seedSuiteCatalog, startSuite } from '../support/e2e';
import { events, exampleChart, seedCatalog, Seeded, startWorker, waitForStatus } from '../support/lifecycle';

const SECRET = 'Preview-s3cret-pw';
const b64 = (s: string) => Buffer.from(s).toString('base64');
const upgradeUrl = (userId: string, deploymentId: string, query = '?dryRun=true') => `/users/${userId}/deployments/${deploymentId}/upgrade${query}`;

describe('upgrade preview (e2e)', () => {
  describe('before the first apply (no worker)', () => {
    let suite: E2eSuite;
    let admin: Record<string, string>;
    let userId: string;
    let templates: Record<string, string>;
    let d: { id: string; deploymentUid: string };

    beforeAll(async () => {
      suite = await startSuite();
      admin = bearer(suite.api.adminToken);
      templates = (await seedSuiteCatalog(suite.api, 'preview', { '1.0.0': '1.0.0', '1.1.0': '1.1.0' })).templates;
      userId = (
        await suite.api.http
          .post('/users')
          .set(admin)
          .send({ email: `${uniqueName('preview')}@example.com` })
          .expect(201)
      ).body.id;
      d = (
        await suite.api.http
          .post(`/users/${userId}/deployments`)
          .set(admin)
          .send({ templateId: templates['1.0.0'], domainName: `${uniqueName('preview')}.example.com`, values: { title: 'Before' } })
          .expect(202)
      ).body;
    });

    afterAll(async () => {
      await suite?.close();
    });

    it('compares the target against nothing, says so, and writes nothing', async () => {
      const before = await suite.db.snapshot();
      const res = await suite.api.http.post(upgradeUrl(userId, d.id)).set(admin).send({ templateId: templates['1.1.0'] }).expect(200);
      expect(res.body).toMatchObject({
        valid: true,
        problems: [],
        rendered: true,
        generation: 1,
        fromTemplate: null,
        toTemplate: { id: templates['1.1.0'], version: '1.1.0' },
        message: expect.stringMatching(/not been applied yet/),
      });
      expect(res.body.diff).toContain(`--- /dev/null\n+++ 1.1.0/ConfigMap/${d.deploymentUid}-config\n`);
      expect(res.body.diff).toContain('+  motd: Welcome!\n');
      expect(res.body.diff).toContain('+  title: Before\n');
      expect(await suite.db.snapshot()).toEqual(before);
    });

    it('rejects a dryRun that is not a boolean, and 404s for an unknown target', async () => {
      const bad = await suite.api.http
        .post(upgradeUrl(userId, d.id, '?dryRun=maybe'))
        .set(admin)
        .send({ templateId: templates['1.1.0'] })
        .expect(400);
      expect(bad.body.fields).toEqual([{ field: 'dryRun', message: expect.stringMatching(/true or false/) }]);
      await suite.api.http.post(upgradeUrl(userId, d.id)).set(admin).send({ templateId: NIL_UUID }).expect(404);
    });

    it('leaves the real upgrade as it was: 202 with the deployment, 409 backwards', async () => {
      const res = await suite.api.http
        .post(upgradeUrl(userId, d.id, '?dryRun=false'))
        .set(admin)
        .send({ templateId: templates['1.1.0'] })
        .expect(202);
      expect(res.body).toMatchObject({ id: d.id, generation: 2, desiredTemplateId: templates['1.1.0'], status: 'upgrading' });
      const back = await suite.api.http
        .post(upgradeUrl(userId, d.id, ''))
        .set(admin)
        .send({ templateId: templates['1.0.0'] })
        .expect(409);
      expect(back.body.message).toMatch(/only go forward/);
    });
  });

  describe('of an applied deployment (with the worker)', () => {
    let api: TestApi;
    let worker: INestApplicationContext;
    let seed: Seeded;
    let admin: Record<string, string>;
    let d: { id: string; deploymentUid: string };

    beforeAll(async () => {
      api = await startTestApi({ CAELUS_HELM_TIMEOUT: '120' });
      worker = await startWorker();
      seed = await seedCatalog(api, uniqueName('preview'), ['1.0.0', '1.1.0']);
      admin = bearer(api.adminToken);
      const res = await api.http
        .post(`/users/${seed.userId}/deployments`)
        .set(bearer(seed.userToken))
        .send({ templateId: seed.templates['1.0.0'], domainName: `${uniqueName('preview')}.example.com`, values: { title: 'Hello', adminPassword: SECRET } })
        .expect(202);
      d = res.body;
      const applied = await waitForStatus(api, seed.userId, d.id, (x) => x.status === 'error' || (x.status === 'ready' && x.observedGeneration === 1));
      expect(applied).toMatchObject({ status: 'ready', lastError: null });
      // The worker then assesses the workloads' health and records it on the row: wait for that
      // write too, so that "nothing changed" below compares a settled row.
      await waitForStatus(api, seed.userId, d.id, (x) => (x as { health?: { status: string; generation: number } | null }).health?.status === 'healthy');
    });

    afterAll(async () => {
      if (d) {
        await api.http.delete(`/users/${seed.userId}/deployments/${d.id}`).set(admin);
        await waitForStatus(api, seed.userId, d.id, (x) => x.status === 'deleted').catch(() => undefined);
      }
      await worker?.close();
      await api?.close();
    });

    const snapshot = async () => {
      const got = (await api.http.get(`/users/${seed.userId}/deployments/${d.id}`).set(admin).expect(200)).body;
      return { generation: got.generation, desiredTemplateId: got.desiredTemplateId, status: got.status, updatedAt: got.updatedAt, events: (await events(api, seed.userId, d.id)).length };
    };

    it('diffs 1.0.0 against 1.1.0: the motd key and the new label, secrets masked, nothing changed', async () => {
      const before = await snapshot();
      const res = await api.http.post(upgradeUrl(seed.userId, d.id)).set(admin).send({ templateId: seed.templates['1.1.0'] }).expect(200);
      expect(res.body).toMatchObject({
        valid: true,
        rendered: true,
        generation: 1,
        fromTemplate: { id: seed.templates['1.0.0'], version: '1.0.0' },
        toTemplate: { id: seed.templates['1.1.0'], version: '1.1.0' },
      });
      const diff: string = res.body.diff;
      expect(diff).toContain(`--- 1.0.0/ConfigMap/${d.deploymentUid}-config\n+++ 1.1.0/ConfigMap/${d.deploymentUid}-config\n`);
      expect(diff).toContain('+  motd: Welcome!\n');
      expect(diff).toContain('+    app.kubernetes.io/component: web\n');
      expect(diff).toContain('-    helm.sh/chart: webapp-1.0.0\n+    helm.sh/chart: webapp-1.1.0\n');
      expect(diff).toContain(`1.1.0/Secret/${d.deploymentUid}-admin`);
      expect(diff).not.toContain(SECRET);
      expect(diff).not.toContain(b64(SECRET));
      // The PVC and the Service change only by their labels; nothing is removed.
      expect(diff).not.toContain('+++ /dev/null');
      expect(await snapshot()).toEqual(before);
    });

    it('answers valid: false with the reason for a backwards or cross-product target (where the upgrade says 409)', async () => {
      const before = await snapshot();
      const back = await api.http.post(upgradeUrl(seed.userId, d.id)).set(admin).send({ templateId: seed.templates['1.0.0'] }).expect(200);
      expect(back.body).toMatchObject({ valid: false, rendered: false, diff: '', message: expect.stringMatching(/only go forward/), problems: [{ field: 'templateId' }] });

      const other = (
        await api.http
          .post('/products')
          .set(admin)
          .send({ name: uniqueName('other') })
          .expect(201)
      ).body.id;
      const foreign = (
        await api.http
          .post(`/products/${other}/templates`)
          .set(admin)
          .send({ version: '2.0.0', ...exampleChart('1.1.0') })
          .expect(201)
      ).body.id;
      const cross = await api.http.post(upgradeUrl(seed.userId, d.id)).set(admin).send({ templateId: foreign }).expect(200);
      expect(cross.body).toMatchObject({ valid: false, message: expect.stringMatching(/same product/), problems: [{ field: 'templateId', message: 'belongs to another product' }] });

      await api.http
        .post(upgradeUrl(seed.userId, d.id, ''))
        .set(admin)
        .send({ templateId: foreign })
        .expect(409);
      expect(await snapshot()).toEqual(before);
    });

    it('is for admins only, like the upgrade', async () => {
      const before = await snapshot();
      await api.http.post(upgradeUrl(seed.userId, d.id)).set(bearer(seed.userToken)).send({ templateId: seed.templates['1.1.0'] }).expect(403);
      await api.http.post(upgradeUrl(seed.userId, d.id)).send({ templateId: seed.templates['1.1.0'] }).expect(401);
      expect(await snapshot()).toEqual(before);
    });
  });
});
