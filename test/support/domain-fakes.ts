import { randomUUID } from 'node:crypto';
import { QueryFailedError } from 'typeorm';
import { DeploymentEntity, DeploymentEventEntity, NewDeploymentEvent, ProductEntity, TemplateVersionEntity, UserEntity } from '../../libs/persistence/src';
import type { DeploymentSignal, DeploymentWorkflowPort, ManifestRenderer } from '../../libs/domain/src/ports';

/**
 * In-memory stand-ins for the repositories and ports, for unit specs of the domain services
 * (each side effect behind an injectable fake). Only the methods the services call are implemented.
 */
export class FakeStore {
  users = new Map<string, UserEntity>();
  products = new Map<string, ProductEntity>();
  templates = new Map<string, TemplateVersionEntity>();
  deployments = new Map<string, DeploymentEntity>();
  events: DeploymentEventEntity[] = [];
  private clock = Date.parse('2026-11-22T10:00:00Z');

  now(): Date {
    this.clock += 1000;
    return new Date(this.clock);
  }

  addUser(over: Partial<UserEntity> = {}): UserEntity {
    const u: UserEntity = {
      id: randomUUID(),
      email: 'ada@example.com',
      isAdmin: false,
      apiTokenHash: randomUUID(),
      maxDeployments: null,
      createdAt: this.now(),
      updatedAt: this.now(),
      deletedAt: null,
      ...over,
      ...(over.maxDeployments === undefined ? { maxDeployments: null } : {}),
    };
    this.users.set(u.id, u);
    return u;
  }

  addProduct(over: Partial<ProductEntity> = {}): ProductEntity {
    const p: ProductEntity = {
      id: randomUUID(),
      name: 'webapp',
      description: '',
      allowedDomainSuffixes: null,
      createdAt: this.now(),
      updatedAt: this.now(),
      deletedAt: null,
      ...over,
      ...(over.allowedDomainSuffixes === undefined ? { allowedDomainSuffixes: null } : {}),
    };
    this.products.set(p.id, p);
    return p;
  }

  addTemplate(productId: string, over: Partial<TemplateVersionEntity> = {}): TemplateVersionEntity {
    const t: TemplateVersionEntity = {
      id: randomUUID(),
      productId,
      version: '1.0.0',
      chartRef: 'oci://registry.example.com/charts/webapp',
      chartVersion: '1.0.0',
      chartDigest: `sha256:${'a'.repeat(64)}`,
      defaultValues: {},
      valuesSchema: null,
      capabilities: {},
      createdAt: this.now(),
      deletedAt: null,
      ...over,
    };
    this.templates.set(t.id, t);
    return t;
  }

  /** A snapshot of everything, to assert that a refused request wrote nothing. */
  snapshot(): string {
    return JSON.stringify({ d: [...this.deployments.values()], e: this.events, t: [...this.templates.values()], p: [...this.products.values()], u: [...this.users.values()] });
  }
}

const clone = <T>(v: T): T => (v === null || v === undefined ? v : structuredClone(v));

export function uniqueViolationError(constraint: string): QueryFailedError {
  return new QueryFailedError('INSERT', [], Object.assign(new Error(`duplicate key value violates unique constraint "${constraint}"`), { code: '23505', constraint }));
}

/** `db.transaction(fn)` runs fn with a dummy manager; a throw rolls the store back. */
export function fakeDataSource(store: FakeStore) {
  return {
    transaction: async <T>(fn: (m: unknown) => Promise<T>): Promise<T> => {
      const before = { d: new Map([...store.deployments].map(([k, v]) => [k, clone(v)])), e: [...store.events], t: new Map(store.templates), p: new Map(store.products), u: new Map(store.users) };
      try {
        return await fn({ fake: 'manager' });
      } catch (err) {
        store.deployments = before.d;
        store.events = before.e;
        store.templates = before.t;
        store.products = before.p;
        store.users = before.u;
        throw err;
      }
    },
  };
}

