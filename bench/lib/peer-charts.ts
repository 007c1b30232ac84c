/**
 * The charts the peer benchmark gives every side, pushed to the stack's OCI registry so that Flux
 * (driven directly), Caelus with the helm backend and Caelus with the Flux backend all pull the
 * same bytes by digest, as a template pins them:
 *
 * - `base`: the example chart (or its headless variant when ClusterIPs are short), 1.0.0;
 *   `isolated` is the same chart (same digest) under a Caelus template of its own;
 * - `next`: the same with the default theme dark (the ConfigMap and, through its checksum, the
 *   pods change), 1.0.1: the upgrade;
 * - `stuck`: the base with its pods bound to a node that does not exist, so an install never
 *   gets ready and fails at its timeout, again and again: the release that fails forever;
 * - `idle`: the headless variant with 0 replicas, for the steady-state population (the local
 *   cluster's one fake node takes 500 pods).
 */
import { execFile } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify as toYaml } from 'yaml';
import type { ExampleChart, HelmEnv } from './helm';

const run = promisify(execFile);

export type PeerChartKey = 'base' | 'isolated' | 'next' | 'stuck' | 'idle';

export interface PeerChart extends ExampleChart {
  /** oci://…/webapp */
  ref: string;
  digest: string;
  /** The Caelus template's version (unique in the side's product; the chart's version otherwise). */
  templateVersion: string;
}

/** A copy of `from` under `root` with its version and default values replaced (and an optional edit of its files). */
function variant(from: ExampleChart, root: string, version: string, defaults: Record<string, unknown>, edit?: (dir: string) => void): ExampleChart {
  const dir = join(root, `webapp-${version}`);
  cpSync(from.dir, dir, { recursive: true });
  const chartYaml = join(dir, 'Chart.yaml');
  writeFileSync(chartYaml, readFileSync(chartYaml, 'utf8').replace(/^version: .*$/m, `version: ${version}`));
  writeFileSync(join(dir, 'values.yaml'), toYaml(defaults));
  edit?.(dir);
  return { dir, version, defaultValues: defaults, valuesSchema: from.valuesSchema };
}

/** Pods that no node takes: the Deployment never becomes available. */
function unschedulable(dir: string): void {
  const file = join(dir, 'templates', 'deployment.yaml');
  const text = readFileSync(file, 'utf8');
  const anchor = '      automountServiceAccountToken: false\n';
  if (!text.includes(anchor)) throw new Error(`unexpected ${file}: no "${anchor.trim()}" line to add a nodeSelector after`);
  writeFileSync(file, text.replace(anchor, `${anchor}      nodeSelector:\n        caelus-bench/no-such-node: "true"\n`));
}

async function push(helm: HelmEnv, chart: ExampleChart, root: string, repo: string): Promise<PeerChart> {
  const env = { ...process.env, ...helm.env };
  const packaged = await run(helm.helmBin, ['package', chart.dir, '-d', root], { env });
  const tgz = /saved it to: (\S+)/.exec(packaged.stdout)?.[1];
  if (!tgz) throw new Error(`helm package ${chart.dir}: no package in ${packaged.stdout}`);
  const pushed = await run(helm.helmBin, ['push', tgz, repo, '--plain-http'], { env });
  const digest = /Digest:\s*(sha256:[0-9a-f]{64})/.exec(`${pushed.stdout}\n${pushed.stderr}`)?.[1];
  if (!digest) throw new Error(`helm push ${tgz}: no digest in its output`);
  return { ...chart, ref: `${repo}/webapp`, digest, templateVersion: chart.version };
}

/** Builds the four charts from the base and the headless variant, and pushes them to `repo` (oci://host/path). */
export async function pushPeerCharts(helm: HelmEnv, base: ExampleChart, headless: ExampleChart, root: string, repo: string): Promise<Record<PeerChartKey, PeerChart>> {
  const user = base.defaultValues.user as Record<string, unknown>;
  const charts: Record<Exclude<PeerChartKey, 'isolated'>, ExampleChart> = {
    base: variant(base, root, '1.0.0', base.defaultValues),
    next: variant(base, root, '1.0.1', { ...base.defaultValues, user: { ...user, theme: 'dark' } }),
    stuck: variant(base, root, '1.0.0-stuck', base.defaultValues, unschedulable),
    idle: variant(headless, root, '1.0.0-idle', { ...headless.defaultValues, replicas: 0 }),
  };
  const out = {} as Record<PeerChartKey, PeerChart>;
  for (const key of Object.keys(charts) as Exclude<PeerChartKey, 'isolated'>[]) out[key] = await push(helm, charts[key], root, repo);
  // The base again under a template of its own, for the isolation batch: the upgrade's rollout selects the base template's deployments only.
  out.isolated = { ...out.base, templateVersion: `${out.base.version}-isolated` };
  return out;
}
