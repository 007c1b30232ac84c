import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

import { HttpMethod, RequestContext } from '@kubernetes/client-node';
import { KubeClient, sharedDispatcherAuth } from './kube.client';

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
    const sut = sharedDispatcherAuth(kc, 60_000, () => clock);
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

describe('KubeClient.watchMetadata against a scripted API server', () => {
  // A plain-HTTP stand-in for the API server: discovery for ConfigMaps, and one watch response
  // whose events arrive split across chunks, mid-line.
  let server: http.Server;
  let kube: KubeClient;
  let script: (res: http.ServerResponse) => void;
  const seen: { url: string; accept?: string }[] = [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'caelus-watch-'));

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      seen.push({ url: req.url!, accept: req.headers.accept });
      if (req.url === '/api/v1') {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ kind: 'APIResourceList', groupVersion: 'v1', resources: [{ name: 'configmaps', kind: 'ConfigMap', namespaced: true, verbs: ['list', 'watch'] }] }));
        return;
      }
      script(res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const kubeconfig = path.join(dir, 'kubeconfig');
    fs.writeFileSync(
      kubeconfig,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        // Plain HTTP needs skipTLSVerify in client-node.
        clusters: [{ name: 'c', cluster: { server: `http://127.0.0.1:${port}`, 'insecure-skip-tls-verify': true } }],
        users: [{ name: 'u', user: { token: 'test-token' } }],
        contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
        'current-context': 'x',
      }),
    );
    kube = new KubeClient({ kubeconfig });
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const event = (type: string, name: string, rv: string) => JSON.stringify({ type, object: { metadata: { name, namespace: 'ns', resourceVersion: rv } } }) + '\n';
  const watch = (idleTimeoutMs = 5_000) => {
    const events: string[] = [];
    const done = kube.watchMetadata('v1', 'ConfigMap', { labelSelector: 'a=b', resourceVersion: '10', timeoutSeconds: 30, idleTimeoutMs }, (e) =>
      events.push(`${e.type} ${e.object.metadata.name}@${e.object.metadata.resourceVersion}`),
    );
    return { events, done };
  };

  it('delivers events in order across chunk boundaries and asks for metadata only', async () => {
    script = (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const body = event('ADDED', 'a', '11') + event('MODIFIED', 'a', '12') + event('BOOKMARK', '', '13') + event('DELETED', 'a', '14');
      // Split mid-line: each event but the last arrives in pieces.
      const cuts = [5, 40, 41, 90, body.length - 3];
      let at = 0;
      for (const cut of cuts) {
        res.write(body.slice(at, cut));
        at = cut;
      }
      res.end(body.slice(at));
    };
    const { events, done } = watch();
    await done;
    expect(events).toEqual(['ADDED a@11', 'MODIFIED a@12', 'BOOKMARK @13', 'DELETED a@14']);
    const request = seen.find((s) => s.url.startsWith('/api/v1/configmaps?'))!;
    const query = new URL(request.url, 'http://x').searchParams;
    expect(Object.fromEntries(query)).toEqual({ watch: '1', allowWatchBookmarks: 'true', resourceVersion: '10', timeoutSeconds: '30', labelSelector: 'a=b' });
    expect(request.accept).toContain('as=PartialObjectMetadata');
  });

  it('turns an ERROR event into a KubeError with its status (410: list again)', async () => {
    script = (res) => {
      res.writeHead(200);
      res.end(event('ADDED', 'a', '11') + JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version: 10 (20)' } }) + '\n');
    };
    const { events, done } = watch();
    await expect(done).rejects.toMatchObject({ name: 'KubeError', status: 410, reason: 'Expired', message: expect.stringContaining('too old resource version') });
    expect(events).toEqual(['ADDED a@11']);
  });

  it('rejects an HTTP error with its status, and a silent stream after the idle timeout', async () => {
    script = (res) => {
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', code: 403, reason: 'Forbidden', message: 'configmaps is forbidden' }));
    };
    await expect(watch().done).rejects.toMatchObject({ status: 403, retryable: false });

    script = (res) => {
      res.writeHead(200);
      res.write(event('ADDED', 'a', '11'));
      // …and then nothing: no event, no end.
    };
    const { events, done } = watch(300);
    await expect(done).rejects.toMatchObject({ reason: 'Timeout', retryable: true });
    expect(events).toEqual(['ADDED a@11']);
  });
});
