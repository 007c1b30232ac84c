import type { ApiResource, KubeClient } from './kube.client';

const MISS_REREAD_MS = 5_000;

export type DiscoveryKube = Pick<KubeClient, 'apiResources'>;

export interface DiscoveryCacheOptions {
  /** How long a group version's resource list is trusted (default 10 minutes). */
  ttlMs?: number;
  now?: () => number;
}

/**
 * Whether a kind is namespaced, as the API server's discovery says, cached per group version.
 * A kind missing from a cached list is looked up once more before it is called unknown, so a
 * CRD installed since the last read is seen at once; entries also expire after `ttlMs`, so a
 * kind whose scope changed (a CRD deleted and recreated) is not trusted for ever. Concurrent
 * lookups of one group version share one request.
 */
export class DiscoveryCache {
  private readonly entries = new Map<string, { at: number; resources: Promise<ApiResource[] | undefined> }>();
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(
    private readonly kube: DiscoveryKube,
    options: DiscoveryCacheOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 10 * 60_000;
    this.now = options.now ?? Date.now;
  }

  /** True or false from discovery; undefined when the API server does not serve this kind at all. */
  async isNamespaced(apiVersion: string, kind: string): Promise<boolean | undefined> {
    const cached = this.entries.get(apiVersion);
    const fresh = cached && this.now() - cached.at < this.ttlMs;
    if (fresh) {
      const found = (await cached.resources)?.find((r) => r.kind === kind && !r.name.includes('/'));
      // A miss reads again, but not more than once per few seconds: a manifest full of unknown
      // kinds must not turn into a request per object.
      if (found || this.now() - cached.at < MISS_REREAD_MS) return found?.namespaced;
    }
    const found = (await this.read(apiVersion))?.find((r) => r.kind === kind && !r.name.includes('/'));
    return found?.namespaced;
  }

  private read(apiVersion: string): Promise<ApiResource[] | undefined> {
    const resources = this.kube.apiResources(apiVersion);
    const entry = { at: this.now(), resources };
    this.entries.set(apiVersion, entry);
    // A failed read is not cached: the next lookup asks again.
    resources.catch(() => {
      if (this.entries.get(apiVersion) === entry) this.entries.delete(apiVersion);
    });
    return resources;
  }
}
