/**
 * Recording of reliability scenarios: each records its outcome, run count, duration and notes
 * into `.local/reliability/results/<id>.json`; `npm run reliability:report` makes the table.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RESULTS_DIR, ScenarioMeta, ScenarioResult, SCENARIOS } from '../../../scripts/reliability/results';

export interface Recorder {
  note(text: string): void;
  /** Adjusts the run count when the scenario learns it (e.g. the size of a catalogue). */
  setRuns(n: number): void;
}

function write(result: ScenarioResult): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, `${result.id}.json`), JSON.stringify(result, null, 2) + '\n');
}

function metaOf(id: string, runs: number, unit: string): ScenarioMeta {
  const known = SCENARIOS.find((x) => x.id === id);
  if (!known) throw new Error(`unknown reliability scenario ${id}: add it to scripts/reliability/results.ts`);
  return { ...known, runs, unit };
}

/** Runs a scenario body, records passed/failed with the duration, and rethrows a failure. */
export async function scenario(id: string, runs: number, unit: string, body: (r: Recorder) => Promise<void>): Promise<void> {
  const meta = metaOf(id, runs, unit);
  const started = Date.now();
  const notes: string[] = [];
  const recorder: Recorder = {
    note: (t) => {
      notes.push(t);
      process.stderr.write(`[reliability] ${id}: ${t}\n`);
    },
    setRuns: (n) => {
      meta.runs = n;
    },
  };
  try {
    await body(recorder);
    write({ ...meta, outcome: 'passed', durationMs: Date.now() - started, notes, finishedAt: new Date().toISOString() });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    write({ ...meta, outcome: 'failed', durationMs: Date.now() - started, notes, error: message.split('\n').slice(0, 6).join(' ').slice(0, 600), finishedAt: new Date().toISOString() });
    throw err;
  }
}

/** Records a scenario that could not run, with the reason. */
export function skipped(id: string, reason: string): void {
  write({ ...metaOf(id, 0, '-'), outcome: 'skipped', durationMs: 0, notes: [reason], finishedAt: new Date().toISOString() });
}
