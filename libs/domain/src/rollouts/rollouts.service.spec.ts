import { QueryFailedError } from 'typeorm';
import type { RolloutEntity, RolloutStatus, TemplateVersionEntity, WatchedMemberRow } from '../../../persistence/src';
import { DomainError } from '../errors';
import { RolloutsService, RolloutsServiceDeps, selectTemplates } from './rollouts.service';

const PRODUCT = '11111111-1111-4111-8111-111111111111';
const TARGET = '22222222-2222-4222-8222-222222222222';
const OLD = '33333333-3333-4333-8333-333333333333';
const admin = { actor: 'admin', isAdmin: true } as never;

function template(id: string, version: string, over: Partial<TemplateVersionEntity> = {}): TemplateVersionEntity {
  return { id, productId: PRODUCT, version, capabilities: {}, ...over } as TemplateVersionEntity;
}

function rollout(over: Partial<RolloutEntity> = {}): RolloutEntity {
  const at = new Date('2026-11-30T12:00:00Z');
  return {
    id: 'r1',
    productId: PRODUCT,
    toTemplateId: TARGET,
    fromTemplateIds: null,
    waves: [1, '100%'],
    waveEnds: [1, 4],
    total: 4,
    maxFailures: 0,
    healthTimeoutSeconds: 60,
    pauseBetweenWavesSeconds: 0,
    approval: 'auto',
    status: 'running',
    currentWave: 0,
    reason: null,
    createdBy: 'admin',
    createdAt: at,
    updatedAt: at,
    finishedAt: null,
    ...over,
  };
}

function setup(over: Partial<RolloutsServiceDeps> = {}) {
  const templates = new Map([
    [TARGET, template(TARGET, '2.0.0')],
    [OLD, template(OLD, '1.0.0')],
  ]);
  const rollouts = {
    insert: jest.fn(async (r: Partial<RolloutEntity>) => rollout({ ...r, id: 'r1', waveEnds: null, total: null, currentWave: null })),
    findById: jest.fn(async () => rollout()),
    appendEvent: jest.fn(async () => undefined),
    transition: jest.fn(async () => true),
    waveCounts: jest.fn(async () => []),
    latestEvents: jest.fn(async () => []),
    watchedMembers: jest.fn(async (): Promise<WatchedMemberRow[]> => []),
    updateMember: jest.fn(async () => true),
    pendingMembers: jest.fn(async (): Promise<string[]> => []),
  };
  const workflows = { start: jest.fn(async () => undefined), signal: jest.fn(async () => undefined), describe: (id: string) => ({ id: `rollout-${id}`, uiUrl: 'http://ui' }) };
  const events = { append: jest.fn(async (_e: { deploymentId: string; type: string }) => undefined) };
  const deployments = { findById: jest.fn(async (id: string) => ({ id, generation: 3, status: 'ready', suspendedAt: null })) };
  const upgrades = { upgradeForRollout: jest.fn() };
  const deps = {
    db: { transaction: (fn: (m: unknown) => unknown) => fn({}) },
    rollouts,
    products: { findActiveById: async (id: string) => (id === PRODUCT ? { id, name: 'webapp' } : null), findById: async (id: string) => (id === PRODUCT ? { id, name: 'webapp' } : null) },
    templates: { findActiveById: async (id: string) => templates.get(id) ?? null, findById: async (id: string) => templates.get(id) ?? null },
    deployments,
    events,
    upgrades,
    workflows,
    logger: { warn: jest.fn() },
    ...over,
  } as unknown as RolloutsServiceDeps;
  return { sut: new RolloutsService(deps), rollouts, workflows, events, upgrades };
}

async function domainError(p: Promise<unknown>): Promise<DomainError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DomainError);
  return err as DomainError;
}

