import { randomUUID } from 'node:crypto';
import { gt as semverGt, satisfies as semverSatisfies } from 'semver';
import { DataSource, EntityManager } from 'typeorm';
import {
  AllDeploymentsFilter,
  DeploymentEntity,
  DeploymentEventsRepository,
  DeploymentsRepository,
  DeploymentStatus,
  Page,
  PageRequest,
  ProductsRepository,
  TemplatesRepository,
  TemplateVersionEntity,
  uniqueViolation,
  UsersRepository,
} from '../../../persistence/src';
import { Principal } from '../auth/principal';
import { conflict, DomainError, FieldProblem, invalidInput, notFound } from '../errors';
import { isDomainName, makeDeploymentUid, underDomainSuffix } from '../naming';
import { DeploymentSignal, DeploymentWorkflowPort, DomainLogger, ManifestRenderer } from '../ports';
import { DeploymentQuota, NO_QUOTA, userDeploymentLimit } from '../users/deployment-quota';
import { deploymentOwner, JsonObject, keepRedacted, SecretBox, sealedStrings, sealSecrets, templateOwner, userSecretLocations, ValuesValidator } from '../values';
import { assertNoClientEnvelopes, assertValuesValid, openValues } from './deployment-values';
import { AllDeploymentsPageView, toListedDeploymentView } from './all-deployments.view';
import { DeploymentEventView, DeploymentView, toDeploymentView, toEventView } from './deployment.view';
import { diffManifests } from './manifest-diff';

export interface CreateDeploymentInput {
  templateId: string;
  domainName: string;
  values?: JsonObject;
}

export interface DeploymentsServiceDeps {
  db: DataSource;
  users: UsersRepository;
  products: ProductsRepository;
  templates: TemplatesRepository;
  deployments: DeploymentsRepository;
  events: DeploymentEventsRepository;
  validator: ValuesValidator;
  box: SecretBox;
  workflows: DeploymentWorkflowPort;
  renderer: ManifestRenderer;
  logger: DomainLogger;
  /** Limits on live deployments (none when left out). */
  quota?: DeploymentQuota;
  /** Normalised suffixes every domain name must be under, unless its product has its own list; empty: any name. */
  allowedDomainSuffixes?: readonly string[];
}

export interface UpgradePreview {
  /** Whether the real upgrade would be accepted. */
  valid: boolean;
  problems: FieldProblem[];
  message: string;
  /** The deployment's current generation (for If-Match on the real upgrade). */
  generation: number;
  /** The applied template the diff starts from; null when nothing has been applied yet. */
  fromTemplate: { id: string; version: string } | null;
  toTemplate: { id: string; version: string };
  /** False when the upgrade is not valid or rendering failed; `message` says which. */
  rendered: boolean;
  /** Unified diff of the rendered manifests, object by object, Secret data masked. */
  diff: string;
}

export type UpgradeOutcome =
  | { outcome: 'accepted'; generation: number; templateVersion: string }
  | { outcome: 'already-desired'; generation: number; templateVersion: string }
  | { outcome: 'rejected'; reason: string };

const FINISHING: DeploymentStatus[] = ['deleting', 'deleted'];
/** Event ids are Postgres bigints; a larger cursor would fail in the query instead of as bad input. */
const MAX_BIGINT = 9223372036854775807n;

/**
 * Desired state of deployments. Every mutation writes the new desired state and its event in
 * one transaction (holding the row lock, so concurrent writers queue and the generation only
 * grows), then wakes the deployment's workflow.
 */
