import { parseAllDocuments } from 'yaml';

import type { KubeObject } from './kube.types';

/**
 * Parses a rendered Helm manifest (multi-document YAML, as in the release record or
 * `helm get manifest`) into objects. YAML 1.1 without timestamps mirrors how helm's Go YAML
 * reads the same text (`yes` is a boolean, dates stay strings), so we see what helm applied.
 */
export function parseManifest(manifest: string): KubeObject[] {
  const docs = parseAllDocuments(manifest, {
    version: '1.1',
    customTags: (tags) => tags.filter((tag) => typeof tag === 'string' || tag.tag !== 'tag:yaml.org,2002:timestamp'),
  });
  const objects: KubeObject[] = [];
  for (const [index, doc] of docs.entries()) {
    if (doc.errors.length > 0) {
      throw new Error(`manifest document ${index + 1} is not valid YAML: ${doc.errors[0].message.split('\n')[0]}`);
    }
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue; // comment-only or empty documents
    for (const obj of expandLists(value)) {
      objects.push(assertObject(obj, index));
    }
  }
  return objects;
}

function expandLists(value: unknown): unknown[] {
  const v = value as { kind?: unknown; items?: unknown };
  if (typeof v === 'object' && typeof v.kind === 'string' && v.kind.endsWith('List') && Array.isArray(v.items)) {
    return v.items;
  }
  return [value];
}

function assertObject(value: unknown, index: number): KubeObject {
  const obj = value as Partial<KubeObject>;
  if (typeof obj !== 'object' || typeof obj.apiVersion !== 'string' || typeof obj.kind !== 'string' || typeof obj.metadata?.name !== 'string') {
    throw new Error(`manifest document ${index + 1} is not a Kubernetes object with apiVersion, kind and metadata.name`);
  }
  return obj as KubeObject;
}
