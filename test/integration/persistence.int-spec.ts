// Repositories and the migration on the real Postgres of the local stack: the schema goes
// down and up cleanly, and the database itself enforces the data model's invariants.
import { randomBytes, randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { DataSource, EntityManager, QueryFailedError } from 'typeorm';
import {
  createDataSource,
  DeploymentEntity,
  DeploymentEventsRepository,
  DeploymentsRepository,
  ProductsRepository,
  TemplatesRepository,
  uniqueViolation,
  UsersRepository,
} from '../../libs/persistence/src';
import { MIGRATIONS } from '../../migrations';
import { migrate } from '../../scripts/migrate';

const TEST_DB = process.env.TEST_DATABASE_URL ?? '';
const tag = randomBytes(3).toString('hex');
const name = (prefix: string) => `${prefix}-${tag}-${randomBytes(2).toString('hex')}`;

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** A promise (`opened`) that resolves once `open` is called: lets a test hold a transaction open. */
function gate(): { open: () => void; opened: Promise<void> } {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { open, opened };
}

/** The Postgres error code of a failed write (23505 unique, 23503 FK, 23514 check). */
async function pgCode(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => {
      throw new Error('expected the database to refuse the write');
    },
    (e: unknown) => e,
  );
  const code = (err as QueryFailedError & { driverError?: { code?: string } }).driverError?.code ?? (err as { code?: string }).code;
  if (!code) throw err;
  return code;
}

