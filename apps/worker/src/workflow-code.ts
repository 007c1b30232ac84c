import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The workflow code `npm run build` bundles once (scripts/bundle-workflows.ts), at the root of dist/. */
export const WORKFLOW_BUNDLE_FILE = 'workflow-bundle.js';

export type WorkflowCode = { workflowBundle: { codePath: string } } | { workflowsPath: string };

export interface WorkflowCodeChoice {
  code: WorkflowCode;
  /** One line for the start-up log: which code, and why. */
  reason: string;
}

/**
 * What the worker hands Temporal's Worker.create: the prebuilt bundle when `distRoot` has one at
 * least as new as every compiled file under `distRoot/libs` (a `tsc`-only build leaves an older
 * bundle behind, which would run stale workflow code); otherwise the workflows' path, which the
 * SDK bundles with webpack at start-up: about 4 s of CPU, and some 70 MiB of RSS the process keeps.
 */
export function chooseWorkflowCode(distRoot: string, workflowsPath: string): WorkflowCodeChoice {
  const bundle = join(distRoot, WORKFLOW_BUNDLE_FILE);
  if (!existsSync(bundle)) return { code: { workflowsPath }, reason: 'no prebuilt workflow bundle: bundling the workflow code at start-up' };
  const bundledAt = statSync(bundle).mtimeMs;
  const newest = newestCompiled(join(distRoot, 'libs'));
  if (newest > bundledAt) {
    return { code: { workflowsPath }, reason: `${WORKFLOW_BUNDLE_FILE} is older than the compiled code (built without npm run build?): bundling the workflow code at start-up` };
  }
  return { code: { workflowBundle: { codePath: bundle } }, reason: `workflow code from the prebuilt ${WORKFLOW_BUNDLE_FILE}` };
}

/** The newest modification time of a .js file under `dir` (0 when there is none). */
function newestCompiled(dir: string): number {
  if (!existsSync(dir)) return 0;
  let newest = 0;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && entry.name.endsWith('.js')) newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}
