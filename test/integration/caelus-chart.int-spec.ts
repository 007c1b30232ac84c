// charts/caelus on the local cluster: lint, the RBAC it renders, an install with --wait (KWOK
// runs the pods, so the image is never pulled) with the migration hook, an upgrade that runs the
// hook again, and the worker's path (namespace, helm install/upgrade/rollback/uninstall, drift)
// done as the worker's service account, to prove the ClusterRole is enough and no wider.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse as parseYaml, parseAllDocuments, stringify as stringifyYaml } from 'yaml';

import {
  ConfinementChecker,
  correctDrift,
  deleteNamespace,
  detectDrift,
  DiscoveryCache,
  ensureNamespace,
  HelmReleaseStorage,
  HelmRunner,
  KubeClient,
  TenantClients,
  tenantUser,
} from '../../libs/platform/src';

const REPO = path.resolve(__dirname, '..', '..');
const CHART = path.join(REPO, 'charts', 'caelus');
const EXAMPLES = path.join(REPO, 'charts', 'examples');

const env = process.env as Record<string, string>;
const suffix = randomBytes(3).toString('hex');
const ns = `caelus-chart-${suffix}`;
const release = `caelus-${suffix}`;
const fullname = release; // the release name contains the chart name
const workerSa = `system:serviceaccount:${ns}:${fullname}-worker`;
const apiSa = `system:serviceaccount:${ns}:${fullname}-api`;
const helmHome = { HELM_CACHE_HOME: env.HELM_CACHE_HOME, HELM_CONFIG_HOME: env.HELM_CONFIG_HOME, HELM_DATA_HOME: env.HELM_DATA_HOME };
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'caelus-chart-it-'));

const installValues = [
  '--set',
  'image.repository=registry.invalid/caelus',
  '--set',
  'image.tag=chart-test',
  '--set',
  'secrets.databaseUrl=postgres://caelus:not-a-real-password@postgres.invalid:5432/caelus',
  '--set',
  `secrets.encryptionKey=${'ab'.repeat(32)}`,
  '--set',
  'config.temporal.address=temporal.invalid:7233',
];

