import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

import { ConfinementError, type ManifestReview } from '../kubernetes/confinement';
import { KubeClient } from '../kubernetes/kube.client';
import { silentLogger, type PlatformLogger } from '../logger';
import { childEnv } from '../process/child-env';
import {
  assertNamespaceName,
  actAsArgs,
  assertReleaseName,
  resolveChart,
  kubeconfigArgs,
  templateArgs,
  upgradeInstallArgs,
} from './helm.args';
import { HelmError, classifyHelmOutput, stripDebugPrefix, summarizeHelmError } from './helm.errors';
import { helmTempDirPrefix } from './helm-temp-dirs';
import { makeScrubber } from './scrubber';
import { SlotGrant, Slots } from './slots';
import { HelmReleaseStorage, type StoredRelease } from './helm-release.storage';
import { startPostRenderer, type PostRenderer } from './post-renderer';
import type {
  HelmCallOptions,
  HelmHistoryEntry,
  HelmRelease,
  HelmReleaseStatus,
  HelmRunnerOptions,
  RollbackOptions,
  TemplateRequest,
  UninstallOptions,
  UninstallResult,
  UnlockResult,
  UpgradeInstallRequest,
} from './helm.types';

/** Extra time we give helm beyond its own --timeout before we kill it (chart pull, hooks, storage writes). */
const WATCHDOG_GRACE_SECONDS = 120;
/** Timeout for quick read-only commands (status, history, get manifest). */
const QUICK_TIMEOUT_SECONDS = 60;
/** Stderr kept for classification; older output is dropped. */
const MAX_STDERR_CHARS = 256 * 1024;
/** Helm processes run at once unless HelmRunnerOptions.maxConcurrent says otherwise. */
export const DEFAULT_HELM_CONCURRENCY = 10;

interface RunResult {
  code: number | null;
  stdout: string;
  /** Scrubbed of values. */
  stderr: string;
}

interface RunOptions extends HelmCallOptions {
  operation: string;
  timeoutSeconds: number;
  /** Values whose strings must never appear in progress lines, logs or error messages. */
  values?: object;
  valuesFile?: string;
  /** Release and namespace: kept readable in output even when a value repeats them. */
  publicStrings?: string[];
  /** The caller already holds a helm slot for this step (see upgradeInstall). */
  slotHeld?: boolean;
}

/**
 * Runs the helm v3 binary for one release at a time. Every call is a spawned process with an
 * argument vector (never a shell); values reach helm only through a 0600 file in a fresh
 * temporary directory that is removed afterwards; failures become typed HelmErrors.
 */
export class HelmRunner {
  private readonly logger: PlatformLogger;
  private storageInstance?: HelmReleaseStorage;
  private readonly slots: Slots;
  private readonly slotListeners = new Set<(grant: SlotGrant) => void>();

  constructor(private readonly options: HelmRunnerOptions) {
    this.logger = options.logger ?? silentLogger;
    this.slots = new Slots(options.maxConcurrent ?? DEFAULT_HELM_CONCURRENCY, (grant) => {
      for (const listener of this.slotListeners) listener(grant);
    });
  }

  /** Calls `listener` each time a helm step gets its slot (metrics, fairness checks); returns the unsubscribe function. */
  onSlotGrant(listener: (grant: SlotGrant) => void): () => void {
    this.slotListeners.add(listener);
    return () => this.slotListeners.delete(listener);
  }

