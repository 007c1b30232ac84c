import { createHash } from 'node:crypto';
import type { KubeObject } from '../../../platform/src';

/** A watch event as the filter reads it. */
export type ObjectEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/**
 * Per watched kind, what was last seen of each object: enough to tell a change a drift check
 * compares (spec or data, labels, annotations, the object appearing or going) from a status
 * update, which the controllers write all the time and a drift check never looks at.
 *
 * An object whose kind keeps a `metadata.generation` (Deployments, StatefulSets…) changed when
 * its generation, labels or annotations did; any other object (ConfigMaps, Services…) changed
 * with its resourceVersion. An object not seen before counts as changed. A write whose newest
 * managedFields entries are all status-subresource updates (a PVC bound) or helm's own (Caelus's
 * installs and upgrades, release Secrets included, whose echo would only cost a check) is no
 * change; a deletion always is.
 */
export class ChangeFilter {
  /** `namespace/name` → fingerprint */
  private readonly seen = new Map<string, string>();

  get size(): number {
    return this.seen.size;
  }

  /** Takes a fresh list as what is known; returns the namespaces it holds objects in. */
  replace(items: KubeObject[]): Set<string> {
    this.seen.clear();
    const namespaces = new Set<string>();
    for (const item of items) {
      const meta = item.metadata;
      if (!meta?.name || !meta.namespace) continue;
      this.seen.set(`${meta.namespace}/${meta.name}`, fingerprint(item));
      namespaces.add(meta.namespace);
    }
    return namespaces;
  }

  /** Namespaces of every object known now. */
  namespaces(): Set<string> {
    return new Set([...this.seen.keys()].map((k) => k.slice(0, k.indexOf('/'))));
  }

  /**
   * The namespace whose release the event may have drifted, or undefined when it changed nothing
   * a drift check compares (or is cluster-scoped: releases hold namespaced objects only).
   */
  changed(type: ObjectEventType, obj: KubeObject): string | undefined {
    const meta = obj.metadata;
    if (!meta?.name || !meta.namespace) return undefined;
    const key = `${meta.namespace}/${meta.name}`;
    if (type === 'DELETED') {
      this.seen.delete(key);
      return meta.namespace;
    }
    const next = fingerprint(obj);
    const before = this.seen.get(key);
    this.seen.set(key, next);
    return before === next || writtenBySelfOrStatus(obj) ? undefined : meta.namespace;
  }
}

/**
 * The field managers helm writes with: `helm` for the release's objects, `Helm` for its release
 * Secrets (helm 3.22's storage driver; seen on the local stack). Both are the apply's own echo.
 */
const HELM_MANAGERS: ReadonlySet<string> = new Set(['helm', 'Helm']);

interface ManagedFieldsEntry {
  manager?: string;
  time?: string;
  subresource?: string;
}

/** Whether the newest write to the object was a status update or helm's own. */
function writtenBySelfOrStatus(obj: KubeObject): boolean {
  const entries = (Array.isArray(obj.metadata.managedFields) ? obj.metadata.managedFields : []) as ManagedFieldsEntry[];
  const timed = entries.filter((e) => typeof e.time === 'string');
  if (!timed.length) return false;
  const newest = timed.reduce((latest, e) => (e.time! > latest ? e.time! : latest), '');
  // Times have one-second resolution: any other writer in that second counts as a change.
  return timed.filter((e) => e.time === newest).every((e) => e.subresource === 'status' || HELM_MANAGERS.has(e.manager ?? ''));
}

function fingerprint(obj: KubeObject): string {
  const meta = obj.metadata;
  if (typeof meta.generation !== 'number') return `rv:${meta.resourceVersion ?? ''}`;
  const sorted = (m?: Record<string, string>) => Object.entries(m ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  // Hashed: annotations may be large (kubectl's last-applied configuration), and only equality matters.
  const digest = createHash('sha1')
    .update(JSON.stringify([sorted(meta.labels), sorted(meta.annotations)]))
    .digest('base64');
  return `g:${meta.generation}:${digest}`;
}
