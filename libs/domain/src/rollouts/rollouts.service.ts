import { DataSource } from 'typeorm';
import {
  ACTIVE_ROLLOUT_STATUSES,
  DeploymentEventsRepository,
  DeploymentsRepository,
  Page,
  PageRequest,
  ProductsRepository,
  RolloutApproval,
  RolloutEntity,
  RolloutMemberState,
  RolloutsRepository,
  RolloutStatus,
  TemplatesRepository,
  TemplateVersionEntity,
  uniqueViolation,
  WaveSpec,
} from '../../../persistence/src';
import { Principal } from '../auth/principal';
import { conflict, DomainError, FieldProblem, invalidInput, notFound } from '../errors';
import { readPage } from '../pagination';
import { DomainLogger, RolloutWorkflowPort } from '../ports';
import { assertTemplateUpgradeAllowed } from '../deployments/deployment-upgrade.service';
import { DeploymentsService } from '../deployments/deployments.service';
import { controlTransition, DEFAULT_WAVES, judgeMember, RolloutAction, tooManyFailures, waveEnds, waveProblems } from './rollout-plan';
import { RolloutView, toRolloutView } from './rollout.view';

export interface CreateRolloutInput {
  toTemplateId: string;
  fromTemplateIds?: string[];
  waves?: WaveSpec[];
  maxFailures?: number;
  healthTimeoutSeconds?: number;
  pauseBetweenWavesSeconds?: number;
  approval?: RolloutApproval;
}

export interface RolloutsServiceDeps {
  db: DataSource;
  rollouts: RolloutsRepository;
  products: ProductsRepository;
  templates: TemplatesRepository;
  deployments: DeploymentsRepository;
  events: DeploymentEventsRepository;
  /** The upgrade path every member goes through: the same rules as `POST …/upgrade`. */
  upgrades: Pick<DeploymentsService, 'upgradeForRollout'>;
  workflows: RolloutWorkflowPort;
  logger: DomainLogger;
  /** False when the worker does not assess health (CAELUS_HEALTH_GRACE=0): members then wait for ready only, whatever health an earlier run left. */
  healthAssessed?: boolean;
}

export const DEFAULT_HEALTH_TIMEOUT_SECONDS = 600;
export const MAX_SECONDS = 7 * 24 * 3600;
/** Members upgraded at once inside one activity call (each is a transaction and a signal). */
const UPGRADE_CONCURRENCY = 8;
/** Upgrading members judged per query. */
const WATCH_PAGE = 500;
/** A health check stops taking more pages after this long (an activity's time is bounded); the next check goes on. */
const WATCH_BUDGET_MS = 10_000;

/** What a wave looks like after a health check. */
export interface WaveProgress {
  counts: Record<RolloutMemberState, number>;
  /** Failed members over the whole rollout so far. */
  failedTotal: number;
  /** True when the failures so far exceed maxFailures. */
  halted: boolean;
}

export const rolloutActor = (rolloutId: string) => `rollout:${rolloutId}`;

/**
 * Fleet rollouts: the API's requests (create, read, control) and the steps the rollout's workflow
 * performs through its activities (select once, upgrade a wave page by page, judge its health,
 * record status). The workflow holds ids and counters only; members and their states are rows.
 */
export class RolloutsService {
  constructor(private readonly deps: RolloutsServiceDeps) {}