describe('persistence', () => {
  beforeAll(() => {
    if (!TEST_DB) throw new Error('TEST_DATABASE_URL is not set (the jest global setup sets it)');
  });

  describe('migrations', () => {
    const dbName = `caelus_migrate_${tag}`;
    const url = withDatabase(TEST_DB, dbName);
    const admin = () => new Client({ connectionString: withDatabase(TEST_DB, 'postgres') });
    const quiet = () => undefined;

    /** Tables, columns, indexes and constraints: enough to tell two schemas apart. */
    async function schema(): Promise<{ tables: string[]; dump: string }> {
      const c = new Client({ connectionString: url });
      await c.connect();
      try {
        const tables = (await c.query(`select tablename from pg_tables where schemaname = 'public' order by 1`)).rows.map((r) => r.tablename);
        const cols = await c.query(`select table_name, column_name, data_type, is_nullable, column_default from information_schema.columns where table_schema = 'public' order by 1, 2`);
        const idx = await c.query(`select indexname, indexdef from pg_indexes where schemaname = 'public' order by 1`);
        const cons = await c.query(`select conname, pg_get_constraintdef(oid) as def from pg_constraint where connamespace = 'public'::regnamespace order by 1`);
        return { tables, dump: JSON.stringify([cols.rows, idx.rows, cons.rows]) };
      } finally {
        await c.end();
      }
    }

    beforeAll(async () => {
      const c = admin();
      await c.connect();
      await c.query(`create database ${dbName}`);
      await c.end();
    });

    afterAll(async () => {
      const c = admin();
      await c.connect();
      await c.query(`drop database if exists ${dbName} with (force)`);
      await c.end();
    });

    it('goes up, down to nothing and up again to the same schema', async () => {
      await migrate('up', url, quiet);
      const first = await schema();
      expect(first.tables).toEqual([
        'deployment_events',
        'deployments',
        'products',
        'rollout_events',
        'rollout_members',
        'rollouts',
        'supervisor_sweeps',
        'template_versions',
        'typeorm_migrations',
        'users',
      ]);

      await migrate('up', url, quiet);
      expect((await schema()).dump).toBe(first.dump);

      // `down` reverts the last migration: revert each of them.
      for (let i = 0; i < MIGRATIONS.length; i++) await migrate('down', url, quiet);
      expect((await schema()).tables).toEqual(['typeorm_migrations']);

      await migrate('up', url, quiet);
      const again = await schema();
      expect(again.tables).toEqual(first.tables);
      expect(again.dump).toBe(first.dump);
    });

    it('never synchronizes the schema from the entities', () => {
      const ds = createDataSource(url);
      expect(ds.options.synchronize).toBe(false);
      expect(ds.options.migrationsRun).toBe(false);
    });
  });

  describe('invariants and repositories', () => {
    let db: DataSource;
    let users: UsersRepository;
    let products: ProductsRepository;
    let templates: TemplatesRepository;
    let deployments: DeploymentsRepository;
    let events: DeploymentEventsRepository;

    const user = (email = `${name('u')}@example.com`) => users.insert({ email, isAdmin: false, apiTokenHash: randomBytes(32).toString('hex') });
    /** Takes `lock` in a transaction and holds it until `release()`, then runs `then` and commits (`done`). */
    const holdOpen = (lock: (m: EntityManager) => Promise<unknown>, then: (m: EntityManager) => Promise<unknown>) => {
      const held = gate();
      const released = gate();
      const done = db.transaction(async (m) => {
        await lock(m);
        held.open();
        await released.opened;
        await then(m);
      });
      return { locked: held.opened, release: released.open, done };
    };
    const product = (n = name('p')) => products.insert({ name: n, description: '' });
    const template = (productId: string, version = '1.0.0') =>
      templates.insert({ productId, version, chartRef: 'oci://r.example/webapp', chartVersion: version, chartDigest: null, defaultValues: {}, valuesSchema: null, capabilities: {} });
    async function deployment(over: Partial<DeploymentEntity> = {}): Promise<DeploymentEntity> {
      const u = over.userId ? { id: over.userId } : await user();
      const p = over.productId ? { id: over.productId } : await product();
      const t = over.desiredTemplateId ? { id: over.desiredTemplateId } : await template(p.id);
      return deployments.insert({ userId: u.id, productId: p.id, desiredTemplateId: t.id, deploymentUid: name('d'), domainName: `${name('d')}.example.com`, userValues: {}, ...over });
    }

    beforeAll(async () => {
      // The refused writes are the point here; TypeORM need not log each one.
      db = await createDataSource(TEST_DB, { logging: false }).initialize();
      users = new UsersRepository(db);
      products = new ProductsRepository(db);
      templates = new TemplatesRepository(db);
      deployments = new DeploymentsRepository(db);
      events = new DeploymentEventsRepository(db);
    });

    afterAll(async () => {
      // Everything this suite wrote carries its tag.
      await db.query(`delete from deployments where deployment_uid like $1`, [`%-${tag}-%`]);
      await db.query(`delete from deployments where user_id in (select id from users where email like $1)`, [`%-${tag}-%`]);
      await db.query(`delete from template_versions where product_id in (select id from products where name like $1)`, [`%-${tag}-%`]);
      await db.query(`delete from products where name like $1`, [`%-${tag}-%`]);
      await db.query(`delete from users where email like $1`, [`%-${tag}-%`]);
      await db.destroy();
    });

    describe('users', () => {
      it('keeps e-mails unique among active users, case-insensitively', async () => {
        const email = `${name('ada')}@example.com`;
        const first = await user(email);
        const err = await user(email.toUpperCase()).catch((e: unknown) => e);
        expect(uniqueViolation(err)).toBe('users_email_active_uq');
        await users.softDelete(first.id);
        expect((await user(email)).id).not.toBe(first.id);
      });

      it('keeps API token hashes unique and finds active users by them', async () => {
        const u = await user();
        expect(await pgCode(users.insert({ email: `${name('x')}@example.com`, isAdmin: false, apiTokenHash: u.apiTokenHash }))).toBe('23505');
        expect((await users.findActiveByTokenHash(u.apiTokenHash))?.id).toBe(u.id);
        await users.softDelete(u.id);
        expect(await users.findActiveByTokenHash(u.apiTokenHash)).toBeNull();
        expect(await users.findActiveById(u.id)).toBeNull();
      });

      it('pages through users without repeats or gaps', async () => {
        const mine = new Set<string>();
        for (let i = 0; i < 5; i++) mine.add((await user()).id);
        const seen: string[] = [];
        let cursor: string | undefined;
        for (let guard = 0; guard < 10_000; guard++) {
          const page = await users.list({ limit: 2, cursor });
          seen.push(...page.items.map((u) => u.id));
          if (!page.nextCursor) break;
          cursor = page.nextCursor;
        }
        expect(new Set(seen).size).toBe(seen.length);
        for (const id of mine) expect(seen).toContain(id);
      });
    });

    describe('products and templates', () => {
      it('keeps product names unique among active products', async () => {
        const n = name('prod');
        const p = await product(n);
        expect(uniqueViolation(await product(n).catch((e: unknown) => e))).toBe('products_name_active_uq');
        await products.softDelete(p.id);
        expect((await product(n)).name).toBe(n);
      });

      it('checks the product name is a DNS label', async () => {
        expect(await pgCode(product(`Upper-${tag}`))).toBe('23514');
        expect(await pgCode(product(`x-${'y'.repeat(45)}`))).toBe('23514');
      });

      it('keeps (product, version) unique, even after a soft delete (versions are immutable)', async () => {
        const p = await product();
        const t = await template(p.id, '1.0.0');
        expect(uniqueViolation(await template(p.id, '1.0.0').catch((e: unknown) => e))).toBe('template_versions_product_version_uq');
        await templates.softDelete(t.id);
        expect(await pgCode(template(p.id, '1.0.0'))).toBe('23505');
        expect((await template((await product()).id, '1.0.0')).version).toBe('1.0.0');
        expect(await templates.findActiveById(t.id)).toBeNull();
        expect((await templates.findById(t.id))?.deletedAt).not.toBeNull();
      });

      it('refuses a template of a missing product and a malformed digest', async () => {
        expect(await pgCode(template(randomUUID()))).toBe('23503');
        const p = await product();
        expect(
          await pgCode(
            templates.insert({ productId: p.id, version: '1.0.0', chartRef: 'x', chartVersion: '1.0.0', chartDigest: 'sha256:short', defaultValues: {}, valuesSchema: null, capabilities: {} }),
          ),
        ).toBe('23514');
      });

      it('does not let a product with templates be hard-deleted', async () => {
        const p = await product();
        await template(p.id);
        expect(await pgCode(db.query(`delete from products where id = $1`, [p.id]))).toBe('23503');
      });

      it('lists the templates of one product, oldest first, in pages', async () => {
        const p = await product();
        for (const v of ['1.0.0', '1.1.0', '2.0.0']) await template(p.id, v);
        const first = await templates.listByProduct(p.id, { limit: 2 });
        const second = await templates.listByProduct(p.id, { limit: 2, cursor: first.nextCursor! });
        expect([...first.items, ...second.items].map((t) => t.version)).toEqual(['1.0.0', '1.1.0', '2.0.0']);
        expect(second.nextCursor).toBeNull();
        expect(await templates.countActiveByProduct(p.id)).toBe(3);
      });
    });

    describe('deployments', () => {
      it('keeps deployment_uid unique, also against deleted deployments', async () => {
        const d = await deployment();
        await deployments.update(d.id, { status: 'deleted', deletedAt: new Date() });
        expect(uniqueViolation(await deployment({ deploymentUid: d.deploymentUid }).catch((e: unknown) => e))).toBe('deployments_deployment_uid_uq');
      });

      it('checks deployment_uid is a DNS label of at most 53 characters', async () => {
        expect(await pgCode(deployment({ deploymentUid: `Bad_${tag}` }))).toBe('23514');
        expect(await pgCode(deployment({ deploymentUid: `x${tag}${'y'.repeat(60)}` }))).toBe('23514');
      });

      it('keeps domains unique among deployments that are not deleted, case-insensitively', async () => {
        const domain = `${name('app')}.example.com`;
        const d = await deployment({ domainName: domain });
        expect(uniqueViolation(await deployment({ domainName: domain.toUpperCase() }).catch((e: unknown) => e))).toBe('deployments_domain_active_uq');
        // Still reserved while the cluster side is being torn down.
        await deployments.update(d.id, { status: 'deleting', deletedAt: new Date() });
        expect(await pgCode(deployment({ domainName: domain }))).toBe('23505');
        await deployments.update(d.id, { status: 'deleted' });
        expect((await deployment({ domainName: domain })).domainName).toBe(domain);
      });

      it('refuses unknown users, products and templates (foreign keys)', async () => {
        const base = await deployment();
        expect(await pgCode(deployment({ userId: randomUUID(), productId: base.productId, desiredTemplateId: base.desiredTemplateId }))).toBe('23503');
        expect(await pgCode(deployment({ userId: base.userId, productId: randomUUID(), desiredTemplateId: base.desiredTemplateId }))).toBe('23503');
        expect(await pgCode(deployment({ userId: base.userId, productId: base.productId, desiredTemplateId: randomUUID() }))).toBe('23503');
        expect(await pgCode(deployments.update(base.id, { appliedTemplateId: randomUUID() }))).toBe('23503');
        expect(await pgCode(db.query(`delete from template_versions where id = $1`, [base.desiredTemplateId]))).toBe('23503');
        expect(await pgCode(db.query(`delete from users where id = $1`, [base.userId]))).toBe('23503');
      });

      it('checks status, generations and that "deleted" comes with deleted_at', async () => {
        const d = await deployment();
        expect(await pgCode(db.query(`update deployments set status = 'exploded' where id = $1`, [d.id]))).toBe('23514');
        expect(await pgCode(db.query(`update deployments set status = 'deleted', deleted_at = null where id = $1`, [d.id]))).toBe('23514');
        expect(await pgCode(db.query(`update deployments set generation = 0 where id = $1`, [d.id]))).toBe('23514');
        expect(await pgCode(db.query(`update deployments set observed_generation = generation + 1 where id = $1`, [d.id]))).toBe('23514');
        for (const status of ['provisioning', 'ready', 'upgrading', 'degraded', 'error', 'deleting'] as const) await deployments.update(d.id, { status });
        expect((await deployments.findById(d.id))?.status).toBe('deleting');
      });

      it('writes an observation only for the current generation and never after deletion', async () => {
        const d = await deployment();
        expect(d).toMatchObject({ generation: 1, observedGeneration: 0, status: 'provisioning' });
        expect(await deployments.writeObserved(d.id, 1, { status: 'ready', observedGeneration: 1, appliedTemplateId: d.desiredTemplateId, lastReconcileAt: new Date() })).toBe(true);
        await deployments.update(d.id, { generation: 2, status: 'upgrading' });
        // A slow reconcile of generation 1 finishing late must not overwrite generation 2's state.
        expect(await deployments.writeObserved(d.id, 1, { status: 'error', lastError: 'stale' })).toBe(false);
        expect(await deployments.findById(d.id)).toMatchObject({ status: 'upgrading', lastError: null, observedGeneration: 1 });
        expect(await deployments.writeObserved(d.id, 2, { status: 'ready', observedGeneration: 2 })).toBe(true);
        await deployments.update(d.id, { status: 'deleted', deletedAt: new Date() });
        expect(await deployments.writeObserved(d.id, 2, { status: 'ready' })).toBe(false);
        expect((await deployments.findById(d.id))?.status).toBe('deleted');
      });

      it('reads the desired state in one query with the product name, and writes drift checks guarded like observations', async () => {
        const d = await deployment();
        const product = await db.query(`select name from products where id = $1`, [d.productId]);
        await expect(deployments.findDesired(d.id)).resolves.toEqual({
          id: d.id,
          userId: d.userId,
          productId: d.productId,
          productName: product[0].name,
          deploymentUid: d.deploymentUid,
          desiredTemplateId: d.desiredTemplateId,
          appliedTemplateId: null,
          generation: 1,
          observedGeneration: 0,
          status: 'provisioning',
          suspendedAt: null,
          lastDriftCheckAt: null,
        });
        await expect(deployments.findDesired(randomUUID())).resolves.toBeNull();

        const summary = { checkedAt: '2026-11-29T10:00:00.000Z', drifted: false, objects: [] };
        const updatedAt = (await deployments.findById(d.id))!.updatedAt;
        expect(await deployments.writeDriftCheck(d.id, 1, new Date(summary.checkedAt), summary)).toBe(true);
        expect(await deployments.findById(d.id)).toMatchObject({ lastDriftCheckAt: new Date(summary.checkedAt), driftSummary: summary, status: 'provisioning' });
        // The desired state carries it: a release backend's own drift reports since then are new.
        await expect(deployments.findDesired(d.id)).resolves.toMatchObject({ lastDriftCheckAt: new Date(summary.checkedAt) });
        // Observations (a drift check, a health assessment) leave updatedAt: it says when the desired state or the status changed.
        expect(await deployments.writeHealth(d.id, 1, { status: 'healthy', reason: null, generation: 1, since: '2026-11-29T10:00:01.000Z', objects: [] })).toBe(true);
        expect((await deployments.findById(d.id))!.updatedAt).toEqual(updatedAt);
        // Not for another generation, not once the deletion started.
        expect(await deployments.writeDriftCheck(d.id, 2, new Date(), summary)).toBe(false);
        await deployments.update(d.id, { status: 'deleting', deletedAt: new Date() });
        expect(await deployments.writeDriftCheck(d.id, 1, new Date(), { ...summary, drifted: true })).toBe(false);
        expect((await deployments.findById(d.id))?.driftSummary).toEqual(summary);
        await expect(deployments.findDesired(d.id)).resolves.toMatchObject({ status: 'deleting' });
      });

      it('keeps a deletion once it started: only deleting observations land', async () => {
        const d = await deployment();
        // The delete commits at generation 2 while a reconcile that read generation 2 runs helm.
        await deployments.update(d.id, { generation: 2, status: 'deleting', deletedAt: new Date() });
        expect(await deployments.writeObserved(d.id, 2, { status: 'ready', observedGeneration: 2, lastError: null })).toBe(false);
        expect(await deployments.writeObserved(d.id, 2, { lastDriftCheckAt: new Date() })).toBe(false);
        expect(await deployments.findById(d.id)).toMatchObject({ status: 'deleting', observedGeneration: 0 });
        // The teardown's own failure record still lands.
        expect(await deployments.writeObserved(d.id, 2, { status: 'deleting', lastError: 'helm uninstall: timed out' })).toBe(true);
        expect(await deployments.findById(d.id)).toMatchObject({ status: 'deleting', lastError: 'helm uninstall: timed out' });
      });

      it('marks a finished teardown deleted, its observed generation caught up with the desired one', async () => {
        const d = await deployment();
        await deployments.update(d.id, { generation: 3, status: 'deleting', deletedAt: new Date() });
        await deployments.markDeleted(d.id);
        expect(await deployments.findById(d.id)).toMatchObject({ status: 'deleted', generation: 3, observedGeneration: 3 });
      });

      it('locks a row for update inside a transaction, so writers queue', async () => {
        const d = await deployment();
        const order: string[] = [];
        const first = holdOpen(
          (m) => deployments.findByIdForUpdate(d.id, m),
          async (m) => {
            order.push('first');
            await deployments.update(d.id, { generation: 2 }, m);
          },
        );
        await first.locked;
        const second = db.transaction(async (m) => {
          const row = await deployments.findByIdForUpdate(d.id, m);
          order.push(`second saw ${row?.generation}`);
        });
        await new Promise((r) => setTimeout(r, 200));
        expect(order).toEqual([]);
        first.release();
        await Promise.all([first.done, second]);
        expect(order).toEqual(['first', 'second saw 2']);
      });

      it("share-locks a user for creations that run side by side, queues a change to the user behind them, and queues one user's limited creations on an advisory lock", async () => {
        const u = await user();
        const { open: release, opened: holds } = gate();
        const { open: sharedTwice, opened: bothShared } = gate();
        let sharers = 0;
        const creation = () =>
          db.transaction(async (m) => {
            expect(await users.findActiveByIdForShare(u.id, m)).toMatchObject({ id: u.id });
            if (++sharers === 2) sharedTwice();
            await holds;
          });
        const creations = [creation(), creation()];
        // Both hold the share lock at once: a user without a limit creates in parallel.
        await bothShared;
        const changed: string[] = [];
        const change = db.transaction(async (m) => {
          await users.findActiveByIdForUpdate(u.id, m);
          changed.push('locked for update');
        });
        await new Promise((r) => setTimeout(r, 200));
        expect(changed).toEqual([]);
        release();
        await Promise.all([...creations, change]);
        expect(changed).toEqual(['locked for update']);

        // The per-user advisory lock: a second limited creation waits for the first to commit.
        const order: string[] = [];
        const first = holdOpen(
          (m) => deployments.lockUserQuota(u.id, m),
          async () => void order.push('first'),
        );
        await first.locked;
        const other = await user();
        const otherUser = db.transaction(async (m) => {
          await deployments.lockUserQuota(other.id, m);
          order.push('other user');
        });
        const second = db.transaction(async (m) => {
          await deployments.lockUserQuota(u.id, m);
          order.push('second');
        });
        await otherUser;
        await new Promise((r) => setTimeout(r, 200));
        expect(order).toEqual(['other user']);
        first.release();
        await Promise.all([first.done, second]);
        expect(order).toEqual(['other user', 'first', 'second']);
      });

      it('lists by user and status in pages and counts what is still active', async () => {
        const u = await user();
        const p = await product();
        const t = await template(p.id);
        const rows: DeploymentEntity[] = [];
        for (let i = 0; i < 5; i++) rows.push(await deployment({ userId: u.id, productId: p.id, desiredTemplateId: t.id }));
        await deployments.update(rows[0].id, { status: 'ready' });
        await deployments.update(rows[1].id, { status: 'ready' });
        await deployments.update(rows[4].id, { status: 'deleted', deletedAt: new Date() });

        const all: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await deployments.list({ userId: u.id }, { limit: 2, cursor });
          all.push(...page.items.map((d) => d.id));
          cursor = page.nextCursor ?? undefined;
        } while (cursor);
        expect(all).toEqual(rows.slice(0, 4).map((d) => d.id));

        expect((await deployments.list({ userId: u.id, status: 'ready' }, { limit: 10 })).items.map((d) => d.id)).toEqual([rows[0].id, rows[1].id]);
        expect((await deployments.list({ userId: u.id, status: 'deleted' }, { limit: 10 })).items.map((d) => d.id)).toEqual([rows[4].id]);
        expect(await deployments.countActiveByUser(u.id)).toBe(4);
        expect(await deployments.countActiveByProduct(p.id)).toBe(4);
        expect((await deployments.listUnfinished()).map((d) => d.id)).toEqual(expect.arrayContaining(rows.slice(0, 4).map((d) => d.id)));
        expect((await deployments.listUnfinished()).map((d) => d.id)).not.toContain(rows[4].id);
      });
    });

    describe('deployment events', () => {
      it('appends, pages oldest first and goes with a hard-deleted deployment', async () => {
        const d = await deployment();
        for (let i = 1; i <= 3; i++) await events.append({ deploymentId: d.id, generation: i, type: 'values-updated', actor: 'test', message: `change ${i}` });
        const first = await events.list(d.id, 2);
        expect(first.items.map((e) => e.message)).toEqual(['change 1', 'change 2']);
        const second = await events.list(d.id, 2, first.nextCursor!);
        expect(second).toMatchObject({ items: [expect.objectContaining({ message: 'change 3', data: {} })], nextCursor: null });
        await db.query(`delete from deployments where id = $1`, [d.id]);
        expect((await events.list(d.id, 10)).items).toEqual([]);
      });

      it('refuses an event for a missing deployment', async () => {
        expect(await pgCode(events.append({ deploymentId: randomUUID(), generation: 1, type: 'created', actor: 'x', message: 'x' }))).toBe('23503');
      });
    });
  });
});
