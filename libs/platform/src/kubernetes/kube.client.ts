import { setTimeout as sleep } from 'node:timers/promises';
import { KubeConfig, PatchStrategy, ServerConfiguration, VersionApi, createConfiguration } from '@kubernetes/client-node';
import type { Configuration, KubernetesObject, SecurityAuthentication } from '@kubernetes/client-node';

import { sharedDispatcherAuth } from './kube.connection';
import { KubeError, toKubeError } from './kube.errors';
import { describeRef, refOf, type KubeObject, type ObjectRef } from './kube.types';
import { watchMetadata, type WatchEvent, type WatchMetadataOptions } from './metadata-watch';
import { RawObjectApi, type ApiResource } from './raw-object-api';

export { sharedDispatcherAuth } from './kube.connection';
export type { WatchEvent, WatchMetadataOptions } from './metadata-watch';
export type { ApiResource } from './raw-object-api';

/** Field manager for everything Caelus writes with server-side apply. */
export const CAELUS_FIELD_MANAGER = 'caelus';

export interface KubeClientOptions {
  /**
   * Path of the kubeconfig file; its current context is used unless `context` is set. Left out
   * inside a pod: the pod's service account token (re-read as it rotates) is used.
   */
  kubeconfig?: string;
  context?: string;
  /** Upper bound for one API request (default 30 s); a hung API server must not hang an activity. */
  requestTimeoutMs?: number;
}

export interface ApplyOptions {
  /** Server-side dry run (dryRun=All): nothing is persisted, the would-be result is returned. */
  dryRun?: boolean;
  /** Take over fields owned by other managers (default true: Caelus is the authority for what it applies). */
  force?: boolean;
  fieldManager?: string;
}

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export interface WaitForNamespaceGoneOptions {
  timeoutMs: number;
  intervalMs?: number;
  signal?: AbortSignal;
  /** Called on every poll while the namespace still exists, with its current state. */
  onProgress?: (namespace: KubeObject) => void;
}

/**
 * Thin adapter over @kubernetes/client-node 2.x. It speaks plain objects, never retries and
 * turns every failure into a KubeError carrying `status` and `retryable`.
 */
export class KubeClient {
  private readonly objects: RawObjectApi;
  private readonly version: VersionApi;
  private readonly connection: { server: string; auth: SecurityAuthentication; timeoutMs: number };
  /** The user this client acts as (Impersonate-User), when it is an impersonating client. */
  readonly actingAs: string | undefined;

  constructor(options: KubeClientOptions, impersonation?: { of: KubeClient; user: string }) {
    if (impersonation) {
      // Same server, credentials and connection pool as the client it derives from.
      this.connection = impersonation.of.connection;
    } else {
      const kc = new KubeConfig();
      if (options.kubeconfig) kc.loadFromFile(options.kubeconfig);
      else kc.loadFromCluster();
      if (options.context) kc.setCurrentContext(options.context);
      const cluster = kc.getCurrentCluster();
      if (!cluster) throw new KubeError(`kubeconfig ${options.kubeconfig ?? '(in-cluster)'} has no current cluster`, undefined, undefined, false);
      this.connection = { server: cluster.server, auth: sharedDispatcherAuth(kc), timeoutMs: options.requestTimeoutMs ?? 30_000 };
    }
    this.actingAs = impersonation?.user;
    const { timeoutMs } = this.connection;
    const actingAs = this.actingAs;
    const configuration: Configuration = createConfiguration({
      baseServer: new ServerConfiguration(this.connection.server, {}),
      authMethods: { default: this.connection.auth },
      promiseMiddleware: [
        {
          pre: (ctx) => {
            ctx.setHeaderParam('User-Agent', 'caelus');
            if (actingAs) ctx.setHeaderParam('Impersonate-User', actingAs);
            ctx.setSignal(AbortSignal.timeout(timeoutMs));
            return Promise.resolve(ctx);
          },
          post: (rsp) => Promise.resolve(rsp),
        },
      ],
    });
    this.objects = new RawObjectApi(configuration);
    this.version = new VersionApi(configuration);
  }

