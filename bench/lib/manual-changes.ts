/**
 * Manual changes to releases and the time until each is undone, as the scale and peer phases
 * measure drift correction: in release `ns` (its namespace), alternately the ConfigMap
 * `<ns>-config` deleted and the Deployment `<ns>` scaled away from the chart's replicas, each
 * read back from the API server every `pollMs` until it is as the chart says again.
 */
import { KubeConfig, KubernetesObjectApi, PatchStrategy } from '@kubernetes/client-node';
import { mapLimit, sleep, summarize } from './util';

export interface ManualChanges {
  kubeconfig: string;
  /** Replicas the chart gives the Deployment, and what the change scales it to. */
  replicas: { chart: number; changedTo: number };
  /** Between the start of one change and the next. */
  spacingMs: number;
  pollMs: number;
  timeoutMs: number;
}

export async function timeManualChanges(releases: string[], o: ManualChanges) {
  const kc = new KubeConfig();
  kc.loadFromFile(o.kubeconfig);
  const objects = KubernetesObjectApi.makeApiClient(kc);
  const results = await mapLimit(releases, releases.length, async (ns, i) => {
    await sleep(i * o.spacingMs);
    const kind = i % 2 === 0 ? 'configmap-deleted' : 'deployment-scaled';
    const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${ns}-config`, namespace: ns } };
    const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: ns, namespace: ns } };
    const t0 = Date.now();
    if (kind === 'configmap-deleted') await objects.delete(configMap);
    else await objects.patch({ ...deployment, spec: { replicas: o.replicas.changedTo } }, undefined, undefined, 'caelus-bench', undefined, PatchStrategy.MergePatch);
    for (;;) {
      const undone =
        kind === 'configmap-deleted'
          ? await objects.read(configMap).then(
              () => true,
              () => false,
            )
          : await objects.read(deployment).then(
              (dep) => (dep as { spec?: { replicas?: number } }).spec?.replicas === o.replicas.chart,
              () => false,
            );
      if (undone) return { kind, ms: Date.now() - t0 };
      if (Date.now() - t0 > o.timeoutMs) return { kind, ms: NaN };
      await sleep(o.pollMs);
    }
  });
  const ok = (k?: string) => results.filter((r) => Number.isFinite(r.ms) && (!k || r.kind === k)).map((r) => r.ms);
  return {
    changes: results.length,
    all_ms: summarize(ok()),
    configmap_deleted_ms: summarize(ok('configmap-deleted')),
    deployment_scaled_ms: summarize(ok('deployment-scaled')),
    not_corrected: results.filter((r) => !Number.isFinite(r.ms)).length,
  };
}
