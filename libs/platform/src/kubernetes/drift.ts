import type { KubeClient } from './kube.client';
import { parseManifest } from './manifest';
import { refOf, type KubeObject, type ObjectRef } from './kube.types';

export type DriftReason = 'missing' | 'modified';

export interface DriftedObject {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
  reason: DriftReason;
  /** JSON paths that differ, e.g. `.spec.replicas`, `.metadata.labels["tier"]`; empty for missing objects. */
  fields: string[];
}

export interface DriftReport {
  drifted: boolean;
  objects: DriftedObject[];
}

export interface DriftOptions {
  /** Release namespace: given to namespaced objects whose manifest leaves it out, as helm does. */
  namespace: string;
  /**
   * Release name. When set, objects get the ownership metadata helm adds on install
   * (meta.helm.sh annotations, managed-by label), so re-created objects stay helm's.
   */
  releaseName?: string;
  /** Objects checked at once (default 4). */
  concurrency?: number;
  /** Kept by the caller between checks of the same manifest; see DriftMemo. */
  memo?: DriftMemo;
}

/**
 * What detectDrift remembers between checks of one manifest (keep one per manifest text): the
 * objects parsed from it, and per object the resourceVersion of the live object last found
 * without drift. A live object whose resourceVersion has not moved since is not dry-run again:
 * the server would merge the same manifest into the same object. So a steady-state check costs
 * one metadata-only GET per object instead of a GET and a dry-run apply, and no YAML parsing.
 */
export interface DriftMemo {
  objects?: KubeObject[];
  clean: Map<string, string>;
}

export type DriftKube = Pick<KubeClient, 'get' | 'getMetadata' | 'apply' | 'isNamespaced'>;

/** At most this many paths per object, so a wholesale rewrite does not bloat the event. */
const MAX_FIELDS_PER_OBJECT = 50;

/** Paths the server owns or that any write changes; never drift. */
const IGNORED_PATHS: readonly string[][] = [
  ['status'],
  ['metadata', 'resourceVersion'],
  ['metadata', 'uid'],
  ['metadata', 'generation'],
  ['metadata', 'managedFields'],
  ['metadata', 'creationTimestamp'],
  ['metadata', 'selfLink'],
];

/**
 * Compares what the release manifest declares with the live cluster, in-process.
 *
 * Each object is server-side applied as a DRY RUN (dryRun=All, force) and the would-be result is
 * compared with the live object: the API server itself merges, defaults and normalises ("1000m" vs
 * "1", port ints vs strings), so only fields the manifest sets can differ (Flux's approach).
 */
export async function detectDrift(kube: DriftKube, manifest: string, options: DriftOptions): Promise<DriftReport> {
  const memo = options.memo;
  const desired = memo?.objects ?? (await desiredObjects(kube, manifest, options));
  if (memo) memo.objects = desired;
  const results = await mapLimit(desired, options.concurrency ?? 4, (obj) => checkObject(kube, obj, memo));
  const objects = results.filter((r): r is DriftedObject => r !== undefined);
  return { drifted: objects.length > 0, objects };
}

export interface DriftCorrection {
  /** Objects re-applied (modified) or re-created (missing). */
  corrected: DriftedObject[];
}

/**
 * Re-applies the drifted objects of a report from the manifest: server-side apply with force and
 * field manager `caelus`, which re-creates missing objects too. Objects the report does not
 * mention are left alone.
 */
export async function correctDrift(kube: DriftKube, manifest: string, drift: DriftReport, options: DriftOptions): Promise<DriftCorrection> {
  if (!drift.drifted) return { corrected: [] };
  const desired = await desiredObjects(kube, manifest, options);
  const byKey = new Map(desired.map((obj) => [refKey(refOf(obj)), obj]));
  const corrected: DriftedObject[] = [];
  for (const item of drift.objects) {
    const obj = byKey.get(refKey(item));
    // An object no longer in the manifest is helm's to remove on its next upgrade, not ours.
    if (!obj) continue;
    await kube.apply(obj, { force: true });
    corrected.push(item);
  }
  return { corrected };
}

