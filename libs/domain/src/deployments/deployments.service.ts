import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { AllDeploymentsFilter, DeploymentStatus, Page, PageRequest, uniqueViolation } from '../../../persistence/src';
import { Principal } from '../auth/principal';
import { conflict, invalidInput, notFound } from '../errors';
import { isDomainName, makeDeploymentUid, underDomainSuffix } from '../naming';
import { invalidCursor, readPage } from '../pagination';
import { NO_QUOTA, userDeploymentLimit } from '../users/deployment-quota';
import { deploymentOwner, JsonObject, keepRedacted, sealSecrets, userSecretLocations } from '../values';
import { DeploymentAccess, DeploymentsServiceDeps, isFinishing } from './deployment-access';
import { DeploymentSuspensionService } from './deployment-suspension.service';
import { DeploymentUpgradeService, UpgradeOutcome, UpgradePreview } from './deployment-upgrade.service';
import { assertNoClientEnvelopes, assertValuesValid } from './deployment-values';
import { AllDeploymentsPageView, toListedDeploymentView } from './all-deployments.view';
import { DeploymentEventView, DeploymentView, toEventView } from './deployment.view';

export interface CreateDeploymentInput {
  templateId: string;
  domainName: string;
  values?: JsonObject;
}

/** Event ids are Postgres bigints; a larger cursor would fail in the query instead of as bad input. */
const MAX_BIGINT = 9223372036854775807n;

/**
 * Desired state of deployments. Every mutation writes the new desired state and its event in
 * one transaction (holding the row lock, so concurrent writers queue and the generation only
 * grows), then wakes the deployment's workflow. Upgrades follow their own rules, in
 * DeploymentUpgradeService; they are reached through this service too.
 */
export class DeploymentsService {
  private readonly access: DeploymentAccess;
  private readonly upgrades: DeploymentUpgradeService;
  private readonly suspension: DeploymentSuspensionService;

  constructor(private readonly deps: DeploymentsServiceDeps) {
    this.access = new DeploymentAccess(deps);
    this.upgrades = new DeploymentUpgradeService(deps, this.access);
    this.suspension = new DeploymentSuspensionService(deps, this.access);
  }

  async create(principal: Principal, userId: string, input: CreateDeploymentInput): Promise<DeploymentView> {
    const { users, templates, products, validator, box } = this.deps;
    const domainName = typeof input.domainName === 'string' ? input.domainName.trim() : '';
    if (!isDomainName(domainName)) {
      throw invalidInput('domainName is not a valid host name', [{ field: 'domainName', message: 'must be a lower-case fully qualified host name such as app.example.com' }]);
    }
    const user = await users.findActiveById(userId);
    if (!user) throw notFound('user', userId);
    const template = await templates.findActiveById(input.templateId);
    if (!template) throw notFound('template', input.templateId);
    const product = await products.findActiveById(template.productId);
    if (!product) throw conflict(`the product of template ${input.templateId} has been deleted`);
    const suffixes = product.allowedDomainSuffixes ?? this.deps.allowedDomainSuffixes ?? [];
    if (suffixes.length > 0 && !underDomainSuffix(domainName, suffixes)) {
      const list = suffixes.map((s) => `.${s}`).join(', ');
      throw invalidInput(`domainName must be a name under ${list}`, [{ field: 'domainName', message: `must end in one of ${list}` }]);
    }

    const deploymentUid = makeDeploymentUid(product.name, user.email);
    const values = input.values ?? {};
    assertNoClientEnvelopes(values);
    // The id is chosen here: secrets are sealed bound to it before the row exists.
    const id = randomUUID();
    assertValuesValid(validator, box, template, values, { id, deploymentUid, domainName });
    const sealed = sealSecrets(values, userSecretLocations(template.valuesSchema, values), box, deploymentOwner(id));

    const saved = await this.deps.db
      .transaction(async (m) => {
        await this.assertWithinQuota(userId, m);
        const d = await this.deps.deployments.insert(
          { id, userId, productId: product.id, deploymentUid, domainName, desiredTemplateId: template.id, userValues: sealed, generation: 1, observedGeneration: 0, status: 'provisioning' },
          m,
        );
        await this.deps.events.append(
          {
            deploymentId: d.id,
            generation: 1,
            type: 'created',
            actor: principal.actor,
            message: `deployment requested with ${product.name} ${template.version}`,
            data: { templateId: template.id, templateVersion: template.version },
          },
          m,
        );
        return d;
      })
      .catch((err) => {
        // Whose it is stays unsaid: the name may belong to another tenant.
        if (uniqueViolation(err)) throw conflict(`domain name ${domainName} is not available: it is already used`, [{ field: 'domainName', message: 'is not available' }]);
        throw err;
      });
    await this.access.wake(saved, { name: 'reconcile', generation: saved.generation });
    return this.access.view(saved);
  }

  /**
   * The per-user and global limits, checked inside the creating transaction. Where a limit
   * applies, an advisory lock (the user's, and the platform's for a global limit) makes concurrent
   * creations queue, so each one counts what the previous ones committed and no burst of requests
   * gets past a limit. The user's row is only share-locked (it cannot be removed or given a limit
   * meanwhile): a user without a limit creates in parallel, and a burst of creations does not hold
   * every pooled connection waiting on one row.
   */
  private async assertWithinQuota(userId: string, m: EntityManager): Promise<void> {
    const quota = this.deps.quota ?? NO_QUOTA;
    if (quota.total !== null) await this.deps.deployments.lockGlobalQuota(m);
    const owner = await this.deps.users.findActiveByIdForShare(userId, m);
    if (!owner) throw notFound('user', userId);
    const limit = userDeploymentLimit(owner, quota);
    if (limit !== null) {
      // Under the global lock this is uncontended; without it, it queues this user's creations only.
      if (quota.total === null) await this.deps.deployments.lockUserQuota(userId, m);
      const live = await this.deps.deployments.countActiveByUser(userId, m);
      if (live >= limit) {
        throw conflict(`deployment limit reached: this user may have ${limit} live deployment(s) and has ${live}; delete one or ask an admin to raise the limit`, [
          { field: 'userId', message: `has reached its limit of ${limit} live deployment(s)` },
        ]);
      }
    }
    if (quota.total !== null && (await this.deps.deployments.countActive(m)) >= quota.total) {
      throw conflict(`deployment limit reached: the platform runs its maximum of ${quota.total} live deployments; try again later`, [
        { field: 'userId', message: 'the platform-wide deployment limit is reached' },
      ]);
    }
  }