  async create(principal: Principal, productId: string, input: CreateRolloutInput): Promise<RolloutView> {
    const { products, templates, rollouts } = this.deps;
    const product = await products.findActiveById(productId);
    if (!product) throw notFound('product', productId);
    const problems = this.inputProblems(input);
    if (problems.length) throw invalidInput('the rollout request is not valid', problems);
    const target = await templates.findActiveById(input.toTemplateId);
    if (!target) throw notFound('template', input.toTemplateId);
    if (target.productId !== productId) throw invalidInput('toTemplateId must be a version of this product', [{ field: 'toTemplateId', message: 'belongs to another product' }]);
    const from = input.fromTemplateIds ? [...new Set(input.fromTemplateIds.map((t) => t.toLowerCase()))] : null;
    for (const [i, id] of (from ?? []).entries()) {
      const t = await templates.findById(id);
      if (!t || t.productId !== productId) throw invalidInput('fromTemplateIds must be versions of this product', [{ field: `fromTemplateIds[${i}]`, message: 'is not a version of this product' }]);
      if (id === target.id) throw invalidInput('fromTemplateIds must not contain the target', [{ field: `fromTemplateIds[${i}]`, message: 'is the target version' }]);
    }

    let rollout: RolloutEntity;
    try {
      rollout = await this.deps.db.transaction(async (m) => {
        const r = await rollouts.insert(
          {
            productId,
            toTemplateId: target.id,
            fromTemplateIds: from,
            waves: input.waves ?? [...DEFAULT_WAVES],
            maxFailures: input.maxFailures ?? 0,
            healthTimeoutSeconds: input.healthTimeoutSeconds ?? DEFAULT_HEALTH_TIMEOUT_SECONDS,
            pauseBetweenWavesSeconds: input.pauseBetweenWavesSeconds ?? 0,
            approval: input.approval ?? 'auto',
            status: 'running',
            createdBy: principal.actor,
          },
          m,
        );
        await rollouts.appendEvent(
          {
            rolloutId: r.id,
            type: 'created',
            actor: principal.actor,
            message: `rollout of ${product.name} to ${target.version} requested`,
            data: { toTemplateId: target.id, toVersion: target.version },
          },
          m,
        );
        return r;
      });
    } catch (err) {
      if (uniqueViolation(err)) throw conflict(`product ${product.name} already has a running rollout; pause, abort or wait for it first`, [{ field: 'productId', message: 'has a running rollout' }]);
      throw err;
    }
    try {
      await this.deps.workflows.start({ id: rollout.id, productName: product.name, toVersion: target.version });
    } catch (err) {
      // Nothing was selected or upgraded: end the row so the product is free for a new request.
      const reason = `the rollout's workflow could not be started: ${(err as Error).message}`.slice(0, 1000);
      await rollouts.transition(rollout.id, ACTIVE_ROLLOUT_STATUSES, { status: 'failed', reason, finished: true });
      await rollouts.appendEvent({ rolloutId: rollout.id, type: 'failed', actor: 'api', message: reason });
      throw new DomainError('Unavailable', 'the rollout could not be started: the orchestrator is not reachable; try again');
    }
    return this.view(rollout);
  }

  private inputProblems(input: CreateRolloutInput): FieldProblem[] {
    const problems: FieldProblem[] = [];
    if (input.waves !== undefined) problems.push(...waveProblems(input.waves));
    const int = (field: keyof CreateRolloutInput, min: number, max: number) => {
      const v = input[field];
      if (v !== undefined && !(typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max)) problems.push({ field, message: `must be an integer from ${min} to ${max}` });
    };
    int('maxFailures', 0, 100_000);
    int('healthTimeoutSeconds', 1, MAX_SECONDS);
    int('pauseBetweenWavesSeconds', 0, MAX_SECONDS);
    if (input.approval !== undefined && input.approval !== 'auto' && input.approval !== 'manual') problems.push({ field: 'approval', message: 'must be "auto" or "manual"' });
    return problems;
  }

  async list(productId: string, page: PageRequest): Promise<Page<RolloutView>> {
    await this.product(productId);
    const res = await readPage(() => this.deps.rollouts.listByProduct(productId, page));
    return { items: await Promise.all(res.items.map((r) => this.view(r))), nextCursor: res.nextCursor };
  }

  async get(productId: string, rolloutId: string): Promise<RolloutView> {
    const r = await this.find(productId, rolloutId);
    return this.view(r, await this.deps.rollouts.latestEvents(r.id, 50));
  }

