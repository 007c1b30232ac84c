import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, describeConfig, loadConfig } from './config';

describe(loadConfig.name, () => {
  const base = {
    DATABASE_URL: 'postgres://caelus:pw@db:5432/caelus',
    CAELUS_ENCRYPTION_KEY: '11'.repeat(32),
    KUBECONFIG: '/etc/caelus/kubeconfig',
  };
  let dir: string;
  const file = (name: string, content: string) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };
  const problems = (env: Record<string, string>) => {
    try {
      loadConfig(env);
    } catch (err) {
      if (err instanceof ConfigError) return err.problems;
      throw err;
    }
    return [];
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'caelus-config-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  describe('Temporal connection', () => {
    it('is plaintext without TLS settings or an API key', () => {
      const sut = loadConfig(base);
      expect(sut.temporal.tls).toBeUndefined();
      expect(sut.temporal.apiKey).toBeUndefined();
    });

    it('reads mTLS material from files', () => {
      const sut = loadConfig({
        ...base,
        TEMPORAL_TLS_CERT: file('tls.crt', 'CERT'),
        TEMPORAL_TLS_KEY: file('tls.key', 'KEY'),
        TEMPORAL_TLS_CA: file('ca.crt', 'CA'),
        TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
      });
      expect(sut.temporal.tls).toEqual({
        serverNameOverride: 'temporal.internal',
        serverRootCACertificate: Buffer.from('CA'),
        clientCertPair: { crt: Buffer.from('CERT'), key: Buffer.from('KEY') },
      });
    });

    it('turns TLS on for an API key (Temporal Cloud) unless TEMPORAL_TLS=false', () => {
      expect(loadConfig({ ...base, TEMPORAL_API_KEY: 'key-123' }).temporal).toMatchObject({ tls: {}, apiKey: 'key-123' });
      expect(loadConfig({ ...base, TEMPORAL_API_KEY: 'key-123', TEMPORAL_TLS: 'false' }).temporal).toMatchObject({ tls: undefined, apiKey: 'key-123' });
      expect(loadConfig({ ...base, TEMPORAL_TLS: 'true' }).temporal.tls).toEqual({});
    });

    it('lists every TLS problem at once', () => {
      expect(problems({ ...base, TEMPORAL_TLS_CERT: file('tls.crt', 'CERT'), TEMPORAL_TLS_CA: join(dir, 'missing.crt'), TEMPORAL_TLS: 'maybe' })).toEqual([
        'TEMPORAL_TLS must be true or false (got "maybe")',
        'TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY go together (mTLS needs both)',
        'TEMPORAL_TLS_CA names a file that cannot be read (ENOENT)',
      ]);
      expect(problems({ ...base, TEMPORAL_TLS: 'false', TEMPORAL_TLS_SERVER_NAME: 'x' })).toEqual(['TEMPORAL_TLS=false contradicts TEMPORAL_TLS_CERT/KEY/CA/SERVER_NAME']);
    });
  });

  describe('Kubernetes', () => {
    it('uses the service account inside a pod when KUBECONFIG is not set', () => {
      expect(loadConfig({ ...base, KUBECONFIG: '', KUBERNETES_SERVICE_HOST: '10.0.0.1' })).toMatchObject({ kubeconfig: undefined, inCluster: true });
      expect(loadConfig({ ...base, KUBERNETES_SERVICE_HOST: '10.0.0.1' })).toMatchObject({ kubeconfig: '/etc/caelus/kubeconfig', inCluster: false });
      expect(loadConfig({ ...base, KUBECONFIG: '', KUBERNETES_SERVICE_HOST: '' }).inCluster).toBe(false);
    });
  });

  describe('worker concurrency', () => {
    it('defaults to 200 activities and 10 helm processes at once', () => {
      expect(loadConfig(base).maxConcurrentActivities).toBe(200);
      expect(loadConfig(base).helmConcurrency).toBe(10);
      expect(loadConfig({ ...base, CAELUS_HELM_CONCURRENCY: '4' }).helmConcurrency).toBe(4);
      expect(problems({ ...base, CAELUS_HELM_CONCURRENCY: '0' })).toHaveLength(1);
      expect(loadConfig({ ...base, CAELUS_WORKER_MAX_CONCURRENT_ACTIVITIES: '8' }).maxConcurrentActivities).toBe(8);
      expect(problems({ ...base, CAELUS_WORKER_MAX_CONCURRENT_ACTIVITIES: '0' })).toHaveLength(1);
    });
  });

  describe('tenant confinement', () => {
    it('binds tenants to caelus-tenant unless CAELUS_TENANT_CLUSTER_ROLE names another ClusterRole', () => {
      expect(loadConfig(base).tenantClusterRole).toBe('caelus-tenant');
      expect(loadConfig({ ...base, CAELUS_TENANT_CLUSTER_ROLE: 'caelus-prod-tenant' }).tenantClusterRole).toBe('caelus-prod-tenant');
    });

    it('lets only a test run switch the confinement check off', () => {
      expect(loadConfig(base).skipConfinementCheck).toBe(false);
      expect(loadConfig({ ...base, NODE_ENV: 'test', CAELUS_TEST_SKIP_CONFINEMENT_CHECK: '1' }).skipConfinementCheck).toBe(true);
      expect(problems({ ...base, CAELUS_TEST_SKIP_CONFINEMENT_CHECK: '1' })).toEqual(['CAELUS_TEST_SKIP_CONFINEMENT_CHECK is for tests only: it is refused unless NODE_ENV=test']);
      expect(problems({ ...base, NODE_ENV: 'production', CAELUS_TEST_SKIP_CONFINEMENT_CHECK: 'true' })).toHaveLength(1);
    });
  });

  describe('drift watch cache', () => {
    it('is on unless CAELUS_DRIFT_WATCH says false, and rejects anything but a boolean', () => {
      expect(loadConfig(base).driftWatchCache).toBe(true);
      expect(loadConfig({ ...base, CAELUS_DRIFT_WATCH: 'false' }).driftWatchCache).toBe(false);
      expect(loadConfig({ ...base, CAELUS_DRIFT_WATCH: '0' }).driftWatchCache).toBe(false);
      expect(loadConfig({ ...base, CAELUS_DRIFT_WATCH: '1' }).driftWatchCache).toBe(true);
      expect(problems({ ...base, CAELUS_DRIFT_WATCH: 'yes' })).toEqual(['CAELUS_DRIFT_WATCH must be true or false (got "yes")']);
    });
  });

  describe('metrics ports', () => {
    it('defaults to 9464 for the worker listener and 9465 for the Temporal exporter; 0 turns them off', () => {
      expect(loadConfig(base).metrics).toEqual({ workerPort: 9464, temporalPort: 9465 });
      expect(loadConfig({ ...base, CAELUS_WORKER_METRICS_PORT: '0', CAELUS_TEMPORAL_METRICS_PORT: '0' }).metrics).toEqual({ workerPort: 0, temporalPort: 0 });
      expect(problems({ ...base, CAELUS_WORKER_METRICS_PORT: '70000' })).toEqual(['CAELUS_WORKER_METRICS_PORT must be an integer between 0 and 65535 (got "70000")']);
    });
  });

  describe('encryption keys', () => {
    it('reads the previous keys of a rotation, hex or base64, and refuses bad ones', () => {
      const hex = '22'.repeat(32);
      const b64 = Buffer.alloc(32, 3).toString('base64');
      expect(loadConfig({ ...base, CAELUS_PREVIOUS_ENCRYPTION_KEYS: `${hex}, ${b64}` }).previousEncryptionKeys).toEqual([Buffer.from(hex, 'hex'), Buffer.alloc(32, 3)]);
      expect(loadConfig(base).previousEncryptionKeys).toEqual([]);
      expect(problems({ ...base, CAELUS_PREVIOUS_ENCRYPTION_KEYS: 'short' })).toEqual([
        'CAELUS_PREVIOUS_ENCRYPTION_KEYS must list 32-byte keys, as 64 hex characters or base64, separated by commas',
      ]);
      expect(JSON.stringify(describeConfig(loadConfig({ ...base, CAELUS_PREVIOUS_ENCRYPTION_KEYS: hex })))).not.toContain('"data"');
    });
  });

  describe(describeConfig.name, () => {
    it('never shows the API key, the client key or the database password', () => {
      const cfg = loadConfig({ ...base, TEMPORAL_API_KEY: 'key-secret-123', TEMPORAL_TLS_CERT: file('tls.crt', 'CERT'), TEMPORAL_TLS_KEY: file('tls.key', 'PRIVATE-KEY') });
      const text = JSON.stringify(describeConfig(cfg));
      expect(text).not.toContain('key-secret-123');
      expect(text).not.toContain(Buffer.from('PRIVATE-KEY').toString('base64'));
      expect(text).not.toMatch(/PRIVATE-KEY|"data":\[/);
      expect(text).not.toContain(':pw@');
      expect(describeConfig(cfg).temporal).toMatchObject({ apiKey: '[set]', tls: { clientCertificate: true, customCa: false } });
    });
  });
});
