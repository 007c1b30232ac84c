import { parse as parseYaml } from 'yaml';
import { CliIo, DEFAULT_API_URL, EXIT, runCli } from './cli';

interface Call {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: unknown;
}

/** A CliIo whose fetch answers from `respond` and records each call. */
function fakeIo(respond: (call: Call) => { status: number; body?: unknown; headers?: Record<string, string> } | Error, env: Record<string, string> = {}) {
  const out = { stdout: '', stderr: '', calls: [] as Call[] };
  const io: CliIo = {
    stdout: (t) => (out.stdout += t),
    stderr: (t) => (out.stderr += t),
    env,
    cwd: '/home/alice',
    readFile: async (p) => {
      if (p === '/home/alice/values.json') return '{"title":"From file"}';
      throw Object.assign(new Error('nope'), { code: 'ENOENT' });
    },
    defaultToken: async () => 'dev-admin-token',
    fetch: (async (url: string, init: RequestInit) => {
      const call: Call = { url, method: String(init.method), headers: init.headers as Record<string, string>, body: init.body ? JSON.parse(init.body as string) : undefined };
      out.calls.push(call);
      const r = respond(call);
      if (r instanceof Error) throw r;
      const text = r.body === undefined ? '' : typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
      return new Response(r.status === 204 ? null : text, { status: r.status, headers: r.headers });
    }) as typeof fetch,
  };
  return { io, out };
}

const refused = Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:3000'), { code: 'ECONNREFUSED' }) });

