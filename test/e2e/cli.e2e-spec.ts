/**
 * The CLI as a user runs it: a child process (tsx apps/cli/src/main.ts) talking HTTP to the
 * real API. Also checks that every REST operation of the OpenAPI document has its command.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { buildOpenApi } from '../../apps/api/src/bootstrap';
import { EXIT } from '../../apps/cli/src/cli';
import { COMMANDS } from '../../apps/cli/src/commands';
import { uniqueName } from '../support/api';
import { E2eSuite, REPO_ROOT, startSuite } from '../support/e2e';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  out: any;
}

/** The operations a CLI does not need: probes and docs, which take no bearer token. */
const OPERATIONAL = /^\/(health|metrics|docs)(\/|$)/;

describe('caelus CLI (e2e)', () => {
  let suite: E2eSuite;
  let apiUrl: string;
  let scratch: string;

  /** Runs the CLI in a child process against the suite's API, as the admin unless told otherwise. */
  const cli = (args: string[], env: Record<string, string> = {}): Promise<Run> =>
    new Promise((resolve) => {
      execFile(
        // `tsx apps/cli/src/main.ts` (what `npm run cli` runs) without the tsx launcher's extra process.
        process.execPath,
        ['--import', 'tsx', 'apps/cli/src/main.ts', ...args],
        // Jest's NODE_OPTIONS (vm modules) are not the CLI's.
        { cwd: REPO_ROOT, env: { ...process.env, NODE_OPTIONS: '', CAELUS_API_URL: apiUrl, CAELUS_TOKEN: suite.api.adminToken, ...env }, timeout: 60_000 },
        (err, stdout, stderr) => {
          const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
          let out: unknown;
          try {
            out = parseYaml(stdout);
          } catch {
            out = undefined;
          }
          resolve({ code, stdout, stderr, out });
        },
      );
    });
  const ok = async (args: string[], env?: Record<string, string>) => {
    const run = await cli(args, env);
    if (run.code !== 0) throw new Error(`caelus ${args.join(' ')} exited ${run.code}:\n${run.stderr}`);
    expect(run.stderr).toBe('');
    return run.out;
  };

  beforeAll(async () => {
    suite = await startSuite();
    const { port } = suite.api.app.getHttpServer().address() as AddressInfo;
    apiUrl = `http://127.0.0.1:${port}`;
    scratch = await mkdtemp(join(tmpdir(), 'caelus-cli-e2e-'));
  });

  afterAll(async () => {
    await suite?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('has a command for every REST operation, and every command is one', async () => {
    const doc = buildOpenApi(suite.api.app);
    const operations = Object.entries(doc.paths).flatMap(([path, item]) => ['get', 'post', 'put', 'patch', 'delete'].filter((m) => m in item).map((m) => `${m.toUpperCase()} ${path}`));
    const rest = operations.filter((op) => !OPERATIONAL.test(op.split(' ')[1]));
    const commands = new Map(COMMANDS.map((c) => [`${c.method} ${c.path}`, c.name]));
    expect(rest.filter((op) => !commands.has(op))).toEqual([]);
    expect([...commands.keys()].filter((op) => !operations.includes(op))).toEqual([]);
    expect(rest.length).toBe(COMMANDS.length);

    // The names the issue lists, each registered with the CLI itself.
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    for (const name of [
      'create-user',
      'list-users',
      'get-user',
      'delete-user',
      'create-product',
      'list-products',
      'get-product',
      'update-product',
      'delete-product',
      'create-template',
      'list-templates',
      'get-template',
      'delete-template',
      'create-deployment',
      'list-deployments',
      'get-deployment',
      'update-deployment',
      'delete-deployment',
      'upgrade-deployment',
      'suspend-deployment',
      'resume-deployment',
      'get-deployment-events',
      'list-all-deployments',
      'create-rollout',
      'list-rollouts',
      'get-rollout',
      'pause-rollout',
      'resume-rollout',
      'abort-rollout',
    ]) {
      expect(COMMANDS.map((c) => c.name)).toContain(name);
      expect(help.stdout).toMatch(new RegExp(`^  ${name} `, 'm'));
    }
  });

  it('runs the whole catalog and deployment flow, printing YAML', async () => {
    const name = uniqueName('cli');
    const product = await ok(['create-product', '--name', name, '--description', 'made by the CLI']);
    expect(product).toMatchObject({ name, description: 'made by the CLI' });
    expect((await ok(['list-products', '--limit', '100'])).items.map((p: { id: string }) => p.id)).toContain(product.id);
    expect(await ok(['get-product', product.id])).toMatchObject({ id: product.id, name });
    expect(await ok(['update-product', product.id, '--description', 'changed'])).toMatchObject({ id: product.id, name, description: 'changed' });

    const template = (version: string, extra: string[] = []) => {
      const dir = `charts/examples/webapp-${version}`;
      return ok([
        'create-template',
        product.id,
        '--version',
        version,
        '--chart-ref',
        join(REPO_ROOT, dir),
        '--chart-version',
        version,
        // Relative to the working directory; YAML and JSON files.
        '--default-values',
        `@${dir}/values.yaml`,
        '--values-schema',
        `@${dir}/values.schema.json`,
        ...extra,
      ]);
    };
    const t1 = await template('1.0.0');
    expect(t1).toMatchObject({ productId: product.id, version: '1.0.0', chartVersion: '1.0.0', defaultValues: { user: { title: 'My web app', theme: 'light' } } });
    expect(t1.valuesSchema.properties.user).toBeDefined();
    const t11 = await template('1.1.0', ['--capabilities', '{"upgradePolicy":{"allowFrom":">=1.0.0"}}']);
    expect(t11.capabilities).toEqual({ upgradePolicy: { allowFrom: '>=1.0.0' } });
    expect((await ok(['list-templates', product.id])).items.map((t: { version: string }) => t.version).sort()).toEqual(['1.0.0', '1.1.0']);
    expect(await ok(['get-template', product.id, t1.id])).toMatchObject({ id: t1.id, version: '1.0.0' });

    const user = await ok(['create-user', '--email', `${name}@example.com`]);
    expect(user).toMatchObject({ email: `${name}@example.com`, isAdmin: false, apiToken: expect.any(String) });
    expect((await ok(['list-users', '--limit', '100'])).items.map((u: { id: string }) => u.id)).toContain(user.id);
    // The user's own token, given with --token over CAELUS_TOKEN.
    expect(await ok(['get-user', user.id, '--token', user.apiToken])).toMatchObject({ id: user.id, email: `${name}@example.com` });

    const asUser = { CAELUS_TOKEN: user.apiToken };
    const domainName = `${name}.example.com`;
    const d = await ok(['create-deployment', user.id, '--template-id', t1.id, '--domain-name', domainName, '--values', '{"title":"From the CLI","adminPassword":"cli-s3cret-pw"}'], asUser);
    expect(d).toMatchObject({ userId: user.id, domainName, status: 'provisioning', generation: 1, values: { title: 'From the CLI', adminPassword: '[redacted]' } });
    expect(await ok(['get-deployment', user.id, d.id], asUser)).toMatchObject({ id: d.id, desiredTemplateId: t1.id });
    expect((await ok(['list-deployments', user.id, '--status', 'provisioning'], asUser)).items.map((x: { id: string }) => x.id)).toEqual([d.id]);
    const all = await ok(['list-all-deployments', '--product-id', product.id, '--limit', '1000']);
    expect(all.items.map((x: { id: string; ownerEmail: string }) => [x.id, x.ownerEmail])).toEqual([[d.id, `${name}@example.com`]]);
    expect(all.counts).toMatchObject({ total: 1, byTemplate: [{ templateId: t1.id, version: '1.0.0', count: 1 }] });
    expect((await cli(['list-all-deployments'], asUser)).code).toBe(EXIT.refused);

    const valuesFile = join(scratch, 'values.yaml');
    await writeFile(valuesFile, 'title: Changed by the CLI\nadminPassword: "[redacted]"\n');
    const updated = await ok(['update-deployment', user.id, d.id, '--values', `@${valuesFile}`, '--if-match', '1'], asUser);
    expect(updated).toMatchObject({ generation: 2, values: { title: 'Changed by the CLI', adminPassword: '[redacted]' } });

    const preview = await ok(['upgrade-deployment', user.id, d.id, '--template-id', t11.id, '--dry-run']);
    expect(preview).toMatchObject({ valid: true, rendered: true, fromTemplate: null, toTemplate: { id: t11.id, version: '1.1.0' } });
    expect(preview.diff).toContain('+  motd: Welcome!\n');
    expect(preview.diff).not.toContain('cli-s3cret-pw');
    const upgraded = await ok(['upgrade-deployment', user.id, d.id, '--template-id', t11.id, '--if-match', '2']);
    expect(upgraded).toMatchObject({ desiredTemplateId: t11.id, generation: 3, status: 'upgrading' });

    const events = await ok(['get-deployment-events', user.id, d.id, '--limit', '10'], asUser);
    expect(events.items.map((e: { type: string }) => e.type)).toEqual(['created', 'values-updated', 'upgrade-requested']);

    // The owner suspends and resumes; neither moves the generation.
    expect(await ok(['suspend-deployment', user.id, d.id, '--reason', 'from the CLI'], asUser)).toMatchObject({ suspended: true, suspendedReason: 'from the CLI', generation: 3 });
    expect(await ok(['resume-deployment', user.id, d.id], asUser)).toMatchObject({ suspended: false, suspendedAt: null, generation: 3 });

    // Rollouts: no worker polls this suite's task queue, so the status stays as the API wrote it.
    const rollout = await ok(['create-rollout', product.id, '--to-template-id', t11.id, '--waves', '[1, "50%", "100%"]', '--max-failures', '1', '--approval', 'manual']);
    expect(rollout).toMatchObject({ productId: product.id, status: 'running', waves: [1, '50%', '100%'], maxFailures: 1, approval: 'manual' });
    expect((await ok(['list-rollouts', product.id])).items.map((r: { id: string }) => r.id)).toEqual([rollout.id]);
    expect(await ok(['get-rollout', product.id, rollout.id])).toMatchObject({ id: rollout.id, events: [expect.objectContaining({ type: 'created', actor: 'admin' })] });
    expect(await ok(['pause-rollout', product.id, rollout.id])).toMatchObject({ id: rollout.id, status: 'running' });
    expect((await cli(['resume-rollout', product.id, rollout.id])).code).toBe(EXIT.refused);
    expect(await ok(['abort-rollout', product.id, rollout.id])).toMatchObject({ id: rollout.id });

    expect(await ok(['delete-deployment', user.id, d.id], asUser)).toMatchObject({ id: d.id, status: 'deleting', generation: 4 });

    // Deletes answer 204; the CLI says what went.
    const spareDir = 'charts/examples/webapp-1.1.0';
    const spare = await ok(['create-template', product.id, '--version', '2.0.0', '--chart-ref', join(REPO_ROOT, spareDir), '--chart-version', '1.1.0', '--default-values', `@${spareDir}/values.yaml`]);
    expect(await ok(['delete-template', product.id, spare.id])).toEqual({ deleted: true, templateId: spare.id });
    expect((await cli(['get-template', product.id, spare.id])).code).toBe(EXIT.refused);
    const other = await ok(['create-product', '--name', uniqueName('cli-gone')]);
    expect(await ok(['delete-product', other.id])).toEqual({ deleted: true, productId: other.id });
    const gone = await ok(['create-user', '--email', `${uniqueName('gone')}@example.com`]);
    expect(await ok(['delete-user', gone.id])).toEqual({ deleted: true, userId: gone.id });
  });

  it('exits 1 with the API message and fields on a 4xx, and prints nothing on stdout', async () => {
    const name = uniqueName('cli-4xx');
    const product = await ok(['create-product', '--name', name]);

    const duplicate = await cli(['create-product', '--name', name]);
    expect(duplicate).toMatchObject({ code: EXIT.refused, stdout: '' });
    expect(duplicate.stderr).toMatch(/^error: .*already.* \(HTTP 409 Conflict\)/);

    const invalid = await cli(['create-template', product.id, '--version', '1.0.0', '--chart-ref', 'http://example.com/chart', '--chart-version', '1.0.0', '--default-values', '[1]']);
    expect(invalid).toMatchObject({ code: EXIT.refused, stdout: '' });
    expect(invalid.stderr).toMatch(/\(HTTP 400 Bad Request\)\n( {2}\S+: .+\n)+$/);

    const user = await ok(['create-user', '--email', `${name}@example.com`]);
    const forbidden = await cli(['create-product', '--name', uniqueName('nope')], { CAELUS_TOKEN: user.apiToken });
    expect(forbidden).toMatchObject({ code: EXIT.refused, stdout: '' });
    expect(forbidden.stderr).toMatch(/\(HTTP 403 Forbidden\)/);

    const unauthenticated = await cli(['list-products'], { CAELUS_TOKEN: 'not-a-valid-token-at-all' });
    expect(unauthenticated).toMatchObject({ code: EXIT.refused });
    expect(unauthenticated.stderr).toMatch(/\(HTTP 401 Unauthorized\)/);

    const missing = await cli(['get-product', '00000000-0000-4000-8000-000000000000']);
    expect(missing).toMatchObject({ code: EXIT.refused });
    expect(missing.stderr).toMatch(/was not found \(HTTP 404 Not Found\)/);

    const notUuid = await cli(['get-product', 'abc']);
    expect(notUuid).toMatchObject({ code: EXIT.refused });
    expect(notUuid.stderr).toBe('error: productId must be a UUID (HTTP 400 Bad Request)\n  productId: must be a UUID\n');
  });

  it('a dry run of a refused upgrade prints the preview and exits 1', async () => {
    const name = uniqueName('cli-dry');
    const product = await ok(['create-product', '--name', name]);
    const dir = 'charts/examples/webapp-1.0.0';
    const t1 = await ok([
      'create-template',
      product.id,
      '--version',
      '1.0.0',
      '--chart-ref',
      join(REPO_ROOT, dir),
      '--chart-version',
      '1.0.0',
      '--default-values',
      `@${dir}/values.yaml`,
      '--values-schema',
      `@${dir}/values.schema.json`,
    ]);
    const user = await ok(['create-user', '--email', `${name}@example.com`]);
    const d = await ok(['create-deployment', user.id, '--template-id', t1.id, '--domain-name', `${name}.example.com`]);
    const run = await cli(['upgrade-deployment', user.id, d.id, '--template-id', t1.id, '--dry-run']);
    expect(run.code).toBe(EXIT.refused);
    expect(run.out).toMatchObject({ valid: false, problems: [{ field: 'templateId' }] });
    expect(run.stderr).toMatch(/^error: the upgrade would be refused: upgrades only go forward/);
  });

  it('exits 2 with a clear message when the API cannot be reached', async () => {
    // A port that was free a moment ago: nothing listens there.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    const run = await cli(['list-products'], { CAELUS_API_URL: `http://127.0.0.1:${port}` });
    expect(run).toMatchObject({ code: EXIT.unreachable, stdout: '' });
    expect(run.stderr).toMatch(new RegExp(`^error: cannot reach the Caelus API at http://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
  });

  it('exits 64 on a bad command line without calling the API', async () => {
    const run = await cli(['create-deployment', 'u', '--template-id', 't', '--domain-name', 'x.example.com', '--values', '@/no/such/file.yaml']);
    expect(run).toMatchObject({ code: EXIT.usage, stdout: '' });
    expect(run.stderr).toMatch(/--values: cannot read \/no\/such\/file\.yaml: ENOENT/);
  });
});
