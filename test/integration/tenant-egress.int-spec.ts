// Tenant egress NetworkPolicies as the local cluster's API server stores them. KWOK runs no
// network and enforces no policy, so this checks the stored objects (the API server's validation
// of ipBlock/except included), not traffic.
import { randomBytes } from 'node:crypto';

import { loadStackEnv } from '../../scripts/stack';
import { buildEgressRules, buildNamespaceObjects, ensureNamespace, KubeClient, NETWORK_POLICY_NAMES, type KubeObject } from '../../libs/platform/src';

const env = { ...loadStackEnv(), ...process.env } as Record<string, string>;

describe('tenant egress on the local cluster', () => {
  const kube = new KubeClient({ kubeconfig: env.KUBECONFIG });
  const made: string[] = [];
  const newNamespace = () => {
    const name = `egress-it-${randomBytes(3).toString('hex')}`;
    made.push(name);
    return { name, deploymentUid: name };
  };
  const policy = (namespace: string, name: string) => kube.get<KubeObject & { spec: Record<string, unknown> }>({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', name, namespace });

  afterAll(async () => {
    for (const name of made) await kube.deleteNamespace(name).catch(() => undefined);
  });

  it('stores the default-deny and the allow policy exactly as built', async () => {
    const spec = newNamespace();

    const result = await ensureNamespace(kube, spec);

    expect(result.applied).toEqual(expect.arrayContaining(['NetworkPolicy caelus-default-deny-egress', 'NetworkPolicy caelus-allow-egress']));
    expect((await policy(spec.name, NETWORK_POLICY_NAMES.defaultDenyEgress))?.spec).toEqual({ podSelector: {}, policyTypes: ['Egress'] });
    const stored = await policy(spec.name, NETWORK_POLICY_NAMES.egress);
    expect(stored?.spec).toEqual({ podSelector: {}, policyTypes: ['Egress'], egress: buildEgressRules() });
    const text = JSON.stringify(stored?.spec);
    for (const denied of ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '169.254.0.0/16', '127.0.0.0/8', 'fc00::/7']) expect(text).toContain(`"${denied}"`);
    expect(text).not.toContain('namespaceSelector');
  });

  it('adds the egress policies to a namespace made before them when it is next ensured', async () => {
    const spec = newNamespace();
    // What an earlier Caelus applied: everything but the egress policies.
    const [namespace, ...inside] = buildNamespaceObjects(spec).filter((o) => !(o.spec as { policyTypes?: string[] } | undefined)?.policyTypes?.includes('Egress'));
    await kube.apply(namespace);
    for (const obj of inside) await kube.apply(obj);
    expect(await policy(spec.name, NETWORK_POLICY_NAMES.egress)).toBeUndefined();

    await expect(ensureNamespace(kube, spec)).resolves.toMatchObject({ created: false });

    expect(await policy(spec.name, NETWORK_POLICY_NAMES.defaultDenyEgress)).toBeDefined();
    expect((await policy(spec.name, NETWORK_POLICY_NAMES.egress))?.spec.egress).toEqual(buildEgressRules());
  });

  it('follows a change of the configured ranges, and the API server takes a fully denied family', async () => {
    const spec = newNamespace();
    await ensureNamespace(kube, spec);

    const egress = { denyCidrs: ['0.0.0.0/0', 'fc00::/7'], allowCidrs: ['203.0.113.0/24', '2001:db8::/32'] };
    await ensureNamespace(kube, { ...spec, egress });

    const stored = (await policy(spec.name, NETWORK_POLICY_NAMES.egress))?.spec.egress;
    expect(stored).toEqual(buildEgressRules(egress));
    // IPv4 only through the allowed range; the old except list is gone (server-side apply owns the whole list).
    expect(JSON.stringify(stored)).not.toContain('"0.0.0.0/0"');
    expect(JSON.stringify(stored)).not.toContain('169.254.0.0/16');
  });
});
