import { CommandSpec, optionAttribute, pathParams } from './commands';
import { InputContext, readJsonOption, UsageError } from './input';

export interface ApiRequest {
  method: CommandSpec['method'];
  /** Path with its parameters filled in and encoded. */
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body?: Record<string, unknown>;
}

/**
 * The HTTP request a command sends: positional arguments fill the path, options go to the
 * body, the query or a header as the command table says. Values are passed on unchecked:
 * validation is the API's, so the CLI and HTTP clients get the same answers.
 */
export async function buildRequest(spec: CommandSpec, args: readonly string[], opts: Record<string, unknown>, ctx: InputContext): Promise<ApiRequest> {
  const params = pathParams(spec.path);
  if (args.length !== params.length) throw new UsageError(`${spec.name} takes ${params.map((p) => `<${p}>`).join(' ') || 'no arguments'}`);
  let path = spec.path;
  params.forEach((name, i) => {
    if (!args[i]) throw new UsageError(`<${name}> must not be empty`);
    path = path.replace(`{${name}}`, encodeURIComponent(args[i]));
  });

  const req: ApiRequest = { method: spec.method, path, query: {}, headers: {} };
  const body: Record<string, unknown> = {};
  for (const o of spec.options) {
    const raw = opts[optionAttribute(o.flags)];
    if (raw === undefined || raw === false) continue;
    // Commander gives `true` for a switch and a string for an option that takes a value.
    const text = raw as string;
    const value = o.type === 'flag' ? true : o.type === 'json' ? await readJsonOption(o.flags.split(' ')[0], text, ctx) : text;
    if (o.to === 'body') body[o.key] = value;
    else if (o.to === 'query') req.query[o.key] = String(value);
    else req.headers[o.key] = String(value);
  }
  if (spec.method === 'POST' || spec.method === 'PUT') req.body = body;
  return req;
}