function run(bin: string, args: string[], extraEnv: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(bin, args, { env: { ...process.env, ...helmHome, ...extraEnv }, timeout: 240_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function helm(...args: string[]): Promise<string> {
  const res = await run(env.HELM_BIN, args);
  if (res.code !== 0) throw new Error(`helm ${args.join(' ')} exited ${res.code}:\n${res.stderr}`);
  return res.stdout;
}

const kubectl = (...args: string[]) => run(path.join(env.CAELUS_TOOLS_BIN, 'kubectl'), ['--kubeconfig', env.KUBECONFIG, ...args]);

/** `kubectl auth can-i` as a given user: true for "yes". */
async function can(user: string, verb: string, resource: string, namespace?: string): Promise<boolean> {
  const res = await kubectl('auth', 'can-i', verb, resource, '--as', user, ...(namespace ? ['-n', namespace] : []));
  return res.stdout.trim() === 'yes';
}

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}
type Doc = { kind: string; metadata: { name: string; annotations?: Record<string, string> }; [key: string]: unknown };

async function render(...extra: string[]): Promise<Doc[]> {
  const out = await helm('template', release, CHART, '--namespace', ns, ...installValues, ...extra);
  return parseAllDocuments(out)
    .map((d) => d.toJS() as Doc)
    .filter(Boolean);
}

const expandRules = (rules: Rule[]) => rules.flatMap((r) => r.apiGroups.flatMap((g) => r.resources.flatMap((res) => r.verbs.map((v) => `${g || 'core'}/${res}:${v}`)))).sort();

describe('charts/caelus', () => {
  afterAll(async () => {
    await helm('uninstall', release, '--namespace', ns, '--wait', '--timeout', '120s').catch(() => undefined);
    // The chart-created Secret is a hook resource; the namespace takes it along.
    await kubectl('delete', 'namespace', ns, '--ignore-not-found', '--wait=false');
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('lints without warnings', async () => {
    const out = await helm('lint', CHART, '--strict', ...installValues);
    expect(out).toContain('1 chart(s) linted, 0 chart(s) failed');
    expect(out).not.toMatch(/\[(WARNING|ERROR)\]/);
  });

  it('refuses to render without a database URL and an encryption key, unless an existing Secret is named', async () => {
    const res = await run(env.HELM_BIN, ['template', release, CHART]);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/secrets\.(databaseUrl|encryptionKey) is required/);
    const docs = parseAllDocuments(await helm('template', release, CHART, '--set', 'secrets.existingSecret=caelus-env')).map((d) => d.toJS() as Doc);
    expect(docs.filter((d) => d.kind === 'Secret')).toEqual([]);
    const worker = docs.find((d) => d.kind === 'Deployment' && d.metadata.name.endsWith('-worker'));
    expect(JSON.stringify(worker)).toContain('"name":"caelus-env"');
  });

  it('rejects misspelt or malformed values through its schema', async () => {
    const typo = await run(env.HELM_BIN, ['template', release, CHART, ...installValues, '--set', 'worker.autoscling.enabled=false']);
    expect(typo.stderr).toContain("additional properties 'autoscling' not allowed");
    const url = await run(env.HELM_BIN, ['template', release, CHART, ...installValues, '--set', 'secrets.databaseUrl=mysql://db/caelus']);
    expect(url.code).not.toBe(0);
  });

  describe('RBAC as rendered', () => {
    let docs: Doc[];
    let rules: Rule[];

    beforeAll(async () => {
      docs = await render();
      rules = (docs.find((d) => d.kind === 'ClusterRole') as unknown as { rules: Rule[] }).rules;
    });

    it('gives the worker exactly what it uses', () => {
      const expected = [
        ...['get', 'create', 'patch', 'delete'].map((v) => `core/namespaces:${v}`),
        ...['get', 'create', 'patch'].flatMap((v) => [
          `core/resourcequotas:${v}`,
          `core/limitranges:${v}`,
          `core/serviceaccounts:${v}`,
          `networking.k8s.io/networkpolicies:${v}`,
          `rbac.authorization.k8s.io/rolebindings:${v}`,
        ]),
        'rbac.authorization.k8s.io/clusterroles:get',
        'rbac.authorization.k8s.io/clusterroles:bind',
        'core/serviceaccounts:impersonate',
        // The drift watch cache: metadata lists and watches only.
        ...['list', 'watch'].flatMap((v) => [`core/secrets:${v}`, `core/configmaps:${v}`, `core/services:${v}`, `core/persistentvolumeclaims:${v}`, `apps/deployments:${v}`]),
      ].sort();
      expect(expandRules(rules)).toEqual(expected);
    });

    it("leaves list and watch out, and turns the worker's cache off, with config.driftWatchCache=false", async () => {
      const off = await render('--set', 'config.driftWatchCache=false');
      const offRules = (off.find((d) => d.kind === 'ClusterRole') as unknown as { rules: Rule[] }).rules;
      const verbs = expandRules(offRules);
      expect(verbs.filter((v) => v.endsWith(':watch'))).toEqual([]);
      expect(verbs.filter((v) => v.endsWith(':list'))).toEqual([]);
      const worker = off.find((d) => d.kind === 'Deployment' && d.metadata.name.endsWith('-worker'));
      expect(JSON.stringify(worker)).toContain('{"name":"CAELUS_DRIFT_WATCH","value":"false"}');
    });

    it('passes the health grace to the worker (config.healthGraceSeconds, 120 s by default); health needs no verb of the worker (it reads as the tenant)', async () => {
      const workerOf = (docs: Doc[]) => JSON.stringify(docs.find((d) => d.kind === 'Deployment' && d.metadata.name.endsWith('-worker')));
      expect(workerOf(await render())).toContain('{"name":"CAELUS_HEALTH_GRACE","value":"120"}');
      expect(workerOf(await render('--set', 'config.healthGraceSeconds=30'))).toContain('{"name":"CAELUS_HEALTH_GRACE","value":"30"}');
    });

    it("leaves the worker's workflow cache to the SDK unless worker.maxCachedWorkflows sizes it", async () => {
      const workerOf = (docs: Doc[]) => JSON.stringify(docs.find((d) => d.kind === 'Deployment' && d.metadata.name.endsWith('-worker')));
      expect(workerOf(await render())).not.toContain('CAELUS_WORKER_MAX_CACHED_WORKFLOWS');
      expect(workerOf(await render('--set', 'worker.maxCachedWorkflows=300'))).toContain('{"name":"CAELUS_WORKER_MAX_CACHED_WORKFLOWS","value":"300"}');
      expect(workerOf(await render('--set', 'worker.maxCachedWorkflows=0'))).toContain('{"name":"CAELUS_WORKER_MAX_CACHED_WORKFLOWS","value":"0"}');
      const negative = await run(env.HELM_BIN, ['template', release, CHART, ...installValues, '--set', 'worker.maxCachedWorkflows=-1']);
      expect(negative.code).not.toBe(0);
      expect(negative.stderr).toContain('maxCachedWorkflows');
    });

    it('has no wildcard; bind and impersonate name only the tenant ClusterRole and ServiceAccounts; no cluster-scoped kind but namespaces and that role', () => {
      const text = JSON.stringify(rules);
      expect(text).not.toContain('*');
      for (const verb of ['escalate', 'approve', 'sign']) expect(rules.flatMap((r) => r.verbs)).not.toContain(verb);
      const named = (verb: string) => rules.filter((r) => r.verbs.includes(verb)).map((r) => ({ resources: r.resources, resourceNames: r.resourceNames }));
      expect(named('bind')).toEqual([{ resources: ['clusterroles'], resourceNames: [`${fullname}-tenant`] }]);
      expect(named('impersonate')).toEqual([{ resources: ['serviceaccounts'], resourceNames: ['caelus-tenant'] }]);
      const clusterScoped = ['nodes', 'clusterrolebindings', 'customresourcedefinitions', 'persistentvolumes', 'storageclasses', 'validatingwebhookconfigurations', 'mutatingwebhookconfigurations'];
      for (const r of clusterScoped) expect(rules.flatMap((x) => x.resources)).not.toContain(r);
      expect(rules.flatMap((r) => r.resources)).not.toContain('roles');
      // Nothing of a product's objects but their metadata, and no write to Secrets.
      for (const v of ['get', 'create', 'update', 'patch', 'delete']) {
        expect(expandRules(rules)).not.toContain(`core/secrets:${v}`);
        expect(expandRules(rules)).not.toContain(`apps/deployments:${v}`);
      }
    });

    it('ships the tenant ClusterRole: aggregated, its default rules namespaced and without RBAC or guard-rail kinds', () => {
      const tenant = docs.find((d) => d.kind === 'ClusterRole' && d.metadata.name === `${fullname}-tenant`) as unknown as { aggregationRule: unknown; rules: Rule[] };
      expect(tenant.aggregationRule).toEqual({ clusterRoleSelectors: [{ matchLabels: { 'caelus.dev/aggregate-to-tenant': 'true' } }] });
      const defaults = docs.find((d) => d.kind === 'ClusterRole' && d.metadata.name === `${fullname}-tenant-defaults`) as unknown as { metadata: { labels: Record<string, string> }; rules: Rule[] };
      expect(defaults.metadata.labels['caelus.dev/aggregate-to-tenant']).toBe('true');
      const resources = defaults.rules.flatMap((r) => r.resources);
      expect(resources).toEqual(expect.arrayContaining(['configmaps', 'secrets', 'services', 'persistentvolumeclaims', 'deployments', 'replicasets', 'jobs']));
      for (const r of ['roles', 'rolebindings', 'networkpolicies', 'resourcequotas', 'limitranges', 'namespaces', 'clusterroles']) expect(resources).not.toContain(r);
      expect(JSON.stringify(defaults.rules)).not.toContain('*');
      const worker = docs.find((d) => d.kind === 'Deployment' && d.metadata.name.endsWith('-worker'));
      expect(JSON.stringify(worker)).toContain(`{"name":"CAELUS_TENANT_CLUSTER_ROLE","value":"${fullname}-tenant"}`);
    });

    it('binds the ClusterRole to the worker service account only; the API gets none', () => {
      const binding = docs.find((d) => d.kind === 'ClusterRoleBinding') as unknown as { roleRef: { name: string }; subjects: unknown[] };
      expect(binding.roleRef.name).toBe(`${fullname}-worker`);
      expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: `${fullname}-worker`, namespace: ns }]);
      expect(docs.filter((d) => d.kind.endsWith('RoleBinding'))).toHaveLength(1);
      const deployments = docs.filter((d) => d.kind === 'Deployment') as unknown as { metadata: { name: string }; spec: { template: { spec: { serviceAccountName: string } } } }[];
      expect(Object.fromEntries(deployments.map((d) => [d.metadata.name, d.spec.template.spec.serviceAccountName]))).toEqual({
        [`${fullname}-api`]: `${fullname}-api`,
        [`${fullname}-worker`]: `${fullname}-worker`,
      });
    });

    it('adds the kinds a product chart needs through rbac.productResources, and nothing when rbac.create=false', async () => {
      const more = await render('--set', 'rbac.productResources[0].apiGroup=networking.k8s.io', '--set', 'rbac.productResources[0].resources[0]=ingresses');
      const extended = (more.find((d) => d.kind === 'ClusterRole') as unknown as { rules: Rule[] }).rules;
      expect(expandRules(extended)).toContain('networking.k8s.io/ingresses:watch');
      expect(expandRules(extended)).not.toContain('core/configmaps:watch');
      const none = await render('--set', 'rbac.create=false');
      expect(none.filter((d) => d.kind.startsWith('ClusterRole'))).toEqual([]);
    });

    it('grants the Flux backend’s objects, and nothing else of Flux, only with rbac.fluxBackend', async () => {
      const rules = (d: Awaited<ReturnType<typeof render>>) => expandRules((d.find((x) => x.kind === 'ClusterRole') as unknown as { rules: Rule[] }).rules);
      expect(rules(docs).filter((r) => r.includes('fluxcd.io'))).toEqual([]);
      const flux = rules(await render('--set', 'rbac.fluxBackend=true')).filter((r) => r.includes('fluxcd.io'));
      expect(flux.sort()).toEqual(
        ['get', 'list', 'watch', 'create', 'patch', 'delete'].flatMap((v) => [`helm.toolkit.fluxcd.io/helmreleases:${v}`, `source.toolkit.fluxcd.io/ocirepositories:${v}`]).sort(),
      );
    });

    it('runs the migrations as a pre-install/pre-upgrade hook after the Secret it reads', () => {
      const job = docs.find((d) => d.kind === 'Job')!;
      const secret = docs.find((d) => d.kind === 'Secret')!;
      expect(job.metadata.annotations).toMatchObject({ 'helm.sh/hook': 'pre-install,pre-upgrade' });
      expect(secret.metadata.annotations).toMatchObject({ 'helm.sh/hook': 'pre-install,pre-upgrade' });
      expect(Number(secret.metadata.annotations!['helm.sh/hook-weight'])).toBeLessThan(Number(job.metadata.annotations!['helm.sh/hook-weight']));
      expect(JSON.stringify(job)).toContain('"command":["node","dist/scripts/migrate.js","up"]');
    });
  });

  describe('installed on the local cluster', () => {
    const podsOf = async (component: string) => {
      const res = await kubectl('get', 'pods', '-n', ns, '-l', `app.kubernetes.io/instance=${release},app.kubernetes.io/component=${component}`, '-o', 'json');
      return (JSON.parse(res.stdout).items as { status: { phase: string } }[]).map((p) => p.status.phase);
    };
    const migrationHook = async () => {
      const status = JSON.parse(await helm('status', release, '--namespace', ns, '-o', 'json')) as { info: { status: string }; hooks?: { kind: string; last_run?: { phase?: string } }[] };
      return { status: status.info.status, job: status.hooks?.find((h) => h.kind === 'Job')?.last_run?.phase };
    };

    beforeAll(async () => {
      await helm('install', release, CHART, '--namespace', ns, '--create-namespace', '--wait', '--timeout', '180s', ...installValues);
    });

    it('runs the migration Job to completion before the apps', async () => {
      await expect(migrationHook()).resolves.toEqual({ status: 'deployed', job: 'Succeeded' });
      // hook-succeeded: the finished Job is cleaned up; the chart-created Secret stays.
      expect((await kubectl('get', 'jobs', '-n', ns, '-o', 'name')).stdout.trim()).toBe('');
      expect((await kubectl('get', 'secret', fullname, '-n', ns, '-o', 'name')).code).toBe(0);
    });

    it('brings the API and worker pods to Running', async () => {
      const api = await podsOf('api');
      expect(api).toHaveLength(2);
      expect(api.every((p) => p === 'Running')).toBe(true);
      const worker = await podsOf('worker');
      expect(worker.length).toBeGreaterThanOrEqual(1);
      expect(worker.every((p) => p === 'Running')).toBe(true);
      const hpa = JSON.parse((await kubectl('get', 'hpa', `${fullname}-worker`, '-n', ns, '-o', 'json')).stdout);
      expect(hpa.spec).toMatchObject({ minReplicas: 2, maxReplicas: 10, scaleTargetRef: { kind: 'Deployment', name: `${fullname}-worker` } });
    });

    it('runs the migration hook again on upgrade', async () => {
      await helm('upgrade', release, CHART, '--namespace', ns, '--wait', '--timeout', '180s', ...installValues, '--set', 'config.logLevel=debug');
      await expect(migrationHook()).resolves.toEqual({ status: 'deployed', job: 'Succeeded' });
      const deployment = JSON.parse((await kubectl('get', 'deployment', `${fullname}-api`, '-n', ns, '-o', 'json')).stdout);
      expect(deployment.spec.template.spec.containers[0].env).toEqual(expect.arrayContaining([{ name: 'LOG_LEVEL', value: 'debug' }]));
    });

    it('lets the worker service account do everything the worker does, acting as the tenant inside the namespace', async () => {
      // The worker's own adapters with a real token of its service account, as in a pod: the
      // tenant's identity is then reached by impersonation, as the worker does it.
      const token = (await kubectl('create', 'token', `${fullname}-worker`, '-n', ns, '--duration', '1h')).stdout.trim();
      const admin = parseYaml(fs.readFileSync(env.KUBECONFIG, 'utf8')) as { clusters: { cluster: Record<string, unknown> }[] };
      const asWorker = path.join(tmp, 'worker-kubeconfig.yaml');
      fs.writeFileSync(
        asWorker,
        stringifyYaml({
          apiVersion: 'v1',
          kind: 'Config',
          clusters: [{ name: 'caelus', cluster: admin.clusters[0].cluster }],
          users: [{ name: 'worker', user: { token } }],
          contexts: [{ name: 'worker', context: { cluster: 'caelus', user: 'worker' } }],
          'current-context': 'worker',
        }),
        { mode: 0o600 },
      );
      const kube = new KubeClient({ kubeconfig: asWorker });
      const tenants = new TenantClients(kube);
      const helmRunner = new HelmRunner({
        helmBin: env.HELM_BIN,
        kubeconfig: asWorker,
        kube,
        storageKube: (n) => tenants.for(n),
        confinement: new ConfinementChecker(new DiscoveryCache(kube)),
        actAs: tenantUser,
        allowedChartRoots: [EXAMPLES],
        env: helmHome,
      });
      const target = `caelus-chart-product-${suffix}`;
      const values = { caelus: { deploymentUid: target, domainName: `${target}.apps.example.test` } };
      const chart = (v: string) => ({ ref: path.join(EXAMPLES, `webapp-${v}`), version: v });
      // The aggregation controller fills the tenant role's rules in from its -defaults role.
      const end = Date.now() + 30_000;
      while (!JSON.parse((await kubectl('get', 'clusterrole', `${fullname}-tenant`, '-o', 'json')).stdout || '{}').rules?.length) {
        if (Date.now() > end) throw new Error('the tenant ClusterRole was not aggregated');
        await new Promise((r) => setTimeout(r, 500));
      }

      await expect(kube.list('v1', 'Namespace')).rejects.toMatchObject({ status: 403 });
      try {
        await ensureNamespace(kube, { name: target, deploymentUid: target, tenantClusterRole: `${fullname}-tenant` });
        await ensureNamespace(kube, { name: target, deploymentUid: target, tenantClusterRole: `${fullname}-tenant` });
        await expect(helmRunner.unlockPending(target, target)).resolves.toMatchObject({ unlocked: false });
        const installed = await helmRunner.upgradeInstall({ release: target, namespace: target, chart: chart('1.0.0'), values, timeoutSeconds: 120 });
        const upgraded = await helmRunner.upgradeInstall({ release: target, namespace: target, chart: chart('1.1.0'), values, timeoutSeconds: 120 });
        expect(upgraded.revision).toBe(installed.revision + 1);

        // The worker's own identity no longer reaches the release's objects or its Secrets.
        await expect(kube.get({ apiVersion: 'apps/v1', kind: 'Deployment', name: target, namespace: target })).rejects.toMatchObject({ status: 403 });
        await expect(kube.readSecret(target, `sh.helm.release.v1.${target}.v1`)).rejects.toMatchObject({ status: 403 });

        // Drift made by someone else (the admin), found and corrected as the tenant.
        await new KubeClient({ kubeconfig: env.KUBECONFIG }).mergePatch({ apiVersion: 'apps/v1', kind: 'Deployment', name: target, namespace: target }, { spec: { replicas: 2 } });
        const manifest = (await new HelmReleaseStorage((n) => tenants.for(n)).readDeployedManifest(target, target))!;
        const tenant = tenants.for(target);
        const drift = await detectDrift(tenant, manifest, { namespace: target, releaseName: target });
        expect(drift.objects.map((o) => o.kind)).toEqual(['Deployment']);
        await correctDrift(tenant, manifest, drift, { namespace: target, releaseName: target });

        await helmRunner.rollback(target, target, installed.revision, { timeoutSeconds: 120 });
        await expect(helmRunner.uninstall(target, target, { wait: true, timeoutSeconds: 120 })).resolves.toMatchObject({ uninstalled: true });
        await expect(deleteNamespace(kube, target, { deploymentUid: target, timeoutSeconds: 120 })).resolves.toMatchObject({ deleted: true });
      } finally {
        await kubectl('delete', 'namespace', target, '--ignore-not-found', '--wait=false');
      }
    });

    it('refuses the worker anything else, and the API everything', async () => {
      for (const [verb, resource] of [
        ['list', 'namespaces'],
        ['list', 'pods'],
        ['update', 'deployments'],
        ['watch', 'pods'],
        ['watch', 'namespaces'],
        ['create', 'clusterroles'],
        ['create', 'roles'],
        ['get', 'secrets'],
        ['patch', 'secrets'],
        ['create', 'configmaps'],
        ['patch', 'deployments'],
        ['impersonate', 'serviceaccounts/default'],
        ['bind', 'clusterroles/cluster-admin'],
        ['get', 'nodes'],
        ['create', 'pods'],
        ['delete', 'pods'],
        ['create', 'pods/exec'],
        ['create', 'customresourcedefinitions'],
        ['delete', 'resourcequotas'],
      ]) {
        expect({ verb, resource, allowed: await can(workerSa, verb, resource, 'default') }).toEqual({ verb, resource, allowed: false });
      }
      // It creates the tenant ServiceAccounts, never tokens for them (a subresource, which `can` cannot name).
      const token = await kubectl('auth', 'can-i', 'create', 'serviceaccounts', '--subresource', 'token', '--as', workerSa, '-n', 'default');
      expect(token.stdout.trim()).toBe('no');
      expect(await can(workerSa, 'impersonate', 'serviceaccounts/caelus-tenant', 'default')).toBe(true);
      expect(await can(workerSa, 'bind', `clusterroles/${fullname}-tenant`)).toBe(true);
      expect(await can(workerSa, 'create', 'rolebindings', 'default')).toBe(true);
      for (const [verb, resource] of [
        ['get', 'secrets'],
        ['get', 'namespaces'],
        ['list', 'pods'],
      ]) {
        expect({ verb, resource, allowed: await can(apiSa, verb, resource, ns) }).toEqual({ verb, resource, allowed: false });
      }
    });
  });
});

