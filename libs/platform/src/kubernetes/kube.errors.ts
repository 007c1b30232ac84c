/**
 * Every failure that leaves the Kubernetes adapter is a KubeError, so callers decide on
 * retries from two fields instead of inspecting client-library exceptions.
 */
export class KubeError extends Error {
  override readonly name = 'KubeError';

  constructor(
    message: string,
    /** HTTP status from the API server; undefined for network failures and timeouts. */
    readonly status: number | undefined,
    /** Kubernetes Status `reason` (NotFound, Conflict, Forbidden…) or a local one (NetworkError, Timeout). */
    readonly reason: string | undefined,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  get notFound(): boolean {
    return this.status === 404;
  }

  get conflict(): boolean {
    return this.status === 409;
  }
}

const RETRYABLE_NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);

/** 408, 409 (optimistic-lock conflicts), 410 (expired list continue), 429 and 5xx heal by themselves. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 410 || status === 429 || status >= 500;
}

interface StatusBody {
  message?: string;
  reason?: string;
}

function parseStatusBody(body: unknown): StatusBody {
  if (body && typeof body === 'object') return body;
  if (typeof body === 'string' && body.trim().startsWith('{')) {
    try {
      return JSON.parse(body) as StatusBody;
    } catch {
      return {};
    }
  }
  return {};
}

function networkCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * Maps whatever @kubernetes/client-node threw (ApiException with `code` and a body,
 * undici's "fetch failed" TypeError with a `cause`, an AbortSignal timeout) to a KubeError.
 * `action` names what we tried, e.g. "read Deployment ns/web".
 */
export function toKubeError(err: unknown, action: string): KubeError {
  if (err instanceof KubeError) return err;

  const status = (err as { code?: unknown })?.code;
  if (typeof status === 'number' && status >= 100 && status < 600) {
    const body = parseStatusBody((err as { body?: unknown }).body);
    const detail = body.message ?? `HTTP ${status}`;
    // Discovery of an apiVersion the server does not serve answers 404 too: that is no missing object.
    const unknownKind = status === 404 && /Failed to fetch resource metadata/.test(String((err as Error).message));
    if (unknownKind) return new KubeError(`${action}: ${detail}`, status, 'UnknownKind', false, { cause: err });
    // A 403 for writing into a namespace that is still terminating passes once it is gone.
    if (status === 403 && /because it is being terminated/.test(detail)) {
      return new KubeError(`${action}: ${detail}`, status, 'NamespaceTerminating', true, { cause: err });
    }
    return new KubeError(`${action}: ${detail}`, status, body.reason, isRetryableStatus(status), { cause: err });
  }

  const name = (err as { name?: unknown })?.name;
  if (name === 'TimeoutError' || name === 'AbortError') {
    return new KubeError(`${action}: request timed out`, undefined, 'Timeout', true, { cause: err });
  }

  const code = networkCode(err);
  if (code && RETRYABLE_NETWORK_CODES.has(code)) {
    return new KubeError(`${action}: ${code}`, undefined, 'NetworkError', true, { cause: err });
  }
  // undici reports most connection problems as a bare "fetch failed".
  const message = err instanceof Error ? err.message : String(err);
  if (/fetch failed|socket hang up|network/i.test(message)) {
    return new KubeError(`${action}: ${message}`, undefined, 'NetworkError', true, { cause: err });
  }
  if (/Unrecognized API version and kind/.test(message)) {
    return new KubeError(`${action}: ${message}`, 404, 'UnknownKind', false, { cause: err });
  }
  return new KubeError(`${action}: ${message}`, undefined, undefined, false, { cause: err });
}
