import type { DriftSignalReason } from '../contract';

export interface SignalBatcherOptions {
  /** A deployment's first change waits this long, so that a burst (kubectl apply of several objects) is one signal. */
  settleMs: number;
  /** At most one signal per deployment in this window. */
  windowMs: number;
}

export interface DueSignal {
  uid: string;
  reason: DriftSignalReason;
}

/**
 * Debounces and deduplicates drift signals per deployment: changes to a deployment's objects
 * become one signal `settleMs` after the first, and at most one per `windowMs`; a change
 * outranks a resync. Pure (time is given), so it is unit-tested without timers.
 */
export class SignalBatcher {
  private readonly due = new Map<string, { at: number; reason: DriftSignalReason }>();
  private readonly sentAt = new Map<string, number>();
  /** When the last resync queued by `spread` falls due: the next spread queues after it. */
  private resyncTail = -Infinity;

  constructor(private readonly options: SignalBatcherOptions) {}

  get pending(): number {
    return this.due.size;
  }

  add(uid: string, reason: DriftSignalReason, now: number): void {
    const queued = this.due.get(uid);
    if (queued) {
      if (reason === 'changed' && queued.reason === 'resync') {
        // A change is not held back behind a resync's spread.
        queued.reason = 'changed';
        queued.at = Math.min(queued.at, this.earliest(uid, now));
      }
      return;
    }
    this.due.set(uid, { at: this.earliest(uid, now), reason });
  }

  /** Queues a resync of each deployment, `ratePerSecond` at most, so a fresh list does not check every deployment at once. */
  spread(uids: Iterable<string>, now: number, ratePerSecond: number): number {
    const step = 1000 / ratePerSecond;
    let at = Math.max(now, this.resyncTail + step);
    let n = 0;
    for (const uid of uids) {
      if (this.due.has(uid)) continue;
      this.due.set(uid, { at: Math.max(at, this.earliest(uid, now)), reason: 'resync' });
      this.resyncTail = at;
      at += step;
      n++;
    }
    return n;
  }

  /** The signals due at `now`, removed from the queue. */
  take(now: number): DueSignal[] {
    const out: DueSignal[] = [];
    for (const [uid, d] of this.due) {
      if (d.at > now) continue;
      this.due.delete(uid);
      this.sentAt.set(uid, now);
      out.push({ uid, reason: d.reason });
    }
    // Bounded: only deployments signalled within the window are remembered.
    for (const [uid, at] of this.sentAt) if (at + this.options.windowMs <= now) this.sentAt.delete(uid);
    return out;
  }

  /** When the next signal falls due; undefined when none is queued. */
  nextAt(): number | undefined {
    let next: number | undefined;
    for (const d of this.due.values()) if (next === undefined || d.at < next) next = d.at;
    return next;
  }

  private earliest(uid: string, now: number): number {
    const sent = this.sentAt.get(uid);
    return Math.max(now + this.options.settleMs, sent === undefined ? 0 : sent + this.options.windowMs);
  }
}
