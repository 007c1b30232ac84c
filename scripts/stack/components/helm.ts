import * as fs from 'node:fs';
import * as path from 'node:path';
import { LOCAL_DIR, logFile } from '../paths';
import { run } from '../proc';
import { toolBinary } from '../tools';
import { HELM_VERSION } from '../versions';
import { Component, ComponentError, Health } from './types';

const NAME = 'helm';
const HELM_HOME = path.join(LOCAL_DIR, 'helm');

/** helm is a CLI, not a server: healthy means the pinned binary runs. */
export class HelmComponent implements Component {
  readonly name = NAME;
  readonly logFile = logFile(NAME);

  /** Keeps helm's repositories, registry logins and cache out of the user's home. */
  static homeEnv(): Record<string, string> {
    return {
      HELM_CACHE_HOME: path.join(HELM_HOME, 'cache'),
      HELM_CONFIG_HOME: path.join(HELM_HOME, 'config'),
      HELM_DATA_HOME: path.join(HELM_HOME, 'data'),
    };
  }

  async health(): Promise<Health> {
    const res = await run(toolBinary('helm'), ['version', '--short'], { env: { ...process.env, ...HelmComponent.homeEnv() } });
    const version = res.stdout.trim();
    const ok = res.code === 0 && version.startsWith(`v${HELM_VERSION}`);
    return { ok, detail: ok ? version : `helm version: ${(res.stderr || res.stdout).trim() || 'no output'}` };
  }

  async up(): Promise<void> {
    for (const dir of Object.values(HelmComponent.homeEnv())) fs.mkdirSync(dir, { recursive: true });
    const h = await this.health();
    if (!h.ok) {
      fs.mkdirSync(path.dirname(this.logFile), { recursive: true });
      fs.appendFileSync(this.logFile, `${new Date().toISOString()} ${h.detail}\n`);
      throw new ComponentError(NAME, this.logFile, h.detail);
    }
  }

  async down(): Promise<string> {
    return 'nothing to stop';
  }

  endpoints(): Array<[string, string]> {
    return [['helm', toolBinary('helm')]];
  }

  env(): Record<string, string> {
    return { HELM_BIN: toolBinary('helm'), ...HelmComponent.homeEnv() };
  }
}
