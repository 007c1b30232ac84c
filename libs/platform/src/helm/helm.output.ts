import type { HelmHistoryEntry, HelmRelease, HelmReleaseStatus } from './helm.types';

/** Parsers of what helm prints: its JSON outputs and the few plain-text lines Caelus reads. */

export function isReleaseNotFound(stderr: string): boolean {
  return /release: not found|Release not loaded/i.test(stderr);
}

/** Go stack frames printed by --debug on failure carry no progress information. */
export function isStackFrame(line: string): boolean {
  return /^\t/.test(line) || /^(helm\.sh|github\.com|k8s\.io|sigs\.k8s\.io|runtime|main)[\w./()*-]*$/.test(line);
}

/** Reads the release `helm upgrade -o json` prints (no values in it, but the chart's files: keep only metadata). */
export function parseReleaseJson(stdout: string): HelmRelease {
  const rel = JSON.parse(stdout) as {
    name: string;
    namespace: string;
    version: number;
    info: { status: HelmReleaseStatus; description?: string; last_deployed?: string };
    chart?: { metadata?: { name?: string; version?: string; appVersion?: string } };
  };
  return {
    name: rel.name,
    namespace: rel.namespace,
    revision: rel.version,
    status: rel.info.status,
    description: rel.info.description,
    chartName: rel.chart?.metadata?.name,
    chartVersion: rel.chart?.metadata?.version,
    appVersion: rel.chart?.metadata?.appVersion,
    lastDeployed: rel.info.last_deployed,
  };
}

/** Reads `helm get metadata -o json`. */
export function parseMetadataJson(stdout: string): HelmRelease {
  const meta = JSON.parse(stdout) as {
    name: string;
    namespace: string;
    revision: number;
    status: HelmReleaseStatus;
    chart?: string;
    version?: string;
    appVersion?: string;
    deployedAt?: string;
  };
  return {
    name: meta.name,
    namespace: meta.namespace,
    revision: meta.revision,
    status: meta.status,
    chartName: meta.chart,
    chartVersion: meta.version,
    appVersion: meta.appVersion || undefined,
    lastDeployed: meta.deployedAt,
  };
}

/** Reads `helm history -o json`. */
export function parseHistoryJson(stdout: string): HelmHistoryEntry[] {
  const rows = JSON.parse(stdout) as {
    revision: number;
    status: HelmReleaseStatus;
    chart: string;
    app_version?: string;
    description?: string;
    updated?: string;
  }[];
  return rows.map((r) => ({
    revision: r.revision,
    status: r.status,
    chart: r.chart,
    appVersion: r.app_version || undefined,
    description: r.description || undefined,
    updated: r.updated,
  }));
}

/** `helm uninstall` lists resources kept by `helm.sh/resource-policy: keep` after a header line. */
export function parseKeptResources(stdout: string): string[] {
  const lines = stdout.split(/\r?\n/);
  const start = lines.findIndex((l) => /kept due to the resource policy/i.test(l));
  if (start === -1) return [];
  return lines
    .slice(start + 1)
    .map((l) => l.trim())
    .filter((l) => /^\[[^\]]+\] \S+/.test(l));
}
