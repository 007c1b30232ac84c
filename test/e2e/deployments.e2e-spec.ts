// Deployments through HTTP: create, read, list, change values, upgrade, delete and events;
// every validation failure; 409s; secrets never echoed; the workflow link and the real
// signalWithStart on Temporal (the suite's own task queue has no worker, so nothing runs).
import { randomBytes } from 'node:crypto';
import { Client as TemporalClient } from '@temporalio/client';
import { bearer, TestApi } from '../support/api';
import { Catalog, connectTemporal, createUser, E2eSuite, exampleTemplate, NIL_UUID, seedCatalog, startSuite, terminateWorkflows, TestDb, TestUser, uniqueDomain } from '../support/e2e';

interface Deployment {
  id: string;
  deploymentUid: string;
  status: string;
  generation: number;
  observedGeneration: number;
  desiredTemplateId: string;
  appliedTemplateId: string | null;
  values: Record<string, unknown>;
  domainName: string;
  deletedAt: string | null;
  workflow: { id: string; uiUrl: string };
}

const SECRET = `S3cret-${randomBytes(8).toString('hex')}`;
const signalsOf = (history: { events?: { workflowExecutionSignaledEventAttributes?: { signalName?: string | null } | null }[] | null }) =>
  (history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes).map((e) => e.workflowExecutionSignaledEventAttributes!.signalName);
const fieldsOf = (body: { fields?: { field: string }[] }) => (body.fields ?? []).map((f) => f.field);