describe('charts/caelus network policies', () => {
  type Peer = Record<string, unknown>;
  type Policy = Doc & { spec: { podSelector: Record<string, unknown>; policyTypes: string[]; ingress?: { from?: Peer[]; ports?: unknown[] }[]; egress?: unknown[] } };
  const policies = (docs: Doc[]) => docs.filter((d) => d.kind === 'NetworkPolicy') as Policy[];
  const releasePods = { 'app.kubernetes.io/name': 'caelus', 'app.kubernetes.io/instance': release };
  const npTmp = fs.mkdtempSync(path.join(os.tmpdir(), 'caelus-chart-np-it-'));

  afterAll(() => fs.rmSync(npTmp, { recursive: true, force: true }));

  it("isolates the release's pods, opens the API to the ingress controller and /metrics to monitoring, and leaves egress open", async () => {
    const byName = Object.fromEntries(policies(await render()).map((p) => [p.metadata.name, p.spec]));

    expect(byName).toEqual({
      [`${fullname}-default-deny-ingress`]: { podSelector: { matchLabels: releasePods }, policyTypes: ['Ingress'] },
      [`${fullname}-allow-api`]: {
        podSelector: { matchLabels: { ...releasePods, 'app.kubernetes.io/component': 'api' } },
        policyTypes: ['Ingress'],
        ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } }], ports: [{ port: 'http', protocol: 'TCP' }] }],
      },
      [`${fullname}-allow-metrics`]: {
        podSelector: { matchLabels: releasePods, matchExpressions: [{ key: 'app.kubernetes.io/component', operator: 'In', values: ['api', 'worker'] }] },
        policyTypes: ['Ingress'],
        ingress: [
          {
            from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }],
            ports: [
              { port: 'http', protocol: 'TCP' },
              { port: 'metrics', protocol: 'TCP' },
            ],
          },
        ],
      },
    });
  });

  it('takes its sources from values, renders no rule (not an open one) for an empty list, and nothing when disabled', async () => {
    const custom = policies(await render('--set', 'networkPolicy.api.from[0].ipBlock.cidr=0.0.0.0/0', '--set', 'networkPolicy.metrics.from=null'));
    expect(custom.map((p) => p.metadata.name)).toEqual([`${fullname}-default-deny-ingress`, `${fullname}-allow-api`]);
    expect(custom[1].spec.ingress).toEqual([{ from: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [{ port: 'http', protocol: 'TCP' }] }]);

    const closed = policies(await render('--set-json', 'networkPolicy.api.from=[]', '--set-json', 'networkPolicy.metrics.from=[]'));
    expect(closed.map((p) => p.metadata.name)).toEqual([`${fullname}-default-deny-ingress`]);

    expect(policies(await render('--set', 'networkPolicy.enabled=false'))).toEqual([]);
    const typo = await run(env.HELM_BIN, ['template', release, CHART, ...installValues, '--set', 'networkPolicy.api.form[0].ipBlock.cidr=0.0.0.0/0']);
    expect(typo.stderr).toContain("additional properties 'form' not allowed");
  });

  it('lints without warnings with the policies off and with custom sources', async () => {
    for (const extra of [
      ['--set', 'networkPolicy.enabled=false'],
      ['--set', 'networkPolicy.api.from[0].podSelector.matchLabels.app=client'],
    ]) {
      const out = await helm('lint', CHART, '--strict', ...installValues, ...extra);
      expect(out).toContain('1 chart(s) linted, 0 chart(s) failed');
      expect(out).not.toMatch(/\[(WARNING|ERROR)\]/);
    }
  });

  it('hands the tenant egress ranges to the worker', async () => {
    const docs = await render('--set', 'config.tenantEgress.denyCidrs=10.0.0.0/8\\,203.0.113.0/24', '--set', 'config.tenantEgress.allowCidrs=10.20.0.25/32');
    const worker = docs.find((d) => d.kind === 'Deployment' && d.metadata.name.endsWith('-worker'));
    expect(JSON.stringify(worker)).toContain('{"name":"CAELUS_TENANT_EGRESS_DENY_CIDRS","value":"10.0.0.0/8,203.0.113.0/24"}');
    expect(JSON.stringify(worker)).toContain('{"name":"CAELUS_TENANT_EGRESS_ALLOW_CIDRS","value":"10.20.0.25/32"}');
    expect(JSON.stringify(await render())).not.toContain('CAELUS_TENANT_EGRESS');
  });

  it('renders policies the API server accepts (server-side dry run)', async () => {
    const file = path.join(npTmp, 'policies.yaml');
    fs.writeFileSync(
      file,
      policies(await render())
        .map((p) => stringifyYaml(p))
        .join('---\n'),
    );
    const res = await kubectl('apply', '--dry-run=server', '-n', 'default', '-f', file, '-o', 'name');
    expect(res.stderr).toBe('');
    expect(res.stdout.trim().split('\n')).toEqual([
      `networkpolicy.networking.k8s.io/${fullname}-default-deny-ingress`,
      `networkpolicy.networking.k8s.io/${fullname}-allow-api`,
      `networkpolicy.networking.k8s.io/${fullname}-allow-metrics`,
    ]);
  });
});
