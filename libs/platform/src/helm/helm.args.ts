import { readFile, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';

import { parse as parseYaml } from 'yaml';

import { HelmError } from './helm.errors';
import type { ChartRef } from './helm.types';

/** Helm's own limit for release names is 53 characters of a DNS-1123 label. */
const RELEASE_NAME = /^[a-z0-9]([-a-z0-9]{0,51}[a-z0-9])?$/;
const NAMESPACE_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

export function assertReleaseName(release: string): void {
  if (!RELEASE_NAME.test(release)) {
    throw new HelmError('invalid-values', `invalid release name "${release.slice(0, 60)}": a DNS label of at most 53 characters is required`);
  }
}

export function assertNamespaceName(namespace: string): void {
  if (!NAMESPACE_NAME.test(namespace)) {
    throw new HelmError('invalid-values', `invalid namespace "${namespace.slice(0, 70)}"`);
  }
}

/** How a chart reference turns into helm arguments. */
export interface ResolvedChart {
  /** The positional chart argument. */
  chart: string;
  /** --version, --plain-http as needed. */
  flags: string[];
}

export interface ChartPolicy {
  plainHttpRegistries?: readonly string[];
  allowedChartRoots?: readonly string[];
}

/**
 * Validates a chart reference and builds its helm arguments: `oci://` references (pinned by
 * digest as `…/name@sha256:…` when a digest is given) or local charts inside the allowed roots.
 */
export async function resolveChart(chart: ChartRef, policy: ChartPolicy): Promise<ResolvedChart> {
  if (chart.ref.startsWith('oci://')) return resolveOciChart(chart, policy);
  if (chart.ref.startsWith('/') || chart.ref.startsWith('./') || chart.ref.startsWith('../') || chart.ref.startsWith('file://')) {
    return resolveLocalChart(chart, policy);
  }
  throw new HelmError('chart-not-found', `unsupported chart reference "${chart.ref}": use oci://… or a local chart path`);
}

function resolveOciChart(chart: ChartRef, policy: ChartPolicy): ResolvedChart {
  const host = chart.ref.slice('oci://'.length).split('/')[0];
  if (!host || /\s/.test(chart.ref)) throw new HelmError('chart-not-found', `invalid chart reference "${chart.ref}"`);
  let ref = chart.ref;
  if (chart.digest) {
    if (!DIGEST.test(chart.digest)) throw new HelmError('chart-not-found', `invalid chart digest "${chart.digest}"`);
    if (ref.includes('@')) throw new HelmError('chart-not-found', `chart reference "${ref}" already carries a digest`);
    ref = `${ref}@${chart.digest}`;
  }
  const flags: string[] = [];
  if (chart.version) flags.push('--version', chart.version);
  const hostname = host.replace(/:\d+$/, '');
  if (LOOPBACK_HOSTS.has(hostname) || policy.plainHttpRegistries?.includes(host)) flags.push('--plain-http');
  return { chart: ref, flags };
}

async function resolveLocalChart(chart: ChartRef, policy: ChartPolicy): Promise<ResolvedChart> {
  const given = chart.ref.startsWith('file://') ? chart.ref.slice('file://'.length) : chart.ref;
  const roots = policy.allowedChartRoots ?? [];
  if (roots.length === 0) throw new HelmError('forbidden', 'local charts are not allowed (no chart roots configured)');

  let path: string;
  try {
    path = await realpath(resolve(given));
  } catch {
    throw new HelmError('chart-not-found', `chart path "${given}" not found`);
  }
  // realpath on both sides, so a symlink cannot lead out of an allowed root.
  const realRoots = await Promise.all(roots.map((root) => realpath(resolve(root)).catch(() => undefined)));
  const inside = realRoots.some((root) => root !== undefined && isWithin(root, path));
  if (!inside) throw new HelmError('forbidden', `chart path "${given}" is outside the allowed chart roots`);

  if (chart.version && (await stat(path)).isDirectory()) {
    const actual = await localChartVersion(path);
    if (actual !== chart.version) {
      throw new HelmError('chart-not-found', `chart at "${given}" is version ${actual ?? 'unknown'}, not ${chart.version}`);
    }
  }
  // helm ignores --version for local charts, hence the check above.
  return { chart: path, flags: [] };
}

function isWithin(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

async function localChartVersion(dir: string): Promise<string | undefined> {
  try {
    const meta = parseYaml(await readFile(join(dir, 'Chart.yaml'), 'utf8')) as { version?: unknown };
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- YAML may give a number (version: 1.0); text is what is compared
    return meta?.version === undefined ? undefined : String(meta.version);
  } catch {
    throw new HelmError('chart-not-found', `no Chart.yaml in "${dir}"`);
  }
}

export interface UpgradeInstallArgs {
  release: string;
  namespace: string;
  kubeconfig?: string;
  chart: ResolvedChart;
  valuesFile: string;
  timeoutSeconds: number;
  description?: string;
  /** `--kube-as-user`: the identity helm acts as. */
  actAs?: string;
  /** Extra flags, e.g. the post-renderer's. */
  extra?: string[];
}

/**
 * `helm upgrade --install` as an argument vector (spawned without a shell). `--debug` makes helm
 * print progress on stderr; `-o json` keeps the printed NOTES (which may echo values) off stdout's
 * human text, and stdout is only ever parsed, never logged.
 *
 * `--disable-openapi-validation`: against an API server that takes the `fieldValidation`
 * parameter (Kubernetes 1.27 and later), helm 3.22's client-side check validates nothing itself (it
 * leaves the objects to the server), but downloads and parses the server's OpenAPI documents to
 * find that out: half of an upgrade's CPU (`bench/chart-pull.sh`: 645 ms against 312 ms a call).
 * The API server judges every object either way; an unknown field or a wrong type gets the same
 * answer with or without the flag (BENCHMARKS.md, "Where an apply's helm time goes").
 */
export function upgradeInstallArgs(a: UpgradeInstallArgs): string[] {
  return [
    'upgrade',
    '--install',
    a.release,
    a.chart.chart,
    ...a.chart.flags,
    '--namespace',
    a.namespace,
    ...kubeconfigArgs(a.kubeconfig),
    ...actAsArgs(a.actAs),
    '--values',
    a.valuesFile,
    '--wait',
    '--timeout',
    `${a.timeoutSeconds}s`,
    '--history-max',
    '10',
    '--disable-openapi-validation',
    ...(a.description ? ['--description', a.description] : []),
    ...(a.extra ?? []),
    '--output',
    'json',
    '--debug',
  ];
}

export interface TemplateArgs {
  release: string;
  namespace: string;
  chart: ResolvedChart;
  valuesFile: string;
}

export function templateArgs(a: TemplateArgs): string[] {
  return ['template', a.release, a.chart.chart, ...a.chart.flags, '--namespace', a.namespace, '--values', a.valuesFile];
}

/** `--kubeconfig <file>`, or nothing inside a pod, where helm falls back to the in-cluster config. */
export function kubeconfigArgs(kubeconfig: string | undefined): string[] {
  return kubeconfig ? ['--kubeconfig', kubeconfig] : [];
}

/** `--kube-as-user <user>`: helm's Kubernetes requests impersonate that user. */
export function actAsArgs(user: string | undefined): string[] {
  return user ? ['--kube-as-user', user] : [];
}
