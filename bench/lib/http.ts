/** A minimal JSON client for the API under test (always 127.0.0.1). */

export interface ApiClient {
  baseUrl: string;
  token: string;
  request<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
}

export function apiClient(port: number, token: string): ApiClient {
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    baseUrl,
    token,
    async request<T>(method: string, path: string, body?: unknown) {
      const res = await fetch(`${baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
    },
  };
}

/** Fails with the response when the status is not the expected one. */
export async function expectStatus<T>(p: Promise<{ status: number; body: T }>, status: number, what: string): Promise<T> {
  const res = await p;
  if (res.status !== status) throw new Error(`${what}: expected HTTP ${status}, got ${res.status}: ${JSON.stringify(res.body)?.slice(0, 500)}`);
  return res.body;
}
