import { gt as semverGt, satisfies as semverSatisfies } from 'semver';
import { EntityManager } from 'typeorm';
import { DEFAULT_RELEASE_BACKEND, DeploymentEntity, TemplateVersionEntity } from '../../../persistence/src';
import { Principal } from '../auth/principal';
import { conflict, DomainError, FieldProblem, notFound } from '../errors';
import { deploymentOwner, sealedStrings, sealSecrets, templateOwner, userSecretLocations } from '../values';
import { DeploymentAccess, DeploymentsServiceDeps } from './deployment-access';
import { assertValuesValid, openValues } from './deployment-values';
import { DeploymentView } from './deployment.view';
import { diffManifests } from './manifest-diff';

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
  { outcome: 'accepted'; generation: number; templateVersion: string } | { outcome: 'already-desired'; generation: number; templateVersion: string } | { outcome: 'rejected'; reason: string };

/**
 * The rules of an upgrade and its three paths: the API's upgrade, its dry run, and an `upgrade`
 * signal the workflow received. Only the desired state is written here; the worker's helm
 * activities carry it out.
 */
export class DeploymentUpgradeService {
  constructor(
    private readonly deps: DeploymentsServiceDeps,
    private readonly access: DeploymentAccess = new DeploymentAccess(deps),
  ) {}

  /** Admin upgrade through the API: validated and persisted here, then the workflow is signalled. */
  async upgrade(principal: Principal, userId: string, deploymentId: string, templateId: string, expectedGeneration?: number): Promise<DeploymentView> {
    const saved = await this.deps.db.transaction(async (m) => {
      const d = await this.access.lock(userId, deploymentId, m);
      this.access.assertMutable(d, expectedGeneration);
      await this.applyUpgrade(d, templateId, principal.actor, m);
      return this.access.reread(d, m);
    });
    await this.access.wake(saved, { name: 'upgrade', templateId, requestedBy: principal.actor });
    return this.access.view(saved);
  }

