/**
 * Bundles the workflow code once, at build time (`npm run build`), into dist/workflow-bundle.js,
 * so a worker does not run webpack at every start (see apps/worker/src/workflow-code.ts). Run
 * from dist/scripts after `tsc`: it bundles the compiled workflows next to it.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { WORKFLOW_BUNDLE_FILE } from '../apps/worker/src/workflow-code';

async function main(): Promise<void> {
  const started = Date.now();
  const workflowsPath = require.resolve('../libs/orchestration/src/workflows');
  const quiet = () => undefined;
  const { code } = await bundleWorkflowCode({ workflowsPath, logger: { log: quiet, trace: quiet, debug: quiet, info: quiet, warn: console.warn, error: console.error } });
  const out = join(__dirname, '..', WORKFLOW_BUNDLE_FILE);
  writeFileSync(out, code);
  console.log(`bundled the workflow code into dist/${WORKFLOW_BUNDLE_FILE} (${Math.round(code.length / 1024)} KiB, ${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
