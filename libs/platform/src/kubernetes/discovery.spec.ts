import { DiscoveryCache } from './discovery';
import type { ApiResource } from './kube.client';

class FakeDiscovery {
  calls: string[] = [];
  served: Record<string, ApiResource[]> = {
    v1: [
      { name: 'configmaps', kind: 'ConfigMap', namespaced: true },
      { name: 'namespaces', kind: 'Namespace', namespaced: false },
      { name: 'pods/log', kind: 'Pod', namespaced: true },
    ],
    'rbac.authorization.k8s.io/v1': [{ name: 'clusterroles', kind: 'ClusterRole', namespaced: false }],
  };
  failNext = false;

  async apiResources(apiVersion: string): Promise<ApiResource[] | undefined> {
    this.calls.push(apiVersion);
    if (this.failNext) {
      this.failNext = false;
      throw new Error('connection refused');
    }
    return this.served[apiVersion];
  }
}

describe(DiscoveryCache.name, () => {
  let kube: FakeDiscovery;
  let now: number;
  let sut: DiscoveryCache;

  beforeEach(() => {
    kube = new FakeDiscovery();
    now = 1_000_000;
    sut = new DiscoveryCache(kube, { ttlMs: 60_000, now: () => now });
  });

  it('answers from discovery: namespaced, cluster-scoped, or not served', async () => {
    await expect(sut.isNamespaced('v1', 'ConfigMap')).resolves.toBe(true);
    await expect(sut.isNamespaced('v1', 'Namespace')).resolves.toBe(false);
    await expect(sut.isNamespaced('rbac.authorization.k8s.io/v1', 'ClusterRole')).resolves.toBe(false);
    await expect(sut.isNamespaced('example.com/v1', 'Widget')).resolves.toBeUndefined();
  });

  it('reads a group version once while it is fresh, and again after its ttl', async () => {
    await sut.isNamespaced('v1', 'ConfigMap');
    await sut.isNamespaced('v1', 'Namespace');
    expect(kube.calls).toEqual(['v1']);
    now += 61_000;
    await sut.isNamespaced('v1', 'ConfigMap');
    expect(kube.calls).toEqual(['v1', 'v1']);
  });

  it('shares one request between concurrent lookups', async () => {
    await Promise.all([sut.isNamespaced('v1', 'ConfigMap'), sut.isNamespaced('v1', 'Namespace'), sut.isNamespaced('v1', 'ConfigMap')]);
    expect(kube.calls).toEqual(['v1']);
  });

  it('looks a missing kind up again (a CRD installed since), but not more than once per few seconds', async () => {
    await expect(sut.isNamespaced('v1', 'Widget')).resolves.toBeUndefined();
    await expect(sut.isNamespaced('v1', 'Widget')).resolves.toBeUndefined();
    expect(kube.calls).toEqual(['v1']);
    now += 6_000;
    kube.served.v1 = [...kube.served.v1, { name: 'widgets', kind: 'Widget', namespaced: true }];
    await expect(sut.isNamespaced('v1', 'Widget')).resolves.toBe(true);
    expect(kube.calls).toEqual(['v1', 'v1']);
  });

  it('ignores subresources, whose kind is their parent’s', async () => {
    kube.served.v1 = [{ name: 'pods/log', kind: 'Pod', namespaced: true }];
    await expect(sut.isNamespaced('v1', 'Pod')).resolves.toBeUndefined();
  });

  it('does not cache a failed read', async () => {
    kube.failNext = true;
    await expect(sut.isNamespaced('v1', 'ConfigMap')).rejects.toThrow('connection refused');
    await expect(sut.isNamespaced('v1', 'ConfigMap')).resolves.toBe(true);
  });
});