describe('CLI', () => {
  it('prints the result as YAML on stdout and exits 0', async () => {
    const { io, out } = fakeIo(() => ({ status: 201, body: { id: 'p1', name: 'webapp', description: '' } }));
    expect(await runCli(['create-product', '--name', 'webapp'], io)).toBe(EXIT.ok);
    expect(parseYaml(out.stdout)).toEqual({ id: 'p1', name: 'webapp', description: '' });
    expect(out.stderr).toBe('');
    expect(out.calls).toEqual([
      {
        url: `${DEFAULT_API_URL}/products`,
        method: 'POST',
        headers: { accept: 'application/json', authorization: 'Bearer dev-admin-token', 'content-type': 'application/json' },
        body: { name: 'webapp' },
      },
    ]);
  });

  it('suspends with an optional reason and resumes', async () => {
    const { io, out } = fakeIo(() => ({ status: 202, body: { id: 'd', suspended: true } }));
    expect(await runCli(['suspend-deployment', 'u', 'd', '--reason', 'maintenance'], io)).toBe(EXIT.ok);
    expect(await runCli(['suspend-deployment', 'u', 'd'], io)).toBe(EXIT.ok);
    expect(await runCli(['resume-deployment', 'u', 'd'], io)).toBe(EXIT.ok);
    expect(out.calls.map((c) => [c.method, c.url, c.body])).toEqual([
      ['POST', `${DEFAULT_API_URL}/users/u/deployments/d/suspend`, { reason: 'maintenance' }],
      ['POST', `${DEFAULT_API_URL}/users/u/deployments/d/suspend`, {}],
      ['POST', `${DEFAULT_API_URL}/users/u/deployments/d/resume`, {}],
    ]);
  });

  it('takes the API URL and token from the flags first, then the environment', async () => {
    const { io, out } = fakeIo(() => ({ status: 200, body: { items: [], nextCursor: null } }), { CAELUS_API_URL: 'http://env:1/', CAELUS_TOKEN: 'env-token' });
    await runCli(['list-users', '--limit', '5'], io);
    await runCli(['--api-url', 'https://flag:2/base', 'list-users', '--token', 'flag-token'], io);
    expect(out.calls.map((c) => [c.url, c.headers.authorization])).toEqual([
      ['http://env:1/users?limit=5', 'Bearer env-token'],
      ['https://flag:2/base/users', 'Bearer flag-token'],
    ]);
  });

  it('reads JSON options from files relative to the working directory', async () => {
    const { io, out } = fakeIo(() => ({ status: 202, body: { id: 'd' } }));
    expect(await runCli(['update-deployment', 'u', 'd', '--values', '@values.json', '--if-match', '2'], io)).toBe(EXIT.ok);
    expect(out.calls[0]).toMatchObject({ method: 'PUT', url: `${DEFAULT_API_URL}/users/u/deployments/d`, body: { values: { title: 'From file' } }, headers: { 'If-Match': '2' } });
  });

  it('says what a delete removed (the API answers 204)', async () => {
    const { io, out } = fakeIo(() => ({ status: 204 }));
    expect(await runCli(['delete-template', 'p', 't'], io)).toBe(EXIT.ok);
    expect(parseYaml(out.stdout)).toEqual({ deleted: true, templateId: 't' });
  });

  it('exits 1 on a 4xx, printing the API message and fields on stderr and nothing on stdout', async () => {
    const { io, out } = fakeIo(() => ({
      status: 400,
      body: {
        statusCode: 400,
        error: 'Bad Request',
        message: 'values do not match the schema of template 1.0.0',
        fields: [{ field: '/user/title', message: 'must NOT have more than 100 characters' }],
      },
    }));
    expect(await runCli(['create-deployment', 'u', '--template-id', 't', '--domain-name', 'a.example.com', '--values', '{"title":"x"}'], io)).toBe(EXIT.refused);
    expect(out.stdout).toBe('');
    expect(out.stderr).toBe('error: values do not match the schema of template 1.0.0 (HTTP 400 Bad Request)\n  /user/title: must NOT have more than 100 characters\n');
  });

  it.each([401, 403, 404, 409])('exits 1 on %i', async (status) => {
    const { io } = fakeIo(() => ({ status, body: { statusCode: status, message: 'no' } }));
    expect(await runCli(['get-user', 'u'], io)).toBe(EXIT.refused);
  });

  it('exits 3 on a 5xx, quoting the request id', async () => {
    const { io, out } = fakeIo(() => ({ status: 500, body: { statusCode: 500, error: 'Internal Server Error', message: 'internal error', requestId: 'req-7' } }));
    expect(await runCli(['list-products'], io)).toBe(EXIT.serverError);
    expect(out.stderr).toContain('request id: req-7');
  });

  it('exits 2 with a clear message when the API cannot be reached', async () => {
    const { io, out } = fakeIo(() => refused);
    expect(await runCli(['list-products'], io)).toBe(EXIT.unreachable);
    expect(out.stderr).toMatch(/^error: cannot reach the Caelus API at http:\/\/127\.0\.0\.1:3000: connect ECONNREFUSED 127.0.0.1:3000\n/);
    expect(out.stderr).toMatch(/CAELUS_API_URL/);
    expect(out.stdout).toBe('');
  });

  it('exits 2 when the API does not answer in time', async () => {
    const { io, out } = fakeIo(() => Object.assign(new Error('timed out'), { name: 'TimeoutError' }));
    expect(await runCli(['--timeout', '1', 'list-products'], io)).toBe(EXIT.unreachable);
    expect(out.stderr).toMatch(/no answer within 1 s/);
  });

  it('a dry run prints the preview and exits 1 when the upgrade would be refused', async () => {
    const preview = { valid: false, problems: [{ field: 'templateId', message: 'belongs to another product' }], message: 'an upgrade must stay within the same product', diff: '' };
    const { io, out } = fakeIo(() => ({ status: 200, body: preview }));
    expect(await runCli(['upgrade-deployment', 'u', 'd', '--template-id', 't', '--dry-run'], io)).toBe(EXIT.refused);
    expect(out.calls[0].url).toBe(`${DEFAULT_API_URL}/users/u/deployments/d/upgrade?dryRun=true`);
    expect(parseYaml(out.stdout)).toEqual(preview);
    expect(out.stderr).toBe('error: the upgrade would be refused: an upgrade must stay within the same product\n');
  });

  it('a valid dry run exits 0 and keeps the diff readable as a block', async () => {
    const diff = '--- 1.0.0/ConfigMap/x\n+++ 1.1.0/ConfigMap/x\n@@ -1 +1,2 @@\n title: a\n+motd: b\n';
    const { io, out } = fakeIo(() => ({ status: 200, body: { valid: true, diff } }));
    expect(await runCli(['upgrade-deployment', 'u', 'd', '--template-id', 't', '--dry-run'], io)).toBe(EXIT.ok);
    expect(out.stdout).toContain('diff: |\n  --- 1.0.0/ConfigMap/x\n');
    expect(parseYaml(out.stdout).diff).toBe(diff);
  });

  it.each([
    [['no-such-command'], /unknown command/],
    [['get-user'], /missing required argument/],
    [['create-product'], /required option '--name <name>' not specified/],
    [['create-product', '--name', 'x', '--bogus'], /unknown option/],
    [['update-deployment', 'u', 'd', '--values', '{oops'], /--values: not valid JSON/],
    [['update-deployment', 'u', 'd', '--values', '@nope.yaml'], /cannot read nope.yaml/],
    [['--api-url', 'ftp://x', 'list-users'], /must be http/],
    [[], /Usage: caelus/],
  ])('exits 64 without calling the API for %j', async (argv, message) => {
    const { io, out } = fakeIo(() => ({ status: 200, body: {} }));
    expect(await runCli(argv, io)).toBe(EXIT.usage);
    expect(out.stderr).toMatch(message);
    expect(out.calls).toHaveLength(0);
  });

  it('prints help on stdout and exits 0', async () => {
    const { io, out } = fakeIo(() => ({ status: 200, body: {} }));
    expect(await runCli(['--help'], io)).toBe(EXIT.ok);
    expect(out.stdout).toContain('upgrade-deployment');
    expect(out.stdout).toContain('Exit codes');
    expect(await runCli(['upgrade-deployment', '--help'], io)).toBe(EXIT.ok);
    expect(out.stdout).toContain('--dry-run');
  });

  it('shows who the token belongs to (whoami)', async () => {
    const { io, out } = fakeIo(() => ({ status: 200, body: { userId: 'u', email: 'ada@example.com', isAdmin: false } }));
    expect(await runCli(['whoami', '--token', 'cae_x'], io)).toBe(EXIT.ok);
    expect(out.calls.map((c) => [c.method, c.url])).toEqual([['GET', `${DEFAULT_API_URL}/session`]]);
    expect(out.stdout).toContain('email: ada@example.com');
  });

  it("lists every user's deployments with their filters (list-all-deployments)", async () => {
    const { io, out } = fakeIo(() => ({ status: 200, body: { items: [], nextCursor: null, counts: { total: 0, byStatus: [], byProduct: [], byTemplate: [] } } }));
    expect(await runCli(['list-all-deployments', '--status', 'error', '--product-id', 'p1', '--template-id', 't1', '--limit', '1000'], io)).toBe(EXIT.ok);
    expect(out.calls.map((c) => [c.method, c.url])).toEqual([['GET', `${DEFAULT_API_URL}/deployments?limit=1000&status=error&productId=p1&templateId=t1`]]);
    expect(parseYaml(out.stdout)).toMatchObject({ items: [], counts: { total: 0 } });
  });

  it('sets or clears a deployment limit (update-user) and rotates a token (rotate-token)', async () => {
    const { io, out } = fakeIo((call) => ({ status: 200, body: call.url.endsWith('/token') ? { id: 'u', apiToken: 'cae_new' } : { id: 'u', deploymentLimit: 3, liveDeployments: 1 } }));
    expect(await runCli(['update-user', 'u', '--max-deployments', '3'], io)).toBe(EXIT.ok);
    expect(await runCli(['update-user', 'u', '--max-deployments', 'null'], io)).toBe(EXIT.ok);
    expect(await runCli(['rotate-token', 'u', '--token', 'cae_old'], io)).toBe(EXIT.ok);
    expect(out.calls.map((c) => [c.method, c.url, c.body])).toEqual([
      ['PUT', `${DEFAULT_API_URL}/users/u`, { maxDeployments: 3 }],
      ['PUT', `${DEFAULT_API_URL}/users/u`, { maxDeployments: null }],
      ['POST', `${DEFAULT_API_URL}/users/u/token`, {}],
    ]);
    expect(out.calls[2].headers.authorization).toBe('Bearer cae_old');
    expect(out.stdout).toContain('apiToken: cae_new');
  });
});
