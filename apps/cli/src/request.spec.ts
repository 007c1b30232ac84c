import { COMMANDS, CommandSpec, optionAttribute, pathParams } from './commands';
import { InputContext, readJsonOption, UsageError } from './input';
import { buildRequest } from './request';

const command = (name: string): CommandSpec => COMMANDS.find((c) => c.name === name)!;

function files(map: Record<string, string>): InputContext {
  return {
    cwd: '/home/alice',
    readFile: async (path) => {
      if (path in map) return map[path];
      throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
    },
  };
}

describe('CLI requests', () => {
  const ctx = files({
    '/home/alice/values.yaml': 'title: Hello\nadmin:\n  enabled: yes\n',
    '/home/alice/schema.json': '{"type":"object"}',
    '/tmp/caps.json': '{"upgradePolicy":{"allowFrom":">=1.0.0"}}',
    '/home/alice/broken.json': '{"type":',
    '-': 'title: from stdin\n',
  });

  it('names every command once, with unique option attributes', () => {
    const names = COMMANDS.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
    for (const c of COMMANDS) {
      const attrs = c.options.map((o) => optionAttribute(o.flags));
      expect(new Set(attrs).size).toBe(attrs.length);
    }
    expect(pathParams('/users/{userId}/deployments/{deploymentId}')).toEqual(['userId', 'deploymentId']);
    expect(optionAttribute('--template-id <id>')).toBe('templateId');
  });

  it('create-user: options become the body; a switch is true', async () => {
    expect(await buildRequest(command('create-user'), [], { email: 'ada@example.com', admin: true }, ctx)).toEqual({
      method: 'POST',
      path: '/users',
      query: {},
      headers: {},
      body: { email: 'ada@example.com', isAdmin: true },
    });
    expect((await buildRequest(command('create-user'), [], { email: 'b@example.com' }, ctx)).body).toEqual({ email: 'b@example.com' });
  });

  it('list commands: paging and filters go to the query', async () => {
    expect(await buildRequest(command('list-deployments'), ['u1'], { limit: '5', cursor: 'abc', status: 'ready' }, ctx)).toEqual({
      method: 'GET',
      path: '/users/u1/deployments',
      query: { limit: '5', cursor: 'abc', status: 'ready' },
      headers: {},
    });
  });

  it('fills and encodes path parameters from the positional arguments, in order', async () => {
    expect((await buildRequest(command('get-template'), ['p 1', 't/2'], {}, ctx)).path).toBe('/products/p%201/templates/t%2F2');
    expect((await buildRequest(command('get-deployment-events'), ['u', 'd'], {}, ctx)).path).toBe('/users/u/deployments/d/events');
    await expect(buildRequest(command('get-deployment'), ['u'], {}, ctx)).rejects.toThrow('get-deployment takes <userId> <deploymentId>');
    await expect(buildRequest(command('get-user'), [''], {}, ctx)).rejects.toThrow(UsageError);
  });

  it('create-template: JSON options from inline JSON, a YAML file and a JSON file', async () => {
    const req = await buildRequest(
      command('create-template'),
      ['p1'],
      { version: '1.0.0', chartRef: '/charts/webapp', chartVersion: '1.0.0', defaultValues: '@values.yaml', valuesSchema: '@schema.json', capabilities: '@/tmp/caps.json' },
      ctx,
    );
    expect(req).toEqual({
      method: 'POST',
      path: '/products/p1/templates',
      query: {},
      headers: {},
      body: {
        version: '1.0.0',
        chartRef: '/charts/webapp',
        chartVersion: '1.0.0',
        defaultValues: { title: 'Hello', admin: { enabled: 'yes' } },
        valuesSchema: { type: 'object' },
        capabilities: { upgradePolicy: { allowFrom: '>=1.0.0' } },
      },
    });
  });

  it('update-deployment: values and If-Match', async () => {
    expect(await buildRequest(command('update-deployment'), ['u', 'd'], { values: '{"title":"x"}', ifMatch: '3' }, ctx)).toEqual({
      method: 'PUT',
      path: '/users/u/deployments/d',
      query: {},
      headers: { 'If-Match': '3' },
      body: { values: { title: 'x' } },
    });
    expect((await buildRequest(command('update-deployment'), ['u', 'd'], { values: '@-' }, ctx)).body).toEqual({ values: { title: 'from stdin' } });
  });

  it('upgrade-deployment: --dry-run is the dryRun query parameter', async () => {
    expect(await buildRequest(command('upgrade-deployment'), ['u', 'd'], { templateId: 't', dryRun: true }, ctx)).toEqual({
      method: 'POST',
      path: '/users/u/deployments/d/upgrade',
      query: { dryRun: 'true' },
      headers: {},
      body: { templateId: 't' },
    });
    expect((await buildRequest(command('upgrade-deployment'), ['u', 'd'], { templateId: 't' }, ctx)).query).toEqual({});
  });

  it('update-product sends only the fields given; deletes send no body', async () => {
    expect((await buildRequest(command('update-product'), ['p'], { description: 'new' }, ctx)).body).toEqual({ description: 'new' });
    expect(await buildRequest(command('delete-deployment'), ['u', 'd'], {}, ctx)).toEqual({ method: 'DELETE', path: '/users/u/deployments/d', query: {}, headers: {} });
  });

  it('passes values through unchecked: validation is the API’s', async () => {
    expect((await buildRequest(command('create-deployment'), ['u'], { templateId: 'not-a-uuid', domainName: 'X', values: '[1,2]' }, ctx)).body).toEqual({
      templateId: 'not-a-uuid',
      domainName: 'X',
      values: [1, 2],
    });
  });

  describe(readJsonOption.name, () => {
    it.each([
      ['{"a":', /--values: not valid JSON/],
      ['@', /must be followed by a file name/],
      ['@missing.json', /cannot read missing.json: ENOENT/],
      ['@broken.json', /broken.json is not valid JSON/],
    ])('refuses %j as a usage error', async (raw, message) => {
      const err = await readJsonOption('--values', raw, ctx).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UsageError);
      expect((err as Error).message).toMatch(message);
    });
  });
});
