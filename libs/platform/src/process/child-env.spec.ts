import { childEnv } from './child-env';

const workerEnv = {
  PATH: '/usr/local/bin:/usr/bin',
  HOME: '/tmp',
  TMPDIR: '/tmp',
  LANG: 'C.UTF-8',
  LC_ALL: 'C.UTF-8',
  HELM_CACHE_HOME: '/tmp/helm/cache',
  HELM_REGISTRY_CONFIG: '/tmp/helm/registry.json',
  HTTPS_PROXY: 'http://proxy.internal:3128',
  no_proxy: '.svc,10.0.0.0/8',
  KUBERNETES_SERVICE_HOST: '10.96.0.1',
  KUBERNETES_SERVICE_PORT: '443',
  KUBECONFIG: '/home/someone/.kube/config',
  DATABASE_URL: 'postgres://caelus:db-password@db:5432/caelus',
  CAELUS_ENCRYPTION_KEY: 'ab'.repeat(32),
  CAELUS_PREVIOUS_ENCRYPTION_KEYS: 'cd'.repeat(32),
  CAELUS_ADMIN_TOKEN: 'admin-token-0123456789',
  CAELUS_TASK_QUEUE: 'caelus-deployments',
  TEMPORAL_API_KEY: 'temporal-cloud-key',
  TEMPORAL_TLS_KEY: '/etc/caelus/temporal-tls/tls.key',
  PGPASSWORD: 'db-password',
  NODE_OPTIONS: '--require /app/hook.js',
  AWS_SECRET_ACCESS_KEY: 'aws-secret',
  npm_config_registry: 'https://registry.npmjs.org/',
};

describe(childEnv.name, () => {
  it("passes what tools need and nothing of the worker's secrets or settings", () => {
    const sut = childEnv({}, workerEnv);

    expect(sut).toEqual({
      PATH: '/usr/local/bin:/usr/bin',
      HOME: '/tmp',
      TMPDIR: '/tmp',
      LANG: 'C.UTF-8',
      LC_ALL: 'C.UTF-8',
      HELM_CACHE_HOME: '/tmp/helm/cache',
      HELM_REGISTRY_CONFIG: '/tmp/helm/registry.json',
      HTTPS_PROXY: 'http://proxy.internal:3128',
      no_proxy: '.svc,10.0.0.0/8',
      KUBERNETES_SERVICE_HOST: '10.96.0.1',
      KUBERNETES_SERVICE_PORT: '443',
    });
    const text = JSON.stringify(sut);
    for (const secret of ['db-password', 'ab'.repeat(32), 'cd'.repeat(32), 'admin-token', 'temporal-cloud-key', 'tls.key', 'aws-secret']) {
      expect(text).not.toContain(secret);
    }
  });

  it('sets KUBECONFIG only when one is configured, never the inherited one', () => {
    expect(childEnv({ kubeconfig: '/etc/caelus/kubeconfig' }, workerEnv).KUBECONFIG).toBe('/etc/caelus/kubeconfig');
    expect(childEnv({}, workerEnv)).not.toHaveProperty('KUBECONFIG');
  });

  it("adds the caller's variables over the inherited ones", () => {
    const sut = childEnv({ extra: { HELM_CACHE_HOME: '/var/cache/helm', HELM_KUBEASUSER: 'system:serviceaccount:t:caelus' } }, workerEnv);

    expect(sut).toMatchObject({ HELM_CACHE_HOME: '/var/cache/helm', HELM_KUBEASUSER: 'system:serviceaccount:t:caelus', PATH: workerEnv.PATH });
  });

  it('refuses a Caelus, Temporal or database variable even when a caller asks for it', () => {
    for (const name of ['CAELUS_ENCRYPTION_KEY', 'DATABASE_URL', 'TEMPORAL_API_KEY', 'PGPASSWORD']) {
      expect(() => childEnv({ extra: { [name]: 'x' } }, workerEnv)).toThrow(`${name} must not be passed to a child process`);
    }
  });

  it('reads the process environment by default', () => {
    const sut = childEnv();

    expect(sut.PATH).toBe(process.env.PATH);
    expect(Object.keys(sut).filter((k) => k.startsWith('CAELUS_') || k === 'DATABASE_URL')).toEqual([]);
  });
});
