import { SlotGrant, Slots } from './slots';

const cancelled = () => new Error('cancelled');
/** Lets queued promise continuations run. */
const settle = () => new Promise((r) => setImmediate(r));

/**
 * Queues `owners` (in order) for one slot each and records the order in which they get it: each
 * holder releases as soon as the next is recorded, so grants happen one at a time.
 */
async function grantOrder(sut: Slots, owners: string[]): Promise<string[]> {
  const order: string[] = [];
  const releases: (() => void)[] = [];
  const pending = owners.map((owner, i) =>
    sut.acquire(undefined, cancelled, owner).then((release) => {
      order.push(`${owner}${i}`);
      releases.push(release);
    }),
  );
  await settle();
  while (order.length < owners.length) {
    const release = releases.shift();
    if (!release) throw new Error(`stalled after ${order.join(',')}`);
    release();
    await settle();
  }
  releases.forEach((r) => r());
  await Promise.all(pending);
  return order;
}

describe(Slots.name, () => {
  it('runs at most `size` holders at once and hands a freed slot to a waiter', async () => {
    const sut = new Slots(2);
    const a = await sut.acquire(undefined, cancelled, 'a');
    await sut.acquire(undefined, cancelled, 'a');
    let third = false;
    const p = sut.acquire(undefined, cancelled, 'b').then((r) => ((third = true), r));
    await settle();
    expect(third).toBe(false);
    expect(sut.waiting).toBe(1);
    a();
    a(); // idempotent: the second call frees nothing
    await p;
    expect(third).toBe(true);
    expect(sut.waiting).toBe(0);
  });

  it("gives another owner's single request the next slot, ahead of the first owner's 100 pending ones", async () => {
    const sut = new Slots(1);
    const order = await grantOrder(sut, [...Array(101).fill('a'), 'b']);
    // a0 held the slot when b arrived; b comes right after it.
    expect(order.slice(0, 3)).toEqual(['a0', 'b101', 'a1']);
    expect(order).toHaveLength(102);
  });

  it('reports each grant: waits, and how many other owners were served first', async () => {
    const grants: SlotGrant[] = [];
    const sut = new Slots(1, (g) => grants.push(g));
    await grantOrder(sut, ['a', 'a', 'a', 'b', 'b', 'c']);
    // Order a0 b3 c5 a1 b4 a2: a0 at once; b3 queued behind a0's running turn and went next.
    expect(grants.map((g) => [g.owner, g.othersServedFirst])).toEqual([
      ['a', 0],
      ['b', 0],
      ['c', 1],
      ['a', 2],
      ['b', 2],
      ['a', 3],
    ]);
    expect(grants[0].waitedMs).toBe(0);
    expect(grants.every((g) => g.waitedMs >= 0)).toBe(true);
  });

  it('takes turns between owners, in arrival order within an owner', async () => {
    const sut = new Slots(1);
    const order = await grantOrder(sut, ['a', 'a', 'a', 'b', 'b', 'c']);
    expect(order).toEqual(['a0', 'b3', 'c5', 'a1', 'b4', 'a2']);
  });

  it('keeps FIFO order for a single owner (and for callers without one)', async () => {
    const sut = new Slots(1);
    expect(await grantOrder(sut, ['', '', '', ''])).toEqual(['0', '1', '2', '3']);
  });

  it('bounds the wait of a late owner by one turn with several slots', async () => {
    const sut = new Slots(3);
    const held = await Promise.all([0, 1, 2].map(() => sut.acquire(undefined, cancelled, 'a')));
    const got: string[] = [];
    const a = Array.from({ length: 50 }, () => sut.acquire(undefined, cancelled, 'a').then((r) => (got.push('a'), r)));
    const b = sut.acquire(undefined, cancelled, 'b').then((r) => (got.push('b'), r));
    await settle();
    held[0]();
    await settle();
    expect(got).toEqual(['b']);
    held.slice(1).forEach((r) => r());
    (await b)();
    for (const p of a) (await p)();
    expect(sut.waiting).toBe(0);
  });

  it('drops an aborted waiter from its queue with the given error, and the slot skips it', async () => {
    const sut = new Slots(1);
    const first = await sut.acquire(undefined, cancelled, 'a');
    const ac = new AbortController();
    const aborted = sut.acquire(ac.signal, cancelled, 'b');
    const next = sut.acquire(undefined, cancelled, 'c');
    ac.abort();
    await expect(aborted).rejects.toThrow('cancelled');
    expect(sut.waiting).toBe(1);
    first();
    (await next)();
    expect(sut.waiting).toBe(0);
  });

  it('refuses a size that is not a positive integer', () => {
    expect(() => new Slots(0)).toThrow(RangeError);
    expect(() => new Slots(1.5)).toThrow(RangeError);
  });
});
