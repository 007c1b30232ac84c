import { KubeError, toKubeError } from './kube.errors';

/** The shape @kubernetes/client-node 2.x throws for non-2xx answers (ApiException). */
function apiException(code: number, body: unknown, message = 'Unsuccessful HTTP Request') {
  return Object.assign(new Error(message), { code, body: typeof body === 'string' ? body : JSON.stringify(body), headers: {} });
}

describe(KubeError.name, () => {
  it.each([
    [400, false],
    [403, false],
    [404, false],
    [422, false],
    [408, true],
    [409, true],
    [429, true],
    [500, true],
    [503, true],
  ])('maps HTTP %i to retryable=%s with the Status message', (code, retryable) => {
    const sut = toKubeError(apiException(code, { kind: 'Status', message: 'the reason', reason: 'SomeReason', code }), 'read ConfigMap ns/x');
    expect(sut).toBeInstanceOf(KubeError);
    expect(sut).toMatchObject({ status: code, retryable, reason: 'SomeReason', message: 'read ConfigMap ns/x: the reason' });
  });

  it('treats network failures as retryable', () => {
    const fetchFailed = Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }) });
    expect(toKubeError(fetchFailed, 'list Secret')).toMatchObject({ status: undefined, reason: 'NetworkError', retryable: true });
  });

  it('treats request timeouts as retryable', () => {
    const timeout = Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError' });
    expect(toKubeError(timeout, 'get server version')).toMatchObject({ reason: 'Timeout', retryable: true });
  });

  it('reports a kind the server does not serve as a non-retryable UnknownKind', () => {
    const discovery = apiException(404, '404 page not found', 'Failed to fetch resource metadata for foo.io/v1/Bar: Unsuccessful HTTP Request');
    expect(toKubeError(discovery, 'read Bar ns/x')).toMatchObject({ status: 404, reason: 'UnknownKind', retryable: false });
    expect(toKubeError(new Error('Unrecognized API version and kind: v1 Nope'), 'read')).toMatchObject({ reason: 'UnknownKind' });
  });

  it('treats writes into a terminating namespace as retryable', () => {
    const body = { kind: 'Status', reason: 'Forbidden', message: 'configmaps "x" is forbidden: unable to create new content in namespace d-1 because it is being terminated' };
    expect(toKubeError(apiException(403, body), 'apply ConfigMap d-1/x')).toMatchObject({ status: 403, reason: 'NamespaceTerminating', retryable: true });
  });

  it('keeps a KubeError as it is', () => {
    const original = new KubeError('x', 409, 'Conflict', false);
    expect(toKubeError(original, 'y')).toBe(original);
  });
});