/** Manifest objects as they are applied: namespace filled in, helm ownership metadata added. */
async function desiredObjects(kube: DriftKube, manifest: string, options: DriftOptions): Promise<KubeObject[]> {
  const objects = parseManifest(manifest);
  const namespaced = new Map<string, boolean>();
  const result: KubeObject[] = [];
  for (const obj of objects) {
    const gvk = `${obj.apiVersion}/${obj.kind}`;
    if (!namespaced.has(gvk)) namespaced.set(gvk, await kube.isNamespaced(obj.apiVersion, obj.kind));
    const metadata = { ...obj.metadata };
    if (namespaced.get(gvk)) metadata.namespace ??= options.namespace;
    else delete metadata.namespace;
    if (options.releaseName) {
      metadata.annotations = {
        ...metadata.annotations,
        'meta.helm.sh/release-name': options.releaseName,
        'meta.helm.sh/release-namespace': options.namespace,
      };
      metadata.labels = { ...metadata.labels, 'app.kubernetes.io/managed-by': 'Helm' };
    }
    result.push({ ...obj, metadata });
  }
  return result;
}

async function checkObject(kube: DriftKube, desired: KubeObject, memo?: DriftMemo): Promise<DriftedObject | undefined> {
  const ref = refOf(desired);
  const key = refKey(ref);
  const missing = (): DriftedObject => {
    memo?.clean.delete(key);
    return { ...ref, reason: 'missing', fields: [] };
  };
  // Found clean before: its metadata alone tells whether it changed since.
  const cleanVersion = memo?.clean.get(key);
  if (cleanVersion !== undefined) {
    const meta = await kube.getMetadata(ref);
    if (!meta) return missing();
    if (meta.metadata.resourceVersion === cleanVersion) return undefined;
  }
  const live = await kube.get(ref);
  if (!live) return missing();
  const version = live.metadata.resourceVersion;
  if (memo && version !== undefined && memo.clean.get(key) === version) return undefined;
  const wouldBe = await kube.apply(desired, { dryRun: true, force: true });
  const fields = diffObjects(wouldBe, live);
  if (fields.length === 0) {
    if (memo && version !== undefined) memo.clean.set(key, version);
    return undefined;
  }
  memo?.clean.delete(key);
  return { ...ref, reason: 'modified', fields };
}

/**
 * JSON paths where `desired` and `live` differ, skipping server-owned metadata and status.
 * Pure: both sides are expected to come from the same API server (dry-run result vs live).
 */
export function diffObjects(desired: unknown, live: unknown): string[] {
  const out: string[] = [];
  walk(desired, live, [], out);
  return out.length > MAX_FIELDS_PER_OBJECT ? [...out.slice(0, MAX_FIELDS_PER_OBJECT), '…'] : out;
}

function walk(a: unknown, b: unknown, path: (string | number)[], out: string[]): void {
  if (isIgnored(path)) return;
  if (isPlainObject(a) && isPlainObject(b)) {
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) walk(a[key], b[key], [...path, key], out);
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    // List items keep their positions between a dry run and the live object, so index paths line up.
    for (let i = 0; i < Math.max(a.length, b.length); i++) walk(a[i], b[i], [...path, i], out);
    return;
  }
  if (!sameScalar(a, b)) out.push(formatPath(path));
}

function sameScalar(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  // An empty map or list and an absent field mean the same thing to the API server.
  return isEmpty(a) && isEmpty(b);
}

function isEmpty(v: unknown): boolean {
  return v === undefined || v === null || (Array.isArray(v) && v.length === 0) || (isPlainObject(v) && Object.keys(v).length === 0);
}

function isIgnored(path: (string | number)[]): boolean {
  return IGNORED_PATHS.some((ignored) => ignored.length === path.length && ignored.every((seg, i) => seg === path[i]));
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `.spec.template.spec.containers[0].image`, `.metadata.labels["app.kubernetes.io/name"]`. */
export function formatPath(path: (string | number)[]): string {
  if (path.length === 0) return '.';
  return path.map((seg) => (typeof seg === 'number' ? `[${seg}]` : /^[A-Za-z_][A-Za-z0-9_]*$/.test(seg) ? `.${seg}` : `[${JSON.stringify(seg)}]`)).join('');
}

function refKey(ref: ObjectRef): string {
  return `${ref.apiVersion}|${ref.kind}|${ref.namespace ?? ''}|${ref.name}`;
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
