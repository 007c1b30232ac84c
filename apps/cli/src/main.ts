#!/usr/bin/env node
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { repoRoot } from '../../../libs/config/src';
import { runCli } from './cli';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

// An HTTP client of the API, not a Nest app: auth and validation are exactly the API's, and it
// runs under tsx, which does not emit the decorator metadata Nest's DI needs.
runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  fetch: globalThis.fetch,
  cwd: process.cwd(),
  readFile: (path) => (path === '-' ? readStdin() : readFile(path, 'utf8')),
  defaultToken: () =>
    readFile(join(repoRoot(), '.local', 'admin.token'), 'utf8').then(
      (t) => t.trim() || undefined,
      () => undefined,
    ),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`caelus: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 70;
  },
);