  /**
   * Dry run of `upgrade`: the same checks, and the diff between the manifests of the applied
   * template and the target, both rendered with the deployment's current values. Reads only:
   * nothing is written and no workflow is woken. A rule the real upgrade would refuse is
   * reported as `valid: false` with its problems; only a missing deployment or target is an error.
   */
  async previewUpgrade(userId: string, deploymentId: string, templateId: string, expectedGeneration?: number): Promise<UpgradePreview> {
    const d = await this.access.find(userId, deploymentId);
    const { current, target } = await this.upgradeTemplates(d, templateId);
    const applied = d.appliedTemplateId ? await this.access.templateOf(d.appliedTemplateId) : null;
    const base = {
      generation: d.generation,
      fromTemplate: applied && { id: applied.id, version: applied.version },
      toTemplate: { id: target.id, version: target.version },
    };
    try {
      this.access.assertMutable(d, expectedGeneration);
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
          const t = await this.access.templateOf(templateId, m);
          return { outcome: 'already-desired' as const, generation: d.generation, templateVersion: t.version };
        }
        this.access.assertMutable(d);
        const { generation, template } = await this.applyUpgrade(d, templateId, requestedBy, m);
        return { outcome: 'accepted' as const, generation, templateVersion: template.version };
      });
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      const reason = err.fields.length ? `${err.message}: ${err.fields.map((f) => `${f.field} ${f.message}`).join('; ')}` : err.message;
      const d = await this.deps.deployments.findById(deploymentId);
      if (d) {
        await this.deps.events.append({
          deploymentId,
          generation: d.generation,
          type: 'upgrade-rejected',
          actor: requestedBy,
          message: `upgrade to ${templateId} rejected: ${reason}`,
          data: { templateId, reason },
        });
      }
      return { outcome: 'rejected', reason };
    }
  }

  /**
   * A fleet rollout's upgrade of one deployment: the signal path's rules and writes (a rejection
   * is recorded as an upgrade-rejected event), then the workflow is woken as the API's upgrade
   * wakes it. Idempotent: a retried call finds the target already desired.
   */
  async upgradeForRollout(deploymentId: string, templateId: string, actor: string): Promise<UpgradeOutcome> {
    const outcome = await this.acceptUpgradeSignal(deploymentId, templateId, actor);
    if (outcome.outcome === 'rejected') return outcome;
    const d = await this.deps.deployments.findById(deploymentId);
    if (d) await this.access.wake(d, { name: 'upgrade', templateId, requestedBy: actor });
    return outcome;
  }

  private async applyUpgrade(d: DeploymentEntity, templateId: string, actor: string, m: EntityManager): Promise<{ generation: number; template: TemplateVersionEntity }> {
    const { current, target } = await this.upgradeTemplates(d, templateId, m);
    this.assertUpgradeAllowed(d, current, target);
    // Secret fields may differ between versions: re-seal under the target's schema.
    const resealed = sealSecrets(d.userValues, userSecretLocations(target.valuesSchema, d.userValues), this.deps.box, deploymentOwner(d.id));
    const generation = d.generation + 1;
    await this.deps.deployments.update(d.id, { desiredTemplateId: target.id, userValues: resealed, generation, status: 'upgrading', lastError: null }, m);
    await this.deps.events.append(
      {
        deploymentId: d.id,
        generation,
        type: 'upgrade-requested',
        actor,
        message: `upgrade from ${current.version} to ${target.version}`,
        data: { fromTemplateId: current.id, fromVersion: current.version, templateId: target.id, templateVersion: target.version },
      },
      m,
    );
    return { generation, template: target };
  }

  /** The desired template (what an upgrade moves from) and the target, which must exist and not be deleted. */
  private async upgradeTemplates(d: DeploymentEntity, templateId: string, m?: EntityManager): Promise<{ current: TemplateVersionEntity; target: TemplateVersionEntity }> {
    const current = await this.access.templateOf(d.desiredTemplateId, m);
    const target = await this.deps.templates.findActiveById(templateId, m);
    if (!target) throw notFound('template', templateId);
    return { current, target };
  }

  /**
   * The rules every upgrade path shares (the API, a signal, a dry run, a fleet rollout): the
   * template rules, and the stored values valid against the target schema.
   */
  private assertUpgradeAllowed(d: DeploymentEntity, current: TemplateVersionEntity, target: TemplateVersionEntity): void {
    assertTemplateUpgradeAllowed(current, target);
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
}

/**
 * The template rules of an upgrade, which need no deployment: same product, forward only, the
 * same release backend, and the target's allowFrom range. A fleet rollout selects with them.
 */
export function assertTemplateUpgradeAllowed(current: TemplateVersionEntity, target: TemplateVersionEntity): void {
  if (target.productId !== current.productId) {
    throw conflict('an upgrade must stay within the same product', [{ field: 'templateId', message: 'belongs to another product' }]);
  }
  if (!semverGt(target.version, current.version)) {
    throw conflict(`upgrades only go forward: ${target.version} is not newer than ${current.version}`, [
      { field: 'templateId', message: `version ${target.version} is not newer than ${current.version}` },
    ]);
  }
  // A release lives in one backend for the deployment's life: helm's storage and a Flux
  // HelmRelease do not hand a release over to each other (docs/OPERATIONS.md, "Release backends").
  const from = current.capabilities?.backend ?? DEFAULT_RELEASE_BACKEND;
  const to = target.capabilities?.backend ?? DEFAULT_RELEASE_BACKEND;
  if (from !== to) {
    throw conflict(`version ${target.version} is released by the ${to} backend, this deployment by ${from}; a deployment keeps its release backend`, [
      { field: 'templateId', message: `uses release backend "${to}", the deployment uses "${from}"` },
    ]);
  }
  const allowFrom = target.capabilities?.upgradePolicy?.allowFrom;
  if (allowFrom && !semverSatisfies(current.version, allowFrom)) {
    throw conflict(`version ${target.version} can only be reached from ${allowFrom}`, [{ field: 'templateId', message: `requires the current version to satisfy ${allowFrom}` }]);
  }
}
