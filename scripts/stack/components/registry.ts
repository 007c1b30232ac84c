import * as fs from 'node:fs';
import * as path from 'node:path';
import { LOCAL_DIR, logFile } from '../paths';
import { httpStatus, isAlive, readPid, spawnDetached, stopRecorded, tail, waitFor } from '../proc';
import { toolBinary } from '../tools';
import { HOST, PORTS } from '../versions';
import { Component, ComponentError, Health, Log } from './types';

const NAME = 'registry';
const ADDRESS = `${HOST}:${PORTS.registry}`;

/** distribution's `registry`, plain HTTP on loopback, blobs under .local/registry. */
export class RegistryComponent implements Component {
  readonly name = NAME;
  readonly logFile = logFile(NAME);
  private readonly dir = path.join(LOCAL_DIR, 'registry');

  private async answering(): Promise<boolean> {
    return (await httpStatus(`http://${ADDRESS}/v2/`)) === 200;
  }

  async health(): Promise<Health> {
    const ok = await this.answering();
    return { ok, detail: ok ? `http://${ADDRESS}/v2/` : `http://${ADDRESS}/v2/ not answering` };
  }

  async up(log: Log): Promise<void> {
    if (await this.answering()) return;
    const pid = readPid(NAME);
    if (pid === undefined || !isAlive(pid)) {
      const config = path.join(this.dir, 'config.yml');
      fs.mkdirSync(path.join(this.dir, 'data'), { recursive: true });
      fs.writeFileSync(
        config,
        [
          'version: 0.1',
          'log:',
          '  level: info',
          'storage:',
          '  filesystem:',
          `    rootdirectory: ${JSON.stringify(path.join(this.dir, 'data'))}`,
          '  delete:',
          '    enabled: true',
          'http:',
          `  addr: ${ADDRESS}`,
          '',
        ].join('\n'),
      );
      log(`registry: starting on ${ADDRESS}`);
      spawnDetached(NAME, toolBinary('registry'), ['serve', config], this.logFile, {
        // Without this it keeps trying to export traces to an OTLP collector that isn't there.
        env: { ...process.env, OTEL_TRACES_EXPORTER: 'none' },
      });
    }
    try {
      await waitFor('the registry /v2/ endpoint', () => this.answering(), 30_000, 500, NAME);
    } catch (err) {
      throw new ComponentError(NAME, this.logFile, `${(err as Error).message}\n${tail(this.logFile)}`);
    }
  }

  async down(): Promise<string> {
    return (await stopRecorded(NAME)) ? 'stopped' : 'was not running (from this stack)';
  }

  endpoints(): Array<[string, string]> {
    return [['OCI registry', `${ADDRESS} (plain http)`]];
  }

  env(): Record<string, string> {
    return { CAELUS_OCI_REGISTRY: ADDRESS };
  }
}
