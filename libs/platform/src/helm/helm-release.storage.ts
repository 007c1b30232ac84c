import { gunzipSync, gzipSync, constants as zlib } from 'node:zlib';

import type { KubeClient } from '../kubernetes/kube.client';
import type { KubeObject } from '../kubernetes/kube.types';
import { PENDING_STATUSES, type HelmRelease, type HelmReleaseStatus, type UnlockResult } from './helm.types';
import { LRUCache } from 'lru-cache';

/**
 * Helm 3 keeps every revision of a release in a Secret `sh.helm.release.v1.<name>.v<rev>`
 * (type helm.sh/release.v1, labels name/owner/status/version). Its `release` key holds
 * base64(gzip(JSON release)), and the API adds its own base64 on top. Reading it directly
 * gives drift checks the deployed manifest without starting a helm process.
 */
export const RELEASE_SECRET_TYPE = 'helm.sh/release.v1';

export function releaseSecretName(release: string, revision: number): string {
  return `sh.helm.release.v1.${release}.v${revision}`;
}

/** The decoded release JSON. Only the fields we read are typed; `config` holds user values. */
export interface ReleasePayload {
  name: string;
  namespace: string;
  version: number;
  info: { status: HelmReleaseStatus; description?: string; last_deployed?: string; [k: string]: unknown };
  chart?: { metadata?: { name?: string; version?: string; appVersion?: string } };
  manifest?: string;
  hooks?: { name?: string; kind?: string; path?: string; manifest?: string; events?: string[] }[];
  [field: string]: unknown;
}

/** A stored revision as Caelus needs it: metadata, manifest and hook manifests, never values. */
export interface StoredRelease extends HelmRelease {
  manifest: string;
  /** The hooks' manifests (pre/post install, upgrade, rollback, delete, test), as helm applies them. */
  hookManifests: string[];
  secretName: string;
}

const GZIP_MAGIC = Buffer.from([0x1f, 0x8b, 0x08]);

/**
 * Upper bound of a decoded release. A Secret holds at most 1 MiB, but gzip shrinks repetitive
 * text a thousandfold: a crafted Secret could otherwise inflate to gigabytes in the worker.
 */
export const MAX_DECODED_RELEASE_BYTES = 64 * 1024 * 1024;

/** Helm's release storage holds something Caelus will not trust: the rule it breaks is named. */
export class ReleaseStorageError extends Error {
  override readonly name = 'ReleaseStorageError';
  readonly retryable = false;
}

