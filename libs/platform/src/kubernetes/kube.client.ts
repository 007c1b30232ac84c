import {
  ApiException,
  HttpMethod,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  ServerConfiguration,
  VersionApi,
  createConfiguration,
} from '@kubernetes/client-node';
import type { Configuration, KubernetesObject, RequestContext, ResponseContext, SecurityAuthentication } from '@kubernetes/client-node';
import { fetch } from 'undici';

import { KubeError, toKubeError } from './kube.errors';
import { describeRef, refOf, type KubeObject, type ObjectRef } from './kube.types';

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

/** One resource of a group version, as the API server's discovery lists it. */
export interface ApiResource {
  name: string;
  kind: string;
  namespaced: boolean;
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

/** One event of a watch: ADDED, MODIFIED, DELETED, BOOKMARK (a resourceVersion only) or ERROR (a Status). */
export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: KubeObject;
}

export interface WatchMetadataOptions {
  labelSelector?: string;
  /** Where the watch starts: the resourceVersion of the list it follows, or of the last event seen. */
  resourceVersion: string;
  /** The API server ends the watch after this long (the caller then watches again). */
  timeoutSeconds: number;
  /** Aborts the watch when nothing (not even the end of the stream) arrived for this long. */
  idleTimeoutMs: number;
  signal?: AbortSignal;
}

export interface WaitForNamespaceGoneOptions {
  timeoutMs: number;
  intervalMs?: number;
  signal?: AbortSignal;
  /** Called on every poll while the namespace still exists, with its current state. */
  onProgress?: (namespace: KubeObject) => void;
}

const METADATA_ONLY = 'application/json;g=meta.k8s.io;v=v1';

/**
 * The generic object API, changed in two ways: responses stay plain wire JSON (the stock
 * client turns them into model classes with Date fields and drops unknown fields, which
 * would distort drift comparison), and discovery is exposed to know if a kind is namespaced.
 */
class RawObjectApi extends KubernetesObjectApi {
  async isNamespaced(apiVersion: string, kind: string): Promise<boolean> {
    const resource = await this.resource(apiVersion, kind);
    if (!resource) throw new Error(`Unrecognized API version and kind: ${apiVersion} ${kind}`);
    return resource.namespaced;
  }

  /** The resources a group version serves (discovery), or undefined when the API server does not serve it. */
  async apiResources(apiVersion: string): Promise<ApiResource[] | undefined> {
    const ctx = this.configuration.baseServer.makeRequestContext(this.apiVersionPath(apiVersion), HttpMethod.GET);
    ctx.setHeaderParam('Accept', 'application/json');
    try {
      const list = (await this.requestPromise(ctx)) as unknown as { resources?: ApiResource[] };
      return list.resources ?? [];
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) return undefined;
      throw err;
    }
  }

  /**
   * An object's metadata only (PartialObjectMetadata): what a drift check needs to see whether
   * an object changed since it was last found clean, without its spec and status.
   */
  async readMetadata(spec: KubernetesObject): Promise<KubernetesObject> {
    return this.requestPromise(await this.metadataRequest(spec, 'read', 'PartialObjectMetadata'));
  }

  /** A GET of `spec`'s object or collection that asks for metadata only, as `as`, with `query`. */
  private async metadataRequest(spec: KubernetesObject, action: 'read' | 'list', as: string, query: Record<string, string | undefined> = {}): Promise<RequestContext> {
    const ctx = this.configuration.baseServer.makeRequestContext(await this.specUriPath(spec, action), HttpMethod.GET);
    ctx.setHeaderParam('Accept', `${METADATA_ONLY};as=${as}, application/json;q=0.9`);
    for (const [name, value] of Object.entries(query)) if (value) ctx.setQueryParam(name, value);
    return ctx;
  }

  /**
   * One page of a list of metadata, of all namespaces when `namespace` is undefined, with the
   * list's resourceVersion (where a watch starts) and the continue token of the next page.
   */
  async listMetadataPage(
    apiVersion: string,
    kind: string,
    query: { namespace?: string; labelSelector?: string; limit?: number; continueToken?: string },
  ): Promise<{ items: KubernetesObject[] | null; metadata?: { resourceVersion?: string; continue?: string } }> {
    const ctx = await this.metadataRequest({ apiVersion, kind, metadata: { namespace: query.namespace } }, 'list', 'PartialObjectMetadataList', {
      labelSelector: query.labelSelector,
      limit: query.limit ? String(query.limit) : undefined,
      continue: query.continueToken,
    });
    return this.requestPromise(ctx) as Promise<unknown> as Promise<{ items: KubernetesObject[] | null; metadata?: { resourceVersion?: string; continue?: string } }>;
  }

  /**
   * An authenticated request for a watch of a kind's metadata in all namespaces. It bypasses the
   * promise middleware: a watch outlives the per-request timeout.
   */
  async metadataWatchRequest(apiVersion: string, kind: string, query: Record<string, string>): Promise<RequestContext> {
    const ctx = await this.metadataRequest({ apiVersion, kind, metadata: {} }, 'list', 'PartialObjectMetadata', query);
    ctx.setHeaderParam('User-Agent', 'caelus');
    await this.configuration.authMethods.default?.applySecurityAuthentication(ctx);
    return ctx;
  }

  protected override async processResponse<T extends KubernetesObject>(response: ResponseContext): Promise<T> {
    const text = await response.body.text();
    if (response.httpStatusCode >= 200 && response.httpStatusCode <= 299) {
      return (text ? JSON.parse(text) : {}) as T;
    }
    throw new ApiException(response.httpStatusCode, 'Unsuccessful HTTP Request', text, response.headers);
  }
}

