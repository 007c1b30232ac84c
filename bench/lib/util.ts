/** Small helpers shared by the benchmark phases: timing, statistics, bounded concurrency, logging. */

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const started = Date.now();

/** Progress on stderr, prefixed with the seconds since the bench started. */
export function log(msg: string): void {
  process.stderr.write(`[bench +${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s] ${msg}\n`);
}

/** Linear-interpolated percentile (p in 0..100) of the values. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (s.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return s[lo] + (s[hi] - s[lo]) * (rank - lo);
}

export const median = (values: number[]) => percentile(values, 50);
export const mean = (values: number[]) => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN);
export const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

/** Rounds for the report: ms to integers, ratios and seconds to 3 significant decimals. */
export function round(n: number, digits = 3): number {
  if (!Number.isFinite(n)) return n;
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** Runs fn over items with at most `limit` in flight; results keep the items' order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

/** Polls until ok(value) or the timeout; throws naming what it waited for. */
export async function waitFor<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs: number, everyMs = 250): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    try {
      last = await fn();
      if (ok(last)) return last;
    } catch (err) {
      if (Date.now() >= end) throw err;
    }
    if (Date.now() >= end) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)}s waiting for ${what}; last seen: ${JSON.stringify(last)?.slice(0, 500)}`);
    await sleep(everyMs);
  }
}

/** Summary statistics of a sample, in the sample's unit. */
export function summarize(values: number[]): { n: number; min: number; median: number; p95: number; max: number; mean: number } {
  return {
    n: values.length,
    min: round(Math.min(...values)),
    median: round(median(values)),
    p95: round(percentile(values, 95)),
    max: round(Math.max(...values)),
    mean: round(mean(values)),
  };
}