export function fakeUsersRepository(store: FakeStore) {
  return {
    findActiveById: async (id: string) => clone([...store.users.values()].find((u) => u.id === id && !u.deletedAt) ?? null),
    findActiveByIdForUpdate: async (id: string) => clone([...store.users.values()].find((u) => u.id === id && !u.deletedAt) ?? null),
    findActiveByIdForShare: async (id: string) => clone([...store.users.values()].find((u) => u.id === id && !u.deletedAt) ?? null),
    update: async (id: string, patch: Partial<UserEntity>) => {
      const u = store.users.get(id);
      if (u) store.users.set(id, { ...u, ...patch, updatedAt: store.now() });
    },
    findActiveByTokenHash: async (hash: string) => clone([...store.users.values()].find((u) => u.apiTokenHash === hash && !u.deletedAt) ?? null),
    insert: async (u: Pick<UserEntity, 'email' | 'isAdmin' | 'apiTokenHash'> & Partial<Pick<UserEntity, 'maxDeployments'>>) => {
      if ([...store.users.values()].some((x) => !x.deletedAt && x.email.toLowerCase() === u.email.toLowerCase())) throw uniqueViolationError('users_email_active_uq');
      return clone(store.addUser(u));
    },
    softDelete: async (id: string) => {
      const u = store.users.get(id);
      if (u) u.deletedAt = store.now();
    },
  };
}

export function fakeProductsRepository(store: FakeStore) {
  return {
    findActiveById: async (id: string) => clone([...store.products.values()].find((p) => p.id === id && !p.deletedAt) ?? null),
    findById: async (id: string) => clone(store.products.get(id) ?? null),
    insert: async (p: Pick<ProductEntity, 'name' | 'description'> & Partial<Pick<ProductEntity, 'allowedDomainSuffixes'>>) => {
      if ([...store.products.values()].some((x) => !x.deletedAt && x.name === p.name)) throw uniqueViolationError('products_name_active_uq');
      return clone(store.addProduct(p));
    },
    update: async (id: string, patch: Partial<Pick<ProductEntity, 'name' | 'description' | 'allowedDomainSuffixes'>>) => {
      if (patch.name && [...store.products.values()].some((x) => !x.deletedAt && x.id !== id && x.name === patch.name)) throw uniqueViolationError('products_name_active_uq');
      const p = store.products.get(id);
      if (p) store.products.set(id, { ...p, ...patch, updatedAt: store.now() });
    },
    softDelete: async (id: string) => {
      const p = store.products.get(id);
      if (p) store.products.set(id, { ...p, deletedAt: store.now() });
    },
  };
}

export function fakeTemplatesRepository(store: FakeStore) {
  return {
    findActiveById: async (id: string) => clone([...store.templates.values()].find((t) => t.id === id && !t.deletedAt) ?? null),
    findById: async (id: string) => clone(store.templates.get(id) ?? null),
    insert: async (t: Omit<TemplateVersionEntity, 'id' | 'createdAt' | 'deletedAt'>) => {
      if ([...store.templates.values()].some((x) => x.productId === t.productId && x.version === t.version)) throw uniqueViolationError('template_versions_product_version_uq');
      return clone(store.addTemplate(t.productId, t));
    },
    listByProduct: async (productId: string) => ({ items: [...store.templates.values()].filter((t) => t.productId === productId && !t.deletedAt), nextCursor: null }),
    softDelete: async (id: string) => {
      const t = store.templates.get(id);
      if (t) store.templates.set(id, { ...t, deletedAt: store.now() });
    },
  };
}