/** Decodes `Secret.data.release` as the API returns it (base64 of Helm's base64 of gzip of JSON). */
export function decodeReleaseData(secretData: string, maxBytes = MAX_DECODED_RELEASE_BYTES): ReleasePayload {
  const helmEncoded = Buffer.from(secretData, 'base64').toString('latin1');
  let bytes = Buffer.from(helmEncoded, 'base64');
  // Like helm: payloads written before compression was introduced are plain JSON.
  if (bytes.subarray(0, 3).equals(GZIP_MAGIC)) {
    try {
      // zlib stops inflating once the output passes the limit: the bomb never sits in memory.
      bytes = gunzipSync(bytes, { maxOutputLength: maxBytes });
    } catch (err) {
      if (err instanceof RangeError || (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        throw new ReleaseStorageError(`release data inflates to more than ${maxBytes} bytes (rule: a stored release is at most ${maxBytes} bytes decompressed)`);
      }
      throw new ReleaseStorageError(`release data is not valid gzip: ${(err as Error).message}`);
    }
  } else if (bytes.length > maxBytes) {
    throw new ReleaseStorageError(`release data is larger than ${maxBytes} bytes (rule: a stored release is at most ${maxBytes} bytes decompressed)`);
  }
  try {
    return parseLossless(bytes.toString('utf8')) as ReleasePayload;
  } catch {
    throw new ReleaseStorageError('release data is not valid JSON');
  }
}

/**
 * Checks that a release Secret is what helm would have written for this release and namespace
 * before anything it says is trusted: Secret name, owner and name labels, namespace, and the
 * revision in the label, the name and the decoded body all agree.
 */
export function assertTrustedRelease(secret: KubeObject, payload: ReleasePayload, release: string, namespace: string): void {
  const name = secret.metadata.name;
  const labels = secret.metadata.labels ?? {};
  const fail = (rule: string) => {
    throw new ReleaseStorageError(`helm release Secret ${namespace}/${name.slice(0, 120)} is not trusted: ${rule}`);
  };
  if (secret.type !== undefined && secret.type !== RELEASE_SECRET_TYPE) fail(`its type is not ${RELEASE_SECRET_TYPE}`);
  if (labels.owner !== 'helm') fail('its owner label is not "helm"');
  if (labels.name !== release) fail(`its name label is not "${release}"`);
  if (secret.metadata.namespace !== undefined && secret.metadata.namespace !== namespace) fail(`it is not in namespace "${namespace}"`);
  if (payload.name !== release) fail(`the release it holds is not named "${release}"`);
  if (payload.namespace !== namespace) fail(`the release it holds is not in namespace "${namespace}"`);
  const revision = payload.version;
  if (!Number.isInteger(revision) || revision < 1) fail('the revision it holds is not a positive integer');
  if (labels.version !== String(revision)) fail(`its version label (${String(labels.version).slice(0, 12)}) is not the revision it holds (${revision})`);
  if (name !== releaseSecretName(release, revision)) fail(`its name is not ${releaseSecretName(release, revision)}`);
}

/** The inverse of decodeReleaseData, in the form helm writes (best gzip compression). */
export function encodeReleaseData(payload: ReleasePayload): string {
  const gz = gzipSync(Buffer.from(JSON.stringify(payload), 'utf8'), { level: zlib.Z_BEST_COMPRESSION });
  return Buffer.from(gz.toString('base64'), 'latin1').toString('base64');
}

/**
 * JSON.parse that keeps numbers JavaScript cannot hold exactly (e.g. a 20-digit integer in the
 * user's values) as raw JSON, so re-encoding a release we only meant to relabel changes nothing else.
 */
function parseLossless(text: string): unknown {
  const rawJSON = (JSON as unknown as { rawJSON?: (source: string) => unknown }).rawJSON;
  return JSON.parse(text, (_key: string, value: unknown, context?: { source?: string }) => {
    if (typeof value === 'number' && rawJSON && context?.source !== undefined && String(value) !== context.source) {
      return rawJSON(context.source);
    }
    return value;
  });
}

export type ReleaseStorageKube = Pick<KubeClient, 'listSecrets' | 'listSecretMetadata' | 'readSecret' | 'patchSecret'>;

/** The client for a namespace's release Secrets: one client for all, or one per namespace (impersonation). */
export type ReleaseStorageKubeFor = ReleaseStorageKube | ((namespace: string) => ReleaseStorageKube);

/** Reads and repairs Helm's release storage through the Kubernetes API. */
export class HelmReleaseStorage {
  /**
   * Deployed manifests by release Secret and resourceVersion: a drift check lists the deployed
   * revision's Secret metadata, and reads and decodes (gunzip + JSON) its payload only when the
   * Secret changed.
   */
  private readonly manifests: LRUCache<string, { resourceVersion: string; manifest: string }>;

  private readonly kubeFor: (namespace: string) => ReleaseStorageKube;

  constructor(kube: ReleaseStorageKubeFor, maxCachedManifests = 5000) {
    this.kubeFor = typeof kube === 'function' ? kube : () => kube;
    this.manifests = new LRUCache({ max: maxCachedManifests });
  }

  /** The newest revision, whatever its status; undefined when the release does not exist. */
  async latest(release: string, namespace: string): Promise<StoredRelease | undefined> {
    const secrets = await this.revisionSecrets(release, namespace);
    const newest = secrets[secrets.length - 1];
    return newest ? toStoredRelease(newest, decodeSecret(newest, release, namespace)) : undefined;
  }

  /** One revision; undefined when it is not stored (any more). */
  async revision(release: string, namespace: string, revision: number): Promise<StoredRelease | undefined> {
    const secrets = await this.revisionSecrets(release, namespace);
    const found = secrets.find((s) => revisionOf(s) === revision);
    return found ? toStoredRelease(found, decodeSecret(found, release, namespace)) : undefined;
  }

  /** The revision currently deployed (newest with status deployed), as helm itself picks it. */
  async deployed(release: string, namespace: string): Promise<StoredRelease | undefined> {
    const secrets = await this.revisionSecrets(release, namespace);
    const deployed = secrets.filter((s) => s.metadata.labels?.status === 'deployed').pop();
    return deployed ? toStoredRelease(deployed, decodeSecret(deployed, release, namespace)) : undefined;
  }

  /** The manifest of the deployed revision, for drift checks; undefined when nothing is deployed. */
  async readDeployedManifest(release: string, namespace: string): Promise<string | undefined> {
    // Metadata first: the Secret's payload is read and decoded only when it changed.
    const listed = await this.kubeFor(namespace).listSecretMetadata(namespace, `owner=helm,name=${release},status=deployed`);
    return this.deployedManifestOf(listed, release, namespace);
  }

  /**
   * The deployed manifest, given the metadata of the release's Secrets as listed (or as a
   * watch-fed cache holds them): the newest one labelled deployed is read only when its
   * resourceVersion is not the one last decoded.
   */
  async deployedManifestOf(listed: KubeObject[], release: string, namespace: string): Promise<string | undefined> {
    const newest = listed
      .filter((s) => s.metadata.labels?.status === 'deployed')
      .sort((a, b) => revisionOf(a) - revisionOf(b))
      .pop();
    if (!newest) return undefined;
    const key = `${namespace}/${newest.metadata.name}`;
    const resourceVersion = newest.metadata.resourceVersion ?? '';
    const cached = this.manifests.get(key);
    let manifest = cached && resourceVersion && cached.resourceVersion === resourceVersion ? cached.manifest : undefined;
    if (manifest === undefined) {
      const secret = await this.kubeFor(namespace).readSecret(namespace, newest.metadata.name);
      // Gone or relabelled since the list (helm ran in between): read the release the slow way.
      if (!secret || secret.type !== RELEASE_SECRET_TYPE || secret.metadata.labels?.status !== 'deployed') return (await this.deployed(release, namespace))?.manifest;
      manifest = decodeSecret(secret, release, namespace).manifest ?? '';
      this.remember(key, secret.metadata.resourceVersion ?? '', manifest);
    } else {
      this.remember(key, resourceVersion, manifest);
    }
    return manifest;
  }

  private remember(key: string, resourceVersion: string, manifest: string): void {
    this.manifests.set(key, { resourceVersion, manifest });
  }

  /**
   * If the newest revision is stuck in pending-install/upgrade/rollback (its helm process died),
   * marks it failed the way Flux's helm-controller does: status label and `info.status` in the
   * payload, with a description saying why. The write is conditional on the Secret's
   * resourceVersion, so a helm process that is in fact still running wins (KubeError 409, retryable).
   */
  async unlockPending(release: string, namespace: string): Promise<UnlockResult> {
    const secrets = await this.revisionSecrets(release, namespace);
    const newest = secrets[secrets.length - 1];
    if (!newest) return { unlocked: false };
    const payload = decodeSecret(newest, release, namespace);
    const previousStatus = payload.info.status;
    if (!PENDING_STATUSES.includes(previousStatus)) return { unlocked: false, revision: payload.version, previousStatus };

    payload.info.status = 'failed';
    payload.info.description = `Release unlocked from stale '${previousStatus}' state`;
    await this.kubeFor(namespace).patchSecret(namespace, newest.metadata.name, {
      metadata: {
        resourceVersion: newest.metadata.resourceVersion,
        labels: { status: 'failed', modifiedAt: String(Math.floor(Date.now() / 1000)) },
      },
      data: { release: encodeReleaseData(payload) },
    });
    return { unlocked: true, revision: payload.version, previousStatus };
  }

  /** The release's Secrets, oldest revision first. */
  private async revisionSecrets(release: string, namespace: string): Promise<KubeObject[]> {
    const secrets = await this.kubeFor(namespace).listSecrets(namespace, `owner=helm,name=${release}`);
    return secrets.filter((s) => s.type === RELEASE_SECRET_TYPE).sort((a, b) => revisionOf(a) - revisionOf(b));
  }
}

function revisionOf(secret: KubeObject): number {
  return Number(secret.metadata.labels?.version ?? 0);
}

/** The release a Secret holds, once the Secret passed assertTrustedRelease. */
function decodeSecret(secret: KubeObject, release: string, namespace: string): ReleasePayload {
  const data = (secret.data as Record<string, string> | undefined)?.release;
  if (typeof data !== 'string' || !data) throw new ReleaseStorageError(`helm release Secret ${namespace}/${secret.metadata.name} has no release data`);
  // The API returns base64: a Secret over 1 MiB of data is not one the API server stored.
  if (data.length > 2 * 1024 * 1024) throw new ReleaseStorageError(`helm release Secret ${namespace}/${secret.metadata.name} holds more data than a Secret can`);
  const payload = decodeReleaseData(data);
  assertTrustedRelease(secret, payload, release, namespace);
  return payload;
}

function toStoredRelease(secret: KubeObject, payload: ReleasePayload): StoredRelease {
  const meta = payload.chart?.metadata;
  return {
    name: payload.name,
    namespace: payload.namespace,
    revision: payload.version,
    status: payload.info.status,
    description: payload.info.description,
    chartName: meta?.name,
    chartVersion: meta?.version,
    appVersion: meta?.appVersion,
    lastDeployed: payload.info.last_deployed,
    manifest: payload.manifest ?? '',
    hookManifests: (payload.hooks ?? []).map((h) => h?.manifest).filter((m): m is string => typeof m === 'string'),
    secretName: secret.metadata.name,
  };
}
