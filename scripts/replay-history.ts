/**
 * Replays workflow histories (JSON, as exported by `temporal workflow show --output json` or the
 * Web UI) against the current workflow code. A non-determinism error means a change to the
 * workflow would break running workflows.
 *
 *   npx tsx scripts/replay-history.ts [--replace <module>=<file>] <history.json> [...]
 *
 * `--replace drift-tick-patch=<file>` bundles the workflow with one of its modules swapped (a
 * future step of a patch's retirement, checked before it ships). Every history is replayed; the
 * exit code is 1 when any of them failed.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';

function parse(args: string[]): { files: string[]; replace: Record<string, string> } {
  const files: string[] = [];
  const replace: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    if (args[i] !== '--replace') {
      files.push(args[i]);
      continue;
    }
    const [module, file] = (args[++i] ?? '').split('=');
    if (!module || !file) throw new Error('--replace takes <module>=<file>');
    replace[module] = resolve(file);
  }
  return { files, replace };
}

async function main(args: string[]): Promise<number> {
  const { files, replace } = parse(args);
  if (!files.length) throw new Error('usage: replay-history [--replace <module>=<file>] <history.json> [...]');
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const workflowsPath = require.resolve('../libs/orchestration/src/workflows');
  // Webpack matches an alias against the resolved request, extension not yet added.
  const alias = Object.fromEntries(Object.entries(replace).map(([module, file]) => [join(dirname(workflowsPath), module), file]));
  const histories = files.map((file) => ({ workflowId: file, history: historyFromJSON(JSON.parse(readFileSync(file, 'utf8'))) }));
  const events = new Map(histories.map((h) => [h.workflowId, h.history.events?.length ?? 0]));
  const bundlerOptions = {
    webpackConfigHook: (config: { resolve?: { alias?: unknown } }) => ({ ...config, resolve: { ...config.resolve, alias: { ...(config.resolve?.alias as object), ...alias } } }),
  };
  let failed = 0;
  for await (const result of Worker.runReplayHistories({ workflowsPath, bundlerOptions }, histories)) {
    if (!result.error) {
      console.log(`replayed ${result.workflowId}: ${events.get(result.workflowId)} events, deterministic`);
      continue;
    }
    failed += 1;
    console.log(`replay failed for ${result.workflowId}: ${result.error.message}`);
  }
  return failed ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(`replay failed: ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  },
);
