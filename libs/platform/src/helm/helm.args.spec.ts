import { resolveChart } from './helm.args';

describe(resolveChart.name, () => {
  const digest = `sha256:${'a'.repeat(64)}`;

  it('pins OCI charts by digest and uses plain HTTP for loopback registries', async () => {
    await expect(resolveChart({ ref: 'oci://127.0.0.1:5001/charts/webapp', version: '1.0.0', digest }, {})).resolves.toEqual({
      chart: `oci://127.0.0.1:5001/charts/webapp@${digest}`,
      flags: ['--version', '1.0.0', '--plain-http'],
    });
  });

  it('uses TLS for other registries unless configured as plain HTTP', async () => {
    await expect(resolveChart({ ref: 'oci://registry.example:5000/c/webapp', version: '1.0.0' }, {})).resolves.toEqual({
      chart: 'oci://registry.example:5000/c/webapp',
      flags: ['--version', '1.0.0'],
    });
    await expect(resolveChart({ ref: 'oci://registry.example:5000/c/webapp' }, { plainHttpRegistries: ['registry.example:5000'] })).resolves.toEqual({
      chart: 'oci://registry.example:5000/c/webapp',
      flags: ['--plain-http'],
    });
  });

  it('rejects malformed digests and unsupported references', async () => {
    await expect(resolveChart({ ref: 'oci://r/c/webapp', digest: 'sha256:xyz' }, {})).rejects.toMatchObject({ kind: 'chart-not-found' });
    await expect(resolveChart({ ref: 'https://charts.example/webapp-1.0.0.tgz' }, {})).rejects.toMatchObject({
      kind: 'chart-not-found',
    });
  });
});
