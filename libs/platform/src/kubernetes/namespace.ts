import type { KubeClient } from './kube.client';
import { KubeError } from './kube.errors';
import type { KubeObject } from './kube.types';
import { DEFAULT_TENANT_CLUSTER_ROLE, TENANT_ROLE_BINDING, TENANT_SERVICE_ACCOUNT } from './tenant';

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'caelus';
export const DEPLOYMENT_UID_LABEL = 'caelus.dev/deployment-uid';

type Quantities = Record<string, string>;

/** What a template version may say about its namespace; anything left out takes the defaults below. */
export interface NamespaceCapabilities {
  /** ResourceQuota `spec.hard` entries, merged over DEFAULT_QUOTA. */
  quota?: Quantities;
  /** Per-container LimitRange values, each merged over DEFAULT_CONTAINER_LIMITS. */
  limits?: { default?: Quantities; defaultRequest?: Quantities; max?: Quantities; min?: Quantities };
}

export interface NamespaceSpec {
  /** Namespace name (= deployment uid = release name in Caelus). */
  name: string;
  deploymentUid: string;
  /** Extra labels, e.g. product or user ids for operators; cannot override the managed ones. */
  labels?: Record<string, string>;
  capabilities?: NamespaceCapabilities;
  /** Labels that select the ingress controller's namespace(s); pods there may reach ours. */
  ingressNamespaceSelector?: Record<string, string>;
  /** The ClusterRole the namespace's tenant ServiceAccount is bound to (default caelus-tenant). */
  tenantClusterRole?: string;
  /** Where the namespace's pods may connect to; the defaults below when left out. */
  egress?: TenantEgress;
}

/**
 * Egress of a tenant namespace: its own pods, DNS on port 53 and the internet, which is every
 * address but `denyCidrs`; `allowCidrs` reopens ranges inside a denied one.
 */
export interface TenantEgress {
  /** IPv4 and IPv6 network addresses (canonical CIDRs); DEFAULT_EGRESS_DENY_CIDRS when left out. */
  denyCidrs?: readonly string[];
  allowCidrs?: readonly string[];
}

export const DEFAULT_QUOTA: Readonly<Quantities> = {
  'requests.cpu': '2',
  'requests.memory': '4Gi',
  'limits.cpu': '4',
  'limits.memory': '8Gi',
  'requests.storage': '20Gi',
  persistentvolumeclaims: '5',
  pods: '20',
  services: '10',
  'services.loadbalancers': '0',
  'services.nodeports': '0',
  configmaps: '50',
  // Helm keeps one Secret per release revision (history max 10) besides the chart's own.
  secrets: '50',
};

export const DEFAULT_CONTAINER_LIMITS = {
  default: { cpu: '500m', memory: '512Mi' },
  defaultRequest: { cpu: '50m', memory: '64Mi' },
  max: { cpu: '2', memory: '4Gi' },
} as const;

export const DEFAULT_INGRESS_NAMESPACE_SELECTOR: Readonly<Record<string, string>> = {
  'kubernetes.io/metadata.name': 'ingress-nginx',
};

/**
 * Addresses no tenant reaches by default: the private, shared (carrier-grade NAT) and link-local
 * ranges hold the cluster's pods, services and nodes (so the Caelus namespace, the Kubernetes API
 * server, Temporal and Postgres), cloud metadata endpoints (169.254.169.254, fd00:ec2::254) and
 * most internal services; loopback and "this network" complete them.
 */
export const DEFAULT_EGRESS_DENY_CIDRS: readonly string[] = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '::1/128',
  'fc00::/7',
  'fe80::/10',
];

export const QUOTA_NAME = 'caelus-quota';
export const LIMIT_RANGE_NAME = 'caelus-limits';
export const NETWORK_POLICY_NAMES = {
  defaultDeny: 'caelus-default-deny-ingress',
  sameNamespace: 'caelus-allow-same-namespace',
  ingressController: 'caelus-allow-ingress-controller',
  defaultDenyEgress: 'caelus-default-deny-egress',
  egress: 'caelus-allow-egress',
} as const;

