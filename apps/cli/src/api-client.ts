import { ApiRequest } from './request';

/** The API could not be reached (refused, unknown host, no answer in time). */
export class ConnectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConnectionError';
  }
}

export interface ApiResponse {
  status: number;
  /** Parsed JSON, the raw text when it is not JSON, or null for an empty body. */
  body: unknown;
  requestId?: string;
}

export interface ClientOptions {
  baseUrl: string;
  token?: string;
  timeoutMs: number;
  fetch: typeof fetch;
}

export function requestUrl(baseUrl: string, req: Pick<ApiRequest, 'path' | 'query'>): string {
  const url = new URL(baseUrl.replace(/\/+$/, '') + req.path);
  for (const [k, v] of Object.entries(req.query)) url.searchParams.set(k, v);
  return url.toString();
}

/** Sends one request. Any HTTP answer is returned; only a failure to get one throws. */
export async function send(req: ApiRequest, options: ClientOptions): Promise<ApiResponse> {
  const url = requestUrl(options.baseUrl, req);
  const headers: Record<string, string> = { accept: 'application/json', ...req.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (req.body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await options.fetch(url, {
      method: req.method,
      headers,
      body: req.body === undefined ? undefined : JSON.stringify(req.body),
      signal: AbortSignal.timeout(options.timeoutMs),
    });
  } catch (err) {
    throw new ConnectionError(`cannot reach the Caelus API at ${options.baseUrl}: ${describeFetchError(err, options.timeoutMs)}`);
  }
  let text: string;
  try {
    text = await res.text();
  } catch (err) {
    throw new ConnectionError(`the Caelus API at ${options.baseUrl} closed the connection: ${describeFetchError(err, options.timeoutMs)}`);
  }
  let body: unknown = null;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  return { status: res.status, body, requestId: res.headers.get('x-request-id') ?? undefined };
}

function describeFetchError(err: unknown, timeoutMs: number): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `no answer within ${Math.round(timeoutMs / 1000)} s`;
  // undici reports the socket error as the cause of a generic "fetch failed".
  if (e?.cause?.message || e?.cause?.code) return (e.cause.message || e.cause.code)!;
  return e?.message ?? String(err);
}
