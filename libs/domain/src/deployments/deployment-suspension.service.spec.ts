import { FakeStore, FakeWorkflows } from '../../../../test/support/domain-fakes';
import { deploymentsFixture, expectDomainError } from '../../../../test/support/deployments-fixture';
import { Principal } from '../auth/principal';
import { DeploymentsService } from './deployments.service';
import { DeploymentSuspensionService } from './deployment-suspension.service';

describe(DeploymentSuspensionService.name, () => {
  let store: FakeStore;
  let workflows: FakeWorkflows;
  let deployments: DeploymentsService;
  let sut: DeploymentSuspensionService;
  let userId: string;
  let v1: string;
  let owner: Principal;
  let admin: Principal;

  beforeEach(() => {
    const fixture = deploymentsFixture();
    ({ store, workflows, userId, v1, owner, admin } = fixture);
    deployments = new DeploymentsService(fixture.deps());
    sut = new DeploymentSuspensionService(fixture.deps());
  });

  const create = () => deployments.create(owner, userId, { templateId: v1, domainName: 'ada.apps.example.com', values: { title: 'mine' } });
  const typesOf = (id: string) => store.events.filter((e) => e.deploymentId === id).map((e) => e.type);

  it('suspends with a reason: an event at the current generation, the view says so, the workflow is woken', async () => {
    const d = await create();
    workflows.wakes.length = 0;
    const view = await sut.suspend(owner, userId, d.id, '  maintenance window ');
    expect(view).toMatchObject({ suspended: true, suspendedAt: expect.any(String), suspendedReason: 'maintenance window', generation: 1, status: 'provisioning' });
    expect(store.events.at(-1)).toMatchObject({ type: 'suspended', generation: 1, actor: userId, message: 'suspended: maintenance window', data: { reason: 'maintenance window' } });
    expect(workflows.wakes).toEqual([expect.objectContaining({ signal: { name: 'reconcile', generation: 1 } })]);
  });

  it('is idempotent both ways: only a change writes an event and wakes the workflow', async () => {
    const d = await create();
    await sut.resume(admin, userId, d.id);
    await sut.suspend(admin, userId, d.id);
    const first = store.deployments.get(d.id)!.suspendedAt;
    await sut.suspend(admin, userId, d.id, 'again');
    expect(store.deployments.get(d.id)).toMatchObject({ suspendedAt: first, suspendedReason: null });
    const resumed = await sut.resume(admin, userId, d.id);
    await sut.resume(admin, userId, d.id);
    expect(resumed).toMatchObject({ suspended: false, suspendedAt: null, suspendedReason: null });
    expect(typesOf(d.id)).toEqual(['created', 'suspended', 'resumed']);
    expect(workflows.wakes.map((w) => w.signal.name)).toEqual(['reconcile', 'reconcile', 'reconcile']);
  });

  it('says on resume whether a generation waited', async () => {
    const d = await create();
    await sut.suspend(owner, userId, d.id);
    expect(store.events.at(-1)!.message).toBe('suspended: changes wait and drift is not corrected until resumed');
    await deployments.updateValues(owner, userId, d.id, { title: 'waits' });
    expect(store.deployments.get(d.id)).toMatchObject({ generation: 2, suspendedReason: null });
    expect(store.deployments.get(d.id)!.suspendedAt).not.toBeNull();
    await sut.resume(owner, userId, d.id);
    expect(store.events.at(-1)).toMatchObject({ type: 'resumed', generation: 2, message: 'resumed: generation 2 is applied now' });
  });

  it('refuses a deployment being deleted or deleted with a Conflict, and a delete ends a suspension', async () => {
    const d = await create();
    await sut.suspend(owner, userId, d.id);
    const deleting = await deployments.delete(owner, userId, d.id);
    expect(deleting).toMatchObject({ status: 'deleting', suspended: false, suspendedAt: null });
    const before = store.snapshot();
    await expectDomainError(sut.resume(owner, userId, d.id), 'Conflict');
    await expectDomainError(sut.suspend(owner, userId, d.id), 'Conflict');
    expect(store.snapshot()).toBe(before);
  });

  it('404s for a deployment of another user', async () => {
    const d = await create();
    const other = store.addUser({ email: 'bob@example.com' }).id;
    await expectDomainError(sut.suspend(admin, other, d.id), 'NotFound');
    await expectDomainError(sut.resume(admin, other, d.id), 'NotFound');
  });

  it.each<[string, unknown]>([
    ['too long', 'x'.repeat(301)],
    ['not a string', 42],
    ['with control characters', 'a\u0000b'],
  ])('refuses a reason %s, writing nothing', async (_name, reason) => {
    const d = await create();
    const before = store.snapshot();
    await expectDomainError(sut.suspend(owner, userId, d.id, reason as string), 'InvalidInput', 'reason');
    expect(store.snapshot()).toBe(before);
  });
});
