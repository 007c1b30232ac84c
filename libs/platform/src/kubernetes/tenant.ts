import { setTimeout as delay } from 'node:timers/promises';

import type { KubeClient } from './kube.client';
import { KubeError } from './kube.errors';
import type { KubeObject } from './kube.types';
import { LRUCache } from 'lru-cache';

/** The ServiceAccount every tenant namespace gets; helm, drift correction and uninstall act as it. */
export const TENANT_SERVICE_ACCOUNT = 'caelus-tenant';
/** The ClusterRole tenant namespaces are bound to (one RoleBinding each), unless configured otherwise. */
export const DEFAULT_TENANT_CLUSTER_ROLE = 'caelus-tenant';
export const TENANT_ROLE_BINDING = 'caelus-tenant';
/** ClusterRoles with this label set to "true" add their rules to the tenant ClusterRole (aggregation). */
export const TENANT_AGGREGATION_LABEL = 'caelus.dev/aggregate-to-tenant';

/** The user name of a namespace's tenant ServiceAccount, as `Impersonate-User` and `--kube-as-user` take it. */
export function tenantUser(namespace: string): string {
  return `system:serviceaccount:${namespace}:${TENANT_SERVICE_ACCOUNT}`;
}

const TENANT_VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];

/**
 * What a tenant release may do in its own namespace by default: the namespaced kinds a web app
 * is made of, and Secrets, where helm keeps its release records. Not here: Roles and
 * RoleBindings, NetworkPolicies, ResourceQuotas and LimitRanges (the namespace's guard rails,
 * which only the worker manages). charts/caelus/templates/rbac.yaml ships the same rules.
 */
export const DEFAULT_TENANT_RULES = [
  { apiGroups: [''], resources: ['configmaps', 'secrets', 'services', 'persistentvolumeclaims', 'serviceaccounts', 'pods'], verbs: TENANT_VERBS },
  { apiGroups: [''], resources: ['pods/log', 'events', 'endpoints'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: ['apps'], resources: ['deployments', 'statefulsets', 'replicasets', 'daemonsets'], verbs: TENANT_VERBS },
  { apiGroups: ['batch'], resources: ['jobs', 'cronjobs'], verbs: TENANT_VERBS },
  { apiGroups: ['networking.k8s.io'], resources: ['ingresses'], verbs: TENANT_VERBS },
  { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], verbs: TENANT_VERBS },
  { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: TENANT_VERBS },
] as const;

/**
 * The tenant ClusterRole as two objects: the role itself, which only aggregates (so operators
 * widen it by labelling a ClusterRole of their own), and the default rules, labelled for it.
 */
export function buildTenantClusterRoles(name = DEFAULT_TENANT_CLUSTER_ROLE): KubeObject[] {
  const labels = { 'app.kubernetes.io/managed-by': 'caelus' };
  return [
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name, labels },
      aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [TENANT_AGGREGATION_LABEL]: 'true' } }] },
      rules: [],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: `${name}-defaults`, labels: { ...labels, [TENANT_AGGREGATION_LABEL]: 'true' } },
      rules: DEFAULT_TENANT_RULES.map((r) => ({ apiGroups: [...r.apiGroups], resources: [...r.resources], verbs: [...r.verbs] })),
    },
  ];
}

/**
 * Creates the default tenant ClusterRole when none exists (a development cluster, where the
 * worker has an admin kubeconfig). Under the chart it exists already and is never touched:
 * the operator owns it. Returns whether it was created.
 */
export async function ensureTenantClusterRole(kube: Pick<KubeClient, 'get' | 'apply'>, name = DEFAULT_TENANT_CLUSTER_ROLE): Promise<boolean> {
  const existing = await kube.get({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', name });
  if (existing) return false;
  // The rules first: once the aggregating role exists, the next start takes both as done.
  for (const role of buildTenantClusterRoles(name).reverse()) await kube.apply(role);
  return true;
}

/** Impersonating clients, one per tenant namespace, all on the worker's connection (bounded). */
export class TenantClients {
  private readonly clients: LRUCache<string, KubeClient>;

  constructor(
    private readonly kube: KubeClient,
    max = 2000,
  ) {
    this.clients = new LRUCache({ max });
  }

  /** The client that acts as `namespace`'s tenant ServiceAccount. */
  for(namespace: string): KubeClient {
    let client = this.clients.get(namespace);
    if (!client) this.clients.set(namespace, (client = this.kube.impersonating(tenantUser(namespace))));
    return client;
  }
}

/**
 * Waits until the tenant identity may act in its namespace (it may list Secrets, where helm keeps
 * its release records): a RoleBinding just created, or a ClusterRole still being aggregated,
 * reaches the API server's authorizer a moment later, and a Forbidden then would fail the apply
 * for good. Retryable KubeError when it does not happen in time.
 */
export async function waitForTenantAccess(
  tenant: Pick<KubeClient, 'listSecretMetadata'>,
  namespace: string,
  options: { timeoutMs?: number; intervalMs?: number; signal?: AbortSignal } = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  for (;;) {
    try {
      await tenant.listSecretMetadata(namespace, 'owner=helm');
      return;
    } catch (err) {
      if (!(err instanceof KubeError) || err.status !== 403) throw err;
      if (Date.now() >= deadline) {
        throw new KubeError(`the tenant ServiceAccount of ${namespace} is still forbidden to act there: ${err.message}`, 403, 'Forbidden', true);
      }
    }
    await delay(options.intervalMs ?? 250, undefined, { signal: options.signal });
  }
}
