import { ApiException, HttpMethod, KubernetesObjectApi } from '@kubernetes/client-node';
import type { KubernetesObject, RequestContext, ResponseContext } from '@kubernetes/client-node';

// Recheck this file on every @kubernetes/client-node upgrade: it overrides a protected method
// (processResponse) and builds requests with the library's request context.

/** One resource of a group version, as the API server's discovery lists it. */
export interface ApiResource {
  name: string;
  kind: string;
  namespaced: boolean;
}

const METADATA_ONLY = 'application/json;g=meta.k8s.io;v=v1';

/**
 * The generic object API, changed in two ways: responses stay plain wire JSON (the stock
 * client turns them into model classes with Date fields and drops unknown fields, which
 * would distort drift comparison), and discovery is exposed to know if a kind is namespaced.
 */
export class RawObjectApi extends KubernetesObjectApi {
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
   * An authenticated request for a watch of whole objects of a kind in one namespace (`query`
   * carries the field selector that narrows it to one object). Like the metadata watch, it
   * bypasses the promise middleware: a watch outlives the per-request timeout.
   */
  async objectWatchRequest(apiVersion: string, kind: string, namespace: string, query: Record<string, string>): Promise<RequestContext> {
    const ctx = this.configuration.baseServer.makeRequestContext(await this.specUriPath({ apiVersion, kind, metadata: { namespace } }, 'list'), HttpMethod.GET);
    ctx.setHeaderParam('Accept', 'application/json');
    for (const [name, value] of Object.entries(query)) if (value) ctx.setQueryParam(name, value);
    ctx.setHeaderParam('User-Agent', 'caelus');
    await this.configuration.authMethods.default?.applySecurityAuthentication(ctx);
    return ctx;
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
