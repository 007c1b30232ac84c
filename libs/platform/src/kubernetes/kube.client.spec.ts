import { HttpMethod, RequestContext } from '@kubernetes/client-node';
import { sharedDispatcherAuth } from './kube.client';

describe(sharedDispatcherAuth.name, () => {
  function setup() {
    let calls = 0;
    const dispatchers: object[] = [];
    const kc = {
      getName: () => 'test',
      // Like the library: sets the auth header and a fresh dispatcher on every call.
      applySecurityAuthentication: jest.fn(async (ctx: RequestContext) => {
        calls++;
        ctx.setHeaderParam('Authorization', `Bearer token-${calls}`);
        const dispatcher = { id: calls };
        dispatchers.push(dispatcher);
        ctx.setDispatcher(dispatcher as never);
      }),
    };
    let clock = 1_000;
    const sut = sharedDispatcherAuth(kc as never, 60_000, () => clock);
    const request = async () => {
      const ctx = new RequestContext('https://127.0.0.1:6443/api/v1/namespaces', HttpMethod.GET);
      ctx.setHeaderParam('Accept', 'application/json');
      await sut.applySecurityAuthentication(ctx);
      return ctx;
    };
    return { kc, dispatchers, request, advance: (ms: number) => (clock += ms) };
  }

  it('keeps the first dispatcher and re-applies the auth headers without re-reading the kubeconfig', async () => {
    const { kc, dispatchers, request } = setup();
    const first = await request();
    const second = await request();
    expect(kc.applySecurityAuthentication).toHaveBeenCalledTimes(1);
    expect(second.getHeaders()).toMatchObject({ Authorization: 'Bearer token-1', Accept: 'application/json' });
    expect(second.getDispatcher()).toBe(dispatchers[0]);
    expect(first.getDispatcher()).toBe(dispatchers[0]);
  });

  it('reads the credentials again after the refresh interval (rotated tokens), keeping the connection', async () => {
    const { kc, dispatchers, request, advance } = setup();
    await request();
    advance(60_001);
    const later = await request();
    expect(kc.applySecurityAuthentication).toHaveBeenCalledTimes(2);
    expect(later.getHeaders().Authorization).toBe('Bearer token-2');
    expect(later.getDispatcher()).toBe(dispatchers[0]);
    // Headers set by the request itself are not taken for credentials.
    advance(1);
    expect(Object.keys((await request()).getHeaders())).toEqual(expect.arrayContaining(['Accept', 'Authorization']));
  });
});
