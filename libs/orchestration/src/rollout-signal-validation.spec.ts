import { checkRolloutSignal } from './rollout-signal-validation';
import { SIGNAL_ACTOR } from './signal-validation';

describe(checkRolloutSignal.name, () => {
  const sut = checkRolloutSignal;

  it('accepts no payload, an empty object and a printable requestedBy', () => {
    expect(sut(undefined)).toEqual({ ok: true, requestedBy: SIGNAL_ACTOR });
    expect(sut(null)).toEqual({ ok: true, requestedBy: SIGNAL_ACTOR });
    expect(sut({})).toEqual({ ok: true, requestedBy: SIGNAL_ACTOR });
    expect(sut({ requestedBy: 'ops@example.com' })).toEqual({ ok: true, requestedBy: 'ops@example.com' });
  });

  it.each([['a string'], [42], [[1]], [{ requestedBy: 'x', extra: 1 }], [{ requestedBy: 'a\u0000b' }], [{ requestedBy: 'x'.repeat(201) }], [{ requestedBy: 7 }]])(
    'refuses %j without echoing it',
    (raw) => {
      const res = sut(raw);
      expect(res.ok).toBe(false);
      expect(!res.ok && res.reason).not.toContain('extra');
    },
  );
});
