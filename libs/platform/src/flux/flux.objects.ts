import { HelmError } from '../helm/helm.errors';
import type { ChartRef } from '../helm/helm.types';
import type { KubeObject, ObjectRef } from '../kubernetes/kube.types';
import { TENANT_SERVICE_ACCOUNT } from '../kubernetes/tenant';

/**
 * What the Flux release backend projects into a deployment's namespace: an OCIRepository pinned
 * by the template's digest, a HelmRelease that installs it as the tenant ServiceAccount, and a
 * Secret with the secret part of the values. Pure builders: nothing here talks to the cluster.
 */
export const OCI_REPOSITORY_API = 'source.toolkit.fluxcd.io/v1';
export const HELM_RELEASE_API = 'helm.toolkit.fluxcd.io/v2';
/** The Secret the HelmRelease reads its secret values from (valuesFrom); one per namespace. */
export const VALUES_SECRET_NAME = 'caelus-release-values';
export const VALUES_SECRET_KEY = 'values.yaml';
/** Annotations Flux's controllers act on (fluxcd/pkg/apis/meta): reconcile now, force a release, reset the failure counts. */
export const RECONCILE_REQUESTED_AT = 'reconcile.fluxcd.io/requestedAt';
export const FORCE_REQUESTED_AT = 'reconcile.fluxcd.io/forceAt';
export const RESET_REQUESTED_AT = 'reconcile.fluxcd.io/resetAt';
/** Helm's media type for a chart's content layer: the layer source-controller extracts. */
const HELM_CHART_LAYER = 'application/vnd.cncf.helm.chart.content.v1.tar+gzip';
/** Revisions helm keeps per release, as the helm backend's `--history-max`. */
export const MAX_HISTORY = 10;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

const LABELS = { 'app.kubernetes.io/managed-by': 'caelus' };

export interface FluxProjection {
  release: string;
  namespace: string;
  chart: ChartRef;
  /** Values without the secret parts: they go into the HelmRelease. */
  inlineValues: Record<string, unknown>;
  /** The secret parts of the values: they go only into the values Secret. */
  secretValues: Record<string, unknown>;
  timeoutSeconds: number;
  /** How often helm-controller reconciles (and checks drift) on its own. */
  intervalSeconds: number;
  /** helm-controller's drift detection (default `enabled`); Caelus's own checks run whatever it is. */
  driftDetection?: DriftDetectionMode;
  /** Registries spoken to over plain HTTP (`host[:port]`); loopback registries always are. */
  plainHttpRegistries?: readonly string[];
  /** Annotations of this apply (reconcile request, and force/reset after a failure). */
  annotations?: Record<string, string>;
}

/**
 * `spec.driftDetection.mode` of a HelmRelease: `enabled` (helm-controller compares and corrects on
 * each reconcile, a dry-run apply of every object), `warn` (compares and reports only), `disabled`.
 */
export type DriftDetectionMode = 'enabled' | 'warn' | 'disabled';

export const ociRepositoryRef = (release: string, namespace: string): ObjectRef => ({ apiVersion: OCI_REPOSITORY_API, kind: 'OCIRepository', name: release, namespace });
export const helmReleaseRef = (release: string, namespace: string): ObjectRef => ({ apiVersion: HELM_RELEASE_API, kind: 'HelmRelease', name: release, namespace });
export const valuesSecretRef = (namespace: string): ObjectRef => ({ apiVersion: 'v1', kind: 'Secret', name: VALUES_SECRET_NAME, namespace });

/** The chart as the OCIRepository takes it: `oci://host/repo/name` and its digest. Anything else is refused for good. */
export function ociSource(chart: ChartRef): { url: string; host: string; digest: string } {
  if (!chart.ref.startsWith('oci://')) throw new HelmError('chart-not-found', `the flux release backend needs an oci:// chart, not "${chart.ref.slice(0, 200)}"`);
  const host = chart.ref.slice('oci://'.length).split('/')[0];
  if (!host || /\s|@/.test(chart.ref)) throw new HelmError('chart-not-found', `invalid chart reference "${chart.ref.slice(0, 200)}"`);
  if (!chart.digest || !DIGEST.test(chart.digest)) throw new HelmError('chart-not-found', `the flux release backend needs the chart pinned by digest (sha256:<64 hex>)`);
  return { url: chart.ref, host, digest: chart.digest };
}

/** Whether source-controller must speak plain HTTP to the registry (`spec.insecure`), as the helm backend's `--plain-http`. */
export function isPlainHttp(host: string, plainHttpRegistries: readonly string[] = []): boolean {
  return LOOPBACK_HOSTS.has(host.replace(/:\d+$/, '')) || plainHttpRegistries.includes(host);
}

