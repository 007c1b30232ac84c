import { FakeRenderer, FakeStore, FakeWorkflows } from '../../../../test/support/domain-fakes';
import { deploymentsFixture, expectDomainError, SECRET, userSchema } from '../../../../test/support/deployments-fixture';
import { Principal } from '../auth/principal';
import { REDACTED, SecretBox } from '../values';
import { DeploymentUpgradeService } from './deployment-upgrade.service';
import { DeploymentsService } from './deployments.service';

describe(DeploymentUpgradeService.name, () => {
  let store: FakeStore;
  let workflows: FakeWorkflows;
  let renderer: FakeRenderer;
  let box: SecretBox;
  let deployments: DeploymentsService;
  let sut: DeploymentUpgradeService;
  let userId: string;
  let productId: string;
  let v1: string;
  let admin: Principal;
  let owner: Principal;

  beforeEach(() => {
    const f = deploymentsFixture();
    ({ store, workflows, renderer, box, userId, productId, v1, admin, owner } = f);
    deployments = new DeploymentsService(f.deps());
    sut = new DeploymentUpgradeService(f.deps());
  });

  const create = (values: Record<string, unknown> = { title: 'mine' }) => deployments.create(owner, userId, { templateId: v1, domainName: 'ada.apps.example.com', values });
  const at = (id: string, path: string) => ({ owner: 'deployment' as const, id, path });

  describe('upgrade', () => {
    const addVersion = (version: string, over: Record<string, unknown> = {}, pid = productId) =>
      store.addTemplate(pid, { version, valuesSchema: userSchema(), defaultValues: { replicas: 1 }, ...over }).id;

    it('moves forward within the product: new desired template, generation, event and upgrade signal', async () => {
      const d = await create();
      const v11 = addVersion('1.1.0');
      const view = await sut.upgrade(admin, userId, d.id, v11);
      expect(view).toMatchObject({ desiredTemplateId: v11, generation: 2, status: 'upgrading' });
      expect(store.events.at(-1)).toMatchObject({ type: 'upgrade-requested', actor: 'admin', data: { fromVersion: '1.0.0', templateVersion: '1.1.0' } });
      expect(workflows.wakes.at(-1)?.signal).toEqual({ name: 'upgrade', templateId: v11, requestedBy: 'admin' });
    });

    it.each([
      ['the same version', '1.0.0'],
      ['an older version', '0.9.0'],
      ['a pre-release of the current version', '1.0.0-rc.1'],
    ])('refuses %s with a Conflict and writes nothing', async (_, version) => {
      const d = await create();
      const target = version === '1.0.0' ? v1 : addVersion(version);
      const before = store.snapshot();
      const err = await expectDomainError(sut.upgrade(admin, userId, d.id, target), 'Conflict', 'templateId');
      expect(err.message).toMatch(/only go forward/);
      expect(store.snapshot()).toBe(before);
    });

    it('refuses a template of another product', async () => {
      const d = await create();
      const other = store.addProduct({ name: 'other' }).id;
      const before = store.snapshot();
      const err = await expectDomainError(sut.upgrade(admin, userId, d.id, addVersion('2.0.0', {}, other)), 'Conflict', 'templateId');
      expect(err.message).toMatch(/same product/);
      expect(store.events.length).toBe(1);
      expect(JSON.parse(store.snapshot()).d).toEqual(JSON.parse(before).d);
    });

    it('applies the target allowFrom range to the current version', async () => {
      const d = await create();
      const v3 = addVersion('3.0.0', { capabilities: { upgradePolicy: { allowFrom: '>=2.0.0' } } });
      await expectDomainError(sut.upgrade(admin, userId, d.id, v3), 'Conflict', 'templateId');
      const v2 = addVersion('2.0.0', { capabilities: { upgradePolicy: { allowFrom: '^1.0.0' } } });
      expect((await sut.upgrade(admin, userId, d.id, v2)).desiredTemplateId).toBe(v2);
      expect((await sut.upgrade(admin, userId, d.id, v3)).desiredTemplateId).toBe(v3);
    });

    it('keeps the release backend: a template of another backend is refused, the same one (spelled out or not) is fine', async () => {
      const d = await create();
      const flux = addVersion('2.0.0', { capabilities: { backend: 'flux' } });
      const before = store.snapshot();
      const err = await expectDomainError(sut.upgrade(admin, userId, d.id, flux), 'Conflict', 'templateId');
      expect(err.message).toMatch(/keeps its release backend/);
      expect(store.snapshot()).toBe(before);
      expect((await sut.upgrade(admin, userId, d.id, addVersion('1.1.0', { capabilities: { backend: 'helm' } }))).generation).toBe(2);
    });

    it('re-validates the current values against the target schema', async () => {
      const d = await create({ title: 'a title of twenty-one' });
      const strict = addVersion('1.1.0', { valuesSchema: userSchema({ title: { type: 'string', maxLength: 10 } }) });
      const before = store.snapshot();
      await expectDomainError(sut.upgrade(admin, userId, d.id, strict), 'InvalidValues', '/user/title');
      expect(store.snapshot()).toBe(before);
    });

    it('validates secrets with their plain value and seals fields the target newly marks secret', async () => {
      const d = await create({ adminPassword: SECRET, apiKey: 'plain-api-key' });
      const v11 = addVersion('1.1.0', { valuesSchema: userSchema({}, ['adminPassword', 'apiKey']) });
      await sut.upgrade(admin, userId, d.id, v11);
      const stored = store.deployments.get(d.id)!.userValues;
      expect(SecretBox.isSealed(stored.apiKey)).toBe(true);
      expect(box.open(stored.adminPassword as never, at(d.id, '/adminPassword'))).toBe(SECRET);
      expect(box.open(stored.apiKey as never, at(d.id, '/apiKey'))).toBe('plain-api-key');
      expect((await deployments.get(userId, d.id)).values).toEqual({ adminPassword: REDACTED, apiKey: REDACTED });
    });

    it('404s for a deleted target template and honours If-Match', async () => {
      const d = await create();
      const v11 = addVersion('1.1.0');
      store.templates.set(v11, { ...store.templates.get(v11)!, deletedAt: new Date() });
      await expectDomainError(sut.upgrade(admin, userId, d.id, v11), 'NotFound');
      await expectDomainError(sut.upgrade(admin, userId, d.id, addVersion('1.2.0'), 5), 'Conflict', 'If-Match');
    });
  });

  describe('previewUpgrade', () => {
    const addVersion = (version: string, over: Record<string, unknown> = {}, pid = productId) =>
      store.addTemplate(pid, { version, chartVersion: version, valuesSchema: userSchema(), defaultValues: { replicas: 1 }, ...over }).id;
    const applied = async (values?: Record<string, unknown>) => {
      const d = await create(values);
      store.deployments.set(d.id, { ...store.deployments.get(d.id)!, appliedTemplateId: v1, observedGeneration: 1, status: 'ready' });
      return d;
    };

    it('diffs the applied and the target manifests rendered with the current values, and writes nothing', async () => {
      const d = await applied();
      const v11 = addVersion('1.1.0');
      const before = store.snapshot();
      const preview = await sut.previewUpgrade(userId, d.id, v11);
      expect(preview).toMatchObject({ valid: true, problems: [], rendered: true, generation: 1, fromTemplate: { id: v1, version: '1.0.0' }, toTemplate: { id: v11, version: '1.1.0' } });
      expect(preview.message).toMatch(/1 object\(s\) change from 1\.0\.0 to 1\.1\.0/);
      expect(preview.diff).toContain(`--- 1.0.0/ConfigMap/${d.deploymentUid}-config`);
      expect(preview.diff).toContain('-    chart: 1.0.0\n+    chart: 1.1.0');
      expect(renderer.calls.map((c) => [c.release, c.namespace, c.chart.version])).toEqual([
        [d.deploymentUid, d.deploymentUid, '1.0.0'],
        [d.deploymentUid, d.deploymentUid, '1.1.0'],
      ]);
      expect(renderer.calls[1].values).toMatchObject({ replicas: 1, user: { title: 'mine' }, caelus: { deploymentUid: d.deploymentUid, domainName: d.domainName } });
      expect(store.snapshot()).toBe(before);
      expect(workflows.wakes).toHaveLength(1);
    });

    it('renders secrets decrypted for helm but masks them in the diff', async () => {
      const d = await applied({ title: 'mine', adminPassword: SECRET });
      const preview = await sut.previewUpgrade(userId, d.id, addVersion('1.1.0'));
      expect((renderer.calls[0].values.user as Record<string, unknown>).adminPassword).toBe(SECRET);
      expect(preview.diff).toContain(`Secret/${d.deploymentUid}-admin`);
      expect(preview.diff).toContain('   password: "[masked]"');
      expect(preview.diff).not.toContain(SECRET);
      expect(preview.diff).not.toContain(Buffer.from(SECRET).toString('base64'));
    });

    it('compares against nothing, and says so, when nothing has been applied yet', async () => {
      const d = await create();
      const preview = await sut.previewUpgrade(userId, d.id, addVersion('1.1.0'));
      expect(preview).toMatchObject({ valid: true, rendered: true, fromTemplate: null });
      expect(preview.message).toMatch(/not been applied yet/);
      expect(preview.diff).toContain(`--- /dev/null\n+++ 1.1.0/ConfigMap/${d.deploymentUid}-config`);
      expect(renderer.calls).toHaveLength(1);
    });

    it.each([
      ['backwards', () => addVersion('0.9.0'), /only go forward/, 'templateId'],
      ['to the same version', () => v1, /only go forward/, 'templateId'],
      ['to another product', () => addVersion('2.0.0', {}, store.addProduct({ name: 'other' }).id), /same product/, 'templateId'],
      ['outside allowFrom', () => addVersion('3.0.0', { capabilities: { upgradePolicy: { allowFrom: '>=2.0.0' } } }), /can only be reached from/, 'templateId'],
      ['to another release backend', () => addVersion('2.0.0', { capabilities: { backend: 'flux' } }), /keeps its release backend/, 'templateId'],
      ['with values the target schema refuses', () => addVersion('1.1.0', { valuesSchema: userSchema({ title: { type: 'string', maxLength: 2 } }) }), /do not match the schema/, '/user/title'],
    ])('answers valid: false %s, with the reason, without rendering or writing', async (_, target, reason, field) => {
      const d = await applied();
      const targetId = target();
      const before = store.snapshot();
      const preview = await sut.previewUpgrade(userId, d.id, targetId);
      expect(preview).toMatchObject({ valid: false, rendered: false, diff: '', message: expect.stringMatching(reason) });
      expect(preview.problems.map((p) => p.field)).toContain(field);
      expect(renderer.calls).toHaveLength(0);
      expect(store.snapshot()).toBe(before);
    });

    it('shares the upgrade rules for a deployment being deleted and a stale If-Match', async () => {
      const d = await applied();
      const v11 = addVersion('1.1.0');
      expect(await sut.previewUpgrade(userId, d.id, v11, 7)).toMatchObject({ valid: false, problems: [{ field: 'If-Match' }] });
      await deployments.delete(owner, userId, d.id);
      expect(await sut.previewUpgrade(userId, d.id, v11)).toMatchObject({ valid: false, problems: [{ field: 'deployment', message: expect.stringMatching(/is deleting/) }] });
    });

    it('reports a rendering failure without failing the request', async () => {
      const d = await applied();
      renderer.failWith = new Error('chart path "/x" not found');
      const preview = await sut.previewUpgrade(userId, d.id, addVersion('1.1.0'));
      expect(preview).toMatchObject({ valid: true, rendered: false, diff: '', message: expect.stringMatching(/could not be rendered: chart path/) });
    });

    it('404s for an unknown deployment or target, and for another user', async () => {
      const d = await applied();
      await expectDomainError(sut.previewUpgrade(userId, d.id, '00000000-0000-4000-8000-000000000000'), 'NotFound');
      await expectDomainError(sut.previewUpgrade(userId, '00000000-0000-4000-8000-000000000000', addVersion('1.1.0')), 'NotFound');
      await expectDomainError(sut.previewUpgrade(store.addUser({ email: 'b@example.com' }).id, d.id, addVersion('1.2.0')), 'NotFound');
    });
  });

  describe('acceptUpgradeSignal', () => {
    it('applies the same rules and records a rejection as an event', async () => {
      const d = await create();
      const older = store.addTemplate(productId, { version: '0.1.0' }).id;
      const res = await sut.acceptUpgradeSignal(d.id, older, 'temporal-cli');
      expect(res).toEqual({ outcome: 'rejected', reason: expect.stringMatching(/only go forward/) });
      expect(store.events.at(-1)).toMatchObject({ type: 'upgrade-rejected', actor: 'temporal-cli', data: { templateId: older } });
      expect(store.deployments.get(d.id)!.generation).toBe(1);
    });

    it('is a no-op for the template already desired', async () => {
      const d = await create();
      expect(await sut.acceptUpgradeSignal(d.id, v1, 'x')).toEqual({ outcome: 'already-desired', generation: 1, templateVersion: '1.0.0' });
    });

    it('accepts a forward upgrade', async () => {
      const d = await create();
      const v2 = store.addTemplate(productId, { version: '2.0.0' }).id;
      expect(await sut.acceptUpgradeSignal(d.id, v2, 'x')).toEqual({ outcome: 'accepted', generation: 2, templateVersion: '2.0.0' });
    });
  });
});