  /** `helm upgrade --install … --wait`: installs or upgrades the release and returns the new revision. */
  async upgradeInstall(req: UpgradeInstallRequest): Promise<HelmRelease> {
    assertReleaseName(req.release);
    assertNamespaceName(req.namespace);
    assertTimeout(req.timeoutSeconds);
    const chart = await resolveChart(req.chart, this.options);
    return this.withValuesFile(req.values, async (valuesFile) => {
      // The check runs between helm's render and its first write, on exactly what helm applies.
      const review = this.options.confinement;
      const post: PostRenderer | undefined = review
        ? await startPostRenderer(dirname(valuesFile), async (manifest) => {
            await review.review(manifest, req.namespace);
            return manifest;
          })
        : undefined;
      try {
        const args = upgradeInstallArgs({
          release: req.release,
          namespace: req.namespace,
          kubeconfig: this.options.kubeconfig,
          chart,
          valuesFile,
          timeoutSeconds: req.timeoutSeconds,
          description: req.description,
          actAs: this.options.actAs?.(req.namespace),
          // CRDs are cluster-scoped and helm installs a chart's crds/ before rendering, unchecked.
          extra: post ? [...post.args, '--skip-crds'] : undefined,
        });
        // The hook dry run and the upgrade are one step: they share one turn of the owner's helm slot.
        if (req.signal?.aborted) throw cancelled('upgrade');
        const releaseSlot = await this.slots.acquire(req.signal, () => cancelled('upgrade'), req.owner);
        let result: RunResult;
        let reviewsBefore: number;
        try {
          if (review && post) await this.reviewHooks(args, req, valuesFile, review, post);
          reviewsBefore = post?.reviews() ?? 0;
          this.logger.info('helm upgrade --install', {
            release: req.release,
            namespace: req.namespace,
            chart: chart.chart,
            version: req.chart.version,
          });
          result = await this.run(args, {
            operation: 'upgrade',
            timeoutSeconds: req.timeoutSeconds + WATCHDOG_GRACE_SECONDS,
            values: req.values,
            valuesFile,
            publicStrings: [req.release, req.namespace],
            signal: req.signal,
            onProgress: req.onProgress,
            slotHeld: true,
          });
        } finally {
          releaseSlot();
        }
        const refusal = post?.refusal();
        if (refusal) throw refusal instanceof ConfinementError ? refusal : new HelmError('transient', `confinement check failed: ${refusal.message}`, { operation: 'upgrade' });
        if (result.code !== 0) throw this.failure('upgrade', result);
        if (post && post.reviews() === reviewsBefore) {
          // helm applied without handing its manifest over: the check cannot be trusted to run.
          throw new HelmError('forbidden', 'helm did not run the confinement post-renderer', { operation: 'upgrade' });
        }
        return parseReleaseJson(result.stdout);
      } finally {
        await post?.close();
      }
    });
  }

