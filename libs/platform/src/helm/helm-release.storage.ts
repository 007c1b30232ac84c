import { gunzipSync, gzipSync, constants as zlib } from 'node:zlib';

import type { KubeClient } from '../kubernetes/kube.client';
import type { KubeObject } from '../kubernetes/kube.types';
import { PENDING_STATUSES, type HelmRelease, type HelmReleaseStatus, type UnlockResult } from './helm.types';

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
  [field: string]: unknown;
}

/** A stored revision as Caelus needs it: metadata and manifest, never values. */
export interface StoredRelease extends HelmRelease {
  manifest: string;
  secretName: string;
}

const GZIP_MAGIC = Buffer.from([0x1f, 0x8b, 0x08]);

/** Decodes `Secret.data.release` as the API returns it (base64 of Helm's base64 of gzip of JSON). */
export function decodeReleaseData(secretData: string): ReleasePayload {
  const helmEncoded = Buffer.from(secretData, 'base64').toString('latin1');
  let bytes = Buffer.from(helmEncoded, 'base64');
  // Like helm: payloads written before compression was introduced are plain JSON.
  if (bytes.subarray(0, 3).equals(GZIP_MAGIC)) bytes = gunzipSync(bytes);
  return parseLossless(bytes.toString('utf8')) as ReleasePayload;
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

/** Reads and repairs Helm's release storage through the Kubernetes API. */
export class HelmReleaseStorage {
  /**
   * Deployed manifests by release Secret and resourceVersion: a drift check lists the deployed
   * revision's Secret metadata, and reads and decodes (gunzip + JSON) its payload only when the
   * Secret changed.
   */
  private readonly manifests = new Map<string, { resourceVersion: string; manifest: string }>();

  constructor(
    private readonly kube: ReleaseStorageKube,
    private readonly maxCachedManifests = 5000,
  ) {}

  /** The newest revision, whatever its status; undefined when the release does not exist. */
  async latest(release: string, namespace: string): Promise<StoredRelease | undefined> {
    const secrets = await this.revisionSecrets(release, namespace);
    const newest = secrets[secrets.length - 1];
    return newest ? toStoredRelease(newest, decodeSecret(newest)) : undefined;
  }

  /** The revision currently deployed (newest with status deployed), as helm itself picks it. */
  async deployed(release: string, namespace: string): Promise<StoredRelease | undefined> {
    const secrets = await this.revisionSecrets(release, namespace);
    const deployed = secrets.filter((s) => s.metadata.labels?.status === 'deployed').pop();
    return deployed ? toStoredRelease(deployed, decodeSecret(deployed)) : undefined;
  }

  /** The manifest of the deployed revision, for drift checks; undefined when nothing is deployed. */
  async readDeployedManifest(release: string, namespace: string): Promise<string | undefined> {
    // Metadata first: the Secret's payload is read and decoded only when it changed.
    const listed = await this.kube.listSecretMetadata(namespace, `owner=helm,name=${release},status=deployed`);
    return this.deployedManifestOf(listed, release, namespace);
  }

  /**
   * The deployed manifest, given the metadata of the release's Secrets as listed (or as a
   * watch-fed cache holds them): the newest one labelled deployed is read only when its
   * resourceVersion is not the one last decoded.
   */
  async deployedManifestOf(listed: KubeObject[], release: string, namespace: string): Promise<string | undefined> {
    const newest = listed.filter((s) => s.metadata.labels?.status === 'deployed').sort((a, b) => revisionOf(a) - revisionOf(b)).pop();
    if (!newest) return undefined;
    const key = `${namespace}/${newest.metadata.name}`;
    const resourceVersion = newest.metadata.resourceVersion ?? '';
    const cached = this.manifests.get(key);
    this.manifests.delete(key);
    let manifest = cached && resourceVersion && cached.resourceVersion === resourceVersion ? cached.manifest : undefined;
    if (manifest === undefined) {
      const secret = await this.kube.readSecret(namespace, newest.metadata.name);
      // Gone or relabelled since the list (helm ran in between): read the release the slow way.
      if (!secret || secret.type !== RELEASE_SECRET_TYPE || secret.metadata.labels?.status !== 'deployed') return (await this.deployed(release, namespace))?.manifest;
      manifest = decodeSecret(secret).manifest ?? '';
      this.remember(key, secret.metadata.resourceVersion ?? '', manifest);
    } else {
      this.remember(key, resourceVersion, manifest);
    }
    return manifest;
  }

  private remember(key: string, resourceVersion: string, manifest: string): void {
    this.manifests.set(key, { resourceVersion, manifest });
    if (this.manifests.size > this.maxCachedManifests) this.manifests.delete(this.manifests.keys().next().value!);
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
    const payload = decodeSecret(newest);
    const previousStatus = payload.info.status;
    if (!PENDING_STATUSES.includes(previousStatus)) return { unlocked: false, revision: payload.version, previousStatus };

    payload.info.status = 'failed';
    payload.info.description = `Release unlocked from stale '${previousStatus}' state`;
    await this.kube.patchSecret(namespace, newest.metadata.name, {
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
    const secrets = await this.kube.listSecrets(namespace, `owner=helm,name=${release}`);
    return secrets
      .filter((s) => s.type === RELEASE_SECRET_TYPE)
      .sort((a, b) => revisionOf(a) - revisionOf(b));
  }
}

function revisionOf(secret: KubeObject): number {
  return Number(secret.metadata.labels?.version ?? 0);
}

function decodeSecret(secret: KubeObject): ReleasePayload {
  const data = (secret.data as Record<string, string> | undefined)?.release;
  if (!data) throw new Error(`helm release secret ${secret.metadata.name} has no release data`);
  return decodeReleaseData(data);
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
    secretName: secret.metadata.name,
  };
}