describe(RolloutsService.name, () => {
  describe('create', () => {
    it('writes the rollout with its defaults and an event, then starts its workflow', async () => {
      const { sut, rollouts, workflows } = setup();
      const view = await sut.create(admin, PRODUCT, { toTemplateId: TARGET });
      expect(rollouts.insert).toHaveBeenCalledWith(
        expect.objectContaining({ waves: [1, '10%', '50%', '100%'], maxFailures: 0, healthTimeoutSeconds: 600, approval: 'auto', status: 'running', createdBy: 'admin' }),
        expect.anything(),
      );
      expect(rollouts.appendEvent).toHaveBeenCalledWith(expect.objectContaining({ type: 'created', message: 'rollout of webapp to 2.0.0 requested' }), expect.anything());
      expect(workflows.start).toHaveBeenCalledWith({ id: 'r1', productName: 'webapp', toVersion: '2.0.0' });
      expect(view).toMatchObject({ id: 'r1', status: 'running', currentWave: null, workflow: { id: 'rollout-r1' } });
    });

    it.each([
      [{ toTemplateId: TARGET, waves: [] }, 'waves'],
      [{ toTemplateId: TARGET, waves: [1, 'x'] }, 'waves[1]'],
      [{ toTemplateId: TARGET, maxFailures: -1 }, 'maxFailures'],
      [{ toTemplateId: TARGET, healthTimeoutSeconds: 0 }, 'healthTimeoutSeconds'],
      [{ toTemplateId: TARGET, approval: 'later' }, 'approval'],
      [{ toTemplateId: TARGET, fromTemplateIds: [TARGET] }, 'fromTemplateIds[0]'],
    ])('refuses %j naming %s', async (input, field) => {
      const { sut, rollouts } = setup();
      const err = await domainError(sut.create(admin, PRODUCT, input as never));
      expect(err.code).toBe('InvalidInput');
      expect(err.fields.map((f) => f.field)).toContain(field);
      expect(rollouts.insert).not.toHaveBeenCalled();
    });

    it('answers 404 for an unknown product or target', async () => {
      const { sut } = setup();
      expect((await domainError(sut.create(admin, '44444444-4444-4444-8444-444444444444', { toTemplateId: TARGET }))).code).toBe('NotFound');
      expect((await domainError(sut.create(admin, PRODUCT, { toTemplateId: '44444444-4444-4444-8444-444444444444' }))).code).toBe('NotFound');
    });

    it('turns the one-active-rollout index into a Conflict', async () => {
      const { sut, rollouts, workflows } = setup();
      const violation = Object.assign(new QueryFailedError('INSERT', [], new Error('dup')), { driverError: { code: '23505', constraint: 'rollouts_product_active_uq' } });
      rollouts.insert.mockRejectedValueOnce(violation);
      const err = await domainError(sut.create(admin, PRODUCT, { toTemplateId: TARGET }));
      expect(err).toMatchObject({ code: 'Conflict', message: expect.stringContaining('already has a running rollout') });
      expect(workflows.start).not.toHaveBeenCalled();
    });

    it('ends the rollout when its workflow cannot be started, freeing the product', async () => {
      const { sut, rollouts, workflows } = setup();
      workflows.start.mockRejectedValueOnce(new Error('connect ECONNREFUSED'));
      const err = await domainError(sut.create(admin, PRODUCT, { toTemplateId: TARGET }));
      expect(err.code).toBe('Unavailable');
      expect(rollouts.transition).toHaveBeenCalledWith('r1', ['running', 'paused'], expect.objectContaining({ status: 'failed', finished: true }));
    });
  });

  describe('control', () => {
    it.each([
      ['running', 'pause'],
      ['paused', 'resume'],
      ['running', 'abort'],
    ] as [RolloutStatus, 'pause' | 'resume' | 'abort'][])('sends %s → %s to the workflow', async (status, action) => {
      const { sut, rollouts, workflows } = setup();
      rollouts.findById.mockResolvedValueOnce(rollout({ status }));
      await sut.control(admin, PRODUCT, 'r1', action);
      expect(workflows.signal).toHaveBeenCalledWith('r1', action, 'admin');
    });

    it('refuses a transition that cannot apply, without signalling', async () => {
      const { sut, rollouts, workflows } = setup();
      rollouts.findById.mockResolvedValueOnce(rollout({ status: 'succeeded' }));
      expect((await domainError(sut.control(admin, PRODUCT, 'r1', 'abort'))).code).toBe('Conflict');
      expect(workflows.signal).not.toHaveBeenCalled();
    });

    it('answers Conflict when the rollout ended before the signal reached it, Unavailable when Temporal is down', async () => {
      const { sut, rollouts, workflows } = setup();
      workflows.signal.mockRejectedValue(new Error('workflow execution already completed'));
      rollouts.findById.mockResolvedValueOnce(rollout()).mockResolvedValueOnce(rollout({ status: 'succeeded' }));
      expect(await domainError(sut.control(admin, PRODUCT, 'r1', 'pause'))).toMatchObject({ code: 'Conflict', message: expect.stringContaining('has ended (succeeded)') });
      rollouts.findById.mockResolvedValueOnce(rollout()).mockResolvedValueOnce(rollout());
      expect((await domainError(sut.control(admin, PRODUCT, 'r1', 'pause'))).code).toBe('Unavailable');
    });

    it('does not find a rollout through another product', async () => {
      const { sut } = setup();
      expect((await domainError(sut.control(admin, '44444444-4444-4444-8444-444444444444', 'r1', 'pause'))).code).toBe('NotFound');
    });
  });

  describe('upgradeNext', () => {
    it('marks accepted members upgrading at their generation and skips the rest with the reason', async () => {
      const { sut, rollouts, upgrades, events } = setup();
      rollouts.pendingMembers.mockResolvedValueOnce(['d1', 'd2']);
      upgrades.upgradeForRollout.mockImplementation(async (id: string) =>
        id === 'd1' ? { outcome: 'accepted', generation: 4, templateVersion: '2.0.0' } : { outcome: 'rejected', reason: 'values do not match the schema of template 2.0.0' },
      );
      expect(await sut.upgradeNext('r1', 1, 50)).toEqual({ handled: 2, more: false });
      expect(upgrades.upgradeForRollout).toHaveBeenCalledWith('d1', TARGET, 'rollout:r1');
      expect(rollouts.updateMember).toHaveBeenCalledWith('r1', 'pending', { deploymentId: 'd1', state: 'upgrading', targetGeneration: 4 });
      expect(rollouts.updateMember).toHaveBeenCalledWith('r1', 'pending', { deploymentId: 'd2', state: 'skipped', reason: 'values do not match the schema of template 2.0.0' });
      expect(events.append).toHaveBeenCalledWith(expect.objectContaining({ deploymentId: 'd2', type: 'rollout-skipped', actor: 'rollout:r1' }));
    });
  });

  describe('checkWave', () => {
    const row = (id: string, over: Partial<WatchedMemberRow>): WatchedMemberRow => ({
      deploymentId: id,
      targetGeneration: 2,
      startedAt: new Date(),
      status: 'upgrading',
      generation: 2,
      observedGeneration: 1,
      desiredTemplateId: TARGET,
      appliedTemplateId: OLD,
      lastError: null,
      health: null,
      ...over,
    });
    const staleHealth = { status: 'healthy' as const, reason: null, generation: 1, since: new Date().toISOString(), objects: [] };

    it('records verdicts and halts once failures exceed maxFailures', async () => {
      const { sut, rollouts, events } = setup();
      rollouts.watchedMembers.mockResolvedValueOnce([
        row('d1', { status: 'ready', observedGeneration: 2, appliedTemplateId: TARGET }),
        row('d2', { status: 'error', lastError: 'boom' }),
        row('d3', {}),
      ]);
      rollouts.waveCounts.mockResolvedValueOnce([
        { wave: 1, state: 'upgraded', count: 1 },
        { wave: 1, state: 'failed', count: 1 },
        { wave: 1, state: 'upgrading', count: 1 },
      ] as never);
      const progress = await sut.checkWave('r1', 1);
      expect(progress).toEqual({ counts: { pending: 0, upgrading: 1, upgraded: 1, failed: 1, skipped: 0 }, failedTotal: 1, halted: true });
      expect(events.append.mock.calls.map(([e]) => [e.deploymentId, e.type])).toEqual([
        ['d1', 'rollout-upgraded'],
        ['d2', 'rollout-failed'],
      ]);
    });

    it('waits for health at the new generation while health is assessed', async () => {
      const { sut, rollouts, events } = setup();
      rollouts.watchedMembers.mockResolvedValueOnce([row('d1', { status: 'ready', observedGeneration: 2, appliedTemplateId: TARGET, health: staleHealth })]);
      await sut.checkWave('r1', 1);
      expect(rollouts.updateMember).not.toHaveBeenCalled();
      expect(events.append).not.toHaveBeenCalled();
    });

    it('ignores a health an earlier run left when the worker does not assess health (grace 0)', async () => {
      const { sut, rollouts, events } = setup({ healthAssessed: false });
      rollouts.watchedMembers.mockResolvedValueOnce([row('d1', { status: 'ready', observedGeneration: 2, appliedTemplateId: TARGET, health: staleHealth })]);
      await sut.checkWave('r1', 1);
      expect(rollouts.updateMember).toHaveBeenCalledWith('r1', 'upgrading', { deploymentId: 'd1', state: 'upgraded', reason: null });
      expect(events.append.mock.calls.map(([e]) => e.type)).toEqual(['rollout-upgraded']);
    });
  });
});