  /**
   * A client that acts as `user` (Impersonate-User), on this client's connection: the API server
   * authorizes every request as that user, so this client's own rights do not apply. Needs the
   * `impersonate` verb on that user (for a ServiceAccount: on serviceaccounts, with its name).
   */
  impersonating(user: string): KubeClient {
    if (this.actingAs) throw new Error('an impersonating client cannot impersonate again');
    return new KubeClient({}, { of: this, user });
  }

  /** The resources a group version serves, from discovery; undefined when it is not served. */
  async apiResources(apiVersion: string): Promise<ApiResource[] | undefined> {
    return this.call(`discover ${apiVersion}`, () => this.objects.apiResources(apiVersion));
  }

  /**
   * Whether this client may list and watch a kind in every namespace. Asked with
   * SelfSubjectAccessReviews (any authenticated user may create them), so a caller that lacks the
   * right makes no forbidden request. False when the kind is not served.
   */
  async mayListAndWatchEverywhere(apiVersion: string, kind: string): Promise<boolean> {
    const resource = (await this.apiResources(apiVersion))?.find((r) => r.kind === kind && !r.name.includes('/'));
    if (!resource) return false;
    const group = apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
    for (const verb of ['list', 'watch']) {
      const allowed = await this.call(`review access to ${verb} ${kind}`, async () => {
        const review = { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', metadata: {}, spec: { resourceAttributes: { verb, group, resource: resource.name } } };
        const res = (await this.objects.create(review)) as unknown as { status?: { allowed?: boolean } };
        return res.status?.allowed === true;
      });
      if (!allowed) return false;
    }
    return true;
  }

  /** Cheap liveness check of the API server; returns its version. */
  async ping(): Promise<{ gitVersion: string }> {
    return this.call('get server version', async () => {
      const info = await this.version.getCode();
      return { gitVersion: info.gitVersion };
    });
  }

  /** Whether a kind lives in namespaces (from discovery, cached per apiVersion). */
  async isNamespaced(apiVersion: string, kind: string): Promise<boolean> {
    return this.call(`discover ${apiVersion} ${kind}`, () => this.objects.isNamespaced(apiVersion, kind));
  }

  /** The live object, or undefined when it does not exist. */
  async get<T extends KubeObject = KubeObject>(ref: ObjectRef): Promise<T | undefined> {
    const header = { apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, namespace: ref.namespace } };
    return orIfMissing(
      this.call(`read ${describeRef(ref)}`, async () => {
        await this.requireNamespaceIfNamespaced(ref);
        return (await this.objects.read(header)) as unknown as T;
      }),
      undefined,
    );
  }

