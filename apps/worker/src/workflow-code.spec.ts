import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { chooseWorkflowCode, WORKFLOW_BUNDLE_FILE } from './workflow-code';

describe(chooseWorkflowCode.name, () => {
  let dist: string;
  const workflows = '/src/workflows/index.js';
  const at = (path: string, seconds: number) => utimesSync(path, seconds, seconds);

  beforeEach(() => {
    dist = mkdtempSync(join(tmpdir(), 'caelus-workflow-code-'));
    mkdirSync(join(dist, 'libs', 'orchestration', 'src', 'workflows'), { recursive: true });
    writeFileSync(join(dist, 'libs', 'orchestration', 'src', 'workflows', 'index.js'), '');
    writeFileSync(join(dist, 'libs', 'orchestration', 'src', 'workflows', 'index.js.map'), '');
  });
  afterEach(() => rmSync(dist, { recursive: true, force: true }));

  it('bundles at start-up when there is no prebuilt bundle (ts-jest, tsx)', () => {
    expect(chooseWorkflowCode(dist, workflows)).toEqual({ code: { workflowsPath: workflows }, reason: expect.stringContaining('no prebuilt workflow bundle') });
  });

  it('takes the prebuilt bundle when it is at least as new as the compiled code', () => {
    at(join(dist, 'libs', 'orchestration', 'src', 'workflows', 'index.js'), 1_000);
    writeFileSync(join(dist, WORKFLOW_BUNDLE_FILE), '');
    at(join(dist, WORKFLOW_BUNDLE_FILE), 1_000);
    expect(chooseWorkflowCode(dist, workflows).code).toEqual({ workflowBundle: { codePath: join(dist, WORKFLOW_BUNDLE_FILE) } });
  });

  it('never runs a bundle older than a compiled file (a tsc-only build after npm run build)', () => {
    writeFileSync(join(dist, WORKFLOW_BUNDLE_FILE), '');
    at(join(dist, WORKFLOW_BUNDLE_FILE), 1_000);
    at(join(dist, 'libs', 'orchestration', 'src', 'workflows', 'index.js'), 2_000);
    expect(chooseWorkflowCode(dist, workflows)).toEqual({ code: { workflowsPath: workflows }, reason: expect.stringContaining('older than the compiled code') });
  });

  it('looks at .js files only', () => {
    writeFileSync(join(dist, WORKFLOW_BUNDLE_FILE), '');
    at(join(dist, WORKFLOW_BUNDLE_FILE), 1_000);
    at(join(dist, 'libs', 'orchestration', 'src', 'workflows', 'index.js'), 500);
    at(join(dist, 'libs', 'orchestration', 'src', 'workflows', 'index.js.map'), 2_000);
    expect(chooseWorkflowCode(dist, workflows).code).toHaveProperty('workflowBundle');
  });
});
