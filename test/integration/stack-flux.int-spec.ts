/**
 * Flux in the local stack (`stack:up -- --with-flux`): both controllers built into the tool cache,
 * their CRDs applied, running on loopback ports of their own, and working for real: an OCIRepository
 * pinned by digest in the local (plain HTTP) registry and a HelmRelease that installs the example
 * chart from it, with drift detection on. Then status and down know them.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ensureStack, loadStackEnv, stackStatus, stopStack } from '../../scripts/stack';
import { FLUX_CONTROLLERS } from '../../scripts/stack/components/flux';
import { HOST, PORTS } from '../../scripts/stack/versions';

jest.setTimeout(600_000);

const REPO = path.resolve(__dirname, '..', '..');
const suffix = randomBytes(3).toString('hex');
const namespace = `flux-it-${suffix}`;
let env: Record<string, string>;
let tmp: string;

function exec(bin: string, args: string[], timeoutMs = 180_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(bin, args, { env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${path.basename(bin)} ${args.join(' ')}: ${err.message}\n${stdout}\n${stderr}`));
      else resolve(`${stdout}${stderr}`);
    });
  });
}
const kubectl = (...args: string[]) => exec(path.join(env.CAELUS_TOOLS_BIN, 'kubectl'), ['--kubeconfig', env.KUBECONFIG, ...args]);
const helm = (...args: string[]) => exec(path.join(env.CAELUS_TOOLS_BIN, 'helm'), args);

describe('Flux in the local stack', () => {
  beforeAll(async () => {
    const lines: string[] = [];
    await ensureStack({ only: ['flux'], log: (l) => lines.push(l) });
    env = { ...(process.env as Record<string, string>), ...loadStackEnv() };
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'caelus-flux-it-'));
  });

  afterAll(async () => {
    await kubectl('delete', 'namespace', namespace, '--wait=false', '--ignore-not-found').catch(() => undefined);
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('runs both controllers on their own loopback ports with their CRDs established', async () => {
    const status = await stackStatus(['flux']);
    expect(status).toEqual([expect.objectContaining({ name: 'flux', ok: true })]);
    for (const c of FLUX_CONTROLLERS) {
      const res = await fetch(`http://${HOST}:${c.health}/readyz`);
      expect(res.status).toBe(200);
    }
    const crds = await kubectl('get', 'crd', '-o', 'name');
    expect(crds).toContain('customresourcedefinition.apiextensions.k8s.io/helmreleases.helm.toolkit.fluxcd.io');
    expect(crds).toContain('customresourcedefinition.apiextensions.k8s.io/ocirepositories.source.toolkit.fluxcd.io');
    expect(loadStackEnv().CAELUS_STACK_FLUX).toBe('1');
  });

  it('installs a digest-pinned chart from the local registry through an OCIRepository and a HelmRelease', async () => {
    const packaged = await helm('package', path.join(REPO, 'charts', 'examples', 'webapp-1.0.0'), '-d', tmp);
    const tgz = /saved it to: (\S+)/.exec(packaged)![1];
    const repo = `oci://${env.CAELUS_OCI_REGISTRY}/flux-it-${suffix}`;
    const pushed = await helm('push', tgz, repo, '--plain-http');
    const digest = /Digest:\s*(sha256:[0-9a-f]{64})/.exec(pushed)![1];

    const manifest = path.join(tmp, 'flux.yaml');
    fs.writeFileSync(
      manifest,
      `apiVersion: v1
kind: Namespace
metadata: {name: ${namespace}}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata: {name: chart, namespace: ${namespace}}
spec:
  url: ${repo}/webapp
  insecure: true
  interval: 10m
  layerSelector: {mediaType: application/vnd.cncf.helm.chart.content.v1.tar+gzip, operation: copy}
  ref: {digest: "${digest}"}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: app, namespace: ${namespace}}
spec:
  interval: 10m
  chartRef: {kind: OCIRepository, name: chart}
  driftDetection: {mode: enabled}
  install: {timeout: 3m}
  values:
    user: {title: "from flux"}
`,
    );
    await kubectl('apply', '-f', manifest);
    await kubectl('wait', '--for=condition=Ready', `ocirepository/chart`, '-n', namespace, '--timeout=120s');
    const artifact = (await kubectl('get', 'ocirepository/chart', '-n', namespace, '-o', 'jsonpath={.status.artifact.url}')).trim();
    expect(artifact.startsWith(`http://${HOST}:${PORTS.fluxSourceArtifacts}/`)).toBe(true);
    await kubectl('wait', '--for=condition=Ready', 'helmrelease/app', '-n', namespace, '--timeout=240s');

    // What helm-controller installed is a Helm release like any other, with the chart's objects.
    const releases = JSON.parse(await helm('list', '--kubeconfig', env.KUBECONFIG, '-n', namespace, '-o', 'json')) as { name: string; status: string; chart: string }[];
    expect(releases).toEqual([expect.objectContaining({ status: 'deployed', chart: 'webapp-1.0.0' })]);
    const deployments = await kubectl('get', 'deployments', '-n', namespace, '-o', 'name');
    expect(deployments.trim()).not.toBe('');
    const config = await kubectl('get', 'configmaps', '-n', namespace, '-o', 'json');
    expect(config).toContain('from flux');
  });

  it('is stopped by down and then reported down', async () => {
    const lines: string[] = [];
    await stopStack((l) => lines.push(l), ['flux']);
    expect(lines.join('\n')).toMatch(/flux: stopped (helm-controller|source-controller)/);
    const status = await stackStatus(['flux']);
    expect(status[0]).toEqual(expect.objectContaining({ name: 'flux', ok: false }));
    // Up again: the suites after this one in the same run (the lifecycle e2e on the Flux backend)
    // need the controllers, and jest's file order changes with its timing cache.
    await ensureStack({ only: ['flux'], log: (l) => lines.push(l) });
    expect((await stackStatus(['flux']))[0]).toEqual(expect.objectContaining({ name: 'flux', ok: true }));
  });
});