  /**
   * Pause, resume or abort: checked against the current status here, then sent to the workflow as
   * a signal, the same one a raw `temporal workflow signal` sends. The workflow records the new
   * status (it is the only writer of it), so the answer may still show the old one.
   */
  async control(principal: Principal, productId: string, rolloutId: string, action: RolloutAction): Promise<RolloutView> {
    const r = await this.find(productId, rolloutId);
    const next = controlTransition(r.status, action);
    if (!next.ok) throw conflict(`cannot ${action} rollout ${r.id}: ${next.reason}`, [{ field: 'status', message: `is ${r.status}` }]);
    try {
      await this.deps.workflows.signal(r.id, action, principal.actor);
    } catch (err) {
      // The workflow may have ended between the read and the signal: then say so, not "unavailable".
      const now = await this.deps.rollouts.findById(r.id);
      if (now && !ACTIVE_ROLLOUT_STATUSES.includes(now.status))
        throw conflict(`cannot ${action} rollout ${r.id}: the rollout has ended (${now.status})`, [{ field: 'status', message: `is ${now.status}` }]);
      this.deps.logger.warn({ rolloutId: r.id, action, err: (err as Error).message }, 'could not signal the rollout workflow');
      throw new DomainError('Unavailable', `the ${action} request could not be delivered: the orchestrator is not reachable; try again`);
    }
    return this.view(r);
  }

  private async product(productId: string) {
    const p = await this.deps.products.findById(productId);
    if (!p) throw notFound('product', productId);
    return p;
  }

  private async find(productId: string, rolloutId: string): Promise<RolloutEntity> {
    const r = await this.deps.rollouts.findById(rolloutId);
    if (!r || r.productId !== productId) throw notFound('rollout', rolloutId);
    return r;
  }

  private async view(r: RolloutEntity, events?: Awaited<ReturnType<RolloutsRepository['latestEvents']>>): Promise<RolloutView> {
    return toRolloutView(r, await this.deps.rollouts.waveCounts(r.id), this.deps.workflows.describe(r.id), events);
  }

  // ---- The workflow's steps (called from activities; each is idempotent under retries) ----

  /** What the workflow needs to know about its rollout: the plan and where it stands, no members. */
  async plan(rolloutId: string): Promise<{ status: RolloutStatus; waves: number; currentWave: number | null; approval: RolloutApproval; pauseBetweenWavesSeconds: number }> {
    const r = await this.load(rolloutId);
    return { status: r.status, waves: r.waveEnds?.length ?? 0, currentWave: r.currentWave, approval: r.approval, pauseBetweenWavesSeconds: r.pauseBetweenWavesSeconds };
  }

  /**
   * Selects the members once: the product's live deployments on the given versions, or on every
   * older version that may upgrade to the target. A deployment created later is not selected.
   */
  async select(rolloutId: string): Promise<{ total: number; waves: number }> {
    const r = await this.load(rolloutId);
    if (r.total !== null && r.waveEnds) return { total: r.total, waves: r.waveEnds.length };
    const target = await this.deps.templates.findById(r.toTemplateId);
    if (!target) throw new Error(`template ${r.toTemplateId} of rollout ${r.id} is missing`);
    const candidates = await this.deps.rollouts.candidateTemplates(r.productId, r.toTemplateId);
    const known = r.fromTemplateIds ? candidates.map(() => null) : await Promise.all(candidates.map((c) => this.deps.templates.findById(c.templateId)));
    const { chosen, excluded } = selectTemplates(
      candidates.map((c, i) => ({ ...c, template: known[i] })),
      target,
      r.fromTemplateIds,
    );
    const { total, waveEnds: ends } = await this.deps.db.transaction((m) => this.deps.rollouts.selectMembers(r.id, r.productId, chosen, (n) => waveEnds(r.waves, n), m));
    await this.deps.rollouts.appendEvent({
      rolloutId: r.id,
      type: 'selected',
      actor: 'workflow',
      message: `${total} deployment(s) selected in ${ends.length} wave(s) of ${ends.map((e, i) => e - (i ? ends[i - 1] : 0)).join(', ') || 'none'}`,
      data: { total, waveEnds: ends, notSelected: excluded.slice(0, 20) },
    });
    return { total, waves: ends.length };
  }