  /**
   * The latest revision of a release, or undefined when there is none. Uses `helm get metadata`:
   * unlike `helm status -o json` it names the chart, and it prints neither values nor manifest.
   */
  async status(release: string, namespace: string): Promise<HelmRelease | undefined> {
    assertReleaseName(release);
    assertNamespaceName(namespace);
    const result = await this.run(['get', 'metadata', release, ...this.target(namespace), '--output', 'json'], {
      operation: 'status',
      timeoutSeconds: QUICK_TIMEOUT_SECONDS,
    });
    if (result.code !== 0) {
      if (isReleaseNotFound(result.stderr)) return undefined;
      throw this.failure('status', result);
    }
    const meta = JSON.parse(result.stdout) as {
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

  /** Revisions, oldest first (at most `max`); empty when the release does not exist. */
  async history(release: string, namespace: string, max = 20): Promise<HelmHistoryEntry[]> {
    assertReleaseName(release);
    assertNamespaceName(namespace);
    const result = await this.run(
      ['history', release, ...this.target(namespace), '--output', 'json', '--max', String(max)],
      { operation: 'history', timeoutSeconds: QUICK_TIMEOUT_SECONDS },
    );
    if (result.code !== 0) {
      if (isReleaseNotFound(result.stderr)) return [];
      throw this.failure('history', result);
    }
    const rows = JSON.parse(result.stdout) as {
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

  /** `helm get manifest` of the latest (or the given) revision; undefined when the release does not exist. */
  async getManifest(release: string, namespace: string, revision?: number): Promise<string | undefined> {
    assertReleaseName(release);
    assertNamespaceName(namespace);
    const result = await this.run(
      ['get', 'manifest', release, ...this.target(namespace), ...(revision ? ['--revision', String(revision)] : [])],
      { operation: 'get manifest', timeoutSeconds: QUICK_TIMEOUT_SECONDS },
    );
    if (result.code !== 0) {
      if (isReleaseNotFound(result.stderr)) return undefined;
      throw this.failure('get manifest', result);
    }
    return result.stdout;
  }

  /** Rolls back to `revision` (default: the one before the latest), waits, and returns the new revision. */
  async rollback(release: string, namespace: string, revision?: number, options: RollbackOptions = {}): Promise<HelmRelease> {
    assertReleaseName(release);
    assertNamespaceName(namespace);
    const timeoutSeconds = options.timeoutSeconds ?? 300;
    assertTimeout(timeoutSeconds);
    // helm re-applies a stored revision without rendering: check that revision instead.
    if (this.options.confinement) {
      const target = revision ?? ((await this.storage.latest(release, namespace))?.revision ?? 1) - 1;
      const stored = await this.storage.revision(release, namespace, target);
      if (!stored) throw new HelmError('invalid-values', `cannot roll back ${release}: revision ${target} is not stored`, { operation: 'rollback' });
      await this.reviewStored(stored, namespace, `release revision ${target} (rollback target)`);
    }
    const args = [
      'rollback',
      release,
      ...(revision ? [String(revision)] : []),
      ...this.target(namespace),
      '--wait',
      '--timeout',
      `${timeoutSeconds}s`,
      '--history-max',
      '10',
      '--debug',
    ];
    this.logger.info('helm rollback', { release, namespace, revision });
    const result = await this.run(args, {
      operation: 'rollback',
      timeoutSeconds: timeoutSeconds + WATCHDOG_GRACE_SECONDS,
      signal: options.signal,
      onProgress: options.onProgress,
      owner: options.owner,
    });
    if (result.code !== 0) throw this.failure('rollback', result);
    const after = await this.status(release, namespace);
    if (!after) throw new HelmError('transient', `release ${release} vanished during rollback`, { operation: 'rollback' });
    return after;
  }

  /** Uninstalls the release; a release that does not exist counts as uninstalled (idempotent). */
  async uninstall(release: string, namespace: string, options: UninstallOptions): Promise<UninstallResult> {
    assertReleaseName(release);
    assertNamespaceName(namespace);
    assertTimeout(options.timeoutSeconds);
    // helm deletes what the stored release lists and runs its delete hooks: check them first.
    if (this.options.confinement) {
      const stored = await this.storage.latest(release, namespace);
      if (stored) await this.reviewStored(stored, namespace, `stored release revision ${stored.revision}`);
    }
    const args = [
      'uninstall',
      release,
      ...this.target(namespace),
      ...(options.wait ? ['--wait'] : []),
      '--timeout',
      `${options.timeoutSeconds}s`,
      '--debug',
    ];
    this.logger.info('helm uninstall', { release, namespace });
    const result = await this.run(args, {
      operation: 'uninstall',
      timeoutSeconds: options.timeoutSeconds + WATCHDOG_GRACE_SECONDS,
      signal: options.signal,
      onProgress: options.onProgress,
      owner: options.owner,
    });
    if (result.code !== 0) {
      if (isReleaseNotFound(result.stderr)) return { uninstalled: false, kept: [] };
      throw this.failure('uninstall', result);
    }
    return { uninstalled: true, kept: parseKeptResources(result.stdout) };
  }

  /** `helm template`: renders the chart with the values (for previews); nothing touches the cluster. */
  async template(req: TemplateRequest): Promise<string> {
    assertReleaseName(req.release);
    assertNamespaceName(req.namespace);
    const chart = await resolveChart(req.chart, this.options);
    return this.withValuesFile(req.values, async (valuesFile) => {
      const result = await this.run(templateArgs({ release: req.release, namespace: req.namespace, chart, valuesFile }), {
        operation: 'template',
        timeoutSeconds: req.timeoutSeconds ?? QUICK_TIMEOUT_SECONDS,
        values: req.values,
        valuesFile,
        publicStrings: [req.release, req.namespace],
        signal: req.signal,
        onProgress: req.onProgress,
        owner: req.owner,
      });
      if (result.code !== 0) throw this.failure('template', result);
      return result.stdout;
    });
  }

  /**
   * Clears a release stuck in pending-install/upgrade/rollback (a helm process died holding the
   * lock) by marking that revision failed in Helm's storage, as Flux's helm-controller does.
   * Call it before the next helm action; it is a no-op for releases that are not pending.
   */
  async unlockPending(release: string, namespace: string): Promise<UnlockResult> {
    assertReleaseName(release);
    assertNamespaceName(namespace);
    const result = await this.storage.unlockPending(release, namespace);
    if (result.unlocked) {
      this.logger.warn('unlocked helm release stuck in a pending state', {
        release,
        namespace,
        revision: result.revision,
        previousStatus: result.previousStatus,
      });
    }
    return result;
  }

  /** The deployed manifest straight from Helm's storage (no helm process), for drift checks. */
  /** The newest stored revision and its status, read from Helm's storage in-process (no helm process). */
  async latestStored(release: string, namespace: string): Promise<HelmRelease | undefined> {
    return this.storage.latest(release, namespace);
  }

  async readDeployedManifest(release: string, namespace: string): Promise<string | undefined> {
    assertReleaseName(release);
    assertNamespaceName(namespace);
    return this.storage.readDeployedManifest(release, namespace);
  }

  // --- internals ------------------------------------------------------------------------

  private get storage(): HelmReleaseStorage {
    this.storageInstance ??= new HelmReleaseStorage(this.options.storageKube ?? this.options.kube ?? new KubeClient({ kubeconfig: this.options.kubeconfig }));
    return this.storageInstance;
  }

  /**
   * helm (3.22) hands only the non-hook manifest to its post-renderer, so hooks are checked on a
   * server-side dry run of the same command first (same chart, values and identity; its
   * manifest passes the post-renderer too). Only a chart that renders differently from one run
   * to the next could slip a hook past this; the tenant's RBAC still stops it at the API server.
   */
  private async reviewHooks(args: string[], req: UpgradeInstallRequest, valuesFile: string, review: ManifestReview, post: PostRenderer): Promise<void> {
    const result = await this.run([...args.filter((a) => a !== '--wait'), '--dry-run=server'], {
      operation: 'upgrade (dry run)',
      timeoutSeconds: QUICK_TIMEOUT_SECONDS + WATCHDOG_GRACE_SECONDS,
      values: req.values,
      valuesFile,
      publicStrings: [req.release, req.namespace],
      signal: req.signal,
      // Inside the upgrade's turn of the slot (upgradeInstall holds it).
      slotHeld: true,
    });
    const refusal = post.refusal();
    if (refusal) throw refusal instanceof ConfinementError ? refusal : new HelmError('transient', `confinement check failed: ${refusal.message}`, { operation: 'upgrade' });
    if (result.code !== 0) throw this.failure('upgrade', result);
    for (const hook of parseHookManifests(result.stdout)) await review.review(hook, req.namespace, 'rendered hook');
  }

  /** A stored revision's manifest and hooks, through the confinement check (ConfinementError when refused). */
  private async reviewStored(stored: StoredRelease, namespace: string, subject: string): Promise<void> {
    const review = this.options.confinement;
    if (!review) return;
    await review.review(stored.manifest, namespace, subject);
    for (const hook of stored.hookManifests) await review.review(hook, namespace, `${subject}, hook`);
  }

  private target(namespace: string): string[] {
    return ['--namespace', namespace, ...kubeconfigArgs(this.options.kubeconfig), ...actAsArgs(this.options.actAs?.(namespace))];
  }

  /** Values go to helm through a file only we can read, in a directory removed whatever happens. */
  private async withValuesFile<T>(values: object, fn: (path: string) => Promise<T>): Promise<T> {
    const dir = await mkdtemp(helmTempDirPrefix());
    try {
      const path = join(dir, 'values.json');
      // JSON is YAML, and it avoids YAML's surprises with strings like "yes" or "0755".
      await writeFile(path, JSON.stringify(values), { mode: 0o600, flag: 'wx' });
      return await fn(path);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  private failure(operation: string, result: RunResult): HelmError {
    return new HelmError(classifyHelmOutput(result.stderr), summarizeHelmError(result.stderr), {
      operation,
      exitCode: result.code,
    });
  }

  /** Runs helm once a slot is free (see HelmRunnerOptions.maxConcurrent). */
  private async run(args: string[], opts: RunOptions): Promise<RunResult> {
    if (opts.signal?.aborted) throw cancelled(opts.operation);
    if (opts.slotHeld) return this.spawnHelm(args, opts);
    const release = await this.slots.acquire(opts.signal, () => cancelled(opts.operation), opts.owner);
    try {
      return await this.spawnHelm(args, opts);
    } finally {
      release();
    }
  }

  private spawnHelm(args: string[], opts: RunOptions): Promise<RunResult> {
    const { signal, onProgress } = opts;
    if (signal?.aborted) return Promise.reject(cancelled(opts.operation));
    const scrub = makeScrubber(opts.values, opts.valuesFile, opts.publicStrings);
    const killGraceMs = this.options.killGraceMs ?? 5_000;

    return new Promise<RunResult>((resolve, reject) => {
      const child = spawn(this.options.helmBin, args, {
        shell: false,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: childEnv({ extra: this.options.env, kubeconfig: this.options.kubeconfig }),
      });

      const stdout: Buffer[] = [];
      let stderr = '';
      let partial = '';
      let stopReason: HelmError | undefined;
      let killTimer: NodeJS.Timeout | undefined;

      const emitLine = (raw: string) => {
        const line = scrub(stripDebugPrefix(raw)).trimEnd();
        if (!line || isStackFrame(line)) return;
        this.logger.debug('helm', { operation: opts.operation, line });
        onProgress?.(line);
      };

      child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (chunk: string) => {
        stderr = (stderr + chunk).slice(-MAX_STDERR_CHARS);
        const lines = (partial + chunk).split(/\r?\n/);
        partial = lines.pop() ?? '';
        lines.forEach(emitLine);
      });

      const stop = (reason: HelmError) => {
        if (stopReason) return;
        stopReason = reason;
        child.kill('SIGTERM');
        killTimer = setTimeout(() => child.kill('SIGKILL'), killGraceMs);
      };
      const onAbort = () => stop(cancelled(opts.operation));
      signal?.addEventListener('abort', onAbort, { once: true });
      const watchdog = setTimeout(
        () => stop(new HelmError('timeout', `helm ${opts.operation} did not finish within ${opts.timeoutSeconds}s`, { operation: opts.operation })),
        opts.timeoutSeconds * 1000,
      );

      const cleanup = () => {
        clearTimeout(watchdog);
        if (killTimer) clearTimeout(killTimer);
        signal?.removeEventListener('abort', onAbort);
      };

      child.on('error', (err: NodeJS.ErrnoException) => {
        cleanup();
        reject(new HelmError('transient', `cannot run helm (${err.code ?? err.message})`, { operation: opts.operation }));
      });
      child.on('close', (code) => {
        cleanup();
        if (partial) emitLine(partial);
        if (stopReason) return reject(stopReason);
        resolve({ code, stdout: Buffer.concat(stdout).toString('utf8'), stderr: scrub(stderr) });
      });
    });
  }
}

function assertTimeout(seconds: number): void {
  if (!Number.isInteger(seconds) || seconds <= 0) throw new RangeError(`timeoutSeconds must be a positive integer, got ${seconds}`);
}

function cancelled(operation: string): HelmError {
  return new HelmError('transient', `helm ${operation} was cancelled`, { operation });
}

function isReleaseNotFound(stderr: string): boolean {
  return /release: not found|Release not loaded/i.test(stderr);
}

/** Go stack frames printed by --debug on failure carry no progress information. */
function isStackFrame(line: string): boolean {
  return /^\t/.test(line) || /^(helm\.sh|github\.com|k8s\.io|sigs\.k8s\.io|runtime|main)[\w./()*-]*$/.test(line);
}

/** Reads the release `helm upgrade -o json` prints (no values in it, but the chart's files: keep only metadata). */
function parseReleaseJson(stdout: string): HelmRelease {
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

/** The hooks' manifests of the release `helm upgrade -o json` prints (a dry run's, for the confinement check). */
export function parseHookManifests(stdout: string): string[] {
  const rel = JSON.parse(stdout) as { hooks?: { manifest?: unknown }[] | null };
  return (rel.hooks ?? []).map((h) => h?.manifest).filter((m): m is string => typeof m === 'string');
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
