/**
 * Reading a Prometheus text exposition (a worker's /metrics: Caelus's own series and the Temporal
 * core's) twice and keeping what changed between the two reads, so a measurement window says how
 * many drift checks, workflow tasks, activities and sticky-cache misses it held.
 */

/** Labels that only repeat what the window already says (which queue, which service). */
const DROPPED_LABELS = new Set(['namespace', 'task_queue', 'service_name']);

/** `name{labels}` → value, for the series whose name matches `keep` (histogram buckets left out). */
export function parseSeries(text: string, keep: RegExp): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const brace = line.indexOf('{');
    const space = line.lastIndexOf(' ');
    if (space < 0) continue;
    const name = brace >= 0 && brace < space ? line.slice(0, brace) : line.slice(0, line.indexOf(' '));
    if (name.endsWith('_bucket') || !keep.test(name)) continue;
    const value = Number(line.slice(space + 1));
    if (!Number.isFinite(value)) continue;
    const labels = brace >= 0 && brace < space ? line.slice(brace + 1, line.lastIndexOf('}', space)) : '';
    const kept = [...labels.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].filter((m) => !DROPPED_LABELS.has(m[1])).map((m) => `${m[1]}="${m[2]}"`);
    const key = kept.length ? `${name}{${kept.join(',')}}` : name;
    out.set(key, (out.get(key) ?? 0) + value);
  }
  return out;
}

/**
 * What changed between two reads, summed over several processes' reads: counters as differences,
 * gauges (`gauges` matches their names) as their value at the second read. Unchanged counters are left out.
 */
export function seriesDeltas(before: Map<string, number>[], after: Map<string, number>[], gauges: RegExp): Record<string, number> {
  const sum = (maps: Map<string, number>[]) => {
    const out = new Map<string, number>();
    for (const m of maps) for (const [k, v] of m) out.set(k, (out.get(k) ?? 0) + v);
    return out;
  };
  const a = sum(before);
  const b = sum(after);
  const out: Record<string, number> = {};
  for (const key of [...b.keys()].sort()) {
    const name = key.replace(/\{.*$/, '');
    const value = gauges.test(name) ? b.get(key)! : b.get(key)! - (a.get(key) ?? 0);
    if (value !== 0) out[key] = Math.round(value * 1000) / 1000;
  }
  return out;
}

/**
 * The worker's event-loop delay (prom-client's `monitorEventLoopDelay` gauges, in ms) since the
 * previous read of its /metrics: the histogram restarts at every scrape, so a read before a step
 * and one after it describe the step.
 */
export function eventLoopDelayMs(text: string): Record<'mean' | 'p50' | 'p99' | 'max', number> | undefined {
  const series = parseSeries(text, /nodejs_eventloop_lag_(mean|p50|p99|max)_seconds$/);
  const read = (stat: string) => [...series].find(([k]) => k.endsWith(`nodejs_eventloop_lag_${stat}_seconds`))?.[1];
  const [mean, p50, p99, max] = ['mean', 'p50', 'p99', 'max'].map(read);
  if ([mean, p50, p99, max].some((v) => v === undefined)) return undefined;
  const ms = (s: number | undefined) => Math.round(s! * 1e5) / 100;
  return { mean: ms(mean), p50: ms(p50), p99: ms(p99), max: ms(max) };
}