  /** Marks the wave as the current one (idempotent). */
  async beginWave(rolloutId: string, wave: number): Promise<void> {
    const r = await this.load(rolloutId);
    if (r.currentWave === wave) return;
    await this.deps.rollouts.transition(r.id, ACTIVE_ROLLOUT_STATUSES, { currentWave: wave });
    await this.deps.rollouts.appendEvent({ rolloutId: r.id, type: 'wave-started', actor: 'workflow', message: `wave ${wave + 1} started`, data: { wave: wave + 1 } });
  }

  /**
   * Sends the next pending members of a wave through the upgrade path: accepted ones become
   * `upgrading` at their new generation, the rest `skipped` with the reason. Returns how many were
   * handled and whether more are pending.
   */
  async upgradeNext(rolloutId: string, wave: number, limit: number): Promise<{ handled: number; more: boolean }> {
    const r = await this.load(rolloutId);
    const ids = await this.deps.rollouts.pendingMembers(r.id, wave, limit);
    for (let i = 0; i < ids.length; i += UPGRADE_CONCURRENCY) {
      await Promise.all(ids.slice(i, i + UPGRADE_CONCURRENCY).map((id) => this.upgradeMember(r, id)));
    }
    return { handled: ids.length, more: ids.length === limit };
  }

  private async upgradeMember(r: RolloutEntity, deploymentId: string): Promise<void> {
    const actor = rolloutActor(r.id);
    const d = await this.deps.deployments.findById(deploymentId);
    let reason: string | null = null;
    if (!d || d.status === 'deleting' || d.status === 'deleted') reason = 'the deployment is being deleted';
    else if (d.suspendedAt) reason = 'the deployment is suspended';
    if (!reason) {
      const outcome = await this.deps.upgrades.upgradeForRollout(deploymentId, r.toTemplateId, actor);
      if (outcome.outcome !== 'rejected') {
        await this.deps.rollouts.updateMember(r.id, 'pending', { deploymentId, state: 'upgrading', targetGeneration: outcome.generation });
        return;
      }
      reason = outcome.reason;
    }
    if (await this.deps.rollouts.updateMember(r.id, 'pending', { deploymentId, state: 'skipped', reason: reason.slice(0, 1000) })) {
      await this.memberEvent(deploymentId, 'rollout-skipped', actor, `skipped by rollout ${r.id}: ${reason}`, { rolloutId: r.id, reason });
    }
  }

  /** Judges the wave's upgrading members against their deployments' rows; reports the wave and whether the rollout must halt. */
  async checkWave(rolloutId: string, wave: number, now = new Date()): Promise<WaveProgress> {
    const r = await this.load(rolloutId);
    const actor = rolloutActor(r.id);
    const until = Date.now() + WATCH_BUDGET_MS;
    for (;;) {
      const rows = await this.deps.rollouts.watchedMembers(r.id, wave, WATCH_PAGE);
      let settled = 0;
      for (const row of rows) {
        const verdict = judgeMember(this.deps.healthAssessed === false ? { ...row, health: null } : row, r.toTemplateId, r.healthTimeoutSeconds, now);
        if (verdict.state === 'upgrading') continue;
        settled++;
        if (!(await this.deps.rollouts.updateMember(r.id, 'upgrading', { deploymentId: row.deploymentId, state: verdict.state, reason: verdict.reason }))) continue;
        const type = verdict.state === 'upgraded' ? 'rollout-upgraded' : verdict.state === 'failed' ? 'rollout-failed' : 'rollout-skipped';
        const message = verdict.state === 'upgraded' ? `upgraded by rollout ${r.id}` : `${verdict.state} in rollout ${r.id}: ${verdict.reason}`;
        await this.memberEvent(row.deploymentId, type, actor, message, { rolloutId: r.id, wave: wave + 1, ...(verdict.reason ? { reason: verdict.reason } : {}) });
      }
      // A full page where nothing settled, or the time budget spent: the rest waits for the next check.
      if (rows.length < WATCH_PAGE || settled === 0 || Date.now() > until) break;
    }
    const all = await this.deps.rollouts.waveCounts(r.id);
    const counts = { pending: 0, upgrading: 0, upgraded: 0, failed: 0, skipped: 0 };
    for (const row of all) if (row.wave === wave) counts[row.state] = row.count;
    const failedTotal = all.filter((row) => row.state === 'failed').reduce((n, row) => n + row.count, 0);
    return { counts, failedTotal, halted: tooManyFailures(failedTotal, r.maxFailures) };
  }