describe('deployments (e2e)', () => {
  let suite: E2eSuite;
  let api: TestApi;
  let db: TestDb;
  let temporal: TemporalClient | null;
  let admin: Record<string, string>;
  let alice: TestUser;
  let bob: TestUser;
  let catalog: Catalog;
  let otherCatalog: Catalog;
  const workflowIds: string[] = [];
  /** Every response body of the suite, to prove the secret never comes back. */
  const responses: string[] = [];

  beforeAll(async () => {
    suite = await startSuite();
    ({ api, db } = suite);
    temporal = await connectTemporal();
    admin = bearer(api.adminToken);
    alice = await createUser(api, 'alice');
    bob = await createUser(api, 'bob');
    catalog = await seedCatalog(api, 'webapp', { '0.9.0': '1.0.0', '1.0.0': '1.0.0', '1.1.0': '1.1.0' });
    otherCatalog = await seedCatalog(api, 'other', { '3.0.0': '1.1.0' });
  });

  afterAll(async () => {
    const leaked = responses.filter((r) => r.includes(SECRET));
    await terminateWorkflows(temporal, workflowIds);
    await suite?.close();
    expect(leaked).toEqual([]);
  });

  function keep<T extends { text: string }>(res: T): T {
    responses.push(res.text);
    return res;
  }

  async function create(user: TestUser = alice, body: Record<string, unknown> = {}, token = user.token): Promise<Deployment> {
    const res = keep(
      await api.http
        .post(`/users/${user.id}/deployments`)
        .set(bearer(token))
        .send({ templateId: catalog.templates['1.0.0'], domainName: uniqueDomain(), values: { title: 'Hello', adminPassword: SECRET }, ...body }),
    );
    expect({ status: res.status, body: res.status === 202 ? 'ok' : res.body }).toEqual({ status: 202, body: 'ok' });
    workflowIds.push(res.body.workflow.id);
    return res.body;
  }

  const path = (d: { id: string }, user: TestUser = alice, suffix = '') => `/users/${user.id}/deployments/${d.id}${suffix}`;

  async function addTemplate(c: Catalog, version: string, chartVersion: string, tweak: (t: Record<string, unknown>) => void = () => undefined): Promise<string> {
    const body = exampleTemplate(chartVersion, version);
    tweak(body);
    const res = await api.http.post(`/products/${c.productId}/templates`).set(admin).send(body).expect(201);
    return res.body.id;
  }

  /** Asserts the status and failing field of a refused request, and that the database did not change. */
  async function refused(send: () => PromiseLike<{ status: number; text: string; body: { fields?: { field: string }[]; message?: string } }>, status: number, field?: string) {
    const before = await db.snapshot();
    const res = keep(await send());
    expect({ status: res.status, message: typeof res.body.message }).toEqual({ status, message: 'string' });
    if (field) expect(fieldsOf(res.body)).toContain(field);
    expect(await db.snapshot()).toEqual(before);
    return res;
  }

  describe('create', () => {
    it('answers 202 with the desired state and the workflow link', async () => {
      const d = await create();
      expect(d).toEqual({
        id: expect.any(String),
        deploymentUid: expect.any(String),
        userId: alice.id,
        productId: catalog.productId,
        status: 'provisioning',
        suspended: false,
        suspendedAt: null,
        suspendedReason: null,
        desiredTemplateId: catalog.templates['1.0.0'],
        appliedTemplateId: null,
        generation: 1,
        observedGeneration: 0,
        lastError: null,
        domainName: d.domainName,
        values: { title: 'Hello', adminPassword: '[redacted]' },
        drift: null,
        lastReconcileAt: null,
        lastDriftCheckAt: null,
        health: null,
        workflow: { id: `deployment-${d.deploymentUid}`, uiUrl: expect.any(String) },
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
        deletedAt: null,
      });
      const slug = (s: string, n: number) =>
        s
          .toLowerCase()
          .replace(/[^a-z0-9]+/g, '-')
          .replace(/^-+|-+$/g, '')
          .slice(0, n)
          .replace(/-+$/g, '');
      expect(d.deploymentUid).toMatch(new RegExp(`^${slug(catalog.productName, 20)}-${slug(alice.email.split('@')[0], 16)}-[a-z0-9]{6}$`));
      expect(d.deploymentUid.length).toBeLessThanOrEqual(53);
      const namespace = process.env.TEMPORAL_NAMESPACE ?? 'default';
      expect(d.workflow.uiUrl).toMatch(new RegExp(`^https?://[^/]+/namespaces/${namespace}/workflows/deployment-${d.deploymentUid}$`));
    });

    it('stores the desired state and a "created" event, the secret only encrypted', async () => {
      const d = await create();
      const [row] = await db.query<{ user_values: Record<string, unknown>; deployment_uid: string; generation: number; status: string }>(`select * from deployments where id = $1`, [d.id]);
      expect(row).toMatchObject({ deployment_uid: d.deploymentUid, generation: 1, status: 'provisioning' });
      expect(row.user_values.title).toBe('Hello');
      expect(row.user_values.adminPassword).toEqual({ $caelusEncrypted: expect.stringMatching(/^v2\./) });
      expect(JSON.stringify(row)).not.toContain(SECRET);
      const events = await db.query<{ type: string; actor: string; data: unknown }>(`select * from deployment_events where deployment_id = $1`, [d.id]);
      expect(events).toEqual([expect.objectContaining({ type: 'created', actor: alice.id })]);
      expect(JSON.stringify(events)).not.toContain(SECRET);
    });

    it('really starts workflow deployment-<uid> on Temporal, with ids only in its history', async () => {
      if (!temporal) return;
      const d = await create();
      const handle = temporal.workflow.getHandle(d.workflow.id);
      const desc = await handle.describe();
      expect(desc).toMatchObject({ workflowId: `deployment-${d.deploymentUid}`, type: 'deploymentWorkflow', taskQueue: api.taskQueue, status: { name: 'RUNNING' } });
      const history = await handle.fetchHistory();
      expect(signalsOf(history)).toEqual(['reconcile']);
      // Payload data is base64 in the JSON form of the history: decode it before looking.
      const text = JSON.stringify(history).replace(/"data":"([A-Za-z0-9+/=]*)"/g, (_, b64: string) => JSON.stringify(Buffer.from(b64, 'base64').toString('utf8')));
      expect(text).toContain(d.id);
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain('Hello');
    });

    it('seals and redacts a secret the schema declares through a $ref', async () => {
      const refCatalog = await seedCatalog(api, 'refs', {});
      const body = exampleTemplate('1.0.0');
      const schema = body.valuesSchema as { definitions: Record<string, unknown>; properties: { user: { properties: Record<string, unknown> } } };
      schema.definitions.password = schema.properties.user.properties.adminPassword;
      schema.properties.user.properties.adminPassword = { $ref: '#/definitions/password' };
      const t = await api.http.post(`/products/${refCatalog.productId}/templates`).set(admin).send(body).expect(201);
      const res = keep(
        await api.http
          .post(`/users/${alice.id}/deployments`)
          .set(bearer(alice.token))
          .send({ templateId: t.body.id, domainName: uniqueDomain(), values: { adminPassword: SECRET } })
          .expect(202),
      );
      workflowIds.push(res.body.workflow.id);
      expect(res.body.values).toEqual({ adminPassword: '[redacted]' });
      const [row] = await db.query<{ user_values: Record<string, unknown> }>(`select user_values from deployments where id = $1`, [res.body.id]);
      expect(JSON.stringify(row)).not.toContain(SECRET);
    });

    it('lets an admin create a deployment for a user', async () => {
      const d = await create(alice, {}, api.adminToken);
      const [event] = await db.query<{ actor: string }>(`select actor from deployment_events where deployment_id = $1`, [d.id]);
      expect(event.actor).toBe('admin');
    });

    it('refuses a domain already used by another deployment (409), even while that one is being deleted', async () => {
      const d = await create(alice);
      const res = await refused(
        () => api.http.post(`/users/${bob.id}/deployments`).set(bearer(bob.token)).send({ templateId: catalog.templates['1.0.0'], domainName: d.domainName }),
        409,
        'domainName',
      );
      expect(res.body.message).toMatch(/already used/);
      await api.http.delete(path(d)).set(bearer(alice.token)).expect(202);
      await refused(() => api.http.post(`/users/${bob.id}/deployments`).set(bearer(bob.token)).send({ templateId: catalog.templates['1.0.0'], domainName: d.domainName }), 409, 'domainName');
    });

    it('404s for an unknown user or template, and for a deleted template', async () => {
      await refused(() => api.http.post(`/users/${NIL_UUID}/deployments`).set(admin).send({ templateId: catalog.templates['1.0.0'], domainName: uniqueDomain() }), 404);
      await refused(() => api.http.post(`/users/${alice.id}/deployments`).set(bearer(alice.token)).send({ templateId: NIL_UUID, domainName: uniqueDomain() }), 404);
      const doomed = await addTemplate(catalog, '0.1.0', '1.0.0');
      await api.http.delete(`/products/${catalog.productId}/templates/${doomed}`).set(admin).expect(204);
      await refused(() => api.http.post(`/users/${alice.id}/deployments`).set(bearer(alice.token)).send({ templateId: doomed, domainName: uniqueDomain() }), 404);
    });

    describe('refuses bad input with a 400 naming the field, writing nothing', () => {
      const deepValues = (levels: number) => {
        let v: Record<string, unknown> = { title: 'x' };
        for (let i = 0; i < levels; i++) v = { nested: v };
        return v;
      };
      it.each([
        ['no templateId', { templateId: undefined }, 'templateId'],
        ['a templateId that is not a UUID', { templateId: 'webapp-1.0.0' }, 'templateId'],
        ['a numeric templateId', { templateId: 12 }, 'templateId'],
        ['no domainName', { domainName: undefined }, 'domainName'],
        ['a numeric domainName', { domainName: 42 }, 'domainName'],
        ['a single-label domain', { domainName: 'localhost' }, 'domainName'],
        ['an upper-case domain', { domainName: 'Ada.Example.com' }, 'domainName'],
        ['a domain with a port', { domainName: 'ada.example.com:8080' }, 'domainName'],
        ['a domain with a path', { domainName: 'ada.example.com/x' }, 'domainName'],
        ['a domain with an underscore', { domainName: 'ada_1.example.com' }, 'domainName'],
        ['an IP address', { domainName: '10.0.0.1' }, 'domainName'],
        ['a domain over 253 characters', { domainName: `${'a'.repeat(60)}.`.repeat(5) + 'com' }, 'domainName'],
        ['a label over 63 characters', { domainName: `${'a'.repeat(64)}.example.com` }, 'domainName'],
        ['values that are an array', { values: [1] }, 'values'],
        ['values that are a string', { values: 'title: x' }, 'values'],
        ['a value of the wrong type', { values: { title: 5 } }, '/user/title'],
        ['a value over its maxLength', { values: { title: 'x'.repeat(101) } }, '/user/title'],
        ['a value outside its enum', { values: { theme: 'pink' } }, '/user/theme'],
        ['a secret shorter than its minLength', { values: { adminPassword: 'short' } }, '/user/adminPassword'],
        ['a value the schema does not allow', { values: { replicas: 50 } }, '/user/replicas'],
        ['system values smuggled in as user values', { values: { caelus: { domainName: 'evil.example.com' } } }, '/user/caelus'],
        ['values nested deeper than 16 levels', { values: deepValues(20) }, 'values'],
        ['values over 64 KiB', { values: { title: 'x', blob: 'y'.repeat(70_000) } }, 'values'],
        ['an unknown field', { status: 'ready' }, 'status'],
        ['an unknown field deploymentUid', { deploymentUid: 'mine' }, 'deploymentUid'],
      ])('%s', async (_, over, field) => {
        const body: Record<string, unknown> = { templateId: catalog.templates['1.0.0'], domainName: uniqueDomain(), ...over };
        for (const k of Object.keys(body)) if (body[k] === undefined) delete body[k];
        await refused(() => api.http.post(`/users/${alice.id}/deployments`).set(bearer(alice.token)).send(body), 400, field);
      });

      it('a bad userId parameter', async () => {
        const res = await refused(() => api.http.post('/users/not-a-uuid/deployments').set(admin).send({ templateId: catalog.templates['1.0.0'], domainName: uniqueDomain() }), 400, 'userId');
        expect(res.body.message).toBe('userId must be a UUID');
      });

      it('a schema error never echoes the value, secret or not', async () => {
        const res = await refused(
          () =>
            api.http
              .post(`/users/${alice.id}/deployments`)
              .set(bearer(alice.token))
              .send({ templateId: catalog.templates['1.0.0'], domainName: uniqueDomain(), values: { theme: SECRET, title: `${SECRET}${'x'.repeat(100)}`, adminPassword: 'tiny' } }),
          400,
        );
        expect(fieldsOf(res.body).sort()).toEqual(['/user/adminPassword', '/user/theme', '/user/title']);
        expect(res.text).not.toContain(SECRET);
        expect(res.text).not.toContain('tiny');
      });

      it('malformed JSON that contains the secret is refused without quoting it', async () => {
        const res = await refused(
          () => api.http.post(`/users/${alice.id}/deployments`).set(bearer(alice.token)).set('Content-Type', 'application/json').send(`{"values": {"adminPassword": ${SECRET}}}`),
          400,
          'body',
        );
        expect(res.body.message).toBe('the request body is not valid JSON');
        expect(res.text).not.toContain(SECRET);
      });
    });
  });

  describe('read and list', () => {
    let lister: TestUser;
    const mine: Deployment[] = [];

    beforeAll(async () => {
      lister = await createUser(api, 'lister');
      for (let i = 0; i < 3; i++) mine.push(await create(lister));
    });

    const owner = () => lister;

    it('reads one deployment, secrets redacted', async () => {
      const res = keep(await api.http.get(path(mine[0], owner())).set(bearer(owner().token)).expect(200));
      expect(res.body).toMatchObject({ id: mine[0].id, values: { title: 'Hello', adminPassword: '[redacted]' }, workflow: mine[0].workflow });
    });

    it('pages the list with limit and cursor, oldest first, without repeats', async () => {
      const first = keep(await api.http.get(`/users/${owner().id}/deployments?limit=2`).set(bearer(owner().token)).expect(200));
      expect(first.body.items.map((d: Deployment) => d.id)).toEqual([mine[0].id, mine[1].id]);
      expect(first.body.nextCursor).toEqual(expect.any(String));
      const second = keep(await api.http.get(`/users/${owner().id}/deployments`).query({ limit: 2, cursor: first.body.nextCursor }).set(bearer(owner().token)).expect(200));
      expect(second.body).toMatchObject({ items: [expect.objectContaining({ id: mine[2].id })], nextCursor: null });
    });

    it('filters by status', async () => {
      await db.query(`update deployments set status = 'ready', observed_generation = generation where id = $1`, [mine[1].id]);
      const ready = keep(await api.http.get(`/users/${owner().id}/deployments?status=ready`).set(bearer(owner().token)).expect(200));
      expect(ready.body.items.map((d: Deployment) => d.id)).toEqual([mine[1].id]);
      const provisioning = keep(await api.http.get(`/users/${owner().id}/deployments?status=provisioning&limit=10`).set(bearer(owner().token)).expect(200));
      expect(provisioning.body.items.map((d: Deployment) => d.id)).toEqual([mine[0].id, mine[2].id]);
      expect((await api.http.get(`/users/${owner().id}/deployments?status=error`).set(bearer(owner().token)).expect(200)).body.items).toEqual([]);
    });

    it('lists only the deployments of the user in the path', async () => {
      const res = keep(await api.http.get(`/users/${alice.id}/deployments?limit=100`).set(admin).expect(200));
      expect(res.body.items.map((d: Deployment) => d.id)).not.toContain(mine[0].id);
      expect(res.body.items.every((d: { userId: string }) => d.userId === alice.id)).toBe(true);
    });

    it.each([
      ['status=exploded', 'status'],
      ['status=', 'status'],
      ['limit=0', 'limit'],
      ['limit=1000', 'limit'],
      ['limit=-1', 'limit'],
      ['limit=two', 'limit'],
      ['cursor=%7B%7D', 'cursor'],
      ['cursor=abc', 'cursor'],
      [`cursor=${Buffer.from(JSON.stringify(['2026-01-01T00:00:00Z', 'not-a-uuid'])).toString('base64url')}`, 'cursor'],
      ['cursor=' + 'a'.repeat(300), 'cursor'],
      ['userId=x', 'userId'],
    ])('refuses the list query %s', async (query, field) => {
      await refused(() => api.http.get(`/users/${owner().id}/deployments?${query}`).set(bearer(owner().token)), 400, field);
    });

    it('validates the ids in the path and hides other users’ deployments', async () => {
      await refused(() => api.http.get(`/users/${owner().id}/deployments/nope`).set(bearer(owner().token)), 400, 'deploymentId');
      await refused(() => api.http.get(`/users/not-a-uuid/deployments/${mine[0].id}`).set(admin), 400, 'userId');
      await refused(() => api.http.get(`/users/${owner().id}/deployments/${NIL_UUID}`).set(bearer(owner().token)), 404);
      // Alice asking for a deployment of another user under her own path: not found, not forbidden.
      await refused(() => api.http.get(`/users/${alice.id}/deployments/${mine[0].id}`).set(bearer(alice.token)), 404);
    });
  });

  describe('PUT values', () => {
    it('re-validates and stores new values, bumping the generation and signalling the workflow', async () => {
      const d = await create();
      const res = keep(
        await api.http
          .put(path(d))
          .set(bearer(alice.token))
          .send({ values: { title: 'Changed', theme: 'dark', adminPassword: '[redacted]' } })
          .expect(202),
      );
      expect(res.body).toMatchObject({ id: d.id, generation: 2, values: { title: 'Changed', theme: 'dark', adminPassword: '[redacted]' } });
      const [row] = await db.query<{ user_values: Record<string, unknown>; generation: number }>(`select user_values, generation from deployments where id = $1`, [d.id]);
      expect(row.generation).toBe(2);
      expect(row.user_values).toEqual({ title: 'Changed', theme: 'dark', adminPassword: { $caelusEncrypted: expect.any(String) } });
      const events = await db.query<{ type: string; data: { keys: string[] } }>(`select type, data from deployment_events where deployment_id = $1 order by id`, [d.id]);
      expect(events.map((e) => e.type)).toEqual(['created', 'values-updated']);
      expect(events[1].data).toEqual({ keys: ['adminPassword', 'theme', 'title'] });
      if (temporal) {
        const signals = signalsOf(await temporal.workflow.getHandle(d.workflow.id).fetchHistory());
        expect(signals).toEqual(['reconcile', 'reconcile']);
      }
    });

    it('keeps the stored secret when the redaction marker comes back, and replaces it when a new one is sent', async () => {
      const d = await create();
      const sealed = async () => (await db.query<{ v: { $caelusEncrypted: string } }>(`select user_values->'adminPassword' as v from deployments where id = $1`, [d.id]))[0].v;
      const original = await sealed();
      keep(
        await api.http
          .put(path(d))
          .set(bearer(alice.token))
          .send({ values: { title: 'x', adminPassword: '[redacted]' } })
          .expect(202),
      );
      expect(await sealed()).toEqual(original);
      keep(
        await api.http
          .put(path(d))
          .set(bearer(alice.token))
          .send({ values: { title: 'x', adminPassword: `${SECRET}-2` } })
          .expect(202),
      );
      expect((await sealed()).$caelusEncrypted).not.toBe(original.$caelusEncrypted);
      keep(
        await api.http
          .put(path(d))
          .set(bearer(alice.token))
          .send({ values: { title: 'x' } })
          .expect(202),
      );
      expect(await sealed()).toBeNull();
    });

    it('honours If-Match: the generation a client last saw', async () => {
      const d = await create();
      keep(
        await api.http
          .put(path(d))
          .set(bearer(alice.token))
          .set('If-Match', '"1"')
          .send({ values: { title: 'a' } })
          .expect(202),
      );
      const res = await refused(
        () =>
          api.http
            .put(path(d))
            .set(bearer(alice.token))
            .set('If-Match', '"1"')
            .send({ values: { title: 'b' } }),
        409,
        'If-Match',
      );
      expect(res.body.message).toMatch(/generation 2, not 1/);
      await refused(
        () =>
          api.http
            .put(path(d))
            .set(bearer(alice.token))
            .set('If-Match', 'yesterday')
            .send({ values: { title: 'b' } }),
        400,
        'If-Match',
      );
    });

    describe('refuses bad input, writing nothing', () => {
      let d: Deployment;
      beforeAll(async () => {
        d = await create();
      });
      it.each([
        ['no body', undefined, 'values'],
        ['no values', {}, 'values'],
        ['values that are an array', { values: [] }, 'values'],
        ['values that are a string', { values: 'x' }, 'values'],
        ['values that are null', { values: null }, 'values'],
        ['a wrong type', { values: { title: ['x'] } }, '/user/title'],
        ['a short secret', { values: { adminPassword: 'short' } }, '/user/adminPassword'],
        ['a property the schema does not allow', { values: { image: { repository: 'evil' } } }, '/user/image'],
        ['an unknown field', { values: {}, templateId: NIL_UUID }, 'templateId'],
      ])('%s', async (_, body, field) => {
        const req = api.http.put(path(d)).set(bearer(alice.token));
        await refused(() => (body === undefined ? req : req.send(body)), 400, field);
      });
      it('bad and unknown ids', async () => {
        await refused(() => api.http.put(`/users/${alice.id}/deployments/123`).set(bearer(alice.token)).send({ values: {} }), 400, 'deploymentId');
        await refused(() => api.http.put(`/users/${alice.id}/deployments/${NIL_UUID}`).set(bearer(alice.token)).send({ values: {} }), 404);
      });
    });
  });

  describe('upgrade', () => {
    let strict: string;
    let gated: string;

    beforeAll(async () => {
      // Same product, newer, but its schema refuses titles over 5 characters.
      strict = await addTemplate(catalog, '1.2.0', '1.1.0', (t) => {
        const schema = t.valuesSchema as { properties: { user: { properties: { title: { maxLength: number } } } } };
        schema.properties.user.properties.title.maxLength = 5;
      });
      // Only reachable from 1.1.x.
      gated = await addTemplate(catalog, '1.5.0', '1.1.0', (t) => {
        t.capabilities = { upgradePolicy: { allowFrom: '~1.1.0' } };
      });
    });

    const upgrade = (d: Deployment, templateId: string, token = api.adminToken) =>
      api.http
        .post(path(d, alice, '/upgrade'))
        .set(bearer(token))
        .send({ templateId });

    it('moves forward within the product: 202, new desired template, event and upgrade signal', async () => {
      const d = await create();
      const res = keep(await upgrade(d, catalog.templates['1.1.0']).expect(202));
      expect(res.body).toMatchObject({ id: d.id, desiredTemplateId: catalog.templates['1.1.0'], generation: 2, status: 'upgrading', values: { adminPassword: '[redacted]' } });
      const events = await db.query<{ type: string; actor: string; data: Record<string, unknown> }>(`select type, actor, data from deployment_events where deployment_id = $1 order by id`, [d.id]);
      expect(events.at(-1)).toMatchObject({ type: 'upgrade-requested', actor: 'admin', data: { fromVersion: '1.0.0', templateVersion: '1.1.0' } });
      if (temporal) {
        const signals = signalsOf(await temporal.workflow.getHandle(d.workflow.id).fetchHistory());
        expect(signals).toEqual(['reconcile', 'upgrade']);
      }
      // And on from 1.1.0 through the gate.
      keep(await upgrade(d, gated).expect(202));
    });

    it('refuses to go backwards or sideways (409), writing nothing', async () => {
      const d = await create();
      keep(await upgrade(d, catalog.templates['1.1.0']).expect(202));
      let res = await refused(() => upgrade(d, catalog.templates['1.0.0']), 409, 'templateId');
      expect(res.body.message).toMatch(/only go forward: 1.0.0 is not newer than 1.1.0/);
      await refused(() => upgrade(d, catalog.templates['0.9.0']), 409, 'templateId');
      res = await refused(() => upgrade(d, catalog.templates['1.1.0']), 409, 'templateId');
      expect(res.body.message).toMatch(/not newer/);
    });

    it('refuses a template of another product (409), even a newer one', async () => {
      const d = await create();
      const res = await refused(() => upgrade(d, otherCatalog.templates['3.0.0']), 409, 'templateId');
      expect(res.body.message).toMatch(/same product/);
    });

    it('applies the target’s allowFrom range (409)', async () => {
      const d = await create();
      const res = await refused(() => upgrade(d, gated), 409, 'templateId');
      expect(res.body.message).toMatch(/can only be reached from ~1.1.0/);
    });

    it('re-validates the values against the target schema (400 naming the field)', async () => {
      const d = await create(alice, { values: { title: 'Far too long', adminPassword: SECRET } });
      const res = await refused(() => upgrade(d, strict), 400, '/user/title');
      expect(res.text).not.toContain('Far too long');
      const ok = await create(alice, { values: { title: 'Tiny', adminPassword: SECRET } });
      keep(await upgrade(ok, strict).expect(202));
    });

    it('404s for an unknown or deleted target, 400 for a bad one, 403 for a non-admin', async () => {
      const d = await create();
      await refused(() => upgrade(d, NIL_UUID), 404);
      const doomed = await addTemplate(catalog, '9.0.0', '1.1.0');
      await api.http.delete(`/products/${catalog.productId}/templates/${doomed}`).set(admin).expect(204);
      await refused(() => upgrade(d, doomed), 404);
      await refused(() => upgrade(d, 'latest'), 400, 'templateId');
      await refused(
        () =>
          api.http
            .post(path(d, alice, '/upgrade'))
            .set(admin)
            .send({}),
        400,
        'templateId',
      );
      await refused(
        () =>
          api.http
            .post(path(d, alice, '/upgrade'))
            .set(admin)
            .send({ templateId: catalog.templates['1.1.0'], force: true }),
        400,
        'force',
      );
      await refused(
        () =>
          api.http
            .post(path(d, alice, '/upgrade'))
            .set(admin)
            .set('If-Match', '"7"')
            .send({ templateId: catalog.templates['1.1.0'] }),
        409,
        'If-Match',
      );
      await refused(() => upgrade(d, catalog.templates['1.1.0'], alice.token), 403);
    });
  });

  describe('delete', () => {
    it('is soft and idempotent: 202 twice, one event, one delete signal, the row stays', async () => {
      const d = await create();
      const first = keep(await api.http.delete(path(d)).set(bearer(alice.token)).expect(202));
      expect(first.body).toMatchObject({ id: d.id, status: 'deleting', generation: 2, deletedAt: expect.any(String) });
      const second = keep(await api.http.delete(path(d)).set(bearer(alice.token)).expect(202));
      expect(second.body).toMatchObject({ status: 'deleting', generation: 2, deletedAt: first.body.deletedAt });
      const events = await db.query<{ type: string }>(`select type from deployment_events where deployment_id = $1 order by id`, [d.id]);
      expect(events.map((e) => e.type)).toEqual(['created', 'delete-requested']);
      const [row] = await db.query<{ status: string; deleted_at: Date }>(`select status, deleted_at from deployments where id = $1`, [d.id]);
      expect(row).toMatchObject({ status: 'deleting', deleted_at: expect.any(Date) });
      expect((await api.http.get(path(d)).set(bearer(alice.token)).expect(200)).body.status).toBe('deleting');
      if (temporal) {
        const signals = signalsOf(await temporal.workflow.getHandle(d.workflow.id).fetchHistory());
        expect(signals[0]).toBe('reconcile');
        expect(signals.slice(1).every((s) => s === 'delete')).toBe(true);
      }
    });

    it('refuses changes and upgrades once deletion started (409)', async () => {
      const d = await create();
      await api.http.delete(path(d)).set(admin).expect(202);
      await refused(
        () =>
          api.http
            .put(path(d))
            .set(bearer(alice.token))
            .send({ values: { title: 'x' } }),
        409,
      );
      await refused(
        () =>
          api.http
            .post(path(d, alice, '/upgrade'))
            .set(admin)
            .send({ templateId: catalog.templates['1.1.0'] }),
        409,
      );
    });

    it('validates ids and 404s for unknown deployments', async () => {
      await refused(() => api.http.delete(`/users/${alice.id}/deployments/x`).set(bearer(alice.token)), 400, 'deploymentId');
      await refused(() => api.http.delete(`/users/${alice.id}/deployments/${NIL_UUID}`).set(bearer(alice.token)), 404);
    });
  });

  describe('events', () => {
    it('tells the timeline oldest first, in pages, with no values in it', async () => {
      const d = await create();
      keep(
        await api.http
          .put(path(d))
          .set(bearer(alice.token))
          .send({ values: { title: 'One', adminPassword: SECRET } })
          .expect(202),
      );
      keep(
        await api.http
          .post(path(d, alice, '/upgrade'))
          .set(admin)
          .send({ templateId: catalog.templates['1.1.0'] })
          .expect(202),
      );
      keep(await api.http.delete(path(d)).set(bearer(alice.token)).expect(202));

      const all = keep(
        await api.http
          .get(path(d, alice, '/events'))
          .set(bearer(alice.token))
          .expect(200),
      );
      expect(all.body.items.map((e: { type: string; generation: number }) => [e.type, e.generation])).toEqual([
        ['created', 1],
        ['values-updated', 2],
        ['upgrade-requested', 3],
        ['delete-requested', 4],
      ]);
      expect(all.body.items[0]).toEqual({
        id: expect.any(String),
        generation: 1,
        type: 'created',
        actor: alice.id,
        message: expect.any(String),
        data: expect.any(Object),
        createdAt: expect.any(String),
      });
      expect(all.text).not.toContain('One');

      const first = keep(
        await api.http
          .get(path(d, alice, '/events?limit=3'))
          .set(bearer(alice.token))
          .expect(200),
      );
      expect(first.body.items).toHaveLength(3);
      const rest = keep(
        await api.http
          .get(path(d, alice, `/events?limit=3&cursor=${first.body.nextCursor}`))
          .set(bearer(alice.token))
          .expect(200),
      );
      expect(rest.body).toMatchObject({ items: [expect.objectContaining({ type: 'delete-requested' })], nextCursor: null });
    });

    it.each([
      ['limit=0', 'limit'],
      ['limit=x', 'limit'],
      ['cursor=abc', 'cursor'],
      ['cursor=9999999999999999999', 'cursor'],
      ['cursor=-1', 'cursor'],
      ['type=created', 'type'],
    ])('refuses the query %s', async (query, field) => {
      const d = await create();
      await refused(() => api.http.get(path(d, alice, `/events?${query}`)).set(bearer(alice.token)), 400, field);
    });

    it('validates ids and hides other users’ timelines', async () => {
      const d = await create();
      await refused(() => api.http.get(`/users/${alice.id}/deployments/1/events`).set(bearer(alice.token)), 400, 'deploymentId');
      await refused(() => api.http.get(`/users/${bob.id}/deployments/${d.id}/events`).set(bearer(bob.token)), 404);
    });
  });

  it('sends back no secret in any response of this suite (checked again in afterAll)', () => {
    expect(responses.length).toBeGreaterThan(50);
    expect(responses.filter((r) => r.includes(SECRET))).toEqual([]);
  });
});
