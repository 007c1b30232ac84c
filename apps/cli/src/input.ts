import { extname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';

/** Bad command-line input: the CLI exits with EX_USAGE before anything is sent. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface InputContext {
  cwd: string;
  /** Reads a file, or stdin for '-'. */
  readFile(path: string): Promise<string>;
}

/**
 * The value of a JSON option: inline JSON, or `@file` (YAML for .yaml/.yml, JSON otherwise;
 * `@-` reads JSON or YAML from stdin).
 */
export async function readJsonOption(option: string, raw: string, ctx: InputContext): Promise<unknown> {
  if (!raw.startsWith('@')) {
    try {
      return JSON.parse(raw);
    } catch (err) {
      throw new UsageError(`${option}: not valid JSON (${(err as Error).message}); give JSON, @file.json or @file.yaml`);
    }
  }
  const file = raw.slice(1);
  if (!file) throw new UsageError(`${option}: @ must be followed by a file name, or - for stdin`);
  const path = file === '-' ? '-' : resolve(ctx.cwd, file);
  let text: string;
  try {
    text = await ctx.readFile(path);
  } catch (err) {
    throw new UsageError(`${option}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const yaml = file === '-' || ['.yaml', '.yml'].includes(extname(file).toLowerCase());
  try {
    // YAML is a superset of JSON, so stdin may be either.
    return yaml ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${option}: ${file} is not valid ${yaml ? 'YAML' : 'JSON'}: ${(err as Error).message.split('\n')[0]}`);
  }
}
