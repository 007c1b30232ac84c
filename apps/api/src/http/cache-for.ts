/**
 * Memoises an async read for `ttlMs`, failures included, and shares one call among concurrent
 * callers: a scrape or probe storm costs at most one backend call per interval.
 */
export function cacheFor<T>(ttlMs: number, read: () => Promise<T>, now: () => number = Date.now): () => Promise<T> {
  let cached: { at: number; value: Promise<T> } | undefined;
  return () => {
    const t = now();
    if (!cached || t - cached.at >= ttlMs) {
      const value = read();
      // The cached promise may be read by nobody before it settles: keep a rejection from being reported as unhandled.
      value.catch(() => undefined);
      cached = { at: t, value };
    }
    return cached.value;
  };
}
