import { HelmError } from '../helm/helm.errors';
import { buildHelmRelease, buildOciRepository, buildValuesSecret, FluxProjection, isPlainHttp, ociSource, splitSecretValues, VALUES_SECRET_KEY, VALUES_SECRET_NAME } from './flux.objects';

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const projection = (over: Partial<FluxProjection> = {}): FluxProjection => ({
  release: 'webapp-ada-x1',
  namespace: 'webapp-ada-x1',
  chart: { ref: 'oci://registry.example.com/charts/webapp', version: '1.0.0', digest: DIGEST },
  inlineValues: { replicas: 1, user: { title: 'hello' } },
  secretValues: { user: { adminPassword: 'correct horse battery staple' } },
  timeoutSeconds: 300,
  intervalSeconds: 60,
  ...over,
});

describe('Flux objects', () => {
  describe(buildOciRepository.name, () => {
    it('pins the chart by digest and extracts the helm chart layer', () => {
      const sut = buildOciRepository(projection());
      expect(sut).toMatchObject({
        apiVersion: 'source.toolkit.fluxcd.io/v1',
        kind: 'OCIRepository',
        metadata: { name: 'webapp-ada-x1', namespace: 'webapp-ada-x1', labels: { 'app.kubernetes.io/managed-by': 'caelus' } },
        spec: { url: 'oci://registry.example.com/charts/webapp', ref: { digest: DIGEST }, layerSelector: { mediaType: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip', operation: 'copy' } },
      });
      expect((sut.spec as Record<string, unknown>).insecure).toBeUndefined();
    });

    it('marks plain-HTTP registries insecure: loopback ones and the configured ones', () => {
      const local = buildOciRepository(projection({ chart: { ref: 'oci://127.0.0.1:5001/c/webapp', digest: DIGEST } }));
      expect((local.spec as Record<string, unknown>).insecure).toBe(true);
      const listed = buildOciRepository(projection({ chart: { ref: 'oci://registry.lan:5000/c/webapp', digest: DIGEST }, plainHttpRegistries: ['registry.lan:5000'] }));
      expect((listed.spec as Record<string, unknown>).insecure).toBe(true);
      expect(isPlainHttp('localhost:5000')).toBe(true);
      expect(isPlainHttp('registry.lan:5000', ['registry.lan'])).toBe(false);
    });

    it.each([
      ['a local chart', { ref: '/charts/webapp', digest: DIGEST }, /needs an oci:\/\/ chart/],
      ['no digest', { ref: 'oci://r.example/c/webapp' }, /pinned by digest/],
      ['a malformed digest', { ref: 'oci://r.example/c/webapp', digest: 'sha256:xyz' }, /pinned by digest/],
      ['a digest in the reference', { ref: `oci://r.example/c/webapp@${DIGEST}`, digest: DIGEST }, /invalid chart reference/],
    ])('refuses %s for good', (_, chart, message) => {
      const err = (() => {
        try {
          return ociSource(chart);
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(HelmError);
      expect(err).toMatchObject({ kind: 'chart-not-found', retryable: false, message: expect.stringMatching(message) });
    });
  });

  describe(buildHelmRelease.name, () => {
    it('installs as the tenant ServiceAccount, with drift detection, remediation like the helm backend and the secret values only by reference', () => {
      const sut = buildHelmRelease(projection({ annotations: { 'reconcile.fluxcd.io/requestedAt': 't1' } }));
      expect(sut).toEqual({
        apiVersion: 'helm.toolkit.fluxcd.io/v2',
        kind: 'HelmRelease',
        metadata: { name: 'webapp-ada-x1', namespace: 'webapp-ada-x1', labels: { 'app.kubernetes.io/managed-by': 'caelus' }, annotations: { 'reconcile.fluxcd.io/requestedAt': 't1' } },
        spec: {
          releaseName: 'webapp-ada-x1',
          suspend: false,
          serviceAccountName: 'caelus-tenant',
          chartRef: { kind: 'OCIRepository', name: 'webapp-ada-x1' },
          interval: '60s',
          timeout: '300s',
          maxHistory: 10,
          driftDetection: { mode: 'enabled' },
          install: { remediation: { retries: 0 } },
          upgrade: { remediation: { retries: 0, remediateLastFailure: true, strategy: 'rollback' } },
          valuesFrom: [{ kind: 'Secret', name: VALUES_SECRET_NAME, valuesKey: VALUES_SECRET_KEY }],
          values: { replicas: 1, user: { title: 'hello' } },
        },
      });
      expect(JSON.stringify(sut)).not.toContain('correct horse');
    });

    it('sets the drift detection mode the operator chose', () => {
      for (const mode of ['enabled', 'warn', 'disabled'] as const) {
        expect(buildHelmRelease(projection({ driftDetection: mode })).spec).toMatchObject({ driftDetection: { mode } });
      }
    });
  });

  describe(buildValuesSecret.name, () => {
    it('holds the secret values as a JSON values file', () => {
      const sut = buildValuesSecret(projection());
      expect(sut.metadata).toMatchObject({ name: VALUES_SECRET_NAME, namespace: 'webapp-ada-x1' });
      const data = (sut.data as Record<string, string>)[VALUES_SECRET_KEY];
      expect(JSON.parse(Buffer.from(data, 'base64').toString('utf8'))).toEqual({ user: { adminPassword: 'correct horse battery staple' } });
    });
  });

  describe(splitSecretValues.name, () => {
    const values = () => ({
      replicas: 2,
      user: { title: 'mine', adminPassword: 'pw-123456', nested: { token: 'tok-abcdef', keep: 1 } },
      dsns: ['postgres://a', 'postgres://b'],
      caelus: { deploymentUid: 'u1' },
    });

    it('moves every secret leaf out of the inline values and leaves the rest', () => {
      const sut = splitSecretValues(values(), [
        ['user', 'adminPassword'],
        ['user', 'nested', 'token'],
      ]);
      expect(sut.secret).toEqual({ user: { adminPassword: 'pw-123456', nested: { token: 'tok-abcdef' } } });
      expect(sut.inline).toEqual({ replicas: 2, user: { title: 'mine', nested: { keep: 1 } }, dsns: ['postgres://a', 'postgres://b'], caelus: { deploymentUid: 'u1' } });
    });

    it('moves a whole list when a secret is inside it (lists do not merge back element by element)', () => {
      const sut = splitSecretValues(values(), [['dsns', '1']]);
      expect(sut.secret).toEqual({ dsns: ['postgres://a', 'postgres://b'] });
      expect(sut.inline).not.toHaveProperty('dsns');
    });

    it('merges a secret object with secret leaves already moved, skips absent paths and takes the root as everything', () => {
      const sut = splitSecretValues(values(), [['user', 'adminPassword'], ['user'], ['nope', 'x']]);
      expect(sut.secret).toEqual({ user: values().user });
      expect(sut.inline).toEqual({ replicas: 2, dsns: ['postgres://a', 'postgres://b'], caelus: { deploymentUid: 'u1' } });
      expect(splitSecretValues(values(), [[]])).toEqual({ inline: {}, secret: values() });
    });

    it('leaves the caller’s values untouched and nothing to hide when there are no secrets', () => {
      const input = values();
      expect(splitSecretValues(input, [])).toEqual({ inline: values(), secret: {} });
      splitSecretValues(input, [['user', 'adminPassword']]);
      expect(input).toEqual(values());
    });
  });
});
