import { SignalBatcher } from './signal-batcher';

const T = 1_000_000;

describe(SignalBatcher.name, () => {
  const make = () => new SignalBatcher({ settleMs: 300, windowMs: 1000 });

  it('sends one signal for a burst of changes of one deployment, after the settle time', () => {
    const sut = make();
    sut.add('d-1', 'changed', T);
    sut.add('d-1', 'changed', T + 50);
    sut.add('d-1', 'changed', T + 100);
    expect(sut.nextAt()).toBe(T + 300);
    expect(sut.take(T + 299)).toEqual([]);
    expect(sut.take(T + 300)).toEqual([{ uid: 'd-1', reason: 'changed' }]);
    expect(sut.pending).toBe(0);
  });

  it('sends at most one signal per deployment per window, and each deployment its own', () => {
    const sut = make();
    sut.add('d-1', 'changed', T);
    sut.add('d-2', 'changed', T + 10);
    expect(sut.take(T + 310).map((d) => d.uid)).toEqual(['d-1', 'd-2']);
    sut.add('d-1', 'changed', T + 400);
    // Sent at T+310: the next one waits for the window to close.
    expect(sut.nextAt()).toBe(T + 1310);
    expect(sut.take(T + 1000)).toEqual([]);
    expect(sut.take(T + 1310)).toEqual([{ uid: 'd-1', reason: 'changed' }]);
  });

  it('spreads a resync over time, and a change is not held back behind it', () => {
    const sut = new SignalBatcher({ settleMs: 0, windowMs: 1000 });
    expect(sut.spread(['a', 'b', 'c', 'd'], T, 2)).toBe(4);
    expect(sut.take(T)).toEqual([{ uid: 'a', reason: 'resync' }]);
    sut.add('d', 'changed', T + 100);
    expect(sut.take(T + 100)).toEqual([{ uid: 'd', reason: 'changed' }]);
    expect(sut.take(T + 499)).toEqual([]);
    expect(sut.take(T + 500)).toEqual([{ uid: 'b', reason: 'resync' }]);
    expect(sut.take(T + 1000)).toEqual([{ uid: 'c', reason: 'resync' }]);
    expect(sut.pending).toBe(0);
  });

  it('queues a second spread after the first, and does not queue a deployment twice', () => {
    const sut = new SignalBatcher({ settleMs: 0, windowMs: 1000 });
    sut.spread(['a', 'b'], T, 10);
    expect(sut.spread(['b', 'c'], T, 10)).toBe(1);
    expect(sut.pending).toBe(3);
    const order: string[] = [];
    for (let t = T; t <= T + 1000; t += 50) order.push(...sut.take(t).map((d) => `${d.uid}@${t - T}`));
    expect(order).toEqual(['a@0', 'b@100', 'c@200']);
  });
});
