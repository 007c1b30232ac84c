/** A waiter in an owner's queue. */
interface Waiter {
  wake(): void;
  queuedAt: number;
  /** Grants counter and this owner's queue grants when the waiter queued. */
  grantsAtQueue: number;
  ownGrantsAtQueue: number;
}

interface OwnerQueue {
  waiters: Waiter[];
  /** Grant counter value when this owner last got a slot; -1: never. Lowest goes first. */
  lastServed: number;
  /** Slots handed to this queue's waiters since the queue formed. */
  granted: number;
}

/** What a caller got when it got its slot: how long it waited and how many other owners' steps went first. */
export interface SlotGrant {
  owner: string;
  waitedMs: number;
  /** Slots granted to other owners between this caller's queueing and its grant (fairness: at most the slots' count). */
  othersServedFirst: number;
}

/**
 * A counting semaphore shared fairly between owners (the users whose deployments wait for helm).
 * Waiters queue per owner, FIFO within an owner; a freed slot goes to the waiting owner served
 * least recently, so owners take turns: one owner's hundred pending installs delay another
 * owner's single install by at most one slot's turn, not by a hundred. A waiter whose signal
 * aborts leaves its queue and gets the given error.
 */
export class Slots {
  private free: number;
  private readonly owners = new Map<string, OwnerQueue>();
  /** Counts grants; orders owners by when they were last served. */
  private grants = 0;
  private readonly lastServed = new Map<string, number>();

  constructor(
    size: number,
    private readonly onGrant: (grant: SlotGrant) => void = () => undefined,
  ) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`maxConcurrent must be a positive integer, got ${size}`);
    this.free = size;
  }

  /** Callers waiting for a slot, over all owners. */
  get waiting(): number {
    let n = 0;
    for (const q of this.owners.values()) n += q.waiters.length;
    return n;
  }

  /** Waits for a slot and returns its release function (idempotent). `owner` defaults to one shared owner. */
  async acquire(signal: AbortSignal | undefined, onAbort: () => Error, owner = ''): Promise<() => void> {
    if (this.free > 0 && this.owners.size === 0) {
      this.free--;
      this.served(owner);
      this.onGrant({ owner, waitedMs: 0, othersServedFirst: 0 });
    } else {
      let q = this.owners.get(owner);
      if (!q) {
        q = { waiters: [], lastServed: this.lastServed.get(owner) ?? -1, granted: 0 };
        this.owners.set(owner, q);
      }
      const queue = q;
      await new Promise<void>((resolve, reject) => {
        const waiter: Waiter = {
          queuedAt: Date.now(),
          grantsAtQueue: this.grants,
          ownGrantsAtQueue: queue.granted,
          wake: () => {
            signal?.removeEventListener('abort', abort);
            // The grant counter already counts this waiter's own grant.
            const othersServedFirst = this.grants - 1 - waiter.grantsAtQueue - (queue.granted - 1 - waiter.ownGrantsAtQueue);
            this.onGrant({ owner, waitedMs: Date.now() - waiter.queuedAt, othersServedFirst });
            resolve();
          },
        };
        const abort = () => {
          const q = this.owners.get(owner);
          const i = q ? q.waiters.indexOf(waiter) : -1;
          if (q && i >= 0) {
            q.waiters.splice(i, 1);
            if (q.waiters.length === 0) this.owners.delete(owner);
          }
          reject(onAbort());
        };
        queue.waiters.push(waiter);
        signal?.addEventListener('abort', abort, { once: true });
      });
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      // The slot goes straight to the next waiter, if any.
      if (!this.handOver()) this.free++;
    };
  }

  /** Gives a freed slot to the first waiter of the least recently served owner; false when nobody waits. */
  private handOver(): boolean {
    let pick: [string, OwnerQueue] | undefined;
    // Ties (owners never served) keep arrival order: Map iteration is insertion order.
    for (const entry of this.owners) if (!pick || entry[1].lastServed < pick[1].lastServed) pick = entry;
    if (!pick) return false;
    const [owner, q] = pick;
    const waiter = q.waiters.shift()!;
    if (q.waiters.length === 0) this.owners.delete(owner);
    this.served(owner);
    q.lastServed = this.grants;
    q.granted += 1;
    waiter.wake();
    return true;
  }

  private served(owner: string): void {
    this.grants += 1;
    this.lastServed.set(owner, this.grants);
    // Only the order matters; forget owners long idle so the map stays small.
    if (this.lastServed.size > 10_000) {
      for (const key of this.lastServed.keys()) {
        if (!this.owners.has(key)) this.lastServed.delete(key);
        if (this.lastServed.size <= 5_000) break;
      }
    }
  }
}
