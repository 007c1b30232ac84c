/**
 * Requests started while the console boots, before it knows who signed in (GET /session), for
 * the page in the URL; the page takes its answer instead of asking again. Each is taken once,
 * only with the token it was made with, and only while fresh.
 */
interface Started {
  token: string;
  at: number;
  promise: Promise<unknown>;
}

const started = new Map<string, Started>();
const FRESH_MS = 10_000;

export function prefetch<T>(key: string, token: string, load: () => Promise<T>): void {
  const promise = load();
  // An error (a token that is no longer valid, a non-admin) is the page's to see if it asks itself.
  promise.catch(() => undefined);
  started.set(key, { token, at: Date.now(), promise });
}

export function takePrefetched<T>(key: string, token: string): Promise<T> | undefined {
  const s = started.get(key);
  started.delete(key);
  return s && s.token === token && Date.now() - s.at <= FRESH_MS ? (s.promise as Promise<T>) : undefined;
}
