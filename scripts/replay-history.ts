/**
 * Replays workflow histories (JSON, as exported by `temporal workflow show --output json` or the
 * Web UI) against the current workflow code. A non-determinism error means a change to
 * deployment.workflow.ts would break running workflows.
 *
 *   npx tsx scripts/replay-history.ts <history.json> [...]
 */
import { readFileSync } from 'node:fs';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';

async function main(files: string[]): Promise<void> {
  if (!files.length) throw new Error('usage: replay-history <history.json> [...]');
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const workflowsPath = require.resolve('../libs/orchestration/src/workflows');
  for (const file of files) {
    const history = historyFromJSON(JSON.parse(readFileSync(file, 'utf8')));
    await Worker.runReplayHistory({ workflowsPath }, history, file);
    console.log(`replayed ${file}: ${history.events?.length ?? 0} events, deterministic`);
  }
}

main(process.argv.slice(2)).catch((err) => {
  console.error(`replay failed: ${err instanceof Error ? err.message : err}`);
  process.exit(1);
});
