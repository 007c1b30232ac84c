import { FakeStore, FakeWorkflows } from '../../../../test/support/domain-fakes';
import { deploymentsFixture, expectDomainError, SECRET, userSchema } from '../../../../test/support/deployments-fixture';
import { Principal } from '../auth/principal';
import { ENCRYPTED_KEY, REDACTED, SecretBox } from '../values';
import { DeploymentsService } from './deployments.service';

describe(DeploymentsService.name, () => {
  let store: FakeStore;
  let workflows: FakeWorkflows;
  let warnings: { obj: Record<string, unknown>; msg: string }[];
  let box: SecretBox;
  let deps: ReturnType<typeof deploymentsFixture>['deps'];
  let sut: DeploymentsService;
  let userId: string;
  let productId: string;
  let v1: string;
  let admin: Principal;
  let owner: Principal;

  beforeEach(() => {
    ({ store, workflows, warnings, box, deps, userId, productId, v1, admin, owner } = deploymentsFixture());
    sut = new DeploymentsService(deps());
  });

  const create = (values: Record<string, unknown> = { title: 'mine' }, domainName = 'ada.apps.example.com') => sut.create(owner, userId, { templateId: v1, domainName, values });
  const at = (id: string, path: string) => ({ owner: 'deployment' as const, id, path });

  describe('create', () => {
    it('writes the deployment and its event, wakes the workflow and returns the view', async () => {
      const view = await create();
      expect(view).toMatchObject({
        userId,
        productId,
        status: 'provisioning',
        generation: 1,
        observedGeneration: 0,
        desiredTemplateId: v1,
        appliedTemplateId: null,
        domainName: 'ada.apps.example.com',
        values: { title: 'mine' },
      });
      expect(view.deploymentUid).toMatch(/^webapp-ada-lovelace-[a-z0-9]{6}$/);
      expect(view.workflow).toEqual({ id: `deployment-${view.deploymentUid}`, uiUrl: expect.stringContaining(`deployment-${view.deploymentUid}`) });
      expect(store.events).toEqual([expect.objectContaining({ deploymentId: view.id, generation: 1, type: 'created', actor: userId })]);
      expect(workflows.wakes).toEqual([{ deployment: { id: view.id, deploymentUid: view.deploymentUid, userId }, signal: { name: 'reconcile', generation: 1 } }]);
    });

    it('seals secret fields at rest and redacts them in the view and the event', async () => {
      const view = await create({ title: 't', adminPassword: 'not-a-secret-here', apiKey: 'k' });
      await sut.updateValues(owner, userId, view.id, { adminPassword: SECRET });
      const stored = store.deployments.get(view.id)!.userValues;
      expect(JSON.stringify(stored)).not.toContain(SECRET);
      expect(box.open(stored.adminPassword as never, at(view.id, '/adminPassword'))).toBe(SECRET);
      expect(JSON.stringify(store.events)).not.toContain(SECRET);
      expect((await sut.get(userId, view.id)).values).toEqual({ adminPassword: REDACTED });
    });

    it('refuses a client-made envelope anywhere in the values with InvalidValues, and writes nothing', async () => {
      const before = store.snapshot();
      for (const values of [{ adminPassword: { [ENCRYPTED_KEY]: 'v2.00000000.a.b.c' } }, { title: 't', nested: [{ [ENCRYPTED_KEY]: 'x' }] }]) {
        await expectDomainError(create(values), 'InvalidValues', Object.hasOwn(values, 'nested') ? '/user/nested/0/$caelusEncrypted' : '/user/adminPassword/$caelusEncrypted');
      }
      expect(store.snapshot()).toBe(before);
      expect(workflows.wakes).toEqual([]);
    });

    it('binds each envelope to the deployment and the field it belongs to', async () => {
      const a = await create({ adminPassword: SECRET });
      const b = await create({ adminPassword: 'other-secret' }, 'bob.apps.example.com');
      const sealedA = store.deployments.get(a.id)!.userValues.adminPassword;
      expect(box.open(sealedA as never, at(a.id, '/adminPassword'))).toBe(SECRET);
      expect(() => box.open(sealedA as never, at(b.id, '/adminPassword'))).toThrow(/does not open here/);
      // Copied straight into another row (as with SQL), the envelope does not open there: the API refuses, without the value.
      store.deployments.get(b.id)!.userValues = { adminPassword: sealedA };
      const err = await expectDomainError(sut.updateValues(owner, userId, b.id, { adminPassword: REDACTED }), 'InvalidValues', '/adminPassword');
      expect(JSON.stringify(err)).not.toContain(SECRET);
    });

    it('stores a secret given at creation only sealed', async () => {
      const view = await create({ adminPassword: SECRET });
      expect(view.values).toEqual({ adminPassword: REDACTED });
      expect((store.deployments.get(view.id)!.userValues.adminPassword as Record<string, string>)[ENCRYPTED_KEY]).toMatch(/^v2\./);
      expect(store.snapshot()).not.toContain(SECRET);
    });

    it.each(['ADA.example.com', 'localhost', 'a..b', '', 'x'.repeat(300) + '.com'])('refuses the domain %j without writing', async (domainName) => {
      const before = store.snapshot();
      await expectDomainError(create({}, domainName), 'InvalidInput', 'domainName');
      expect(store.snapshot()).toBe(before);
      expect(workflows.wakes).toHaveLength(0);
    });

    it('trims the domain name', async () => {
      expect((await create({}, '  ada.example.com ')).domainName).toBe('ada.example.com');
    });

    it('refuses values that do not match the schema, naming fields, echoing nothing, writing nothing', async () => {
      const before = store.snapshot();
      const err = await expectDomainError(create({ title: 'x'.repeat(41), adminPassword: 'short1', bogus: SECRET }), 'InvalidValues');
      expect(err.fields.map((f) => f.field).sort()).toEqual(['/user/adminPassword', '/user/bogus', '/user/title']);
      expect(JSON.stringify({ m: err.message, f: err.fields })).not.toMatch(/short1|correct-horse|xxxxx/);
      expect(store.snapshot()).toBe(before);
      expect(workflows.wakes).toHaveLength(0);
    });

    it('refuses values nested too deep', async () => {
      let deep: Record<string, unknown> = { leaf: 1 };
      for (let i = 0; i < 40; i++) deep = { a: deep };
      await expectDomainError(create(deep), 'InvalidValues', 'values');
    });

    it('404s for an unknown user or a missing or deleted template', async () => {
      await expectDomainError(sut.create(admin, '00000000-0000-4000-8000-000000000000', { templateId: v1, domainName: 'a.example.com' }), 'NotFound');
      await expectDomainError(sut.create(owner, userId, { templateId: '00000000-0000-4000-8000-000000000000', domainName: 'a.example.com' }), 'NotFound');
      store.templates.set(v1, { ...store.templates.get(v1)!, deletedAt: new Date() });
      await expectDomainError(create(), 'NotFound');
      expect(store.deployments.size).toBe(0);
    });

    it('turns a taken domain into a Conflict on domainName', async () => {
      await create({}, 'taken.example.com');
      const err = await expectDomainError(create({}, 'taken.example.com'), 'Conflict', 'domainName');
      expect(err.message).toMatch(/already used/);
      expect(store.deployments.size).toBe(1);
      expect(store.events).toHaveLength(1);
    });

    it('still answers when the workflow cannot be woken, and logs why', async () => {
      workflows.failWith = new Error('temporal unreachable');
      const view = await create();
      expect(store.deployments.get(view.id)).toBeDefined();
      expect(warnings).toEqual([{ obj: expect.objectContaining({ deploymentId: view.id, signal: 'reconcile', err: 'temporal unreachable' }), msg: expect.stringMatching(/supervisor/) }]);
    });
  });

  describe('create: deployment limits and domain suffixes', () => {
    const withPolicy = (policy: { quota?: { perUser: number | null; total: number | null }; allowedDomainSuffixes?: string[] }) =>
      new DeploymentsService(deps({ logger: { warn: () => undefined }, ...policy }));
    const createWith = (service: DeploymentsService, domainName: string, forUser = userId) => service.create(admin, forUser, { templateId: v1, domainName, values: {} });

    it("refuses a creation past the user's default limit with a Conflict that says so, writing nothing", async () => {
      const service = withPolicy({ quota: { perUser: 2, total: null } });
      await createWith(service, 'a.example.com');
      await createWith(service, 'b.example.com');
      const before = store.snapshot();
      const err = await expectDomainError(createWith(service, 'c.example.com'), 'Conflict', 'userId');
      expect(err.message).toMatch(/deployment limit reached: this user may have 2 live deployment\(s\) and has 2/);
      expect(store.snapshot()).toBe(before);
      expect(workflows.wakes).toHaveLength(2);
    });

    it("uses the user's own limit over the default, and counts deleting but not deleted deployments", async () => {
      store.users.set(userId, { ...store.users.get(userId)!, maxDeployments: 1 });
      const service = withPolicy({ quota: { perUser: 10, total: null } });
      const first = await createWith(service, 'a.example.com');
      await expectDomainError(createWith(service, 'b.example.com'), 'Conflict');
      await service.delete(admin, userId, first.id);
      await expectDomainError(createWith(service, 'b.example.com'), 'Conflict');
      store.deployments.set(first.id, { ...store.deployments.get(first.id)!, status: 'deleted' });
      await createWith(service, 'b.example.com');
    });

    it('lets a limit of 0 forbid deployments altogether', async () => {
      store.users.set(userId, { ...store.users.get(userId)!, maxDeployments: 0 });
      await expectDomainError(createWith(withPolicy({}), 'a.example.com'), 'Conflict', 'userId');
    });

    it('enforces the platform-wide limit over all users', async () => {
      const other = store.addUser({ email: 'bob@example.com' }).id;
      const service = withPolicy({ quota: { perUser: null, total: 2 } });
      await createWith(service, 'a.example.com');
      await createWith(service, 'b.example.com', other);
      const err = await expectDomainError(createWith(service, 'c.example.com', other), 'Conflict');
      expect(err.message).toMatch(/platform runs its maximum of 2/);
    });

    it('accepts only names under the global suffixes, on a label boundary', async () => {
      const service = withPolicy({ allowedDomainSuffixes: ['apps.example.com'] });
      await createWith(service, 'ada.apps.example.com');
      for (const bad of ['ada.example.com', 'evilapps.example.com', 'apps.example.com', 'ada.apps.example.com.evil.io']) {
        const err = await expectDomainError(createWith(service, bad), 'InvalidInput', 'domainName');
        expect(err.message).toBe('domainName must be a name under .apps.example.com');
      }
    });

    it("lets a product's own list replace the global one", async () => {
      store.products.set(productId, { ...store.products.get(productId)!, allowedDomainSuffixes: ['shop.example.org'] });
      const service = withPolicy({ allowedDomainSuffixes: ['apps.example.com'] });
      await createWith(service, 'ada.shop.example.org');
      await expectDomainError(createWith(service, 'ada.apps.example.com'), 'InvalidInput', 'domainName');
    });

    it('says a taken name is not available without saying whose it is', async () => {
      const other = store.addUser({ email: 'bob@example.com' }).id;
      await createWith(withPolicy({}), 'taken.example.com', other);
      const err = await expectDomainError(createWith(withPolicy({}), 'taken.example.com'), 'Conflict', 'domainName');
      expect(err.message).toMatch(/^domain name taken\.example\.com is not available/);
      expect(JSON.stringify({ m: err.message, f: err.fields })).not.toMatch(new RegExp(`${other}|bob`));
    });
  });

  describe('updateValues', () => {
    it('re-validates, bumps the generation, records keys only and wakes the workflow', async () => {
      const d = await create();
      const view = await sut.updateValues(owner, userId, d.id, { title: 'new title', adminPassword: SECRET });
      expect(view).toMatchObject({ generation: 2, status: 'provisioning', values: { title: 'new title', adminPassword: REDACTED } });
      expect(store.events[1]).toMatchObject({ type: 'values-updated', generation: 2, data: { keys: ['adminPassword', 'title'] } });
      expect(workflows.wakes.at(-1)?.signal).toEqual({ name: 'reconcile', generation: 2 });
    });

    it('refuses a client-made envelope, and writes nothing', async () => {
      const d = await create({ adminPassword: SECRET });
      const stolen = store.deployments.get(d.id)!.userValues.adminPassword;
      const before = store.snapshot();
      await expectDomainError(sut.updateValues(owner, userId, d.id, { adminPassword: stolen }), 'InvalidValues', '/user/adminPassword/$caelusEncrypted');
      expect(store.snapshot()).toBe(before);
    });

    it('keeps the stored secret when the redaction marker is sent back', async () => {
      const d = await create({ adminPassword: SECRET });
      await sut.updateValues(owner, userId, d.id, { title: 'x', adminPassword: REDACTED });
      expect(box.open(store.deployments.get(d.id)!.userValues.adminPassword as never, at(d.id, '/adminPassword'))).toBe(SECRET);
    });

    it('refuses invalid values and writes nothing', async () => {
      const d = await create();
      const before = store.snapshot();
      await expectDomainError(sut.updateValues(owner, userId, d.id, { title: 42 }), 'InvalidValues', '/user/title');
      expect(store.snapshot()).toBe(before);
    });

    it('honours If-Match', async () => {
      const d = await create();
      await expectDomainError(sut.updateValues(owner, userId, d.id, {}, 7), 'Conflict', 'If-Match');
      expect((await sut.updateValues(owner, userId, d.id, {}, 1)).generation).toBe(2);
    });

    it('404s for a deployment of another user', async () => {
      const d = await create();
      const other = store.addUser({ email: 'bob@example.com' });
      await expectDomainError(sut.updateValues({ userId: other.id, isAdmin: false, actor: other.id }, other.id, d.id, {}), 'NotFound');
    });

    it('refuses changes once deletion started', async () => {
      const d = await create();
      await sut.delete(owner, userId, d.id);
      await expectDomainError(sut.updateValues(owner, userId, d.id, {}), 'Conflict');
    });
  });

  describe('upgrades', () => {
    it('are reached through this service: upgrade, its dry run and the signal path', async () => {
      const d = await create();
      const v11 = store.addTemplate(productId, { version: '1.1.0', valuesSchema: userSchema() }).id;
      const v12 = store.addTemplate(productId, { version: '1.2.0', valuesSchema: userSchema() }).id;
      expect(await sut.previewUpgrade(userId, d.id, v11)).toMatchObject({ valid: true, toTemplate: { id: v11 } });
      expect(await sut.upgrade(admin, userId, d.id, v11)).toMatchObject({ desiredTemplateId: v11, generation: 2 });
      expect(await sut.acceptUpgradeSignal(d.id, v12, 'ops')).toEqual({ outcome: 'accepted', generation: 3, templateVersion: '1.2.0' });
    });
  });

  describe('delete', () => {
    it('is soft and idempotent: one event, one generation bump, the row stays', async () => {
      const d = await create();
      const first = await sut.delete(owner, userId, d.id);
      expect(first).toMatchObject({ status: 'deleting', generation: 2 });
      expect(first.deletedAt).not.toBeNull();
      const second = await sut.delete(owner, userId, d.id);
      expect(second).toMatchObject({ status: 'deleting', generation: 2, deletedAt: first.deletedAt });
      expect(store.events.map((e) => e.type)).toEqual(['created', 'delete-requested']);
      expect(store.deployments.has(d.id)).toBe(true);
      expect(workflows.wakes.at(-1)?.signal).toEqual({ name: 'delete', generation: 2 });
    });

    it('does not wake a deployment that is already deleted', async () => {
      const d = await create();
      store.deployments.set(d.id, { ...store.deployments.get(d.id)!, status: 'deleted', deletedAt: new Date() });
      const wakes = workflows.wakes.length;
      expect((await sut.delete(owner, userId, d.id)).status).toBe('deleted');
      expect(workflows.wakes).toHaveLength(wakes);
    });

    it('404s for an unknown deployment or one of another user', async () => {
      const d = await create();
      await expectDomainError(sut.delete(owner, userId, '00000000-0000-4000-8000-000000000000'), 'NotFound');
      await expectDomainError(sut.delete(admin, store.addUser({ email: 'b@example.com' }).id, d.id), 'NotFound');
    });
  });

  describe('events and reads', () => {
    it('pages events oldest first and refuses a malformed cursor', async () => {
      const d = await create();
      await sut.updateValues(owner, userId, d.id, { title: 'a' });
      await sut.updateValues(owner, userId, d.id, { title: 'b' });
      const page1 = await sut.events(userId, d.id, 2);
      expect(page1.items.map((e) => e.type)).toEqual(['created', 'values-updated']);
      const page2 = await sut.events(userId, d.id, 2, page1.nextCursor!);
      expect(page2).toMatchObject({ items: [expect.objectContaining({ generation: 3 })], nextCursor: null });
      await expectDomainError(sut.events(userId, d.id, 2, 'abc'), 'InvalidInput', 'cursor');
      await expectDomainError(sut.events(userId, d.id, 2, '9999999999999999999'), 'InvalidInput', 'cursor');
    });

    it('hides deployments of other users behind a 404', async () => {
      const d = await create();
      await expectDomainError(sut.get(store.addUser({ email: 'b@example.com' }).id, d.id), 'NotFound');
      await expectDomainError(sut.events(store.addUser({ email: 'c@example.com' }).id, d.id, 10), 'NotFound');
    });

    it('lists without secrets', async () => {
      await create({ adminPassword: SECRET });
      const page = await sut.list({ userId }, { limit: 10 });
      expect(page.items).toHaveLength(1);
      expect(JSON.stringify(page)).not.toContain(SECRET);
    });
  });
});