describe(selectTemplates.name, () => {
  const target = template(TARGET, '2.0.0', { capabilities: { upgradePolicy: { allowFrom: '>=1.0.0' } } });
  const c = (id: string, t: TemplateVersionEntity | null, count = 2) => ({ templateId: id, count, template: t });

  it('selects every older version that may upgrade, and says why it left the others out', () => {
    const sut = selectTemplates;
    const res = sut(
      [
        c('a', template('a', '1.0.0')),
        c('b', template('b', '1.5.0')),
        c('newer', template('newer', '3.0.0')),
        c('too-old', template('too-old', '0.9.0')),
        c('flux', template('flux', '1.2.0', { capabilities: { backend: 'flux' } })),
        c('gone', null),
      ],
      target,
      null,
    );
    expect(res.chosen).toEqual(['a', 'b']);
    expect(res.excluded.map((e) => [e.templateId, e.reason])).toEqual([
      ['newer', expect.stringContaining('only go forward')],
      ['too-old', expect.stringContaining('can only be reached from >=1.0.0')],
      ['flux', expect.stringContaining('keeps its release backend')],
      ['gone', 'the template is missing'],
    ]);
  });

  it('selects exactly the named versions, leaving the rules to each member', () => {
    expect(selectTemplates([c('a', null), c('newer', null), c('other', null)], target, ['newer', 'a']).chosen).toEqual(['a', 'newer']);
  });
});