/** The Namespace and its guard rails, as plain objects (pure, so it is unit-tested as data). */
export function buildNamespaceObjects(spec: NamespaceSpec): KubeObject[] {
  const ns = spec.name;
  const managedLabels = { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [DEPLOYMENT_UID_LABEL]: spec.deploymentUid };
  const limits = spec.capabilities?.limits ?? {};

  const namespace: KubeObject = {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: ns,
      labels: {
        ...spec.labels,
        ...managedLabels,
        // Baseline is enforced so ordinary charts run; restricted violations surface as warnings and audit entries.
        'pod-security.kubernetes.io/enforce': 'baseline',
        'pod-security.kubernetes.io/enforce-version': 'latest',
        'pod-security.kubernetes.io/warn': 'restricted',
        'pod-security.kubernetes.io/warn-version': 'latest',
        'pod-security.kubernetes.io/audit': 'restricted',
        'pod-security.kubernetes.io/audit-version': 'latest',
      },
    },
  };

  const quota: KubeObject = {
    apiVersion: 'v1',
    kind: 'ResourceQuota',
    metadata: { name: QUOTA_NAME, namespace: ns, labels: managedLabels },
    spec: { hard: { ...DEFAULT_QUOTA, ...spec.capabilities?.quota } },
  };

  // A quota on requests/limits rejects pods that declare none; the LimitRange fills them in.
  const limitRange: KubeObject = {
    apiVersion: 'v1',
    kind: 'LimitRange',
    metadata: { name: LIMIT_RANGE_NAME, namespace: ns, labels: managedLabels },
    spec: {
      limits: [
        {
          type: 'Container',
          default: { ...DEFAULT_CONTAINER_LIMITS.default, ...limits.default },
          defaultRequest: { ...DEFAULT_CONTAINER_LIMITS.defaultRequest, ...limits.defaultRequest },
          max: { ...DEFAULT_CONTAINER_LIMITS.max, ...limits.max },
          ...(limits.min ? { min: limits.min } : {}),
        },
      ],
    },
  };

  const policy = (name: string, ingress: unknown[] | undefined): KubeObject => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name, namespace: ns, labels: managedLabels },
    spec: { podSelector: {}, policyTypes: ['Ingress'], ...(ingress ? { ingress } : {}) },
  });
  const egressPolicy = (name: string, egress: unknown[] | undefined): KubeObject => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name, namespace: ns, labels: managedLabels },
    spec: { podSelector: {}, policyTypes: ['Egress'], ...(egress ? { egress } : {}) },
  });

  // The identity helm and drift correction act as here: its rights end at this namespace.
  const serviceAccount: KubeObject = {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name: TENANT_SERVICE_ACCOUNT, namespace: ns, labels: managedLabels },
    automountServiceAccountToken: false,
  };
  const roleBinding: KubeObject = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: TENANT_ROLE_BINDING, namespace: ns, labels: managedLabels },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: spec.tenantClusterRole ?? DEFAULT_TENANT_CLUSTER_ROLE },
    subjects: [{ kind: 'ServiceAccount', name: TENANT_SERVICE_ACCOUNT, namespace: ns }],
  };

  return [
    namespace,
    quota,
    limitRange,
    // Policies are additive: deny everything, then allow our own pods and the ingress controller.
    policy(NETWORK_POLICY_NAMES.defaultDeny, undefined),
    policy(NETWORK_POLICY_NAMES.sameNamespace, [{ from: [{ podSelector: {} }] }]),
    policy(NETWORK_POLICY_NAMES.ingressController, [
      {
        from: [{ namespaceSelector: { matchLabels: spec.ingressNamespaceSelector ?? DEFAULT_INGRESS_NAMESPACE_SELECTOR } }],
      },
    ]),
    // Egress the same way: deny everything, then allow what buildEgressRules lists.
    egressPolicy(NETWORK_POLICY_NAMES.defaultDenyEgress, undefined),
    egressPolicy(NETWORK_POLICY_NAMES.egress, buildEgressRules(spec.egress)),
    serviceAccount,
    roleBinding,
  ];
}

/**
 * A NetworkPolicy only allows, so what is denied is what no rule matches: no rule selects another
 * namespace (the Caelus one included), and the internet rule leaves the denied ranges out. An
 * empty `to` would mean "anywhere", so a family whose whole range is denied gets no rule at all.
 */
export function buildEgressRules(egress: TenantEgress = {}): unknown[] {
  const deny = egress.denyCidrs ?? DEFAULT_EGRESS_DENY_CIDRS;
  const internet = [
    { all: '0.0.0.0/0', except: deny.filter((c) => !c.includes(':')) },
    { all: '::/0', except: deny.filter((c) => c.includes(':')) },
  ]
    .filter(({ except }) => !except.some((c) => c.endsWith('/0')))
    .map(({ all, except }) => ({ ipBlock: { cidr: all, ...(except.length ? { except: [...except] } : {}) } }));
  const allow = (egress.allowCidrs ?? []).map((cidr) => ({ ipBlock: { cidr } }));
  return [
    // The namespace's own pods (an app and its database).
    { to: [{ podSelector: {} }] },
    // DNS wherever the cluster's resolver is (CoreDNS in kube-system, or a node-local cache on a link-local address).
    {
      ports: [
        { protocol: 'UDP', port: 53 },
        { protocol: 'TCP', port: 53 },
      ],
    },
    ...(internet.length ? [{ to: internet }] : []),
    ...(allow.length ? [{ to: allow }] : []),
  ];
}

