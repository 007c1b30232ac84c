import * as fs from 'node:fs';
import * as path from 'node:path';
import { LOCAL_DIR, logFile } from '../paths';
import { httpStatus, isAlive, readPid, run, spawnDetached, stopRecorded, tail, waitFor } from '../proc';
import { toolBinary } from '../tools';
import { HOST, PORTS, TEMPORAL_DYNAMIC_CONFIG, TEMPORAL_NAMESPACE, TEMPORAL_SEARCH_ATTRIBUTES } from '../versions';
import { Component, ComponentError, Health, Log } from './types';

const NAME = 'temporal';
const ADDRESS = `${HOST}:${PORTS.temporalFrontend}`;
const UI_URL = `http://${HOST}:${PORTS.temporalUi}`;

export class TemporalComponent implements Component {
  readonly name = NAME;
  readonly logFile = logFile(NAME);
  private readonly dbFile = path.join(LOCAL_DIR, 'temporal', 'temporal.db');

  private cli(args: string[]) {
    return run(toolBinary('temporal'), [...args, '--address', ADDRESS], { timeoutMs: 20_000 });
  }

  private async serving(): Promise<boolean> {
    const res = await this.cli(['operator', 'cluster', 'health']);
    return res.code === 0 && /SERVING/.test(res.stdout);
  }

  private async missingSearchAttributes(): Promise<string[]> {
    const res = await this.cli(['operator', 'search-attribute', 'list', '--namespace', TEMPORAL_NAMESPACE, '-o', 'json']);
    if (res.code !== 0) throw new Error(`listing search attributes failed: ${res.stderr.trim()}`);
    return TEMPORAL_SEARCH_ATTRIBUTES.filter((sa) => !res.stdout.includes(`"${sa}"`));
  }

  async health(): Promise<Health> {
    if (!(await this.serving())) return { ok: false, detail: `frontend ${ADDRESS} not serving` };
    if ((await httpStatus(UI_URL)) !== 200) return { ok: false, detail: `Web UI ${UI_URL} not answering` };
    const missing = await this.missingSearchAttributes().catch((e: Error) => [e.message]);
    if (missing.length) return { ok: false, detail: `missing search attributes: ${missing.join(', ')}` };
    return { ok: true, detail: `${ADDRESS}, UI ${UI_URL}` };
  }

  async up(log: Log): Promise<void> {
    const described = await this.cli(['operator', 'cluster', 'describe', '-o', 'json']);
    if (described.code === 0 && /"persistenceStore":\s*"postgres/.test(described.stdout)) {
      throw new ComponentError(NAME, this.logFile, `${ADDRESS} is served by the temporal-server profile (PostgreSQL): run npm run stack:down -- --only temporal first, or keep --temporal server`);
    }
    if (!(await this.serving())) {
      const pid = readPid(NAME);
      if (pid === undefined || !isAlive(pid)) {
        fs.mkdirSync(path.dirname(this.dbFile), { recursive: true });
        const args = [
          'server',
          'start-dev',
          '--ip',
          HOST,
          '--port',
          String(PORTS.temporalFrontend),
          '--ui-port',
          String(PORTS.temporalUi),
          '--db-filename',
          this.dbFile,
          '--log-level',
          'warn',
          // The dev server persists through one SQLite connection. In its default rollback-journal
          // mode with synchronous=FULL every commit waits for fsyncs, and under a burst of workflows
          // its persistence calls time out ("context deadline exceeded") and their tasks are retried
          // seconds later. WAL with synchronous=NORMAL commits without an fsync and still survives a
          // killed server process (only an OS crash can lose the last commits): the stack's own
          // restart test relies on that.
          '--sqlite-pragma',
          'journal_mode=wal',
          '--sqlite-pragma',
          'synchronous=normal',
          ...TEMPORAL_SEARCH_ATTRIBUTES.flatMap((sa) => ['--search-attribute', `${sa}=Keyword`]),
          ...Object.entries(TEMPORAL_DYNAMIC_CONFIG).flatMap(([key, value]) => ['--dynamic-config-value', `${key}=${JSON.stringify(value)}`]),
        ];
        log(`temporal: starting dev server (state ${path.relative(process.cwd(), this.dbFile) || this.dbFile})`);
        spawnDetached(NAME, toolBinary('temporal'), args, this.logFile);
      }
      try {
        await waitFor('the Temporal frontend', () => this.serving(), 90_000, 1000, NAME);
        await waitFor('the Temporal Web UI', async () => (await httpStatus(UI_URL)) === 200, 30_000);
      } catch (err) {
        throw new ComponentError(NAME, this.logFile, `${(err as Error).message}\n${tail(this.logFile)}`);
      }
    }
    // A database created before an attribute was added to the list gets it here.
    for (const sa of await this.missingSearchAttributes()) {
      log(`temporal: registering search attribute ${sa}`);
      const res = await this.cli(['operator', 'search-attribute', 'create', '--namespace', TEMPORAL_NAMESPACE, '--name', sa, '--type', 'Keyword']);
      if (res.code !== 0) throw new ComponentError(NAME, this.logFile, `registering ${sa} failed: ${res.stderr.trim()}`);
    }
  }

  async down(): Promise<string> {
    return (await stopRecorded(NAME)) ? 'stopped' : 'was not running (from this stack)';
  }

  endpoints(): Array<[string, string]> {
    return [
      ['Temporal frontend', ADDRESS],
      ['Temporal Web UI', UI_URL],
    ];
  }

  env(): Record<string, string> {
    return { TEMPORAL_ADDRESS: ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_UI_URL: UI_URL };
  }
}
