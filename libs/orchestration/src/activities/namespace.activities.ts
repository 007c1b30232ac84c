import { DeploymentStateService } from '../../../domain/src';
import { deleteNamespace, ensureNamespace, KubeClient, NamespaceCapabilities, TenantClients, TenantEgress, waitForTenantAccess } from '../../../platform/src';
import { classified } from './activity-errors';
import { withHeartbeat } from './heartbeat';

export interface NamespaceActivityDeps {
  kube: KubeClient;
  state: DeploymentStateService;
  namespaceDeleteTimeoutSeconds: number;
  /** Where tenant pods may connect to (config); the built-in defaults when left out. */
  tenantEgress?: TenantEgress;
  /** The ClusterRole each namespace's tenant ServiceAccount is bound to (default caelus-tenant). */
  tenantClusterRole?: string;
  /** When set, ensureNamespace returns once the tenant ServiceAccount may act in the namespace. */
  tenants?: TenantClients;
}

export function createNamespaceActivities({ kube, state, namespaceDeleteTimeoutSeconds, tenantEgress, tenantClusterRole, tenants }: NamespaceActivityDeps) {
  return {
    /** Namespace, quota, limits, network policy, Pod Security labels, tenant ServiceAccount and RoleBinding; idempotent. */
    async ensureNamespace(input: { deploymentId: string }): Promise<{ created: boolean }> {
      return classified('ensure namespace', async () => {
        const d = await state.load(input.deploymentId);
        const { quota, limits } = d.template.capabilities ?? {};
        const capabilities: NamespaceCapabilities = { ...(quota ? { quota } : {}), ...(limits ? { limits } : {}) };
        const res = await ensureNamespace(kube, {
          name: d.deploymentUid,
          deploymentUid: d.deploymentUid,
          labels: { 'caelus.dev/product': d.productName },
          capabilities,
          egress: tenantEgress,
          tenantClusterRole,
        });
        if (tenants) await waitForTenantAccess(tenants.for(d.deploymentUid), d.deploymentUid);
        return { created: res.created };
      });
    },

    /** Deletes the namespace and waits until it is gone. */
    async deleteNamespace(input: { deploymentId: string }): Promise<{ deleted: boolean; waitedMs: number }> {
      return classified('delete namespace', async () => {
        const d = await state.load(input.deploymentId);
        return withHeartbeat((beat, signal) =>
          deleteNamespace(kube, d.deploymentUid, {
            deploymentUid: d.deploymentUid,
            timeoutSeconds: namespaceDeleteTimeoutSeconds,
            signal,
            onProgress: (msg) => beat(`namespace terminating: ${msg}`),
          }),
        );
      });
    },
  };
}

export type NamespaceActivities = ReturnType<typeof createNamespaceActivities>;
