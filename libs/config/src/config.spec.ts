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
    it('defaults to 200 activities, 8 workflow tasks and 10 helm processes at once', () => {
      expect(loadConfig(base).maxConcurrentActivities).toBe(200);
      expect(loadConfig(base).helmConcurrency).toBe(10);
      expect(loadConfig({ ...base, CAELUS_HELM_CONCURRENCY: '4' }).helmConcurrency).toBe(4);
      expect(problems({ ...base, CAELUS_HELM_CONCURRENCY: '0' })).toHaveLength(1);
      expect(loadConfig({ ...base, CAELUS_WORKER_MAX_CONCURRENT_ACTIVITIES: '8' }).maxConcurrentActivities).toBe(8);
      expect(problems({ ...base, CAELUS_WORKER_MAX_CONCURRENT_ACTIVITIES: '0' })).toHaveLength(1);
      expect(loadConfig(base).maxConcurrentWorkflowTasks).toBe(8);
      expect(loadConfig({ ...base, CAELUS_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '40' }).maxConcurrentWorkflowTasks).toBe(40);
      expect(problems({ ...base, CAELUS_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '1' })).toEqual([expect.stringContaining('CAELUS_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS')]);
    });

    it('leaves the workflow cache to the SDK unless CAELUS_WORKER_MAX_CACHED_WORKFLOWS sizes it (0: none; else at least the workflow tasks)', () => {
      expect(loadConfig(base).maxCachedWorkflows).toBeUndefined();
      expect(loadConfig({ ...base, CAELUS_WORKER_MAX_CACHED_WORKFLOWS: '' }).maxCachedWorkflows).toBeUndefined();
      expect(loadConfig({ ...base, CAELUS_WORKER_MAX_CACHED_WORKFLOWS: '250' }).maxCachedWorkflows).toBe(250);
      expect(loadConfig({ ...base, CAELUS_WORKER_MAX_CACHED_WORKFLOWS: '0' }).maxCachedWorkflows).toBe(0);
      expect(problems({ ...base, CAELUS_WORKER_MAX_CACHED_WORKFLOWS: '4' })).toEqual([
        expect.stringMatching(/CAELUS_WORKER_MAX_CACHED_WORKFLOWS must be 0 \(no cache\) or at least CAELUS_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS \(8\)/),
      ]);
      expect(loadConfig({ ...base, CAELUS_WORKER_MAX_CACHED_WORKFLOWS: '4', CAELUS_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '4' }).maxCachedWorkflows).toBe(4);
      expect(problems({ ...base, CAELUS_WORKER_MAX_CACHED_WORKFLOWS: 'many' })).toEqual([expect.stringContaining('CAELUS_WORKER_MAX_CACHED_WORKFLOWS must be an integer')]);
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

    it('makes the periodic drift check an hourly safety net while the watch is on, and keeps 300 s without it', () => {
      expect(loadConfig(base).driftIntervalSeconds).toBe(3600);
      expect(loadConfig({ ...base, CAELUS_DRIFT_WATCH: 'false' }).driftIntervalSeconds).toBe(300);
      expect(loadConfig({ ...base, CAELUS_DRIFT_INTERVAL: '60' }).driftIntervalSeconds).toBe(60);
    });

    it("sets helm-controller's own reconcile interval for Flux-backend releases, by default the drift interval", () => {
      expect(loadConfig(base).fluxIntervalSeconds).toBe(3600);
      expect(loadConfig({ ...base, CAELUS_DRIFT_INTERVAL: '60' }).fluxIntervalSeconds).toBe(60);
      expect(loadConfig({ ...base, CAELUS_DRIFT_INTERVAL: '60', CAELUS_FLUX_INTERVAL: '900' }).fluxIntervalSeconds).toBe(900);
      expect(problems({ ...base, CAELUS_FLUX_INTERVAL: '1' })).toEqual([expect.stringContaining('CAELUS_FLUX_INTERVAL')]);
    });

    it("leaves helm-controller's drift detection on unless CAELUS_FLUX_DRIFT_DETECTION says warn or disabled", () => {
      expect(loadConfig(base).fluxDriftDetection).toBe('enabled');
      expect(loadConfig({ ...base, CAELUS_FLUX_DRIFT_DETECTION: 'disabled' }).fluxDriftDetection).toBe('disabled');
      expect(loadConfig({ ...base, CAELUS_FLUX_DRIFT_DETECTION: 'warn' }).fluxDriftDetection).toBe('warn');
      expect(problems({ ...base, CAELUS_FLUX_DRIFT_DETECTION: 'off' })).toEqual(['CAELUS_FLUX_DRIFT_DETECTION must be one of enabled, warn, disabled (got "off")']);
    });
  });

  describe('stuck requests', () => {
    it('signals a stuck request again after half a supervisor interval unless CAELUS_STUCK_AFTER says otherwise', () => {
      expect(loadConfig(base)).toMatchObject({ supervisorIntervalSeconds: 300, stuckAfterSeconds: 150, failedRecheckSeconds: 900 });
      expect(loadConfig({ ...base, CAELUS_SUPERVISOR_INTERVAL: '15' }).stuckAfterSeconds).toBe(8);
      expect(loadConfig({ ...base, CAELUS_SUPERVISOR_INTERVAL: '0' }).stuckAfterSeconds).toBe(5);
      expect(loadConfig({ ...base, CAELUS_SUPERVISOR_INTERVAL: '15', CAELUS_STUCK_AFTER: '45' }).stuckAfterSeconds).toBe(45);
      expect(loadConfig({ ...base, CAELUS_FAILED_RECHECK_INTERVAL: '60' }).failedRecheckSeconds).toBe(60);
      expect(problems({ ...base, CAELUS_STUCK_AFTER: '1' })).toHaveLength(1);
      expect(problems({ ...base, CAELUS_FAILED_RECHECK_INTERVAL: 'soon' })).toHaveLength(1);
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
      expect(problems({ ...base, CAELUS_PREVIOUS_ENCRYPTION_KEYS: 'short' })).toEqual(['CAELUS_PREVIOUS_ENCRYPTION_KEYS must list 32-byte keys, as 64 hex characters or base64, separated by commas']);
      expect(JSON.stringify(describeConfig(loadConfig({ ...base, CAELUS_PREVIOUS_ENCRYPTION_KEYS: hex })))).not.toContain('"data"');
    });
  });

  describe('tenant egress', () => {
    it('leaves the denied ranges to the built-in list unless CAELUS_TENANT_EGRESS_DENY_CIDRS names them', () => {
      expect(loadConfig(base).tenantEgress).toEqual({ denyCidrs: undefined, allowCidrs: [] });
      expect(
        loadConfig({ ...base, CAELUS_TENANT_EGRESS_DENY_CIDRS: '10.0.0.0/8, 100.64.0.0/10,fd00::/8, 0.0.0.0/0', CAELUS_TENANT_EGRESS_ALLOW_CIDRS: '10.20.0.25/32,2001:db8::/32' }).tenantEgress,
      ).toEqual({ denyCidrs: ['10.0.0.0/8', '100.64.0.0/10', 'fd00::/8', '0.0.0.0/0'], allowCidrs: ['10.20.0.25/32', '2001:db8::/32'] });
    });

    it('refuses what the API server would not take as an ipBlock', () => {
      expect(problems({ ...base, CAELUS_TENANT_EGRESS_DENY_CIDRS: '10.0.0.0,10.0.0.1/8,300.0.0.0/8,10.0.0.0/33,fc00::1/7,::ffff:10.0.0.0/104,example.com/8' })).toEqual([
        'CAELUS_TENANT_EGRESS_DENY_CIDRS: 10.0.0.0 is not a CIDR such as 10.0.0.0/8 or fc00::/7',
        'CAELUS_TENANT_EGRESS_DENY_CIDRS: 10.0.0.1/8 has host bits set (give the network address)',
        'CAELUS_TENANT_EGRESS_DENY_CIDRS: 300.0.0.0/8 is not a CIDR such as 10.0.0.0/8 or fc00::/7',
        'CAELUS_TENANT_EGRESS_DENY_CIDRS: 10.0.0.0/33 is not a CIDR such as 10.0.0.0/8 or fc00::/7',
        'CAELUS_TENANT_EGRESS_DENY_CIDRS: fc00::1/7 has host bits set (give the network address)',
        'CAELUS_TENANT_EGRESS_DENY_CIDRS: example.com/8 is not a CIDR such as 10.0.0.0/8 or fc00::/7',
      ]);
      expect(problems({ ...base, CAELUS_TENANT_EGRESS_ALLOW_CIDRS: '::ffff:10.0.0.0/120,fe80::/10' })).toEqual([]);
      expect(problems({ ...base, CAELUS_TENANT_EGRESS_ALLOW_CIDRS: '::ffff:10.0.0.1/120' })).toHaveLength(1);
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

  describe('quotas, domain suffixes, trusted proxies and probe caching', () => {
    it('has no limits, no suffixes, no trusted proxy and a 5 s probe cache by default', () => {
      const cfg = loadConfig(base);
      expect(cfg.deploymentQuota).toEqual({ perUser: null, total: null });
      expect(cfg.allowedDomainSuffixes).toEqual([]);
      expect(cfg.trustedProxies).toEqual([]);
      expect(cfg.probeCacheSeconds).toBe(5);
    });

    it('reads them', () => {
      const cfg = loadConfig({
        ...base,
        CAELUS_MAX_DEPLOYMENTS_PER_USER: '3',
        CAELUS_MAX_DEPLOYMENTS: '0',
        CAELUS_ALLOWED_DOMAIN_SUFFIXES: '*.Apps.example.com, .shop.example.org',
        CAELUS_TRUSTED_PROXIES: 'loopback, 10.0.0.0/8, fd00::1',
        CAELUS_PROBE_CACHE_SECONDS: '0',
      });
      expect(cfg.deploymentQuota).toEqual({ perUser: 3, total: 0 });
      expect(cfg.allowedDomainSuffixes).toEqual(['apps.example.com', 'shop.example.org']);
      expect(cfg.trustedProxies).toEqual(['loopback', '10.0.0.0/8', 'fd00::1']);
      expect(cfg.probeCacheSeconds).toBe(0);
    });

    it('lists every bad value', () => {
      expect(problems({ ...base, CAELUS_MAX_DEPLOYMENTS_PER_USER: '-1', CAELUS_ALLOWED_DOMAIN_SUFFIXES: 'ex ample.com', CAELUS_TRUSTED_PROXIES: '10.0.0.0/33,proxy.local' })).toEqual([
        expect.stringMatching(/^CAELUS_TRUSTED_PROXIES .*"10.0.0.0\/33"/),
        expect.stringMatching(/^CAELUS_TRUSTED_PROXIES .*"proxy.local"/),
        expect.stringMatching(/^CAELUS_MAX_DEPLOYMENTS_PER_USER must be an integer/),
        expect.stringMatching(/^CAELUS_ALLOWED_DOMAIN_SUFFIXES .*"ex ample.com"/),
      ]);
    });
  });
});