/**
 * The kubeconfig's authentication, with one undici dispatcher kept for the client's lifetime.
 * client-node 2.0 builds a new Agent for every request (kubernetes-client/javascript#2893), so
 * every API call paid a TCP connect and a TLS handshake, on both sides: most of the worker's
 * CPU in drift checks. Like the library's own websocket agent cache, the connection identity
 * (CA, client certificate) is the one read first.
 *
 * The library's authentication also re-reads the CA, certificate and key files and builds (and
 * here drops) an Agent for every request. So the headers it sets (a bearer token, basic auth,
 * impersonation) are kept and re-applied, and the full path runs again every `refreshMs`, so a
 * rotated token file or an expiring exec credential is picked up within that time, as client-go
 * re-reads token files once a minute.
 */
export function sharedDispatcherAuth(kc: Pick<KubeConfig, 'getName' | 'applySecurityAuthentication'>, refreshMs = 60_000, now: () => number = Date.now): SecurityAuthentication {
  let shared: ReturnType<RequestContext['getDispatcher']>;
  let authHeaders: [string, string][] | undefined;
  let readAt = 0;
  return {
    getName: () => kc.getName(),
    applySecurityAuthentication: async (ctx: RequestContext) => {
      if (shared && authHeaders && now() - readAt < refreshMs) {
        for (const [name, value] of authHeaders) ctx.setHeaderParam(name, value);
        ctx.setDispatcher(shared);
        return;
      }
      const before = { ...ctx.getHeaders() };
      await kc.applySecurityAuthentication(ctx);
      authHeaders = Object.entries(ctx.getHeaders()).filter(([name, value]) => before[name] !== value);
      readAt = now();
      shared ??= ctx.getDispatcher();
      if (shared) ctx.setDispatcher(shared);
    },
  };
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
          pre: async (ctx) => {
            ctx.setHeaderParam('User-Agent', 'caelus');
            if (actingAs) ctx.setHeaderParam('Impersonate-User', actingAs);
            ctx.setSignal(AbortSignal.timeout(timeoutMs));
            return ctx;
          },
          post: async (rsp) => rsp,
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
    try {
      return await this.call(`read ${describeRef(ref)}`, async () => {
        await this.requireNamespaceIfNamespaced(ref);
        return (await this.objects.read(header)) as unknown as T;
      });
    } catch (err) {
      if (err instanceof KubeError && err.notFound && err.reason !== 'UnknownKind') return undefined;
      throw err;
    }
  }

  /** The live object's metadata only (no spec, no status), or undefined when it does not exist. */
  async getMetadata(ref: ObjectRef): Promise<KubeObject | undefined> {
    const header = { apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, namespace: ref.namespace } };
    try {
      return await this.call(`read metadata of ${describeRef(ref)}`, async () => {
        await this.requireNamespaceIfNamespaced(ref);
        return { ...((await this.objects.readMetadata(header)) as unknown as KubeObject), apiVersion: ref.apiVersion, kind: ref.kind };
      });
    } catch (err) {
      if (err instanceof KubeError && err.notFound && err.reason !== 'UnknownKind') return undefined;
      throw err;
    }
  }

  /** The metadata of the matching objects (names, labels, resourceVersions), without their contents. */
  async listMetadata(apiVersion: string, kind: string, options: Omit<ListOptions, 'fieldSelector'> = {}): Promise<KubeObject[]> {
    return (await this.listAllMetadata(apiVersion, kind, options)).items;
  }

  /**
   * The metadata of every matching object, of all namespaces unless one is given, read in pages,
   * and the resourceVersion to start a watch from.
   */
  async listAllMetadata(
    apiVersion: string,
    kind: string,
    options: { namespace?: string; labelSelector?: string; pageSize?: number } = {},
  ): Promise<{ items: KubeObject[]; resourceVersion: string }> {
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
   * for each event in order. Resolves when the server ends the watch (its timeoutSeconds);
   * rejects with a KubeError on an HTTP error, a network failure, an idle stream or an ERROR
   * event (410 Expired: the caller lists again). `onEvent` may throw to end the watch.
   */
  async watchMetadata(apiVersion: string, kind: string, options: WatchMetadataOptions, onEvent: (event: WatchEvent) => void): Promise<void> {
    const action = `watch ${kind} metadata in all namespaces`;
    if (this.actingAs) throw new KubeError(`${action}: not available on an impersonating client`, undefined, undefined, false);
    const controller = new AbortController();
    const onAbort = () => controller.abort(options.signal?.reason);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    let idle: NodeJS.Timeout | undefined;
    const armIdle = () => {
      clearTimeout(idle);
      idle = setTimeout(() => controller.abort(new KubeError(`${action}: nothing received for ${Math.round(options.idleTimeoutMs / 1000)}s`, undefined, 'Timeout', true)), options.idleTimeoutMs);
      idle.unref();
    };
    try {
      armIdle();
      const query: Record<string, string> = {
        watch: '1',
        allowWatchBookmarks: 'true',
        resourceVersion: options.resourceVersion,
        timeoutSeconds: String(options.timeoutSeconds),
      };
      if (options.labelSelector) query.labelSelector = options.labelSelector;
      const ctx = await this.call(action, () => this.objects.metadataWatchRequest(apiVersion, kind, query));
      const response = await fetch(ctx.getUrl(), { method: 'GET', headers: ctx.getHeaders(), dispatcher: ctx.getDispatcher(), signal: controller.signal });
      if (response.status !== 200) {
        throw toKubeError(new ApiException(response.status, 'Unsuccessful HTTP Request', await response.text(), {}), action);
      }
      if (!response.body) return;
      const decoder = new TextDecoder();
      // One JSON event per line; a chunk may end inside a line, which is carried to the next.
      let carried = '';
      for await (const chunk of response.body) {
        armIdle();
        const lines = (carried + decoder.decode(chunk as Uint8Array, { stream: true })).split('\n');
        carried = lines.pop() ?? '';
        for (const raw of lines) {
          const line = raw.trim();
          if (!line) continue;
          const event = JSON.parse(line) as WatchEvent;
          if (event.type === 'ERROR') {
            const status = event.object as unknown as { code?: number; reason?: string; message?: string };
            throw new KubeError(`${action}: ${status.message ?? 'watch error'}`, status.code, status.reason, true);
          }
          onEvent(event);
        }
      }
    } catch (err) {
      if (controller.signal.aborted && controller.signal.reason instanceof KubeError) throw controller.signal.reason;
      throw err instanceof KubeError ? err : toKubeError(err, action);
    } finally {
      clearTimeout(idle);
      options.signal?.removeEventListener('abort', onAbort);
      controller.abort();
    }
  }

  async list<T extends KubeObject = KubeObject>(apiVersion: string, kind: string, options: ListOptions = {}): Promise<T[]> {
    const where = options.namespace ? ` in ${options.namespace}` : '';
    return this.call(`list ${kind}${where}`, async () => {
      const list = await this.objects.list(
        apiVersion,
        kind,
        options.namespace,
        undefined,
        undefined,
        undefined,
        options.fieldSelector,
        options.labelSelector,
      );
      // Items of a list response carry no apiVersion/kind of their own.
      return list.items.map((item) => ({ apiVersion, kind, ...item }) as unknown as T);
    });
  }

  /** Deletes an object; false when it was already gone. */
  async delete(ref: ObjectRef, options: { propagationPolicy?: 'Background' | 'Foreground' | 'Orphan' } = {}): Promise<boolean> {
    const spec = { apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, namespace: ref.namespace } };
    try {
      await this.call(`delete ${describeRef(ref)}`, async () => {
        await this.requireNamespaceIfNamespaced(ref);
        await this.objects.delete(spec, undefined, undefined, undefined, undefined, options.propagationPolicy ?? 'Background');
      });
      return true;
    } catch (err) {
      if (err instanceof KubeError && err.notFound && err.reason !== 'UnknownKind') return false;
      throw err;
    }
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
        throw new KubeError(
          `namespace ${name} still exists after ${Math.round(options.timeoutMs / 1000)}s`,
          undefined,
          'Timeout',
          true,
        );
      }
      await sleep(Math.min(interval, Math.max(0, deadline - Date.now())), options.signal);
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

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
