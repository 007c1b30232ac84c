import { MockActivityEnvironment } from '@temporalio/testing';
import { DomainError } from '../../../domain/src';
import type { DeploymentStateService, DesiredState } from '../../../domain/src';
import { ConfinementError, HelmError, HelmReleaseBackend, HelmReleaseStorage, HelmRunner, KubeError, ReleaseStorageError } from '../../../platform/src';
import type { KubeObject } from '../../../platform/src';
import { createHelmActivities, desiredWithValues } from './helm.activities';

type State = Pick<DeploymentStateService, 'load' | 'renderValues'>;

const desired = (generation: number, templateId: string) => ({ deploymentId: 'd1', deploymentUid: 'u1', generation, template: { id: templateId } }) as unknown as DesiredState;

describe(desiredWithValues.name, () => {
  it('reads again when a change lands between the desired state and the values', async () => {
    // An upgrade commits between the two reads: generation 1 (chart 1.0.0) then values of generation 2.
    const loads = [desired(1, 'tpl-1.0.0'), desired(2, 'tpl-1.1.0')];
    const renders = [
      { generation: 2, values: { user: { title: 'for 1.1.0' } } },
      { generation: 2, values: { user: { title: 'for 1.1.0' } } },
    ];
    const state: State = { load: jest.fn(async () => loads.shift()!), renderValues: jest.fn(async () => renders.shift()!) };
    const got = await desiredWithValues(state, 'd1');
    expect(got.generation).toBe(2);
    expect(got.d.template.id).toBe('tpl-1.1.0');
    expect(state.load).toHaveBeenCalledTimes(2);
  });

  it('returns at once when both reads see the same generation', async () => {
    const state: State = { load: jest.fn(async () => desired(3, 't')), renderValues: jest.fn(async () => ({ generation: 3, values: {} })) };
    await expect(desiredWithValues(state, 'd1')).resolves.toMatchObject({ generation: 3 });
    expect(state.load).toHaveBeenCalledTimes(1);
  });

  it('gives up with a retryable conflict when the deployment never holds still', async () => {
    let n = 0;
    const state: State = { load: jest.fn(async () => desired(++n, 't')), renderValues: jest.fn(async () => ({ generation: ++n, values: {} })) };
    const err = await desiredWithValues(state, 'd1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DomainError);
    expect((err as DomainError).code).toBe('Conflict');
  });
});

describe('uninstallRelease', () => {
  const active: KubeObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'u1' }, status: { phase: 'Active' } };
  const setup = (uninstall: () => Promise<unknown>, namespace: KubeObject | null = active) => {
    const state = { load: jest.fn(async () => desired(4, 't')), appendEvent: jest.fn(async () => undefined) };
    const helm = { unlockPending: jest.fn(async () => ({ unlocked: false })), uninstall: jest.fn(uninstall) };
    const releases = new HelmReleaseBackend({ helm: helm as unknown as HelmRunner, storage: {} as HelmReleaseStorage });
    const kube = { getNamespace: jest.fn(async () => namespace ?? undefined) };
    const sut = createHelmActivities({ releases, kube, state: state as unknown as DeploymentStateService, helmTimeoutSeconds: 60 });
    return { sut, state, helm };
  };

  it('runs no helm when the namespace was never created (a delete before the first apply): the tenant identity does not exist there', async () => {
    const { sut, state, helm } = setup(async () => ({ uninstalled: true, kept: [] }), null);
    await expect(new MockActivityEnvironment().run(sut.uninstallRelease, { deploymentId: 'd1' })).resolves.toEqual({ uninstalled: false, kept: [] });
    expect(helm.unlockPending).not.toHaveBeenCalled();
    expect(helm.uninstall).not.toHaveBeenCalled();
    expect(state.appendEvent).not.toHaveBeenCalled();
  });

  it('runs no helm when the namespace is already terminating (a retried teardown): its deletion removes the release', async () => {
    const terminating = { ...active, metadata: { ...active.metadata, deletionTimestamp: '2026-11-30T12:00:00Z' }, status: { phase: 'Terminating' } };
    const { sut, helm } = setup(async () => ({ uninstalled: true, kept: [] }), terminating);
    await expect(new MockActivityEnvironment().run(sut.uninstallRelease, { deploymentId: 'd1' })).resolves.toEqual({ uninstalled: false, kept: [] });
    expect(helm.uninstall).not.toHaveBeenCalled();
  });

  it('uninstalls in an active namespace', async () => {
    const { sut, helm } = setup(async () => ({ uninstalled: true, kept: ['persistentvolumeclaim/data'] }));
    await expect(new MockActivityEnvironment().run(sut.uninstallRelease, { deploymentId: 'd1' })).resolves.toEqual({ uninstalled: true, kept: ['persistentvolumeclaim/data'] });
    expect(helm.uninstall).toHaveBeenCalledWith('u1', 'u1', expect.objectContaining({ wait: true, timeoutSeconds: 60 }));
  });

  it.each([
    ['the release storage read', new KubeError('list Secret in u1: secrets is forbidden: User "system:serviceaccount:u1:caelus-tenant" cannot list resource "secrets"', 403, 'Forbidden', false)],
    ['helm', new HelmError('forbidden', 'uninstall: configmaps "x" is forbidden')],
  ])('does not leave a delete failed for good when %s is forbidden to the tenant: records it and leaves the rest to the namespace deletion', async (_what, refusal) => {
    const { sut, state } = setup(async () => Promise.reject(refusal));
    await expect(new MockActivityEnvironment().run(sut.uninstallRelease, { deploymentId: 'd1' })).resolves.toEqual({ uninstalled: false, kept: [] });
    expect(state.appendEvent).toHaveBeenCalledWith(
      expect.objectContaining({ type: 'error', message: expect.stringContaining('helm uninstall skipped, the namespace is deleted instead: the tenant ServiceAccount may not act in its namespace') }),
    );
  });

  it('does not let helm act on a stored release that escapes its namespace: records it and leaves the rest to the namespace deletion', async () => {
    const refusal = new ConfinementError('stored release revision 2', [{ rule: 'namespaced', kind: 'ClusterRole', name: 'x', message: 'ClusterRole "x": cluster-scoped' }]);
    const { sut, state } = setup(async () => Promise.reject(refusal));
    await expect(new MockActivityEnvironment().run(sut.uninstallRelease, { deploymentId: 'd1' })).resolves.toEqual({ uninstalled: false, kept: [] });
    expect(state.appendEvent).toHaveBeenCalledWith(
      expect.objectContaining({ type: 'error', generation: 4, message: expect.stringContaining('helm uninstall skipped, the namespace is deleted instead: stored release revision 2 refused') }),
    );
  });

  it('treats an untrusted release Secret the same way', async () => {
    const { sut, state } = setup(async () => Promise.reject(new ReleaseStorageError('helm release Secret u1/x is not trusted: its owner label is not "helm"')));
    await expect(new MockActivityEnvironment().run(sut.uninstallRelease, { deploymentId: 'd1' })).resolves.toMatchObject({ uninstalled: false });
    expect(state.appendEvent).toHaveBeenCalledTimes(1);
  });

  it('still fails, retryably, on anything else', async () => {
    const { sut, state } = setup(async () => Promise.reject(new HelmError('transient', 'connection refused')));
    await expect(new MockActivityEnvironment().run(sut.uninstallRelease, { deploymentId: 'd1' })).rejects.toMatchObject({ nonRetryable: false });
    expect(state.appendEvent).not.toHaveBeenCalled();
  });
});

