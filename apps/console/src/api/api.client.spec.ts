import { ApiClient, ApiError, fetchAll } from './api.client';

function answer(status: number, body?: unknown, statusText = ''): Response {
  const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
  return { status, ok: status >= 200 && status < 300, statusText, text: async () => text } as Response;
}

describe(ApiClient.name, () => {
  const token = 'cae_secret_token';
  let fetchFn: jest.Mock;
  let onUnauthorized: jest.Mock;
  let sut: ApiClient;

  beforeEach(() => {
    fetchFn = jest.fn();
    onUnauthorized = jest.fn();
    sut = new ApiClient({ token, onUnauthorized, fetchFn });
  });

  it('sends the token as a bearer header, never in the URL', async () => {
    fetchFn.mockResolvedValue(answer(200, { items: [], nextCursor: null }));
    await sut.listDeployments('u1', { status: 'ready', cursor: 'abc' });
    const [url, init] = fetchFn.mock.calls[0];
    expect(url).toBe('/users/u1/deployments?limit=20&status=ready&cursor=abc');
    expect(url).not.toContain(token);
    expect(init.headers.Authorization).toBe(`Bearer ${token}`);
    expect(init.credentials).toBe('omit');
  });

  it('turns a 400 into an ApiError with the fields', async () => {
    fetchFn.mockResolvedValue(answer(400, { statusCode: 400, message: 'values do not match', fields: [{ field: '/user/title', message: 'too long' }], requestId: 'r1' }));
    const err = await sut.createDeployment('u1', { templateId: 't', domainName: 'a.example.com', values: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 400, message: 'values do not match', fields: [{ field: '/user/title', message: 'too long' }], requestId: 'r1' });
    expect(onUnauthorized).not.toHaveBeenCalled();
  });

  it('tells the console on a 401, and still throws', async () => {
    fetchFn.mockResolvedValue(answer(401, { statusCode: 401, message: 'the bearer token is not valid' }));
    await expect(sut.session()).rejects.toMatchObject({ status: 401 });
    expect(onUnauthorized).toHaveBeenCalledWith('the bearer token is not valid');
  });

  it('keeps a 403 as an error without signing out', async () => {
    fetchFn.mockResolvedValue(answer(403, { statusCode: 403, message: 'this route is for admins only' }));
    await expect(sut.listUsers()).rejects.toMatchObject({ status: 403, message: 'this route is for admins only' });
    expect(onUnauthorized).not.toHaveBeenCalled();
  });

  it('reports an unreachable API as status 0', async () => {
    fetchFn.mockRejectedValue(new TypeError('Failed to fetch'));
    await expect(sut.session()).rejects.toMatchObject({ status: 0, message: expect.stringMatching(/could not be reached.*Failed to fetch/) });
  });

  it('names the status when an error body is not JSON (a proxy page)', async () => {
    fetchFn.mockResolvedValue(answer(502, '<html>Bad gateway</html>', 'Bad Gateway'));
    await expect(sut.session()).rejects.toMatchObject({ status: 502, message: '502 Bad Gateway', fields: [] });
  });

  it('refuses a 2xx body that is not JSON', async () => {
    fetchFn.mockResolvedValue(answer(200, '<html>'));
    await expect(sut.session()).rejects.toThrow(/not JSON/);
  });

  it('answers undefined for a 204', async () => {
    fetchFn.mockResolvedValue(answer(204));
    await expect(sut.deleteUser('u1')).resolves.toBeUndefined();
    expect(fetchFn.mock.calls[0][1].method).toBe('DELETE');
  });

  it('sends If-Match with the generation on updates and upgrades, and dryRun for previews', async () => {
    fetchFn.mockResolvedValue(answer(202, {}));
    await sut.updateDeployment('u1', 'd1', { title: 'x' }, 3);
    expect(fetchFn.mock.calls[0][1].headers['If-Match']).toBe('3');
    expect(JSON.parse(fetchFn.mock.calls[0][1].body)).toEqual({ values: { title: 'x' } });
    fetchFn.mockResolvedValue(answer(200, {}));
    await sut.previewUpgrade('u1', 'd1', 't2');
    expect(fetchFn.mock.calls[1][0]).toBe('/users/u1/deployments/d1/upgrade?dryRun=true');
    expect(fetchFn.mock.calls[1][1].headers['If-Match']).toBeUndefined();
  });

  it('reads every page of a list', async () => {
    const pages: Record<string, { items: number[]; nextCursor: string | null }> = { '': { items: [1, 2], nextCursor: 'c2' }, c2: { items: [3], nextCursor: null } };
    expect(await fetchAll(async (c) => pages[c ?? ''])).toEqual([1, 2, 3]);
  });
});