export interface EnsureNamespaceResult {
  namespace: string;
  /** True when the Namespace did not exist before this call. */
  created: boolean;
  /** "Kind name" of every object applied. */
  applied: string[];
}

/**
 * Creates or converges the deployment's namespace and its guard rails with server-side apply
 * (field manager `caelus`), so calling it again is harmless. Refuses namespaces that belong to
 * someone else, and reports a namespace still being deleted as a retryable conflict.
 */
export async function ensureNamespace(kube: Pick<KubeClient, 'getNamespace' | 'apply'>, spec: NamespaceSpec): Promise<EnsureNamespaceResult> {
  const existing = await kube.getNamespace(spec.name);
  if (existing) assertOwnedBy(existing, spec.deploymentUid);

  const [namespace, ...inside] = buildNamespaceObjects(spec);
  await kube.apply(namespace);
  await Promise.all(inside.map((obj) => kube.apply(obj)));
  return {
    namespace: spec.name,
    created: !existing,
    applied: [namespace, ...inside].map((obj) => `${obj.kind} ${obj.metadata.name}`),
  };
}

export interface DeleteNamespaceOptions {
  /** Refuse to delete unless the namespace carries this deployment uid label. */
  deploymentUid: string;
  timeoutSeconds: number;
  intervalMs?: number;
  signal?: AbortSignal;
  /** Human-readable progress, e.g. "Terminating: Some resources are remaining: pods has 1 resource instances". */
  onProgress?: (message: string) => void;
}

export interface DeleteNamespaceResult {
  /** False when the namespace was already gone. */
  deleted: boolean;
  waitedMs: number;
}

/** Deletes a Caelus-managed namespace and waits until it is gone (KubeError reason Timeout otherwise). */
export async function deleteNamespace(
  kube: Pick<KubeClient, 'getNamespace' | 'deleteNamespace' | 'waitForNamespaceGone'>,
  name: string,
  options: DeleteNamespaceOptions,
): Promise<DeleteNamespaceResult> {
  const started = Date.now();
  const existing = await kube.getNamespace(name);
  if (!existing) return { deleted: false, waitedMs: 0 };
  assertOwnedBy(existing, options.deploymentUid, { allowTerminating: true });

  await kube.deleteNamespace(name);
  let last: string | undefined;
  await kube.waitForNamespaceGone(name, {
    timeoutMs: options.timeoutSeconds * 1000,
    intervalMs: options.intervalMs,
    signal: options.signal,
    // Polled every second: report only when the reason changes.
    onProgress: (ns) => {
      const state = describeNamespaceState(ns);
      if (state !== last) options.onProgress?.((last = state));
    },
  });
  return { deleted: true, waitedMs: Date.now() - started };
}

/** One line saying why a namespace is still there, from its phase and True conditions. */
export function describeNamespaceState(ns: KubeObject): string {
  const status = (ns.status ?? {}) as { phase?: string; conditions?: { status?: string; message?: string }[] };
  const reasons = (status.conditions ?? []).filter((c) => c.status === 'True' && c.message).map((c) => c.message);
  return [status.phase ?? 'Unknown', ...reasons].join(': ');
}

function assertOwnedBy(ns: KubeObject, deploymentUid: string, opts: { allowTerminating?: boolean } = {}): void {
  const labels = ns.metadata.labels ?? {};
  if (labels[MANAGED_BY_LABEL] !== MANAGED_BY_VALUE || labels[DEPLOYMENT_UID_LABEL] !== deploymentUid) {
    // Never adopt or delete a namespace Caelus did not create for this deployment.
    throw new KubeError(`namespace ${ns.metadata.name} exists and is not managed by Caelus for deployment ${deploymentUid}`, 409, 'AlreadyExists', false);
  }
  const phase = (ns.status as { phase?: string } | undefined)?.phase;
  if (phase === 'Terminating' && !opts.allowTerminating) {
    throw new KubeError(`namespace ${ns.metadata.name} is still being deleted`, 409, 'NamespaceTerminating', true);
  }
}