export function fakeDeploymentsRepository(store: FakeStore) {
  const find = async (id: string) => clone(store.deployments.get(id) ?? null);
  return {
    insert: async (d: Partial<DeploymentEntity>) => {
      const taken = [...store.deployments.values()].some((x) => x.status !== 'deleted' && x.domainName.toLowerCase() === d.domainName?.toLowerCase());
      if (taken) throw uniqueViolationError('deployments_domain_active_uq');
      const now = store.now();
      const row = {
        id: randomUUID(),
        appliedTemplateId: null,
        lastError: null,
        lastReconcileAt: null,
        lastDriftCheckAt: null,
        driftSummary: null,
        createdAt: now,
        updatedAt: now,
        deletedAt: null,
        ...clone(d),
      } as DeploymentEntity;
      store.deployments.set(row.id, row);
      return clone(row);
    },
    findById: find,
    findByIdForUpdate: find,
    update: async (id: string, patch: Partial<DeploymentEntity>) => {
      const d = store.deployments.get(id);
      if (d) store.deployments.set(id, { ...d, ...clone(patch), updatedAt: store.now() });
    },
    list: async (filter: { userId?: string; status?: string }) => ({
      items: [...store.deployments.values()].filter((d) => (!filter.userId || d.userId === filter.userId) && (filter.status ? d.status === filter.status : d.status !== 'deleted')).map(clone),
      nextCursor: null,
    }),
    countActiveByUser: async (userId: string) => [...store.deployments.values()].filter((d) => d.userId === userId && d.status !== 'deleted').length,
    countActiveByUsers: async (userIds: readonly string[]) =>
      new Map(userIds.map((id) => [id, [...store.deployments.values()].filter((d) => d.userId === id && d.status !== 'deleted').length] as const).filter(([, n]) => n > 0)),
    countActive: async () => [...store.deployments.values()].filter((d) => d.status !== 'deleted').length,
    lockGlobalQuota: async () => undefined,
    lockUserQuota: async () => undefined,
    countActiveByProduct: async (productId: string) => [...store.deployments.values()].filter((d) => d.productId === productId && d.status !== 'deleted').length,
  };
}

export function fakeEventsRepository(store: FakeStore) {
  let seq = 0;
  return {
    append: async (e: NewDeploymentEvent) => {
      const row = { id: String(++seq), data: {}, createdAt: store.now(), ...clone(e) };
      store.events.push(row);
      return clone(row);
    },
    list: async (deploymentId: string, limit: number, afterId?: string) => {
      const rows = store.events.filter((e) => e.deploymentId === deploymentId && (!afterId || Number(e.id) > Number(afterId)));
      const items = rows.slice(0, limit);
      return { items, nextCursor: rows.length > limit ? items[items.length - 1].id : null };
    },
  };
}

/** Records every wake; `failWith` makes the next wakes throw (Temporal down). */
export class FakeWorkflows implements DeploymentWorkflowPort {
  wakes: { deployment: { id: string; deploymentUid: string; userId: string }; signal: DeploymentSignal }[] = [];
  failWith: Error | null = null;

  async wake(deployment: { id: string; deploymentUid: string; userId: string }, signal: DeploymentSignal): Promise<void> {
    if (this.failWith) throw this.failWith;
    this.wakes.push({ deployment: { id: deployment.id, deploymentUid: deployment.deploymentUid, userId: deployment.userId }, signal });
  }

  describe(deploymentUid: string) {
    return { id: `deployment-${deploymentUid}`, uiUrl: `http://ui.test/namespaces/default/workflows/deployment-${deploymentUid}` };
  }
}

type RenderRequest = Parameters<ManifestRenderer['render']>[0];

/**
 * Renders a small manifest from the values, like `helm template` would: a ConfigMap with the
 * user's title, and a Secret when an adminPassword is set; every object labelled with the chart version.
 */
export class FakeRenderer implements ManifestRenderer {
  calls: RenderRequest[] = [];
  failWith: Error | null = null;

  async render(req: RenderRequest): Promise<string> {
    this.calls.push(structuredClone(req));
    if (this.failWith) throw this.failWith;
    const user = (req.values.user ?? {}) as Record<string, unknown>;
    const meta = (name: string) => `metadata:\n  name: ${name}\n  labels:\n    chart: "${req.chart.version}"\n`;
    const docs = [`apiVersion: v1\nkind: ConfigMap\n${meta(`${req.release}-config`)}data:\n  title: ${JSON.stringify(user.title ?? '')}\n`];
    if (typeof user.adminPassword === 'string') {
      docs.push(`apiVersion: v1\nkind: Secret\n${meta(`${req.release}-admin`)}data:\n  password: ${Buffer.from(user.adminPassword).toString('base64')}\n`);
    }
    return docs.map((d) => `---\n${d}`).join('');
  }
}
