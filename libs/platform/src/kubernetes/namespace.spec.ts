import type { ApplyOptions, WaitForNamespaceGoneOptions } from './kube.client';
import { KubeError } from './kube.errors';
import type { KubeObject } from './kube.types';
import { buildEgressRules, buildNamespaceObjects, DEFAULT_EGRESS_DENY_CIDRS, deleteNamespace, describeNamespaceState, ensureNamespace, type TenantEgress } from './namespace';

const spec = { name: 'd-abc', deploymentUid: 'd-abc' };

function ownedNamespace(phase = 'Active'): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'd-abc', labels: { 'app.kubernetes.io/managed-by': 'caelus', 'caelus.dev/deployment-uid': 'd-abc' } },
    status: { phase },
  };
}

class FakeKube {
  namespace: KubeObject | undefined;
  applied: { obj: KubeObject; options?: ApplyOptions }[] = [];
  deleted: string[] = [];

  async getNamespace(): Promise<KubeObject | undefined> {
    return this.namespace;
  }

  async apply<T extends KubeObject>(obj: KubeObject, options?: ApplyOptions): Promise<T> {
    this.applied.push({ obj, options });
    return obj as T;
  }

  async deleteNamespace(name: string): Promise<boolean> {
    this.deleted.push(name);
    return true;
  }

  async waitForNamespaceGone(_name: string, options: WaitForNamespaceGoneOptions): Promise<void> {
    options.onProgress?.({
      ...ownedNamespace('Terminating'),
      status: {
        phase: 'Terminating',
        conditions: [
          { type: 'NamespaceContentRemaining', status: 'True', message: 'Some resources are remaining: pods has 1 resource instances' },
          { type: 'NamespaceDeletionDiscoveryFailure', status: 'False', message: 'All resources successfully discovered' },
        ],
      },
    });
  }
}

describe(buildNamespaceObjects.name, () => {
  it('labels the namespace as Caelus-managed with Pod Security admission levels', () => {
    const [ns] = buildNamespaceObjects({ ...spec, labels: { 'caelus.dev/product': 'webapp', 'app.kubernetes.io/managed-by': 'me' } });
    expect(ns.metadata.labels).toEqual({
      'app.kubernetes.io/managed-by': 'caelus',
      'caelus.dev/deployment-uid': 'd-abc',
      'caelus.dev/product': 'webapp',
      'pod-security.kubernetes.io/enforce': 'baseline',
      'pod-security.kubernetes.io/enforce-version': 'latest',
      'pod-security.kubernetes.io/warn': 'restricted',
      'pod-security.kubernetes.io/warn-version': 'latest',
      'pod-security.kubernetes.io/audit': 'restricted',
      'pod-security.kubernetes.io/audit-version': 'latest',
    });
  });

  it('builds quota and limits from defaults, overridden by capabilities', () => {
    const objects = buildNamespaceObjects({
      ...spec,
      capabilities: { quota: { pods: '5', 'requests.storage': '2Gi' }, limits: { max: { memory: '1Gi' } } },
    });
    const quota = objects.find((o) => o.kind === 'ResourceQuota')!;
    const limits = objects.find((o) => o.kind === 'LimitRange')!;

    expect(quota.metadata.namespace).toBe('d-abc');
    expect((quota.spec as { hard: Record<string, string> }).hard).toMatchObject({ pods: '5', 'requests.storage': '2Gi', 'limits.cpu': '4' });
    expect(limits.spec).toEqual({
      limits: [
        {
          type: 'Container',
          default: { cpu: '500m', memory: '512Mi' },
          defaultRequest: { cpu: '50m', memory: '64Mi' },
          max: { cpu: '2', memory: '1Gi' },
        },
      ],
    });
  });

  it('denies ingress by default and allows the namespace itself and the ingress controller', () => {
    const policies = buildNamespaceObjects({ ...spec, ingressNamespaceSelector: { 'caelus.dev/ingress': 'true' } }).filter(
      (o) => o.kind === 'NetworkPolicy' && (o.spec as { policyTypes: string[] }).policyTypes.includes('Ingress'),
    );

    expect(policies.map((p) => [p.metadata.name, p.spec])).toEqual([
      ['caelus-default-deny-ingress', { podSelector: {}, policyTypes: ['Ingress'] }],
      ['caelus-allow-same-namespace', { podSelector: {}, policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: {} }] }] }],
      [
        'caelus-allow-ingress-controller',
        {
          podSelector: {},
          policyTypes: ['Ingress'],
          ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'caelus.dev/ingress': 'true' } } }] }],
        },
      ],
    ]);
  });
});