  async list(filter: { userId?: string; status?: DeploymentStatus }, page: PageRequest): Promise<Page<DeploymentView>> {
    const res = await readPage(() => this.deps.deployments.list(filter, page));
    return { items: res.items.map((d) => this.access.view(d)), nextCursor: res.nextCursor };
  }

  async get(userId: string, deploymentId: string): Promise<DeploymentView> {
    return this.access.view(await this.access.find(userId, deploymentId));
  }

  async updateValues(principal: Principal, userId: string, deploymentId: string, values: JsonObject, expectedGeneration?: number): Promise<DeploymentView> {
    const { validator, box } = this.deps;
    assertNoClientEnvelopes(values);
    const saved = await this.deps.db.transaction(async (m) => {
      const d = await this.access.lock(userId, deploymentId, m);
      this.access.assertMutable(d, expectedGeneration);
      const template = await this.access.templateOf(d.desiredTemplateId, m);
      const secretPaths = userSecretLocations(template.valuesSchema, values);
      const incoming = keepRedacted(values, d.userValues, secretPaths);
      assertValuesValid(validator, box, template, incoming, d);
      const generation = d.generation + 1;
      await this.deps.deployments.update(
        d.id,
        { userValues: sealSecrets(incoming, secretPaths, box, deploymentOwner(d.id)), generation, status: d.appliedTemplateId ? 'upgrading' : 'provisioning', lastError: null },
        m,
      );
      await this.deps.events.append({ deploymentId: d.id, generation, type: 'values-updated', actor: principal.actor, message: 'values changed', data: { keys: Object.keys(values).sort() } }, m);
      return this.access.reread(d, m);
    });
    await this.access.wake(saved, { name: 'reconcile', generation: saved.generation });
    return this.access.view(saved);
  }

  upgrade(principal: Principal, userId: string, deploymentId: string, templateId: string, expectedGeneration?: number): Promise<DeploymentView> {
    return this.upgrades.upgrade(principal, userId, deploymentId, templateId, expectedGeneration);
  }

  previewUpgrade(userId: string, deploymentId: string, templateId: string, expectedGeneration?: number): Promise<UpgradePreview> {
    return this.upgrades.previewUpgrade(userId, deploymentId, templateId, expectedGeneration);
  }

  acceptUpgradeSignal(deploymentId: string, templateId: string, requestedBy: string): Promise<UpgradeOutcome> {
    return this.upgrades.acceptUpgradeSignal(deploymentId, templateId, requestedBy);
  }

  upgradeForRollout(deploymentId: string, templateId: string, actor: string): Promise<UpgradeOutcome> {
    return this.upgrades.upgradeForRollout(deploymentId, templateId, actor);
  }

  suspend(principal: Principal, userId: string, deploymentId: string, reason?: string): Promise<DeploymentView> {
    return this.suspension.suspend(principal, userId, deploymentId, reason);
  }

  resume(principal: Principal, userId: string, deploymentId: string): Promise<DeploymentView> {
    return this.suspension.resume(principal, userId, deploymentId);
  }

  /** Soft and idempotent: a second delete returns the deployment as it is. A suspension never holds a delete back; it ends with it. */
  async delete(principal: Principal, userId: string, deploymentId: string): Promise<DeploymentView> {
    const saved = await this.deps.db.transaction(async (m) => {
      const d = await this.access.lock(userId, deploymentId, m);
      if (isFinishing(d)) return d;
      const generation = d.generation + 1;
      await this.deps.deployments.update(d.id, { status: 'deleting', deletedAt: new Date(), generation, lastError: null, suspendedAt: null, suspendedReason: null }, m);
      await this.deps.events.append({ deploymentId: d.id, generation, type: 'delete-requested', actor: principal.actor, message: 'deletion requested' }, m);
      return this.access.reread(d, m);
    });
    if (saved.status !== 'deleted') await this.access.wake(saved, { name: 'delete', generation: saved.generation });
    return this.access.view(saved);
  }

  async events(userId: string, deploymentId: string, limit: number, cursor?: string): Promise<{ items: DeploymentEventView[]; nextCursor: string | null }> {
    await this.access.find(userId, deploymentId);
    if (cursor !== undefined && !(/^[0-9]{1,19}$/.test(cursor) && BigInt(cursor) <= MAX_BIGINT)) throw invalidCursor();
    const page = await this.deps.events.list(deploymentId, limit, cursor);
    return { items: page.items.map(toEventView), nextCursor: page.nextCursor };
  }

  /** Admin list of every user's deployments; the counts cover every page of the same filter. */
  async listAll(filter: AllDeploymentsFilter, page: PageRequest): Promise<AllDeploymentsPageView> {
    const [res, counts] = await Promise.all([readPage(() => this.deps.deployments.listAll(filter, page)), this.deps.deployments.countAll(filter)]);
    return { items: res.items.map((l) => toListedDeploymentView(l, this.deps.workflows.describe(l.deployment.deploymentUid))), nextCursor: res.nextCursor, counts };
  }
}
