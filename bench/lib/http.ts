/** A minimal JSON client for the API under test (always 127.0.0.1). */

export interface ApiClient {
  baseUrl: string;
  token: string;
  /** 503 answers with Retry-After that were retried, as any well-behaved client would (reported by the phases that burst). */
  retried503: number;
  request<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
}

/** Retries of one request answered 503 with Retry-After before its answer is returned as it is. */
const MAX_503_RETRIES = 5;

export function apiClient(port: number, token: string): ApiClient {
  const baseUrl = `http://127.0.0.1:${port}`;
  const client: ApiClient = {
    baseUrl,
    token,
    retried503: 0,
    async request<T>(method: string, path: string, body?: unknown) {
      for (let attempt = 0; ; attempt++) {
        const res = await fetch(`${baseUrl}${path}`, {
          method,
          headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        const text = await res.text();
        const retryAfter = Number(res.headers.get('retry-after'));
        if (res.status === 503 && retryAfter > 0 && attempt < MAX_503_RETRIES) {
          client.retried503++;
          await new Promise((r) => setTimeout(r, retryAfter * 1000));
          continue;
        }
        return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
      }
    },
  };
  return client;
}

/** Fails with the response when the status is not the expected one. */
export async function expectStatus<T>(p: Promise<{ status: number; body: T }>, status: number, what: string): Promise<T> {
  const res = await p;
  if (res.status !== status) throw new Error(`${what}: expected HTTP ${status}, got ${res.status}: ${JSON.stringify(res.body)?.slice(0, 500)}`);
  return res.body;
}
