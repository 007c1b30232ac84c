/**
 * What went wrong with a helm call, in the terms the workflow acts on:
 * bad values, missing chart and forbidden never heal by retrying; the rest may.
 */
export type HelmErrorKind = 'invalid-values' | 'chart-not-found' | 'forbidden' | 'pending' | 'timeout' | 'transient';

const RETRYABLE: Record<HelmErrorKind, boolean> = {
  'invalid-values': false,
  'chart-not-found': false,
  forbidden: false,
  // Another operation holds the release lock: it ends, or unlockPending clears it.
  pending: true,
  timeout: true,
  transient: true,
};

export class HelmError extends Error {
  override readonly name = 'HelmError';
  readonly retryable: boolean;

  constructor(
    readonly kind: HelmErrorKind,
    /** Short, human-readable reason; never contains values. */
    message: string,
    readonly details: { operation?: string; exitCode?: number | null } = {},
  ) {
    super(message);
    this.retryable = RETRYABLE[kind];
  }
}

/** Ordered: the first matching rule wins, so specific causes come before generic ones. */
const RULES: readonly { kind: HelmErrorKind; pattern: RegExp }[] = [
  { kind: 'pending', pattern: /another operation \(install\/upgrade\/rollback\) is in progress/i },
  // Said with "is forbidden", but it passes once the old namespace is gone.
  { kind: 'transient', pattern: /because it is being terminated/i },
  // The API server (or registry) could not be reached. Helm wraps these in any message, such as
  // "unable to build kubernetes objects from release manifest: error validating data: failed to
  // download openapi: … connection refused", which must not read as bad values.
  {
    kind: 'transient',
    pattern:
      /dial tcp \S+: connect: (connection refused|connection timed out|no route to host|network is unreachable)|connection reset by peer|\bi\/o timeout\b|TLS handshake timeout|http2: (client connection lost|server sent GOAWAY)|unexpected EOF|use of closed network connection|failed to download openapi|Kubernetes cluster unreachable|the server is currently unable to handle the request|etcdserver: (request timed out|leader changed)/i,
  },
  {
    kind: 'invalid-values',
    pattern:
      /values don't meet the specifications of the schema|execution error at \(|\bis invalid: |field is immutable|error validating data|unable to build kubernetes objects from (new )?release manifest/i,
  },
  { kind: 'forbidden', pattern: /\bis forbidden\b|\bforbidden:|\bunauthorized\b|\b(401|403) (unauthorized|forbidden)\b/i },
  { kind: 'timeout', pattern: /context deadline exceeded|timed out waiting|\btimed out\b/i },
  {
    kind: 'chart-not-found',
    pattern:
      /manifest unknown|no such file or directory|Chart\.yaml file is missing|chart "[^"]*"( version "[^"]*")? not found|oci:\/\/\S*: not found|path "[^"]*" not found|failed to (download|fetch) |repository name not known|not a valid chart repository|invalid_reference|name unknown/i,
  },
];

/** Classifies helm's stderr (already scrubbed of values) into an error kind. Unknown means transient. */
export function classifyHelmOutput(stderr: string): HelmErrorKind {
  return RULES.find((rule) => rule.pattern.test(stderr))?.kind ?? 'transient';
}

/**
 * The reason helm gave, cleaned up: the last `Error:` line without its "UPGRADE FAILED:"
 * prefixes, plus the schema violations listed under it, on one line.
 */
export function summarizeHelmError(stderr: string): string {
  const lines = stderr.split(/\r?\n/);
  let start = -1;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (/^Error: /.test(lines[i])) {
      start = i;
      break;
    }
  }
  if (start === -1) {
    const last = lines
      .map((l) => stripDebugPrefix(l).trim())
      .filter(Boolean)
      .pop();
    return truncate(last ?? 'helm failed without an error message');
  }
  const head = lines[start].replace(/^Error: /, '').replace(/^(INSTALLATION|UPGRADE|ROLLBACK|UNINSTALL) FAILED: /i, '');
  // Detail lines (chart name, "- field: problem") follow; with --debug helm then repeats the
  // error as a `helm.go:NN: [debug]` line followed by a stack trace, which ends the detail.
  const detail: string[] = [];
  for (const line of lines.slice(start + 1)) {
    const trimmed = line.trim();
    if (!trimmed) continue;
    // "N errors occurred:" (a multierror) lists its errors as tab-indented "* …" lines.
    if (/^\t\* /.test(line)) {
      detail.push(trimmed);
      continue;
    }
    if (/^\t|^helm\.sh\/|^main\.|^runtime\.|^github\.com\/|^\S+\.go:\d+|^(time=|level=)/.test(line)) break;
    detail.push(trimmed);
  }
  return truncate([head.trim(), ...detail].join(' ').replace(/\s+/g, ' '));
}

/**
 * Helm 3 --debug lines look like `upgrade.go:150: [debug] preparing upgrade`, and since 3.2x
 * with a timestamp: `wait.go:50: 2026-11-22 02:03:33.91 +0000 UTC m=+0.29 [debug] beginning wait…`.
 */
export function stripDebugPrefix(line: string): string {
  return line.replace(/^\S+\.go:\d+: (?:[^[]*? )?\[debug\] /, '');
}

function truncate(text: string, max = 500): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