  /**
   * Records a status the workflow reached: paused/running on control, or an end. Written only
   * from `from` (active statuses only: an ended rollout stays ended), so a retried call changes nothing twice.
   */
  async setStatus(rolloutId: string, status: RolloutStatus, actor: string, reason: string | null, from: readonly RolloutStatus[] = ACTIVE_ROLLOUT_STATUSES): Promise<boolean> {
    const ending = status === 'succeeded' || status === 'failed' || status === 'aborted';
    const allowed = from.filter((s) => ACTIVE_ROLLOUT_STATUSES.includes(s));
    const written = await this.deps.rollouts.transition(rolloutId, allowed, { status, reason, finished: ending });
    if (written) {
      await this.deps.rollouts.appendEvent({ rolloutId, type: status, actor, message: reason ? `rollout ${status}: ${reason}` : `rollout ${status}`, data: reason ? { reason } : {} });
    }
    return written;
  }

  /** An event on the rollout's timeline (bounded, printable text from the workflow's own checks). */
  async recordEvent(rolloutId: string, type: string, actor: string, message: string): Promise<void> {
    await this.deps.rollouts.appendEvent({ rolloutId, type: type.slice(0, 40), actor: actor.slice(0, 200), message: message.slice(0, 1000) });
  }

  private async load(rolloutId: string): Promise<RolloutEntity> {
    const r = await this.deps.rollouts.findById(rolloutId);
    if (!r) throw notFound('rollout', rolloutId);
    return r;
  }

  private async memberEvent(deploymentId: string, type: 'rollout-skipped' | 'rollout-upgraded' | 'rollout-failed', actor: string, message: string, data: Record<string, unknown>): Promise<void> {
    const d = await this.deps.deployments.findById(deploymentId);
    if (d) await this.deps.events.append({ deploymentId, generation: d.generation, type, actor, message: message.slice(0, 1000), data });
  }
}

/** A version the selection left out, and why (bounded into the `selected` event). */
export interface ExcludedTemplate {
  templateId: string;
  version?: string;
  count: number;
  reason: string;
}

/**
 * Which of the product's current versions a rollout selects: the named ones (a member that cannot
 * upgrade is then skipped with the reason), or every one the template rules let upgrade to the
 * target (forward only, same backend, allowFrom), the rest left out with the reason.
 */
export function selectTemplates(
  candidates: { templateId: string; count: number; template: TemplateVersionEntity | null }[],
  target: TemplateVersionEntity,
  fromTemplateIds: string[] | null,
): { chosen: string[]; excluded: ExcludedTemplate[] } {
  const chosen: string[] = [];
  const excluded: ExcludedTemplate[] = [];
  for (const c of candidates) {
    if (fromTemplateIds) {
      if (fromTemplateIds.includes(c.templateId)) chosen.push(c.templateId);
      continue;
    }
    try {
      if (!c.template) throw new Error('the template is missing');
      assertTemplateUpgradeAllowed(c.template, target);
      chosen.push(c.templateId);
    } catch (err) {
      excluded.push({ templateId: c.templateId, version: c.template?.version, count: c.count, reason: (err as Error).message });
    }
  }
  return { chosen, excluded };
}
