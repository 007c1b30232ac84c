import { diffManifests, MASKED, MASKED_CHANGED, maskSecret, parseManifest, scrubStrings } from './manifest-diff';

const configMap = (data: Record<string, string>, labels = 'app: web') =>
  `---\n# Source: webapp/templates/configmap.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-config\n  labels:\n    ${labels}\ndata:\n${Object.entries(data)
    .map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`)
    .join('\n')}\n`;
const secret = (data: Record<string, string>, field = 'data') =>
  `---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: web-admin\n  namespace: ns1\n${field}:\n${Object.entries(data)
    .map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`)
    .join('\n')}\n`;
const service = '---\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports:\n    - port: 80\n';
const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('manifest diff', () => {
  it('keys objects by kind, namespace and name, in document order, skipping empty documents', () => {
    const objects = parseManifest(`---\n# only a comment\n${configMap({ a: '1' })}${secret({ p: 'x' })}---\n${service}`);
    expect([...objects.keys()]).toEqual(['ConfigMap/web-config', 'Secret/ns1/web-admin', 'Service/web']);
  });

  it('refuses YAML it cannot parse', () => {
    expect(() => parseManifest('a: [b\n')).toThrow(/not valid YAML/);
  });

  it('masks Secret data and stringData, marking values that changed', () => {
    const before = { kind: 'Secret', data: { a: b64('one'), b: b64('two') } };
    const after = { kind: 'Secret', data: { a: b64('one'), b: b64('TWO'), c: b64('new') }, stringData: { s: 'plain' } };
    expect(maskSecret(after, before)).toEqual({ kind: 'Secret', data: { a: MASKED, b: MASKED_CHANGED, c: MASKED }, stringData: { s: MASKED } });
    expect(maskSecret(before)).toEqual({ kind: 'Secret', data: { a: MASKED, b: MASKED } });
    expect(maskSecret({ kind: 'Secret', data: 'odd' })).toEqual({ kind: 'Secret', data: MASKED });
    const cm = { kind: 'ConfigMap', data: { a: 'visible' } };
    expect(maskSecret(cm)).toBe(cm);
  });

  it('scrubs known secret strings and their base64 form from every string field', () => {
    const doc = { data: { url: 'https://u:hunter22@db', enc: `x${b64('hunter22')}`, n: 5, list: ['hunter22'] } };
    expect(scrubStrings(doc, ['hunter22', 'ab'])).toEqual({ data: { url: `https://u:${MASKED}@db`, enc: `x${MASKED}`, n: 5, list: [MASKED] } });
  });

  it('diffs object by object: changed, added and removed objects, unchanged ones left out', () => {
    const from = `${configMap({ title: 'My app', theme: 'light' })}${service}`;
    const to = `${configMap({ title: 'My app', theme: 'light', motd: 'Welcome!' }, 'app: web\n    tier: frontend')}${secret({ p: b64('pw') })}`;
    const { diff, changed } = diffManifests({ from, to, fromLabel: '1.0.0', toLabel: '1.1.0' });
    expect(changed).toEqual(['ConfigMap/web-config', 'Secret/ns1/web-admin', 'Service/web']);
    expect(diff).toContain('--- 1.0.0/ConfigMap/web-config\n+++ 1.1.0/ConfigMap/web-config\n');
    expect(diff).toContain('+    tier: frontend\n');
    expect(diff).toContain('+  motd: Welcome!\n');
    expect(diff).toContain(`--- /dev/null\n+++ 1.1.0/Secret/ns1/web-admin\n`);
    expect(diff).toContain(`+  p: "${MASKED}"`);
    expect(diff).toContain('--- 1.0.0/Service/web\n+++ /dev/null\n');
    expect(diff).not.toContain(b64('pw'));
    // Comments (helm's "# Source:") are not objects' content.
    expect(diff).not.toContain('# Source');
  });

  it('shows a changed secret value only as masked', () => {
    const { diff } = diffManifests({ from: secret({ p: b64('old-password') }), to: secret({ p: b64('new-password') }), fromLabel: 'a', toLabel: 'b' });
    expect(diff).toContain(`-  p: "${MASKED}"\n+  p: "${MASKED_CHANGED}"\n`);
    expect(diff).not.toMatch(/old-password|new-password|b2xk|bmV3/);
  });

  it('compares against nothing when there is no applied manifest', () => {
    const { diff, changed } = diffManifests({ from: null, to: service, fromLabel: 'none', toLabel: '1.0.0' });
    expect(changed).toEqual(['Service/web']);
    expect(diff.startsWith('--- /dev/null\n+++ 1.0.0/Service/web\n@@ -0,0 +1,')).toBe(true);
  });

  it('is empty when both sides render the same objects', () => {
    expect(diffManifests({ from: service, to: `# reordered comments\n${service}`, fromLabel: 'a', toLabel: 'b' })).toEqual({ diff: '', changed: [] });
  });

  it('scrubs secret strings a chart put into a ConfigMap', () => {
    const { diff } = diffManifests({ from: null, to: configMap({ dsn: 'postgres://app:s3cr3t-pw@db' }), fromLabel: 'none', toLabel: '1', secrets: ['s3cr3t-pw'] });
    expect(diff).not.toContain('s3cr3t-pw');
    expect(diff).toContain(`postgres://app:${MASKED}@db`);
  });
});