export class DeploymentsService {
  constructor(private readonly deps: DeploymentsServiceDeps) {}

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
          { deploymentId: d.id, generation: 1, type: 'created', actor: principal.actor, message: `deployment requested with ${product.name} ${template.version}`, data: { templateId: template.id, templateVersion: template.version } },
          m,
        );
        return d;
      })
      .catch((err) => {
        // Whose it is stays unsaid: the name may belong to another tenant.
        if (uniqueViolation(err)) throw conflict(`domain name ${domainName} is not available: it is already used`, [{ field: 'domainName', message: 'is not available' }]);
        throw err;
      });
    await this.wake(saved, { name: 'reconcile', generation: saved.generation });
    return this.view(saved);
  }

  /**
   * The per-user and global limits, checked inside the creating transaction: the user's row lock
   * (and, with a global limit, an advisory lock) makes concurrent creations queue, so each one
   * counts what the previous ones committed and no burst of requests gets past a limit.
   */
  private async assertWithinQuota(userId: string, m: EntityManager): Promise<void> {
    const quota = this.deps.quota ?? NO_QUOTA;
    if (quota.total !== null) await this.deps.deployments.lockGlobalQuota(m);
    const owner = await this.deps.users.findActiveByIdForUpdate(userId, m);
    if (!owner) throw notFound('user', userId);
    const limit = userDeploymentLimit(owner, quota);
    if (limit !== null) {
      const live = await this.deps.deployments.countActiveByUser(userId, m);
      if (live >= limit) {
        throw conflict(`deployment limit reached: this user may have ${limit} live deployment(s) and has ${live}; delete one or ask an admin to raise the limit`, [
          { field: 'userId', message: `has reached its limit of ${limit} live deployment(s)` },
        ]);
      }
    }
    if (quota.total !== null && (await this.deps.deployments.countActive(m)) >= quota.total) {
      throw conflict(`deployment limit reached: the platform runs its maximum of ${quota.total} live deployments; try again later`, [{ field: 'userId', message: 'the platform-wide deployment limit is reached' }]);
    }
  }

  async list(filter: { userId?: string; status?: DeploymentStatus }, page: PageRequest): Promise<Page<DeploymentView>> {
    const res = await this.deps.deployments.list(filter, page);
    return { items: res.items.map((d) => this.view(d)), nextCursor: res.nextCursor };
  }

  async get(userId: string, deploymentId: string): Promise<DeploymentView> {
    return this.view(await this.find(userId, deploymentId));
  }

  async updateValues(principal: Principal, userId: string, deploymentId: string, values: JsonObject, expectedGeneration?: number): Promise<DeploymentView> {
    const { validator, box } = this.deps;
    assertNoClientEnvelopes(values);
    const saved = await this.deps.db.transaction(async (m) => {
      const d = await this.lock(userId, deploymentId, m);
      this.assertMutable(d, expectedGeneration);
      const template = await this.templateOf(d.desiredTemplateId, m);
      const secretPaths = userSecretLocations(template.valuesSchema, values);
      const incoming = keepRedacted(values, d.userValues, secretPaths);
      assertValuesValid(validator, box, template, incoming, d);
      const generation = d.generation + 1;
      await this.deps.deployments.update(
        d.id,
        { userValues: sealSecrets(incoming, secretPaths, box, deploymentOwner(d.id)), generation, status: d.appliedTemplateId ? 'upgrading' : 'provisioning', lastError: null },
        m,
      );
      await this.deps.events.append(
        { deploymentId: d.id, generation, type: 'values-updated', actor: principal.actor, message: 'values changed', data: { keys: Object.keys(values).sort() } },
        m,
      );
      return (await this.deps.deployments.findById(d.id, m))!;
    });
    await this.wake(saved, { name: 'reconcile', generation: saved.generation });
    return this.view(saved);
  }

  /** Admin upgrade through the API: validated and persisted here, then the workflow is signalled. */
  async upgrade(principal: Principal, userId: string, deploymentId: string, templateId: string, expectedGeneration?: number): Promise<DeploymentView> {
    const saved = await this.deps.db.transaction(async (m) => {
      const d = await this.lock(userId, deploymentId, m);
      this.assertMutable(d, expectedGeneration);
      await this.applyUpgrade(d, templateId, principal.actor, m);
      return (await this.deps.deployments.findById(d.id, m))!;
    });
    await this.wake(saved, { name: 'upgrade', templateId, requestedBy: principal.actor });
    return this.view(saved);
  }

  /**
   * Dry run of `upgrade`: the same checks, and the diff between the manifests of the applied
   * template and the target, both rendered with the deployment's current values. Reads only:
   * nothing is written and no workflow is woken. A rule the real upgrade would refuse is
   * reported as `valid: false` with its problems; only a missing deployment or target is an error.
   */
  async previewUpgrade(userId: string, deploymentId: string, templateId: string, expectedGeneration?: number): Promise<UpgradePreview> {
    const d = await this.find(userId, deploymentId);
    const { current, target } = await this.upgradeTemplates(d, templateId);
    const applied = d.appliedTemplateId ? await this.templateOf(d.appliedTemplateId) : null;
    const base = {
      generation: d.generation,
      fromTemplate: applied && { id: applied.id, version: applied.version },
      toTemplate: { id: target.id, version: target.version },
    };
    try {
      this.assertMutable(d, expectedGeneration);
      this.assertUpgradeAllowed(d, current, target);
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      const problems = err.fields.length ? err.fields : [{ field: 'deployment', message: err.message }];
      return { ...base, valid: false, problems, message: err.message, rendered: false, diff: '' };
    }
    return { ...base, valid: true, problems: [], ...(await this.renderUpgradeDiff(d, applied, target)) };
  }

  /**
   * The workflow's path for an `upgrade` signal (which may come straight from the Temporal CLI):
   * the same rules as the API. A rejected signal is recorded as an event and changes nothing.
   */
  async acceptUpgradeSignal(deploymentId: string, templateId: string, requestedBy: string): Promise<UpgradeOutcome> {
    try {
      return await this.deps.db.transaction(async (m) => {
        const d = await this.deps.deployments.findByIdForUpdate(deploymentId, m);
        if (!d) throw notFound('deployment', deploymentId);
        if (d.desiredTemplateId === templateId) {
          const t = await this.templateOf(templateId, m);
          return { outcome: 'already-desired' as const, generation: d.generation, templateVersion: t.version };
        }
        this.assertMutable(d);
        const { generation, template } = await this.applyUpgrade(d, templateId, requestedBy, m);
        return { outcome: 'accepted' as const, generation, templateVersion: template.version };
      });
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      const reason = err.fields.length ? `${err.message}: ${err.fields.map((f) => `${f.field} ${f.message}`).join('; ')}` : err.message;
      const d = await this.deps.deployments.findById(deploymentId);
      if (d) {
        await this.deps.events.append({ deploymentId, generation: d.generation, type: 'upgrade-rejected', actor: requestedBy, message: `upgrade to ${templateId} rejected: ${reason}`, data: { templateId, reason } });
      }
      return { outcome: 'rejected', reason };
    }
  }

  /** Soft and idempotent: a second delete returns the deployment as it is. */
  async delete(principal: Principal, userId: string, deploymentId: string): Promise<DeploymentView> {
    const saved = await this.deps.db.transaction(async (m) => {
      const d = await this.lock(userId, deploymentId, m);
      if (FINISHING.includes(d.status)) return d;
      const generation = d.generation + 1;
      await this.deps.deployments.update(d.id, { status: 'deleting', deletedAt: new Date(), generation, lastError: null }, m);
      await this.deps.events.append({ deploymentId: d.id, generation, type: 'delete-requested', actor: principal.actor, message: 'deletion requested' }, m);
      return (await this.deps.deployments.findById(d.id, m))!;
    });
    if (saved.status !== 'deleted') await this.wake(saved, { name: 'delete', generation: saved.generation });
    return this.view(saved);
  }

  async events(userId: string, deploymentId: string, limit: number, cursor?: string): Promise<{ items: DeploymentEventView[]; nextCursor: string | null }> {
    await this.find(userId, deploymentId);
    if (cursor !== undefined && !(/^[0-9]{1,19}$/.test(cursor) && BigInt(cursor) <= MAX_BIGINT)) throw invalidInput('cursor is not valid', [{ field: 'cursor', message: 'must be a cursor returned by a previous page' }]);
    const page = await this.deps.events.list(deploymentId, limit, cursor);
    return { items: page.items.map(toEventView), nextCursor: page.nextCursor };
  }

  private async applyUpgrade(d: DeploymentEntity, templateId: string, actor: string, m: EntityManager): Promise<{ generation: number; template: TemplateVersionEntity }> {
    const { current, target } = await this.upgradeTemplates(d, templateId, m);
    this.assertUpgradeAllowed(d, current, target);
    // Secret fields may differ between versions: re-seal under the target's schema.
    const resealed = sealSecrets(d.userValues, userSecretLocations(target.valuesSchema, d.userValues), this.deps.box, deploymentOwner(d.id));
    const generation = d.generation + 1;
    await this.deps.deployments.update(d.id, { desiredTemplateId: target.id, userValues: resealed, generation, status: 'upgrading', lastError: null }, m);
    await this.deps.events.append(
      { deploymentId: d.id, generation, type: 'upgrade-requested', actor, message: `upgrade from ${current.version} to ${target.version}`, data: { fromTemplateId: current.id, fromVersion: current.version, templateId: target.id, templateVersion: target.version } },
      m,
    );
    return { generation, template: target };
  }

  /** The desired template (what an upgrade moves from) and the target, which must exist and not be deleted. */
  private async upgradeTemplates(d: DeploymentEntity, templateId: string, m?: EntityManager): Promise<{ current: TemplateVersionEntity; target: TemplateVersionEntity }> {
    const current = await this.templateOf(d.desiredTemplateId, m);
    const target = await this.deps.templates.findActiveById(templateId, m);
    if (!target) throw notFound('template', templateId);
    return { current, target };
  }

  /**
   * The rules every upgrade path shares (the API, a signal, a dry run): same product, forward
   * only, the target's allowFrom range, and the stored values valid against the target schema.
   */
  private assertUpgradeAllowed(d: DeploymentEntity, current: TemplateVersionEntity, target: TemplateVersionEntity): void {
    if (target.productId !== current.productId) {
      throw conflict('an upgrade must stay within the same product', [{ field: 'templateId', message: 'belongs to another product' }]);
    }
    if (!semverGt(target.version, current.version)) {
      throw conflict(`upgrades only go forward: ${target.version} is not newer than ${current.version}`, [{ field: 'templateId', message: `version ${target.version} is not newer than ${current.version}` }]);
    }
    const allowFrom = target.capabilities?.upgradePolicy?.allowFrom;
    if (allowFrom && !semverSatisfies(current.version, allowFrom)) {
      throw conflict(`version ${target.version} can only be reached from ${allowFrom}`, [{ field: 'templateId', message: `requires the current version to satisfy ${allowFrom}` }]);
    }
    assertValuesValid(this.deps.validator, this.deps.box, target, d.userValues, d);
  }

  private async renderUpgradeDiff(d: DeploymentEntity, applied: TemplateVersionEntity | null, target: TemplateVersionEntity): Promise<{ rendered: boolean; diff: string; message: string }> {
    const render = (t: TemplateVersionEntity) =>
      this.deps.renderer.render({
        release: d.deploymentUid,
        namespace: d.deploymentUid,
        chart: { ref: t.chartRef, version: t.chartVersion, ...(t.chartDigest ? { digest: t.chartDigest } : {}) },
        values: openValues(this.deps.box, t, d.userValues, d),
      });
    let manifests: [string | null, string];
    try {
      manifests = await Promise.all([applied ? render(applied) : null, render(target)]);
    } catch (err) {
      // The renderer's errors are scrubbed of values (helm's output is).
      return { rendered: false, diff: '', message: `the upgrade is valid, but the manifests could not be rendered: ${(err as Error).message}` };
    }
    const { diff, changed } = diffManifests({
      from: manifests[0],
      to: manifests[1],
      fromLabel: applied?.version ?? 'none',
      toLabel: target.version,
      secrets: [
        ...sealedStrings(d.userValues, this.deps.box, deploymentOwner(d.id)),
        ...[applied, target].flatMap((t) => (t ? sealedStrings(t.defaultValues ?? {}, this.deps.box, templateOwner(t.id)) : [])),
      ],
    });
    const message = !applied
      ? `deployment has not been applied yet: the diff compares ${target.version} against nothing`
      : changed.length === 0
        ? `the upgrade is valid; the manifests of ${applied.version} and ${target.version} render the same`
        : `the upgrade is valid; ${changed.length} object(s) change from ${applied.version} to ${target.version}`;
    return { rendered: true, diff, message };
  }

  private assertMutable(d: DeploymentEntity, expectedGeneration?: number): void {
    if (FINISHING.includes(d.status)) throw conflict(`deployment ${d.id} is ${d.status}`);
    if (expectedGeneration !== undefined && expectedGeneration !== d.generation) {
      throw conflict(`deployment ${d.id} changed: it is at generation ${d.generation}, not ${expectedGeneration}`, [{ field: 'If-Match', message: `current generation is ${d.generation}` }]);
    }
  }

  private async find(userId: string, deploymentId: string): Promise<DeploymentEntity> {
    const d = await this.deps.deployments.findById(deploymentId);
    if (!d || d.userId !== userId) throw notFound('deployment', deploymentId);
    return d;
  }

  private async lock(userId: string, deploymentId: string, m: EntityManager): Promise<DeploymentEntity> {
    const d = await this.deps.deployments.findByIdForUpdate(deploymentId, m);
    if (!d || d.userId !== userId) throw notFound('deployment', deploymentId);
    return d;
  }

  private async templateOf(id: string, m?: EntityManager): Promise<TemplateVersionEntity> {
    const t = await this.deps.templates.findById(id, m);
    if (!t) throw new Error(`template ${id} referenced by a deployment is missing`);
    return t;
  }

  /**
   * The desired state is committed before this runs. If signalling fails (Temporal down, API
   * killed), the worker's supervisor starts the workflow later, so nothing is lost.
   */
  private async wake(d: DeploymentEntity, signal: DeploymentSignal): Promise<void> {
    try {
      await this.deps.workflows.wake(d, signal);
    } catch (err) {
      this.deps.logger.warn({ deploymentId: d.id, signal: signal.name, err: (err as Error).message }, 'could not signal the deployment workflow; the supervisor will retry');
    }
  }

  private view(d: DeploymentEntity): DeploymentView {
    return toDeploymentView(d, this.deps.workflows.describe(d.deploymentUid));
  }

  /** Admin list of every user's deployments; the counts cover every page of the same filter. */
  async listAll(filter: AllDeploymentsFilter, page: PageRequest): Promise<AllDeploymentsPageView> {
    const [res, counts] = await Promise.all([this.deps.deployments.listAll(filter, page), this.deps.deployments.countAll(filter)]);
    return { items: res.items.map((l) => toListedDeploymentView(l, this.deps.workflows.describe(l.deployment.deploymentUid))), nextCursor: res.nextCursor, counts };
  }
}