  /** The live object's metadata only (no spec, no status), or undefined when it does not exist. */
  async getMetadata(ref: ObjectRef): Promise<KubeObject | undefined> {
    const header = { apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, namespace: ref.namespace } };
    return orIfMissing(
      this.call(`read metadata of ${describeRef(ref)}`, async () => {
        await this.requireNamespaceIfNamespaced(ref);
        return { ...((await this.objects.readMetadata(header)) as unknown as KubeObject), apiVersion: ref.apiVersion, kind: ref.kind };
      }),
      undefined,
    );
  }

  /** The metadata of the matching objects (names, labels, resourceVersions), without their contents. */
  async listMetadata(apiVersion: string, kind: string, options: Omit<ListOptions, 'fieldSelector'> = {}): Promise<KubeObject[]> {
    return (await this.listAllMetadata(apiVersion, kind, options)).items;
  }

  /**
   * The metadata of every matching object, of all namespaces unless one is given, read in pages,
   * and the resourceVersion to start a watch from.
   */
  async listAllMetadata(apiVersion: string, kind: string, options: { namespace?: string; labelSelector?: string; pageSize?: number } = {}): Promise<{ items: KubeObject[]; resourceVersion: string }> {
    const where = options.namespace ? ` in ${options.namespace}` : ' in all namespaces';
    return this.call(`list ${kind} metadata${where}`, async () => {
      const items: KubeObject[] = [];
      let continueToken: string | undefined;
      let resourceVersion = '';
      do {
        const page = await this.objects.listMetadataPage(apiVersion, kind, {
          namespace: options.namespace,
          labelSelector: options.labelSelector,
          limit: options.pageSize ?? 500,
          continueToken,
        });
        // An empty PartialObjectMetadataList comes with `"items": null`.
        for (const item of page.items ?? []) items.push({ ...(item as unknown as KubeObject), apiVersion, kind });
        continueToken = page.metadata?.continue || undefined;
        resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
      } while (continueToken);
      return { items, resourceVersion };
    });
  }

  /**
   * Watches the metadata of a kind in all namespaces from `resourceVersion`, calling `onEvent`
   * for each event in order (see watchMetadata in metadata-watch.ts).
   */
  async watchMetadata(apiVersion: string, kind: string, options: WatchMetadataOptions, onEvent: (event: WatchEvent) => void): Promise<void> {
    const action = `watch ${kind} metadata in all namespaces`;
    if (this.actingAs) throw new KubeError(`${action}: not available on an impersonating client`, undefined, undefined, false);
    return watchMetadata(action, (query) => this.call(action, () => this.objects.metadataWatchRequest(apiVersion, kind, query)), options, onEvent);
  }

  /**
   * Watches whole objects of a kind in one namespace from `resourceVersion` (the field selector
   * narrows it, e.g. to one name), calling `onEvent` for each event in order; the stream is read
   * as the metadata watch's is (watchMetadata in metadata-watch.ts).
   */
  async watchObjects(apiVersion: string, kind: string, options: WatchMetadataOptions & { namespace: string }, onEvent: (event: WatchEvent) => void): Promise<void> {
    const action = `watch ${kind} in ${options.namespace}`;
    if (this.actingAs) throw new KubeError(`${action}: not available on an impersonating client`, undefined, undefined, false);
    return watchMetadata(action, (query) => this.call(action, () => this.objects.objectWatchRequest(apiVersion, kind, options.namespace, query)), options, onEvent);
  }

  /** The matching objects and the list's resourceVersion, where a watch of them starts. */
  async listWithVersion<T extends KubeObject = KubeObject>(apiVersion: string, kind: string, options: ListOptions = {}): Promise<{ items: T[]; resourceVersion: string }> {
    const where = options.namespace ? ` in ${options.namespace}` : '';
    return this.call(`list ${kind}${where}`, async () => {
      const list = await this.objects.list(apiVersion, kind, options.namespace, undefined, undefined, undefined, options.fieldSelector, options.labelSelector);
      // Items of a list response carry no apiVersion/kind of their own.
      return { items: list.items.map((item) => ({ apiVersion, kind, ...item }) as unknown as T), resourceVersion: list.metadata?.resourceVersion ?? '' };
    });
  }

  async list<T extends KubeObject = KubeObject>(apiVersion: string, kind: string, options: ListOptions = {}): Promise<T[]> {
    return (await this.listWithVersion<T>(apiVersion, kind, options)).items;
  }

  /** Deletes an object; false when it was already gone. */
  async delete(ref: ObjectRef, options: { propagationPolicy?: 'Background' | 'Foreground' | 'Orphan' } = {}): Promise<boolean> {
    const spec = { apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, namespace: ref.namespace } };
    return orIfMissing(
      this.call(`delete ${describeRef(ref)}`, async () => {
        await this.requireNamespaceIfNamespaced(ref);
        await this.objects.delete(spec, undefined, undefined, undefined, undefined, options.propagationPolicy ?? 'Background');
        return true;
      }),
      false,
    );
  }

  /** Server-side apply (creates the object when missing). Returns the object as the server has it. */
  async apply<T extends KubeObject = KubeObject>(obj: KubeObject, options: ApplyOptions = {}): Promise<T> {
    const verb = options.dryRun ? 'dry-run apply' : 'apply';
    return this.call(`${verb} ${describeRef(refOf(obj))}`, async () => {
      await this.requireNamespaceIfNamespaced(refOf(obj));
      // The client fills in missing namespace/apiVersion on the object it is given: hand it a copy.
      const body = structuredClone(obj) as KubernetesObject;
      return (await this.objects.patch(
        body,
        undefined,
        options.dryRun ? 'All' : undefined,
        options.fieldManager ?? CAELUS_FIELD_MANAGER,
        options.force ?? true,
        PatchStrategy.ServerSideApply,
      )) as unknown as T;
    });
  }

  /**
   * JSON merge patch. Put `metadata.resourceVersion` in the patch to make it conditional:
   * the server then answers 409 if the object changed since it was read.
   */
  async mergePatch<T extends KubeObject = KubeObject>(ref: ObjectRef, patch: Record<string, unknown>): Promise<T> {
    return this.call(`patch ${describeRef(ref)}`, async () => {
      await this.requireNamespaceIfNamespaced(ref);
      const patchMeta = (patch.metadata ?? {}) as Record<string, unknown>;
      const body = {
        ...patch,
        apiVersion: ref.apiVersion,
        kind: ref.kind,
        metadata: { ...patchMeta, name: ref.name, namespace: ref.namespace },
      } as KubernetesObject;
      return (await this.objects.patch(body, undefined, undefined, CAELUS_FIELD_MANAGER, undefined, PatchStrategy.MergePatch)) as unknown as T;
    });
  }

  // --- namespaces ---------------------------------------------------------------------

  async getNamespace(name: string): Promise<KubeObject | undefined> {
    return this.get({ apiVersion: 'v1', kind: 'Namespace', name });
  }

  /** True while the namespace exists, including while it is Terminating. */
  async namespaceExists(name: string): Promise<boolean> {
    return (await this.getNamespace(name)) !== undefined;
  }

  /** Starts deletion of a namespace; false when it was already gone. */
  async deleteNamespace(name: string): Promise<boolean> {
    return this.delete({ apiVersion: 'v1', kind: 'Namespace', name });
  }

  /** Polls until the namespace no longer exists; KubeError reason Timeout (retryable) when it takes too long. */
  async waitForNamespaceGone(name: string, options: WaitForNamespaceGoneOptions): Promise<void> {
    const deadline = Date.now() + options.timeoutMs;
    const interval = options.intervalMs ?? 1_000;
    for (;;) {
      options.signal?.throwIfAborted();
      const ns = await this.getNamespace(name);
      if (!ns) return;
      options.onProgress?.(ns);
      if (Date.now() >= deadline) {
        throw new KubeError(`namespace ${name} still exists after ${Math.round(options.timeoutMs / 1000)}s`, undefined, 'Timeout', true);
      }
      // timers/promises rejects with an AbortError: callers get the signal's reason, as from throwIfAborted.
      await sleep(Math.min(interval, Math.max(0, deadline - Date.now())), undefined, { signal: options.signal }).catch(() => options.signal?.throwIfAborted());
    }
  }

  // --- secrets (Helm's release storage) -------------------------------------------------

  async readSecret(namespace: string, name: string): Promise<KubeObject | undefined> {
    return this.get({ apiVersion: 'v1', kind: 'Secret', name, namespace });
  }

  async listSecrets(namespace: string, labelSelector?: string): Promise<KubeObject[]> {
    return this.list('v1', 'Secret', { namespace, labelSelector });
  }

  /** Names, labels and resourceVersions of the matching Secrets, without their data. */
  async listSecretMetadata(namespace: string, labelSelector?: string): Promise<KubeObject[]> {
    return this.listMetadata('v1', 'Secret', { namespace, labelSelector });
  }

  async patchSecret(namespace: string, name: string, patch: Record<string, unknown>): Promise<KubeObject> {
    return this.mergePatch({ apiVersion: 'v1', kind: 'Secret', name, namespace }, patch);
  }

  // --- internals ------------------------------------------------------------------------

  /** Without this guard the client would silently use the kubeconfig's default namespace. */
  private async requireNamespaceIfNamespaced(ref: ObjectRef): Promise<void> {
    if (ref.namespace) return;
    if (await this.objects.isNamespaced(ref.apiVersion, ref.kind)) {
      throw new KubeError(`${describeRef(ref)}: a namespace is required for ${ref.kind}`, 400, 'BadRequest', false);
    }
  }

  private async call<T>(action: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw toKubeError(err, action);
    }
  }
}

/** The call's result, or `missing` when the object does not exist (a 404 that is not an unknown kind). */
async function orIfMissing<T, M>(call: Promise<T>, missing: M): Promise<T | M> {
  try {
    return await call;
  } catch (err) {
    if (err instanceof KubeError && err.notFound && err.reason !== 'UnknownKind') return missing;
    throw err;
  }
}
