import { ConfinementChecker, ConfinementError } from './confinement';

/** Discovery as the API server answers it for the kinds used here. */
const discovery = {
  async isNamespaced(apiVersion: string, kind: string): Promise<boolean | undefined> {
    const scopes: Record<string, boolean> = { 'v1/ConfigMap': true, 'apps/v1/Deployment': true, 'v1/Namespace': false, 'rbac.authorization.k8s.io/v1/ClusterRole': false };
    return scopes[`${apiVersion}/${kind}`];
  },
};

const cm = (name: string, namespace?: string | number) => `---
apiVersion: v1
kind: ConfigMap
metadata:
  name: ${name}
${namespace === undefined ? '' : `  namespace: ${namespace}\n`}data:
  a: b
`;

describe(ConfinementChecker.name, () => {
  const sut = new ConfinementChecker(discovery);

  it('accepts namespaced objects without a namespace or in the deployment’s own', async () => {
    const objects = await sut.review(cm('a') + cm('b', 'tenant-1') + '---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n', 'tenant-1');
    expect(objects.map((o) => o.metadata.name)).toEqual(['a', 'b', 'web']);
  });

  it('refuses an object in another namespace, naming it and the rule', async () => {
    const err = await sut.review(cm('a') + cm('leak', 'victim'), 'tenant-1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfinementError);
    expect((err as ConfinementError).violations).toEqual([expect.objectContaining({ rule: 'sameNamespace', kind: 'ConfigMap', name: 'leak', namespace: 'victim' })]);
    expect((err as Error).message).toBe(
      'rendered manifest refused, nothing applied: ConfigMap "leak" in namespace "victim" (v1): outside namespace "tenant-1" (rule: every object must be in the deployment\'s namespace)',
    );
  });

  it('refuses cluster-scoped kinds as discovery reports them, whatever namespace they claim', async () => {
    const manifest =
      'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: admin-ish\n  namespace: tenant-1\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: other\n';
    const err = (await sut.review(manifest, 'tenant-1').catch((e: unknown) => e)) as ConfinementError;
    expect(err.violations.map((v) => [v.rule, v.kind])).toEqual([
      ['namespaced', 'ClusterRole'],
      ['namespaced', 'Namespace'],
    ]);
    expect(err.message).toContain('ClusterRole "admin-ish" in namespace "tenant-1" (rbac.authorization.k8s.io/v1): cluster-scoped (rule: every object must be of a namespaced kind)');
  });

  it('refuses kinds the API server does not serve', async () => {
    const err = (await sut.review('apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n', 'tenant-1').catch((e: unknown) => e)) as ConfinementError;
    expect(err.violations).toEqual([expect.objectContaining({ rule: 'servedKind', kind: 'Widget' })]);
  });

  it('checks the items of a List one by one', async () => {
    const list = 'apiVersion: v1\nkind: List\nmetadata:\n  name: l\nitems:\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata:\n      name: inner\n      namespace: victim\n';
    const err = (await sut.review(list, 'tenant-1').catch((e: unknown) => e)) as ConfinementError;
    expect(err.violations).toEqual([expect.objectContaining({ name: 'inner', namespace: 'victim' })]);
  });

  it('compares a non-string namespace as text instead of letting it pass', async () => {
    const err = (await sut.review(cm('num', 123), 'tenant-1').catch((e: unknown) => e)) as ConfinementError;
    expect(err.violations).toEqual([expect.objectContaining({ rule: 'sameNamespace', namespace: '123' })]);
  });

  it('refuses a manifest it cannot parse, such as one with a duplicated namespace key', async () => {
    const dup = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: d\n  namespace: tenant-1\n  namespace: victim\n';
    const err = (await sut.review(dup, 'tenant-1').catch((e: unknown) => e)) as ConfinementError;
    expect(err).toBeInstanceOf(ConfinementError);
    expect(err.violations[0].rule).toBe('parseable');
  });

  it('lists at most three violations in its message', async () => {
    const manifest = ['a', 'b', 'c', 'd', 'e'].map((n) => cm(n, 'victim')).join('');
    const err = (await sut.review(manifest, 'tenant-1', 'stored release revision 2').catch((e: unknown) => e)) as ConfinementError;
    expect(err.violations).toHaveLength(5);
    expect(err.message.startsWith('stored release revision 2 refused, nothing applied: ')).toBe(true);
    expect(err.message.endsWith('; and 2 more')).toBe(true);
  });

  it('accepts an empty manifest', async () => {
    await expect(sut.review('', 'tenant-1')).resolves.toEqual([]);
  });
});