describe('holdRelease', () => {
  const setup = (over: Partial<DesiredState> & { backend?: string }) => {
    const { backend, ...rest } = over;
    const d = {
      deploymentId: 'd1',
      deploymentUid: 'u1',
      generation: 2,
      suspended: true,
      deleting: false,
      template: { id: 't', capabilities: backend ? { backend } : undefined },
      ...rest,
    } as unknown as DesiredState;
    const state = { load: jest.fn(async () => d), appendEvent: jest.fn(async () => undefined) };
    const hold = jest.fn(async () => true);
    const releases = { apply: jest.fn(), uninstall: jest.fn(), render: jest.fn(), readDeployedManifest: jest.fn(), hold };
    const sut = createHelmActivities({ releases, kube: { getNamespace: jest.fn() }, state: state as unknown as DeploymentStateService, helmTimeoutSeconds: 60 });
    return { sut, hold };
  };
  const run = (sut: ReturnType<typeof setup>['sut']) => new MockActivityEnvironment().run(sut.holdRelease, { deploymentId: 'd1' });

  it('holds a suspended Flux-backed release in its namespace', async () => {
    const { sut, hold } = setup({ backend: 'flux' });
    await expect(run(sut)).resolves.toEqual({ held: true });
    expect(hold).toHaveBeenCalledWith({ release: 'u1', namespace: 'u1', backend: 'flux' });
  });

  it.each([
    ['a helm-backed release (helm reconciles nothing by itself)', {}],
    ['a deployment resumed meanwhile', { backend: 'flux', suspended: false }],
    ['a deployment being deleted', { backend: 'flux', deleting: true }],
  ])('holds nothing for %s', async (_what, over) => {
    const { sut, hold } = setup(over);
    await expect(run(sut)).resolves.toEqual({ held: false });
    expect(hold).not.toHaveBeenCalled();
  });
});
