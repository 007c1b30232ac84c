import { controlTransition, DEFAULT_WAVES, judgeMember, tooManyFailures, waveEnds, waveProblems, WatchedMember } from './rollout-plan';

describe('rollout plan', () => {
  describe(waveEnds.name, () => {
    it.each([
      [DEFAULT_WAVES, 20, [1, 2, 10, 20]],
      [DEFAULT_WAVES, 200, [1, 20, 100, 200]],
      [DEFAULT_WAVES, 3, [1, 2, 3]],
      [DEFAULT_WAVES, 1, [1]],
      [DEFAULT_WAVES, 0, []],
      [['10%', '100%'], 200, [20, 200]],
      [['10%', '100%'], 5, [1, 5]],
      [[2, 5, '100%'], 20, [2, 5, 20]],
      [[5, 2, '100%'], 20, [5, 20]],
      [[1, 5], 20, [1, 20]],
      [[50], 20, [20]],
      [['33.33%', '100%'], 3, [1, 3]],
    ])('%j of %i deployments ends at %j', (spec, total, expected) => {
      const sut = waveEnds;
      expect(sut(spec, total)).toEqual(expected);
    });

    it('covers every member, and never shrinks', () => {
      for (let total = 0; total < 120; total++) {
        const ends = waveEnds(DEFAULT_WAVES, total);
        expect(ends.at(-1) ?? 0).toBe(total);
        ends.forEach((e, i) => expect(e).toBeGreaterThan(i ? ends[i - 1] : 0));
      }
    });
  });

  describe(waveProblems.name, () => {
    it('accepts counts and percentages', () => {
      expect(waveProblems([1, '10%', '50.5%', '100%'])).toEqual([]);
    });

    it.each([[[]], ['10%'], [[0]], [[1.5]], [['0%']], [['101%']], [['10']], [[null]], [Array(21).fill(1)]])('refuses %j', (waves) => {
      expect(waveProblems(waves).length).toBeGreaterThan(0);
    });

    it('names the bad wave', () => {
      expect(waveProblems([1, 'x'])).toEqual([{ field: 'waves[1]', message: expect.stringContaining('percentage') }]);
    });
  });

  describe(controlTransition.name, () => {
    it.each([
      ['running', 'pause', 'paused'],
      ['paused', 'resume', 'running'],
      ['running', 'abort', 'aborted'],
      ['paused', 'abort', 'aborted'],
    ] as const)('%s + %s -> %s', (from, action, to) => {
      expect(controlTransition(from, action)).toEqual({ ok: true, status: to });
    });

    it.each([
      ['paused', 'pause', /already paused/],
      ['running', 'resume', /not paused/],
      ['succeeded', 'abort', /ended/],
      ['failed', 'resume', /ended/],
      ['aborted', 'pause', /ended/],
    ] as const)('%s + %s is refused', (from, action, reason) => {
      const res = controlTransition(from, action);
      expect(res.ok).toBe(false);
      expect(!res.ok && res.reason).toMatch(reason);
    });
  });

  describe(judgeMember.name, () => {
    const to = 'to-template';
    const now = new Date('2026-11-30T12:00:00Z');
    const member = (over: Partial<WatchedMember> = {}): WatchedMember => ({
      targetGeneration: 3,
      startedAt: new Date(now.getTime() - 10_000),
      status: 'upgrading',
      generation: 3,
      observedGeneration: 2,
      desiredTemplateId: to,
      appliedTemplateId: 'from-template',
      lastError: null,
      ...over,
    });

    it('waits while the upgrade is applied', () => {
      expect(judgeMember(member(), to, 60, now)).toEqual({ state: 'upgrading' });
    });

    it('is upgraded when ready at the generation with the target applied', () => {
      expect(judgeMember(member({ status: 'ready', observedGeneration: 3, appliedTemplateId: to }), to, 60, now)).toEqual({ state: 'upgraded', reason: null });
      expect(judgeMember(member({ status: 'ready', generation: 4, observedGeneration: 4, appliedTemplateId: to }), to, 60, now).state).toBe('upgraded');
    });

    it('is not upgraded while ready at an older generation', () => {
      expect(judgeMember(member({ status: 'ready', observedGeneration: 2 }), to, 60, now).state).toBe('upgrading');
    });

    it('fails when the apply failed', () => {
      expect(judgeMember(member({ status: 'error', lastError: 'helm: boom' }), to, 60, now)).toEqual({ state: 'failed', reason: 'the upgrade failed: helm: boom' });
    });

    it('fails a member degraded at the new generation at once; one still on the old generation at the timeout', () => {
      const degraded = judgeMember(
        member({ status: 'degraded', observedGeneration: 3, appliedTemplateId: to, health: { status: 'unhealthy', generation: 3, reason: 'Deployment/web: 0 of 1 replicas available' } }),
        to,
        60,
        now,
      );
      expect(degraded).toEqual({ state: 'failed', reason: 'degraded after the upgrade: Deployment/web: 0 of 1 replicas available' });
      expect(judgeMember(member({ status: 'degraded' }), to, 60, now).state).toBe('upgrading');
      const late = judgeMember(member({ status: 'degraded', startedAt: new Date(now.getTime() - 61_000) }), to, 60, now);
      expect(late).toEqual({ state: 'failed', reason: expect.stringContaining('within 60s (status degraded)') });
    });

    describe('with health assessed', () => {
      const readyAt3 = (health: WatchedMember['health']) => member({ status: 'ready', observedGeneration: 3, appliedTemplateId: to, health });

      it('is upgraded only when healthy at the new generation', () => {
        expect(judgeMember(readyAt3({ status: 'healthy', generation: 3 }), to, 60, now)).toEqual({ state: 'upgraded', reason: null });
      });

      it.each([
        ['progressing at the new generation', { status: 'progressing', generation: 3 }],
        ['unhealthy (not yet degraded) at the new generation', { status: 'unhealthy', generation: 3 }],
        ['healthy, but assessed at the previous generation', { status: 'healthy', generation: 2 }],
      ])('waits while ready but %s', (_name, health) => {
        expect(judgeMember(readyAt3(health), to, 60, now)).toEqual({ state: 'upgrading' });
      });

      it('waits while observed but the deployment already moved to a newer generation', () => {
        expect(judgeMember(member({ status: 'ready', generation: 4, observedGeneration: 3, appliedTemplateId: to, health: null }), to, 60, now).state).toBe('upgrading');
      });

      it('fails a member ready but not healthy by the timeout, naming its health', () => {
        const late = member({ status: 'ready', observedGeneration: 3, appliedTemplateId: to, startedAt: new Date(now.getTime() - 61_000), health: { status: 'progressing', generation: 3 } });
        expect(judgeMember(late, to, 60, now)).toEqual({ state: 'failed', reason: 'not ready and healthy within 60s (status ready, health progressing at generation 3)' });
      });

      it('falls back to ready at the generation when health is not assessed (null)', () => {
        expect(judgeMember(readyAt3(null), to, 60, now).state).toBe('upgraded');
      });
    });

    it('skips a member being deleted or moved to another template', () => {
      expect(judgeMember(member({ status: 'deleting' }), to, 60, now)).toEqual({ state: 'skipped', reason: 'the deployment is being deleted' });
      expect(judgeMember(member({ desiredTemplateId: 'other' }), to, 60, now).state).toBe('skipped');
    });
  });

  it('halts only above maxFailures', () => {
    expect(tooManyFailures(0, 0)).toBe(false);
    expect(tooManyFailures(1, 0)).toBe(true);
    expect(tooManyFailures(2, 2)).toBe(false);
  });
});
