import { Command, CommanderError, Option } from 'commander';
import { stringify } from 'yaml';
import { ConnectionError, requestUrl, send } from './api-client';
import { COMMANDS, CommandSpec, pathParams } from './commands';
import { UsageError } from './input';
import { buildRequest } from './request';

export const EXIT = {
  ok: 0,
  /** The API refused the request (4xx), or a dry run found the upgrade would be refused. */
  refused: 1,
  /** The API could not be reached. */
  unreachable: 2,
  /** The API failed (5xx) or answered something that is not the API. */
  serverError: 3,
  /** Bad command line (EX_USAGE). */
  usage: 64,
} as const;

export const DEFAULT_API_URL = 'http://127.0.0.1:3000';

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Record<string, string | undefined>;
  fetch: typeof fetch;
  cwd: string;
  /** Reads a file, or stdin for '-'. */
  readFile(path: string): Promise<string>;
  /** The token `npm run dev` writes for the bootstrap admin, if there is one. */
  defaultToken(): Promise<string | undefined>;
}

interface GlobalOptions {
  apiUrl?: string;
  token?: string;
  timeout: string;
  verbose?: boolean;
}

export const toYaml = (value: unknown): string => stringify(value, { lineWidth: 0 });

const HELP_FOOTER = `
Results are printed to stdout as YAML; errors and logs go to stderr.
The API is CAELUS_API_URL (default ${DEFAULT_API_URL}); the token is --token, CAELUS_TOKEN,
or .local/admin.token written by \`npm run dev\`.
Exit codes: 0 done, 1 refused by the API (4xx) or a dry run that would be refused,
2 API unreachable, 3 API error (5xx), 64 bad command line.`;

/** Runs one command line; returns the exit code. Never calls process.exit, so it can be tested. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let code: number = EXIT.ok;
  const program = new Command('caelus')
    .description('Caelus from the terminal: every REST operation of the API as a command')
    .addOption(new Option('--api-url <url>', `API base URL (default: $CAELUS_API_URL or ${DEFAULT_API_URL})`))
    .addOption(new Option('--token <token>', 'bearer token (default: $CAELUS_TOKEN, then .local/admin.token)'))
    .addOption(new Option('--timeout <seconds>', 'seconds to wait for an answer').default('60'))
    .option('-v, --verbose', 'log each request to stderr')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s), outputError: (s, write) => write(s) })
    .addHelpText('after', HELP_FOOTER)
    .showHelpAfterError('(run with --help for usage)');

  for (const spec of COMMANDS) {
    const cmd = program.command(spec.name).description(spec.summary).exitOverride();
    for (const p of pathParams(spec.path)) cmd.argument(`<${p}>`);
    for (const o of spec.options) {
      const option = new Option(o.flags, o.description);
      if (o.required) option.makeOptionMandatory();
      cmd.addOption(option);
    }
    cmd.action(async (...received: unknown[]) => {
      const command = received.at(-1) as Command;
      code = await execute(spec, command.args, command.optsWithGlobals<GlobalOptions & Record<string, unknown>>(), io);
    });
  }

  if (argv.length === 0) {
    io.stderr(program.helpInformation());
    return EXIT.usage;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      return ['commander.helpDisplayed', 'commander.help', 'commander.version'].includes(err.code) ? EXIT.ok : EXIT.usage;
    }
    throw err;
  }
}

async function execute(spec: CommandSpec, args: string[], opts: GlobalOptions & Record<string, unknown>, io: CliIo): Promise<number> {
  try {
    const baseUrl = opts.apiUrl ?? io.env.CAELUS_API_URL ?? DEFAULT_API_URL;
    if (!/^https?:\/\/[^/]/.test(baseUrl)) throw new UsageError(`the API URL must be http:// or https://, not "${baseUrl}"`);
    const timeout = Number(opts.timeout);
    if (!Number.isFinite(timeout) || timeout <= 0) throw new UsageError('--timeout must be a positive number of seconds');
    const req = await buildRequest(spec, args, opts, io);
    const token = opts.token ?? io.env.CAELUS_TOKEN ?? (await io.defaultToken());
    if (opts.verbose) io.stderr(`${req.method} ${requestUrl(baseUrl, req)}${token ? '' : ' (no token)'}\n`);
    const res = await send(req, { baseUrl, token, timeoutMs: timeout * 1000, fetch: io.fetch });
    return report(spec, args, res.status, res.body, io, res.requestId);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`error: ${err.message}\n`);
      return EXIT.usage;
    }
    if (err instanceof ConnectionError) {
      io.stderr(`error: ${err.message}\nIs the API running? Set CAELUS_API_URL or --api-url to reach it elsewhere.\n`);
      return EXIT.unreachable;
    }
    throw err;
  }
}

interface ErrorBody {
  statusCode?: number;
  error?: string;
  message?: string;
  fields?: { field: string; message: string }[];
  requestId?: string;
}

function report(spec: CommandSpec, args: string[], status: number, body: unknown, io: CliIo, requestId?: string): number {
  if (status >= 200 && status < 300) {
    if (body === null) {
      // 204 (the deletes): say what is gone.
      const params = pathParams(spec.path);
      io.stdout(toYaml({ deleted: true, [params.at(-1) ?? 'id']: args.at(-1) }));
      return EXIT.ok;
    }
    io.stdout(toYaml(body));
    const preview = body as { valid?: unknown; message?: unknown };
    if (spec.name === 'upgrade-deployment' && preview.valid === false) {
      io.stderr(`error: the upgrade would be refused: ${String(preview.message)}\n`);
      return EXIT.refused;
    }
    return EXIT.ok;
  }
  const e = (typeof body === 'object' && body !== null ? body : { message: typeof body === 'string' ? body.slice(0, 500) : undefined }) as ErrorBody;
  const lines = [`error: ${e.message ?? 'no message'} (HTTP ${status}${e.error ? ` ${e.error}` : ''})`];
  for (const f of Array.isArray(e.fields) ? e.fields : []) lines.push(`  ${f.field}: ${f.message}`);
  const id = e.requestId ?? requestId;
  if (id && status >= 500) lines.push(`  request id: ${id}`);
  io.stderr(`${lines.join('\n')}\n`);
  return status >= 400 && status < 500 ? EXIT.refused : EXIT.serverError;
}
