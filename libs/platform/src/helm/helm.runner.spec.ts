import { readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

import { ConfinementChecker, ConfinementError } from '../kubernetes/confinement';
import { HelmError } from './helm.errors';
import { CHART_ROOT, installFakeHelm, WEBAPP_1_0_0 } from '../../../../test/support/fake-helm';
import { HelmRunner } from './helm.runner';
import { SUBSTITUTE_POST_RENDERER } from './checked-render';

describe(HelmRunner.name, () => {
  let dir: string;
  let helmBin: string;
  let removeFakeHelm: () => Promise<void>;

  beforeAll(async () => {
    ({ dir, helmBin, remove: removeFakeHelm } = await installFakeHelm());
  });

  afterAll(() => removeFakeHelm());

  const runner = (mode: string, extra: Partial<ConstructorParameters<typeof HelmRunner>[0]> = {}) =>
    new HelmRunner({
      helmBin,
      kubeconfig: '/etc/caelus/kubeconfig',
      allowedChartRoots: [CHART_ROOT],
      env: { FAKE_HELM_DIR: dir, FAKE_HELM_MODE: mode },
      ...extra,
    });

  const recordedArgs = async () => (await readFile(join(dir, 'args'), 'utf8')).split('\0').slice(0, -1);

  const values = { replicas: 1, user: { title: 's3cret-title-value', adminPassword: 'hunter2-secret' } };
  const request = {
    release: 'web',
    namespace: 'ns1',
    chart: { ref: WEBAPP_1_0_0, version: '1.0.0' },
    values,
    timeoutSeconds: 120,
  };

  describe('upgradeInstall', () => {
    it('leaves --kubeconfig out inside a pod, where helm uses the service account', async () => {
      await runner('ok', { kubeconfig: undefined }).upgradeInstall(request);
      const args = await recordedArgs();
      expect(args).not.toContain('--kubeconfig');
      expect(args).toEqual(expect.arrayContaining(['--namespace', 'ns1', '--wait']));
    });

    it('runs helm with an argument vector and no shell', async () => {
      const sut = runner('ok');
      // Shell syntax in an argument would run if a shell were involved.
      const description = `$(touch ${dir}/pwned); echo "quoted" 'single' \`id\``;

      await sut.upgradeInstall({ ...request, description });

      const args = await recordedArgs();
      expect(args.slice(0, 4)).toEqual(['upgrade', '--install', 'web', WEBAPP_1_0_0]);
      expect(args).toEqual(expect.arrayContaining(['--namespace', 'ns1', '--kubeconfig', '/etc/caelus/kubeconfig', '--wait', '--timeout', '120s']));
      expect(args[args.indexOf('--description') + 1]).toBe(description);
      expect(existsSync(join(dir, 'pwned'))).toBe(false);
      // Local charts are checked against Chart.yaml instead: helm ignores --version for them.
      expect(args).not.toContain('--version');
    });

    it('hands values over in a 0600 file that is gone afterwards', async () => {
      const sut = runner('ok');

      await sut.upgradeInstall(request);

      expect((await readFile(join(dir, 'values.mode'), 'utf8')).trim()).toBe('600');
      expect(JSON.parse(await readFile(join(dir, 'values.copy'), 'utf8'))).toEqual(values);
      const valuesPath = await readFile(join(dir, 'values.path'), 'utf8');
      expect(existsSync(valuesPath)).toBe(false);
      expect(existsSync(dirname(valuesPath))).toBe(false);
    });

    it('returns the new revision without the values helm printed', async () => {
      const sut = runner('ok');

      const release = await sut.upgradeInstall(request);

      expect(release).toEqual({
        name: 'web',
        namespace: 'ns1',
        revision: 2,
        status: 'deployed',
        description: 'Upgrade complete',
        chartName: 'webapp',
        chartVersion: '1.0.0',
        appVersion: '1.27',
        lastDeployed: undefined,
      });
      expect(JSON.stringify(release)).not.toContain('hunter2');
    });

    it('streams progress lines without debug prefixes or values, and logs no values', async () => {
      const logged: string[] = [];
      const logger = { debug: (f: object, m: string) => logged.push(m + JSON.stringify(f)), info: (f: object, m: string) => logged.push(m + JSON.stringify(f)), warn: jest.fn() };
      const sut = runner('ok', { logger });
      const progress: string[] = [];

      await sut.upgradeInstall({ ...request, onProgress: (line) => progress.push(line) });

      expect(progress).toEqual(['preparing upgrade for web', 'creating 1 resource(s) for [redacted]']);
      expect(logged.join('\n')).not.toMatch(/s3cret|hunter2/);
    });

    it('classifies a schema failure as invalid-values, without the values, and still removes the file', async () => {
      const sut = runner('schema');

      const error = await sut.upgradeInstall(request).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(HelmError);
      expect(error).toMatchObject({ kind: 'invalid-values', retryable: false, details: { operation: 'upgrade', exitCode: 1 } });
      expect((error as HelmError).message).toContain("values don't meet the specifications of the schema");
      expect((error as HelmError).message).not.toContain('hunter2');
      expect(existsSync(await readFile(join(dir, 'values.path'), 'utf8'))).toBe(false);
    });

    it('kills helm when the signal aborts', async () => {
      const sut = runner('hang');
      const controller = new AbortController();
      const started = Date.now();

      const result = sut.upgradeInstall({
        ...request,
        signal: controller.signal,
        onProgress: (line) => line === 'started' && controller.abort(),
      });

      await expect(result).rejects.toMatchObject({ kind: 'transient', message: 'helm upgrade was cancelled' });
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(existsSync(await readFile(join(dir, 'values.path'), 'utf8'))).toBe(false);
    });

    it('follows SIGTERM with SIGKILL when helm ignores it', async () => {
      const sut = runner('ignore-term', { killGraceMs: 200 });
      const controller = new AbortController();
      const started = Date.now();

      const result = sut.upgradeInstall({
        ...request,
        signal: controller.signal,
        onProgress: (line) => line === 'started' && controller.abort(),
      });

      await expect(result).rejects.toMatchObject({ kind: 'transient' });
      expect(Date.now() - started).toBeLessThan(5_000);
    });

    it('runs at most maxConcurrent helm processes; a cancelled wait starts nothing', async () => {
      const sut = runner('hang', { maxConcurrent: 1, killGraceMs: 200 });
      const first = new AbortController();
      const second = new AbortController();
      let secondStarted = false;
      let firstRunning!: () => void;
      const running = new Promise<void>((r) => (firstRunning = r));
      const a = sut.upgradeInstall({ ...request, signal: first.signal, onProgress: (line) => line === 'started' && firstRunning() });
      await running;
      const b = sut.upgradeInstall({ ...request, signal: second.signal, onProgress: () => (secondStarted = true) });
      setTimeout(() => second.abort(), 300);
      // The second call waits for the slot the first holds, and gives up when its signal aborts.
      await expect(b).rejects.toMatchObject({ kind: 'transient', message: 'helm upgrade was cancelled' });
      expect(secondStarted).toBe(false);
      first.abort();
      await expect(a).rejects.toMatchObject({ kind: 'transient' });
      // The slot is free again: a third call starts.
      const third = new AbortController();
      let thirdStarted = false;
      const onProgress = (line: string) => {
        if (line !== 'started') return;
        thirdStarted = true;
        third.abort();
      };
      await expect(sut.upgradeInstall({ ...request, signal: third.signal, onProgress })).rejects.toMatchObject({ kind: 'transient' });
      expect(thirdStarted).toBe(true);
    }, 20_000);

    it('does not start helm for an already aborted signal', async () => {
      const sut = runner('ok');
      await expect(sut.upgradeInstall({ ...request, signal: AbortSignal.abort() })).rejects.toMatchObject({ kind: 'transient' });
    });

    it('refuses release names helm would reject, before running anything', async () => {
      const sut = runner('ok');
      await expect(sut.upgradeInstall({ ...request, release: 'Web;rm -rf /' })).rejects.toMatchObject({
        kind: 'invalid-values',
        retryable: false,
      });
    });

    it('reports a missing helm binary as a HelmError', async () => {
      const sut = runner('ok', { helmBin: join(dir, 'no-such-helm') });
      await expect(sut.upgradeInstall(request)).rejects.toMatchObject({ kind: 'transient', message: expect.stringContaining('ENOENT') });
    });
  });

  describe('local charts', () => {
    it('are refused when no chart roots are configured', async () => {
      const sut = runner('ok', { allowedChartRoots: [] });
      await expect(sut.upgradeInstall(request)).rejects.toMatchObject({ kind: 'forbidden', retryable: false });
    });

    it('are refused outside the allowed roots, also through ..', async () => {
      const sut = runner('ok', { allowedChartRoots: [join(CHART_ROOT, 'webapp-1.1.0')] });
      const sneaky = join(CHART_ROOT, 'webapp-1.1.0', '..', 'webapp-1.0.0');
      await expect(sut.upgradeInstall({ ...request, chart: { ref: sneaky } })).rejects.toMatchObject({ kind: 'forbidden' });
    });

    it('must have the requested version', async () => {
      const sut = runner('ok');
      await expect(sut.upgradeInstall({ ...request, chart: { ref: WEBAPP_1_0_0, version: '1.1.0' } })).rejects.toMatchObject({
        kind: 'chart-not-found',
        message: expect.stringContaining('is version 1.0.0, not 1.1.0'),
      });
    });

    it('must exist', async () => {
      const sut = runner('ok');
      await expect(sut.upgradeInstall({ ...request, chart: { ref: join(CHART_ROOT, 'nope') } })).rejects.toMatchObject({
        kind: 'chart-not-found',
      });
    });
  });

  describe('status, uninstall', () => {
    it('status of a missing release is undefined', async () => {
      await expect(runner('notfound').status('web', 'ns1')).resolves.toBeUndefined();
      expect(await recordedArgs()).toEqual(['get', 'metadata', 'web', '--namespace', 'ns1', '--kubeconfig', '/etc/caelus/kubeconfig', '--output', 'json']);
    });

    it('uninstall of a missing release succeeds (idempotent)', async () => {
      await expect(runner('notfound').uninstall('web', 'ns1', { wait: true, timeoutSeconds: 60 })).resolves.toEqual({
        uninstalled: false,
        kept: [],
      });
      expect(await recordedArgs()).toEqual(expect.arrayContaining(['uninstall', 'web', '--wait', '--timeout', '60s']));
    });

    it('uninstall reports resources kept by their resource policy', async () => {
      await expect(runner('uninstall-kept').uninstall('web', 'ns1', { timeoutSeconds: 60 })).resolves.toEqual({
        uninstalled: true,
        kept: ['[PersistentVolumeClaim] web-data'],
      });
    });
  });
});

describe(`${HelmRunner.name} confinement`, () => {
  let dir: string;
  let helmBin: string;
  let removeFakeHelm: () => Promise<void>;

  beforeAll(async () => {
    ({ dir, helmBin, remove: removeFakeHelm } = await installFakeHelm());
  });

  afterAll(() => removeFakeHelm());

  const discovery = { isNamespaced: async (_v: string, kind: string) => (kind === 'ClusterRole' ? false : kind === 'ConfigMap' ? true : undefined) };
  const runner = (extra: Record<string, unknown> = {}) =>
    new HelmRunner({
      helmBin,
      allowedChartRoots: [CHART_ROOT],
      env: { FAKE_HELM_DIR: dir, FAKE_HELM_MODE: 'postrender', ...extra },
      confinement: new ConfinementChecker(discovery),
      actAs: (ns) => `system:serviceaccount:${ns}:caelus-tenant`,
    });
  const req = { release: 'web', namespace: 'ns1', chart: { ref: WEBAPP_1_0_0, version: '1.0.0' }, values: { user: { title: 'x' } }, timeoutSeconds: 60 };
  const argv = async () => (await readFile(join(dir, 'args'), 'utf8')).split('\0').slice(0, -1);

  it('acts as the tenant and applies only what passed the check', async () => {
    const manifest = '---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\n';
    await expect(runner({ FAKE_MANIFEST: manifest }).upgradeInstall(req)).resolves.toMatchObject({ revision: 2 });
    const args = await argv();
    expect(args[args.indexOf('--kube-as-user') + 1]).toBe('system:serviceaccount:ns1:caelus-tenant');
    expect(args[args.indexOf('--post-renderer') + 1]).toBe(SUBSTITUTE_POST_RENDERER);
    expect(await readFile(join(dir, 'applied'), 'utf8')).toBe(manifest);
  });

  it('applies the checked render even when helm renders something else the second time', async () => {
    const checked = '---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\ndata:\n  token: "first \\"render\\""\n';
    const second = '---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\n  namespace: victim\n';
    await expect(runner({ FAKE_MANIFEST: checked, FAKE_UPGRADE_MANIFEST: second }).upgradeInstall(req)).resolves.toMatchObject({ revision: 2 });
    expect(await readFile(join(dir, 'applied'), 'utf8')).toBe(checked);
    const args = await argv();
    expect(args).toContain('--wait');
    expect(args).not.toContain('--dry-run=server');
    // The API server judges the objects; helm's client-side check only downloads its OpenAPI documents.
    expect(args).toContain('--disable-openapi-validation');
  });

  it('renders for the check without the client-side OpenAPI check', async () => {
    const manifest = '---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: escape\n';
    await expect(runner({ FAKE_MANIFEST: manifest }).upgradeInstall(req)).rejects.toBeInstanceOf(ConfinementError);
    const args = await argv();
    expect(args).toEqual(expect.arrayContaining(['--dry-run=server', '--disable-openapi-validation', '--skip-crds', '--kube-as-user']));
    expect(args[args.indexOf('--post-renderer') + 1]).toBe('tee');
  });

  it('names the object and the rule when helm stops the dry run at an object the tenant may not read', async () => {
    const manifest = '---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-config\n  namespace: victim\n';
    const forbidden = 'Unable to continue with install: could not get information about the resource ConfigMap "web-config" in namespace "victim": forbidden';
    const err = await runner({ FAKE_MANIFEST: manifest, FAKE_DRYRUN_ERROR: forbidden })
      .upgradeInstall(req)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfinementError);
    expect((err as Error).message).toContain('rendered manifest refused, nothing applied: ConfigMap "web-config" in namespace "victim"');
    expect(await readFile(join(dir, 'applied'), 'utf8')).toBe('');
  });

  it('reports helm’s own failure when the dry run fails on a manifest that passes the check', async () => {
    const manifest = '---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-config\n';
    const err = await runner({ FAKE_MANIFEST: manifest, FAKE_DRYRUN_ERROR: 'UPGRADE FAILED: context deadline exceeded' })
      .upgradeInstall(req)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HelmError);
    expect((err as Error).message).toContain('context deadline exceeded');
  });

  it('fails when helm did not apply the checked manifest', async () => {
    const manifest = '---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\n';
    const err = await runner({ FAKE_MANIFEST: manifest, FAKE_UPGRADE_MANIFEST: '---\nkind: Other\n', FAKE_IGNORE_POST_RENDERER: '1' })
      .upgradeInstall(req)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HelmError);
    expect((err as HelmError).kind).toBe('forbidden');
  });

  it('checks the hooks of a server-side dry run first, since helm does not post-render hooks', async () => {
    const manifest = '---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\n';
    const hook = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-hook\n  namespace: victim\n  annotations:\n    helm.sh/hook: pre-install\n';
    const dryRun = JSON.stringify({ name: 'web', namespace: 'ns1', version: 1, info: { status: 'pending-install' }, manifest, hooks: [{ name: 'web-hook', kind: 'ConfigMap', manifest: hook }] });
    await writeFile(join(dir, 'applied'), '');
    const err = await runner({ FAKE_MANIFEST: manifest, FAKE_DRYRUN_JSON: dryRun })
      .upgradeInstall(req)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfinementError);
    expect((err as Error).message).toContain('rendered hook refused, nothing applied: ConfigMap "web-hook" in namespace "victim"');
    const args = await argv();
    expect(args).toContain('--dry-run=server');
    expect(args).not.toContain('--wait');
    expect(args).toContain('--skip-crds');
  });

  it('refuses what breaks confinement with a ConfinementError, whatever helm says about it', async () => {
    const manifest = '---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: escape\n';
    const err = await runner({ FAKE_MANIFEST: manifest })
      .upgradeInstall(req)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfinementError);
    expect((err as Error).message).toBe(
      'rendered manifest refused, nothing applied: ClusterRole "escape" (rbac.authorization.k8s.io/v1): cluster-scoped (rule: every object must be of a namespaced kind)',
    );
    expect(await readFile(join(dir, 'applied'), 'utf8')).toBe('');
  });
});