export function buildOciRepository(p: Pick<FluxProjection, 'release' | 'namespace' | 'chart' | 'plainHttpRegistries'>): KubeObject {
  const source = ociSource(p.chart);
  return {
    apiVersion: OCI_REPOSITORY_API,
    kind: 'OCIRepository',
    metadata: { name: p.release, namespace: p.namespace, labels: LABELS },
    spec: {
      url: source.url,
      // Pinned: the digest never moves, so the interval only re-checks that the artifact is still there.
      ref: { digest: source.digest },
      interval: '60m',
      layerSelector: { mediaType: HELM_CHART_LAYER, operation: 'copy' },
      ...(isPlainHttp(source.host, p.plainHttpRegistries) ? { insecure: true } : {}),
    },
  };
}

/**
 * The HelmRelease: helm-controller acts as the tenant ServiceAccount (impersonation), so the
 * release can do in the cluster exactly what the helm backend's `--kube-as-user` can. Drift
 * detection is on unless the operator chose otherwise (CAELUS_FLUX_DRIFT_DETECTION). Remediation matches the helm backend: a failed install is left for the next
 * attempt, a failed upgrade is rolled back to the last good revision.
 */
export function buildHelmRelease(p: FluxProjection): KubeObject {
  return {
    apiVersion: HELM_RELEASE_API,
    kind: 'HelmRelease',
    metadata: { name: p.release, namespace: p.namespace, labels: LABELS, ...(p.annotations ? { annotations: p.annotations } : {}) },
    spec: {
      releaseName: p.release,
      // Explicit: an apply (a resume included) always lifts the hold a suspension put on the release.
      suspend: false,
      serviceAccountName: TENANT_SERVICE_ACCOUNT,
      chartRef: { kind: 'OCIRepository', name: p.release },
      interval: `${p.intervalSeconds}s`,
      timeout: `${p.timeoutSeconds}s`,
      maxHistory: MAX_HISTORY,
      driftDetection: { mode: p.driftDetection ?? 'enabled' },
      install: { remediation: { retries: 0 } },
      upgrade: { remediation: { retries: 0, remediateLastFailure: true, strategy: 'rollback' } },
      valuesFrom: [{ kind: 'Secret', name: VALUES_SECRET_NAME, valuesKey: VALUES_SECRET_KEY }],
      values: p.inlineValues,
    },
  };
}

/** The values Secret: JSON is YAML, so helm-controller reads the key as a values file. */
export function buildValuesSecret(p: Pick<FluxProjection, 'namespace' | 'secretValues'>): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: VALUES_SECRET_NAME, namespace: p.namespace, labels: LABELS },
    type: 'Opaque',
    data: { [VALUES_SECRET_KEY]: Buffer.from(JSON.stringify(p.secretValues), 'utf8').toString('base64') },
  };
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Splits merged values in two documents with no leaf in common: the secrets at `secretPaths`
 * and everything else. Flux merges valuesFrom and then `values` key by key (maps deeply, lists
 * whole), so a secret inside a list moves the whole list to the secret document: a list split in
 * two would not merge back. Paths to absent leaves are skipped.
 */
export function splitSecretValues(values: object, secretPaths: readonly (readonly string[])[]): { inline: Json; secret: Json } {
  let inline = structuredClone(values) as Json;
  let secret: Json = {};
  for (const path of secretPaths) {
    if (path.length === 0) {
      secret = mergeInto(secret, inline);
      inline = {};
      continue;
    }
    let node: Json = inline;
    for (let i = 0; i < path.length; i++) {
      const key = path[i];
      if (!Object.hasOwn(node, key)) break;
      const child = node[key];
      if (i === path.length - 1 || !isObject(child)) {
        // The leaf itself, or the list (or scalar) on the way to it: moved as a whole.
        delete node[key];
        secret = setIn(secret, path.slice(0, i + 1), child);
        break;
      }
      node = child;
    }
  }
  return { inline, secret };
}

function setIn(doc: Json, path: readonly string[], value: unknown): Json {
  let node = doc;
  for (const key of path.slice(0, -1)) {
    if (!isObject(node[key])) node[key] = {};
    node = node[key] as Json;
  }
  const last = path[path.length - 1];
  node[last] = isObject(node[last]) && isObject(value) ? mergeInto(node[last], value) : value;
  return doc;
}

function mergeInto(target: Json, source: Json): Json {
  for (const [k, v] of Object.entries(source)) target[k] = isObject(target[k]) && isObject(v) ? mergeInto(target[k], v) : v;
  return target;
}
