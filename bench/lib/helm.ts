/**
 * The baseline: `helm upgrade --install --wait` run directly, with the same chart, the same merged
 * values and the same flags the worker's HelmRunner passes (plus --create-namespace, since
 * nothing else makes the namespace).
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { REPO } from './procs';

export interface ExampleChart {
  dir: string;
  version: string;
  defaultValues: Record<string, unknown>;
  valuesSchema: Record<string, unknown>;
}

export function exampleChart(version: string): ExampleChart {
  const dir = join(REPO, 'charts', 'examples', `webapp-${version}`);
  return {
    dir,
    version,
    defaultValues: parseYaml(readFileSync(join(dir, 'values.yaml'), 'utf8')) as Record<string, unknown>,
    valuesSchema: JSON.parse(readFileSync(join(dir, 'values.schema.json'), 'utf8')) as Record<string, unknown>,
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function deepMerge(...layers: Record<string, unknown>[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const layer of layers) {
    for (const [k, v] of Object.entries(layer)) out[k] = isObject(v) && isObject(out[k]) ? deepMerge(out[k], v) : v;
  }
  return out;
}

/** What Caelus hands helm: template defaults + { user } + the system overrides. */
export function mergedValues(chart: ExampleChart, userValues: Record<string, unknown>, release: string, domainName: string): Record<string, unknown> {
  return deepMerge(chart.defaultValues, { user: userValues }, { caelus: { deploymentUid: release, domainName } });
}

export interface HelmRun {
  release: string;
  startedAt: number;
  endedAt: number;
  ms: number;
  ok: boolean;
  error?: string;
}

export interface HelmEnv {
  helmBin: string;
  kubeconfig: string;
  env: Record<string, string>;
}

export async function helmInstall(h: HelmEnv, chart: ExampleChart, release: string, values: Record<string, unknown>, timeoutSeconds = 300): Promise<HelmRun> {
  const dir = mkdtempSync(join(tmpdir(), 'caelus-bench-helm-'));
  const valuesFile = join(dir, 'values.json');
  writeFileSync(valuesFile, JSON.stringify(values), { mode: 0o600 });
  const args = [
    'upgrade',
    '--install',
    release,
    chart.dir,
    '--namespace',
    release,
    '--create-namespace',
    '--kubeconfig',
    h.kubeconfig,
    '--values',
    valuesFile,
    '--wait',
    '--timeout',
    `${timeoutSeconds}s`,
    '--history-max',
    '10',
    '--output',
    'json',
    '--debug',
  ];
  const startedAt = Date.now();
  try {
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
      const child = spawn(h.helmBin, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...h.env } });
      let stderr = '';
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (c: string) => (stderr = (stderr + c).slice(-4000)));
      child.once('error', reject);
      child.once('close', (code) => resolve({ code, stderr }));
    });
    const endedAt = Date.now();
    return { release, startedAt, endedAt, ms: endedAt - startedAt, ok: code === 0, ...(code === 0 ? {} : { error: stderr.split('\n').filter(Boolean).slice(-3).join(' | ') }) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The example chart with its Service made headless (`clusterIP: None`), in a directory of its own.
 * Everything else (objects, values, schema, version) is the example's. The local cluster's
 * Service range is the API server's default /24 (about 250 ClusterIPs for everyone), so phases
 * that need more releases than there are free IPs use this variant, on both sides of a comparison.
 */
export function headlessVariant(chart: ExampleChart, root: string): ExampleChart {
  const dir = join(root, `webapp-${chart.version}`);
  cpSync(chart.dir, dir, { recursive: true });
  const svc = join(dir, 'templates', 'service.yaml');
  const text = readFileSync(svc, 'utf8');
  if (!/^ {2}type: ClusterIP$/m.test(text)) throw new Error(`unexpected ${svc}: no "type: ClusterIP" line to make headless`);
  writeFileSync(svc, text.replace(/^ {2}type: ClusterIP$/m, '  type: ClusterIP\n  clusterIP: None'));
  return { ...chart, dir };
}
