import { KubeError } from './kube.errors';
import type { KubeClient } from './kube.client';
import { buildTenantClusterRoles, ensureTenantClusterRole, TenantClients, tenantUser, TENANT_AGGREGATION_LABEL, waitForTenantAccess } from './tenant';

describe('tenant identity', () => {
  it('names the namespace’s ServiceAccount as the API server knows it', () => {
    expect(tenantUser('web-1')).toBe('system:serviceaccount:web-1:caelus-tenant');
  });

  it('builds an aggregating ClusterRole and its default rules, namespaced kinds only and no RBAC', () => {
    const [role, defaults] = buildTenantClusterRoles('caelus-tenant');
    expect(role).toMatchObject({
      kind: 'ClusterRole',
      metadata: { name: 'caelus-tenant' },
      rules: [],
      aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [TENANT_AGGREGATION_LABEL]: 'true' } }] },
    });
    expect(defaults.metadata).toMatchObject({ name: 'caelus-tenant-defaults', labels: { [TENANT_AGGREGATION_LABEL]: 'true' } });
    const resources = (defaults.rules as { resources: string[] }[]).flatMap((r) => r.resources);
    expect(resources).toEqual(expect.arrayContaining(['secrets', 'configmaps', 'deployments', 'replicasets']));
    for (const r of ['roles', 'rolebindings', 'networkpolicies', 'resourcequotas', 'limitranges', 'namespaces', 'clusterroles']) expect(resources).not.toContain(r);
  });

  it('creates the default ClusterRole only where none exists', async () => {
    const apply = jest.fn(async () => ({}) as never);
    await expect(ensureTenantClusterRole({ get: jest.fn(async () => ({ metadata: { name: 'caelus-tenant' } }) as never), apply })).resolves.toBe(false);
    expect(apply).not.toHaveBeenCalled();
    await expect(ensureTenantClusterRole({ get: jest.fn(async () => undefined), apply })).resolves.toBe(true);
    expect(apply.mock.calls.map((c: unknown[]) => (c[0] as { metadata: { name: string } }).metadata.name)).toEqual(['caelus-tenant-defaults', 'caelus-tenant']);
  });
});

describe(TenantClients.name, () => {
  it('keeps one impersonating client per namespace, bounded', () => {
    const impersonating = jest.fn((user: string) => ({ actingAs: user }) as unknown as KubeClient);
    const sut = new TenantClients({ impersonating } as unknown as KubeClient, 2);
    const a = sut.for('a');
    expect(sut.for('a')).toBe(a);
    expect(a.actingAs).toBe('system:serviceaccount:a:caelus-tenant');
    sut.for('b');
    sut.for('c');
    expect(sut.for('a')).not.toBe(a);
    expect(impersonating).toHaveBeenCalledTimes(4);
  });
});

describe(waitForTenantAccess.name, () => {
  const forbidden = () => new KubeError('secrets is forbidden', 403, 'Forbidden', false);

  it('returns once the tenant may list release Secrets, retrying while forbidden', async () => {
    const listSecretMetadata = jest.fn().mockRejectedValueOnce(forbidden()).mockRejectedValueOnce(forbidden()).mockResolvedValue([]);
    await waitForTenantAccess({ listSecretMetadata }, 'web-1', { intervalMs: 1 });
    expect(listSecretMetadata).toHaveBeenCalledTimes(3);
    expect(listSecretMetadata).toHaveBeenCalledWith('web-1', 'owner=helm');
  });

  it('gives up with a retryable error when access never comes', async () => {
    const listSecretMetadata = jest.fn().mockRejectedValue(forbidden());
    await expect(waitForTenantAccess({ listSecretMetadata }, 'web-1', { timeoutMs: 20, intervalMs: 5 })).rejects.toMatchObject({ status: 403, retryable: true });
  });

  it('passes any other failure on at once', async () => {
    const listSecretMetadata = jest.fn().mockRejectedValue(new KubeError('connection refused', undefined, 'NetworkError', true));
    await expect(waitForTenantAccess({ listSecretMetadata }, 'web-1')).rejects.toThrow('connection refused');
    expect(listSecretMetadata).toHaveBeenCalledTimes(1);
  });
});
