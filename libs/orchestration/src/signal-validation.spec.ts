import { checkDriftSignal, checkReconcileSignal, checkUpgradeSignal, isPrintable, queuedUpgrade } from './signal-validation';

const UUID = '3f2c1a9e-8b7d-4c6e-9f01-23456789abcd';

describe(checkUpgradeSignal.name, () => {
  it('accepts a template id with an optional sender, lower-casing the id', () => {
    expect(checkUpgradeSignal({ templateId: UUID })).toEqual({ ok: true, signal: { templateId: UUID } });
    expect(checkUpgradeSignal({ templateId: UUID.toUpperCase(), requestedBy: 'ops@example.com' })).toEqual({ ok: true, signal: { templateId: UUID, requestedBy: 'ops@example.com' } });
  });

  it.each([
    ['null', null],
    ['a string', 'upgrade please'],
    ['a number', 42],
    ['an array', [UUID]],
    ['a missing template id', {}],
    ['a numeric template id', { templateId: 7 }],
    ['a template id that is not a UUID', { templateId: 'backwards' }],
    ['a template id with a NUL', { templateId: `${UUID.slice(0, 35)}\u0000` }],
    ['a long template id', { templateId: UUID.repeat(10_000) }],
    ['an unknown field', { templateId: UUID, force: true }],
    ['a non-string sender', { templateId: UUID, requestedBy: { name: 'x' } }],
    ['a sender with a NUL', { templateId: UUID, requestedBy: 'ad\u0000min' }],
    ['a sender with a newline', { templateId: UUID, requestedBy: 'admin\nforged log line' }],
    ['a sender with a bidi override', { templateId: UUID, requestedBy: 'admin\u202e' }],
    ['a sender with a lone surrogate', { templateId: UUID, requestedBy: 'a\ud800b' }],
    ['an empty sender', { templateId: UUID, requestedBy: '' }],
    ['a long sender', { templateId: UUID, requestedBy: 'x'.repeat(201) }],
  ])('rejects %s', (_name, raw) => {
    const res = checkUpgradeSignal(raw);
    expect(res.ok).toBe(false);
  });

  it('never echoes the payload in its reason, and keeps the sender only when it is valid', () => {
    const res = checkUpgradeSignal({ templateId: 'x'.repeat(5000), requestedBy: 'ops' });
    expect(res).toEqual({ ok: false, reason: 'templateId must be a UUID', requestedBy: 'ops' });
    const bad = checkUpgradeSignal({ templateId: UUID, requestedBy: 'o\u0000ps' });
    expect(bad).toMatchObject({ ok: false });
    expect(bad).not.toHaveProperty('requestedBy');
    const unknown = checkUpgradeSignal({ templateId: UUID, 'evil\u0000key': 1, other: 2 });
    expect(unknown).toMatchObject({ ok: false });
    expect(JSON.stringify(unknown)).not.toContain('evil');
  });

  it('names short unknown fields', () => {
    expect(checkUpgradeSignal({ templateId: UUID, force: true })).toMatchObject({ ok: false, reason: expect.stringMatching(/unknown force$/) });
  });
});

describe(queuedUpgrade.name, () => {
  it('queues a valid signal as it is and a malformed one as its rejection only', () => {
    expect(queuedUpgrade({ templateId: UUID, requestedBy: 'ops' })).toEqual({ templateId: UUID, requestedBy: 'ops' });
    expect(queuedUpgrade({ templateId: 'y'.repeat(100_000) })).toEqual({ templateId: '', rejected: 'templateId must be a UUID' });
    expect(queuedUpgrade(undefined)).toMatchObject({ templateId: '', rejected: expect.any(String) });
  });
});

describe(checkReconcileSignal.name, () => {
  it.each([
    [{ force: true }, true],
    [{ force: 'yes' }, false],
    [{ force: 1 }, false],
    ['force', false],
    [null, false],
    [undefined, false],
    [[true], false],
  ])('forces only on a literal true: %p', (raw, force) => {
    expect(checkReconcileSignal(raw)).toEqual({ force });
  });
});

describe(isPrintable.name, () => {
  it('takes ordinary names, accents included, and refuses padding', () => {
    expect(isPrintable('Zoë Durand', 200)).toBe(true);
    expect(isPrintable(' admin', 200)).toBe(false);
    expect(isPrintable('😀', 200)).toBe(true);
  });
});

describe(checkDriftSignal.name, () => {
  it.each<[unknown, string]>([
    [{ reason: 'resync' }, 'resync'],
    [{ reason: 'changed' }, 'changed'],
    [undefined, 'changed'],
    [null, 'changed'],
    ['resync', 'changed'],
    [{ reason: 'RESYNC' }, 'changed'],
    [{ reason: 'x'.repeat(10_000) }, 'changed'],
    [[{ reason: 'resync' }], 'changed'],
  ])('reads %j as one check of kind %s, and keeps nothing else', (raw, reason) => {
    expect(checkDriftSignal(raw)).toBe(reason);
  });
});