describe('tenant egress', () => {
  const egressPolicies = (egress?: TenantEgress) =>
    buildNamespaceObjects({ ...spec, egress }).filter((o) => o.kind === 'NetworkPolicy' && (o.spec as { policyTypes: string[] }).policyTypes.includes('Egress'));

  it('denies egress by default and allows the namespace, DNS and the internet without private, link-local and loopback ranges', () => {
    const policies = egressPolicies();

    expect(policies.map((p) => [p.metadata.name, p.metadata.labels, p.spec])).toEqual([
      ['caelus-default-deny-egress', { 'app.kubernetes.io/managed-by': 'caelus', 'caelus.dev/deployment-uid': 'd-abc' }, { podSelector: {}, policyTypes: ['Egress'] }],
      [
        'caelus-allow-egress',
        { 'app.kubernetes.io/managed-by': 'caelus', 'caelus.dev/deployment-uid': 'd-abc' },
        {
          podSelector: {},
          policyTypes: ['Egress'],
          egress: [
            { to: [{ podSelector: {} }] },
            {
              ports: [
                { protocol: 'UDP', port: 53 },
                { protocol: 'TCP', port: 53 },
              ],
            },
            {
              to: [
                {
                  ipBlock: {
                    cidr: '0.0.0.0/0',
                    except: ['0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12', '192.168.0.0/16'],
                  },
                },
                { ipBlock: { cidr: '::/0', except: ['::1/128', 'fc00::/7', 'fe80::/10'] } },
              ],
            },
          ],
        },
      ],
    ]);
    expect(DEFAULT_EGRESS_DENY_CIDRS).toContain('169.254.0.0/16');
  });

  it('selects no other namespace, so the Caelus namespace stays out of reach', () => {
    const text = JSON.stringify(egressPolicies().map((p) => p.spec));

    expect(text).not.toContain('namespaceSelector');
    // Every rule that names destinations names some: an empty `to` would mean anywhere.
    for (const rule of buildEgressRules()) expect((rule as { to?: unknown[] }).to ?? ['ports only']).not.toHaveLength(0);
  });

  it('takes the denied ranges from the configuration and reopens the allowed ones', () => {
    const rules = buildEgressRules({ denyCidrs: ['10.0.0.0/8', '203.0.113.0/24'], allowCidrs: ['10.20.0.25/32'] });

    expect(rules.slice(2)).toEqual([
      { to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8', '203.0.113.0/24'] } }, { ipBlock: { cidr: '::/0' } }] },
      { to: [{ ipBlock: { cidr: '10.20.0.25/32' } }] },
    ]);
  });

  it('leaves a family out entirely when its whole range is denied, and the internet rule when both are', () => {
    expect(buildEgressRules({ denyCidrs: ['0.0.0.0/0', 'fc00::/7'] }).slice(2)).toEqual([{ to: [{ ipBlock: { cidr: '::/0', except: ['fc00::/7'] } }] }]);
    expect(buildEgressRules({ denyCidrs: ['0.0.0.0/0', '::/0'] })).toHaveLength(2);
  });
});

describe(ensureNamespace.name, () => {
  it('applies the namespace first, then everything in it', async () => {
    const kube = new FakeKube();

    const result = await ensureNamespace(kube, spec);

    expect(result).toEqual({
      namespace: 'd-abc',
      created: true,
      applied: [
        'Namespace d-abc',
        'ResourceQuota caelus-quota',
        'LimitRange caelus-limits',
        'NetworkPolicy caelus-default-deny-ingress',
        'NetworkPolicy caelus-allow-same-namespace',
        'NetworkPolicy caelus-allow-ingress-controller',
        'NetworkPolicy caelus-default-deny-egress',
        'NetworkPolicy caelus-allow-egress',
        'ServiceAccount caelus-tenant',
        'RoleBinding caelus-tenant',
      ],
    });
    expect(kube.applied[0].obj.kind).toBe('Namespace');
  });

  it('converges an existing namespace of the same deployment', async () => {
    const kube = new FakeKube();
    kube.namespace = ownedNamespace();
    await expect(ensureNamespace(kube, spec)).resolves.toMatchObject({ created: false });
  });

  it('refuses a namespace that Caelus does not manage for this deployment', async () => {
    const kube = new FakeKube();
    kube.namespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'd-abc' } };

    await expect(ensureNamespace(kube, spec)).rejects.toMatchObject({ status: 409, retryable: false });
    expect(kube.applied).toEqual([]);
  });

  it('reports a namespace still being deleted as retryable', async () => {
    const kube = new FakeKube();
    kube.namespace = ownedNamespace('Terminating');
    const error = await ensureNamespace(kube, spec).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubeError);
    expect(error).toMatchObject({ reason: 'NamespaceTerminating', retryable: true });
  });
});

describe(deleteNamespace.name, () => {
  it('deletes and waits, reporting why the namespace is still there', async () => {
    const kube = new FakeKube();
    kube.namespace = ownedNamespace();
    const progress: string[] = [];

    const result = await deleteNamespace(kube, 'd-abc', { deploymentUid: 'd-abc', timeoutSeconds: 60, onProgress: (m) => progress.push(m) });

    expect(result.deleted).toBe(true);
    expect(kube.deleted).toEqual(['d-abc']);
    expect(progress).toEqual(['Terminating: Some resources are remaining: pods has 1 resource instances']);
  });

  it('is done when the namespace is already gone', async () => {
    const kube = new FakeKube();
    await expect(deleteNamespace(kube, 'd-abc', { deploymentUid: 'd-abc', timeoutSeconds: 60 })).resolves.toEqual({ deleted: false, waitedMs: 0 });
    expect(kube.deleted).toEqual([]);
  });

  it('never deletes a namespace of someone else', async () => {
    const kube = new FakeKube();
    kube.namespace = { ...ownedNamespace(), metadata: { name: 'd-abc', labels: { 'caelus.dev/deployment-uid': 'other' } } };
    await expect(deleteNamespace(kube, 'd-abc', { deploymentUid: 'd-abc', timeoutSeconds: 60 })).rejects.toMatchObject({ status: 409 });
    expect(kube.deleted).toEqual([]);
  });
});

describe(describeNamespaceState.name, () => {
  it('falls back to Unknown without status', () => {
    expect(describeNamespaceState({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x' } })).toBe('Unknown');
  });
});
