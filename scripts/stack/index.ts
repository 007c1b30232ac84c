import * as fs from 'node:fs';
import * as path from 'node:path';
import { FluxComponent } from './components/flux';
import { HelmComponent } from './components/helm';
import { KubernetesComponent } from './components/kubernetes';
import { PostgresComponent } from './components/postgres';
import { RegistryComponent } from './components/registry';
import { TemporalComponent } from './components/temporal';
import { TemporalServerComponent } from './components/temporal-server';
import { Component, ComponentError, Health, Log } from './components/types';
import { LOCAL_DIR, LOGS_DIR, STACK_ENV_FILE, TOOLS_BIN_DIR } from './paths';
import { isAlive, sleep } from './proc';
import { ensureTools, printToolSummary, table, ToolResult } from './tools';

export { ComponentError } from './components/types';
export { STACK_ENV_FILE } from './paths';

export type StackEnv = Record<string, string>;

export interface EnsureStackOptions {
  /** Progress output; defaults to console.log. Pass () => {} for silence. */
  log?: Log;
  /** Print the tool summary and endpoint table (the CLI does). */
  verbose?: boolean;
  /** Only these components (e.g. ['postgres']); the others are neither checked nor started. */
  only?: readonly string[];
  /**
   * Optional parts: 'flux' (Flux's source- and helm-controller) and 'temporal-server' (a Temporal
   * server on PostgreSQL instead of the dev server). Default: defaultProfiles().
   */
  profiles?: readonly string[];
}

export const COMPONENT_NAMES = ['postgres', 'temporal', 'kubernetes', 'helm', 'registry', 'flux'] as const;
/** Components that run only when their profile is asked for, after the default ones are up (they need the cluster). */
const ADDONS = ['flux'];

/** The optional profiles the environment asks for: CAELUS_STACK_FLUX=1 (or true) means 'flux', CAELUS_STACK_TEMPORAL=server 'temporal-server'. */
export function profilesFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  const profiles: string[] = [];
  if (/^(1|true|yes)$/i.test(env.CAELUS_STACK_FLUX ?? '')) profiles.push('flux');
  if (env.CAELUS_STACK_TEMPORAL === 'server') profiles.push('temporal-server');
  return profiles;
}

/**
 * The profiles of this process's environment; which Temporal runs is remembered from the last
 * `up` (.local/stack.env) unless CAELUS_STACK_TEMPORAL says otherwise: the test tiers bring the
 * stack up again and must not swap a running server for the dev server.
 */
export function defaultProfiles(env: NodeJS.ProcessEnv = process.env, previous: StackEnv = loadStackEnv()): string[] {
  return profilesFromEnv({ CAELUS_STACK_TEMPORAL: previous.CAELUS_STACK_TEMPORAL, ...env });
}

/**
 * --with-flux (or CAELUS_STACK_FLUX=1): Flux's controllers too. --temporal server (or
 * CAELUS_STACK_TEMPORAL=server): a Temporal server on PostgreSQL instead of the dev server;
 * remembered by later commands until --temporal dev. Tools are built on first use.
 */
export function cliProfiles(args: string[], base: string[] = defaultProfiles()): string[] {
  const profiles = new Set(base);
  if (args.includes('--with-flux')) profiles.add('flux');
  const at = args.indexOf('--temporal');
  if (at >= 0) {
    const which = args[at + 1];
    if (which === 'server') profiles.add('temporal-server');
    else if (which === 'dev') profiles.delete('temporal-server');
    else throw new Error(`--temporal takes dev or server (got ${which ?? 'nothing'})`);
  }
  return [...profiles];
}

function components(only?: readonly string[], profiles: readonly string[] = []): Component[] {
  const previous = loadStackEnv();
  const unknown = (only ?? []).filter((n) => !(COMPONENT_NAMES as readonly string[]).includes(n));
  if (unknown.length) throw new Error(`unknown stack component(s) ${unknown.join(', ')}; known: ${COMPONENT_NAMES.join(', ')}`);
  const postgres = new PostgresComponent(previous.DATABASE_URL);
  const temporal = profiles.includes('temporal-server') ? new TemporalServerComponent(postgres) : new TemporalComponent();
  const all: Component[] = [postgres, temporal, new KubernetesComponent(), new HelmComponent(), new RegistryComponent(), new FluxComponent()];
  if (only?.length) return all.filter((c) => only.includes(c.name));
  return all.filter((c) => !ADDONS.includes(c.name) || profiles.includes(c.name));
}

/**
 * Brings every component up (building missing tools first), waits for each to be
 * healthy, writes .local/stack.env and returns its contents. Idempotent: with everything
 * already running it only checks health. Throws ComponentError naming the failed
 * component and its log.
 */
export async function ensureStack(opts: EnsureStackOptions = {}): Promise<StackEnv> {
  const log = opts.log ?? console.log;
  const release = await acquireLock(log);
  try {
    fs.mkdirSync(LOGS_DIR, { recursive: true });
    const profiles = [...(opts.profiles ?? defaultProfiles()), ...(opts.only ?? []).filter((n) => ADDONS.includes(n))];
    const all = components(opts.only, profiles);
    const tools = all.some((c) => c.usesTools !== false) ? await ensureTools(log, profiles) : [];
    // A partial `up` keeps what the other components wrote before.
    const env: StackEnv = opts.only?.length ? loadStackEnv() : {};
    if (tools.length) env.CAELUS_TOOLS_BIN = TOOLS_BIN_DIR;
    // The default components are independent, so they start (or are checked) side by side; add-ons follow.
    const base = all.filter((c) => !ADDONS.includes(c.name));
    const addons = all.filter((c) => ADDONS.includes(c.name));
    const results = await Promise.allSettled(
      base.map(async (c) => {
        const started = Date.now();
        await c.up(log);
        const h = await c.health();
        if (!h.ok) throw new ComponentError(c.name, c.logFile, `started but unhealthy: ${h.detail}`);
        const secs = (Date.now() - started) / 1000;
        if (secs > 5) log(`${c.name}: ready (${secs.toFixed(1)}s)`);
      }),
    );
    const failures = results.flatMap((r, i) =>
      r.status === 'rejected' ? [r.reason instanceof ComponentError ? r.reason : new ComponentError(base[i].name, base[i].logFile, String((r.reason as Error)?.message ?? r.reason))] : [],
    );
    if (failures.length === 0) {
      for (const c of addons) {
        const started = Date.now();
        await c.up(log);
        const h = await c.health();
        if (!h.ok) throw new ComponentError(c.name, c.logFile, `started but unhealthy: ${h.detail}`);
        log(`${c.name}: ready (${((Date.now() - started) / 1000).toFixed(1)}s)`);
      }
    }
    if (failures.length === 1) throw failures[0];
    if (failures.length > 1) {
      const names = failures.map((f) => f.component).join(', ');
      throw new ComponentError(names, failures.map((f) => f.logFile).join(', '), failures.map((f) => f.message).join('\n\n'));
    }
    // Which Temporal runs is the temporal component's to say (a partial up may switch it back to the dev server).
    if (all.some((c) => c.name === 'temporal')) delete env.CAELUS_STACK_TEMPORAL;
    for (const c of all) Object.assign(env, c.env());
    writeStackEnv(env);
    if (opts.verbose) printSummary(tools, all, log);
    return env;
  } finally {
    release();
  }
}

/** Stops what the stack started, in reverse order. State under .local/ is kept. */
export async function stopStack(log: Log = console.log, only?: readonly string[]): Promise<void> {
  const release = await acquireLock(log);
  try {
    for (const c of components(only, [...ADDONS, ...defaultProfiles()]).reverse()) log(`${c.name}: ${await c.down()}`);
  } finally {
    release();
  }
}

/**
 * Stops the stack and removes its state: what components keep outside the checkout (the own
 * PostgreSQL cluster's data when it runs as the `postgres` account) and then everything under
 * .local/. The tool cache is kept. With `only`, just those components' state.
 */
export async function resetStack(log: Log = console.log, only?: readonly string[]): Promise<void> {
  const release = await acquireLock(log);
  try {
    const chosen = components(only, [...ADDONS, ...defaultProfiles()]);
    for (const c of [...chosen].reverse()) log(`${c.name}: ${await c.down()}`);
    for (const c of chosen) if (c.reset) log(`${c.name}: ${await c.reset()}`);
    if (only?.length) return;
    for (const entry of fs.existsSync(LOCAL_DIR) ? fs.readdirSync(LOCAL_DIR) : []) {
      if (entry === 'stack.lock') continue;
      if (entry === 'logs') {
        removeLogsBut(path.join(LOCAL_DIR, entry), KEPT_LOGS);
        continue;
      }
      fs.rmSync(path.join(LOCAL_DIR, entry), { recursive: true, force: true });
    }
    log(`removed the contents of ${LOCAL_DIR} (kept ${KEPT_LOGS.map((d) => `logs/${d}`).join(', ')}: measurements, not stack state)`);
  } finally {
    release();
  }
}

/** Log directories a reset keeps: the bench's runs (their raw figures and worker logs), which no stack state depends on. */
const KEPT_LOGS = ['bench'];

export function removeLogsBut(dir: string, kept: readonly string[]): void {
  for (const entry of fs.readdirSync(dir)) if (!kept.includes(entry)) fs.rmSync(path.join(dir, entry), { recursive: true, force: true });
}

/**
 * Stops one component and starts it again from its kept state, waiting until it is healthy
 * (the reliability suite restarts Temporal this way). `stopped` is false when the running
 * instance was not started by this stack (then nothing was restarted).
 */
export async function restartComponent(name: 'temporal' | 'registry', log: Log = console.log): Promise<{ stopped: boolean; seconds: number }> {
  const release = await acquireLock(log);
  try {
    const c = components(undefined, defaultProfiles()).find((x) => x.name === name);
    if (!c) throw new Error(`no stack component ${name}`);
    const started = Date.now();
    const down = await c.down();
    log(`${c.name}: ${down}`);
    await c.up(log);
    const h = await c.health();
    if (!h.ok) throw new ComponentError(c.name, c.logFile, `restarted but unhealthy: ${h.detail}`);
    return { stopped: down === 'stopped', seconds: (Date.now() - started) / 1000 };
  } finally {
    release();
  }
}

export interface ComponentStatus extends Health {
  name: string;
}

/** Status of the default components, and of the add-ons the last `up` started or the environment asks for. */
export async function stackStatus(only?: readonly string[], profiles: readonly string[] = [...defaultProfiles(), ...profilesFromEnv(loadStackEnv())]): Promise<ComponentStatus[]> {
  return Promise.all(components(only, profiles).map(async (c) => ({ name: c.name, ...(await c.health().catch((e: Error) => ({ ok: false, detail: e.message }))) })));
}

/** Reads .local/stack.env (KEY=value lines) into an object; empty when absent. */
export function loadStackEnv(file: string = STACK_ENV_FILE): StackEnv {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return {};
  }
  const env: StackEnv = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    let value = line.slice(eq + 1);
    if (value.length >= 2 && value.startsWith("'") && value.endsWith("'")) value = value.slice(1, -1).replace(/'\\''/g, "'");
    env[line.slice(0, eq)] = value;
  }
  return env;
}

/** KEY=value lines that both loadStackEnv() and `set -a; . file` read back unchanged. */
export function formatStackEnv(env: StackEnv): string {
  const lines = [
    '# Written by `npm run stack:up`; load with: set -a; . .local/stack.env; set +a',
    ...Object.keys(env)
      .sort()
      .map((k) => `${k}=${/^[\w@%+=:,./-]*$/.test(env[k]) ? env[k] : `'${env[k].replace(/'/g, "'\\''")}'`}`),
    '',
  ];
  return lines.join('\n');
}

function writeStackEnv(env: StackEnv): void {
  const text = formatStackEnv(env);
  // Rewrite only on change, so a warm `up` leaves the file (and its mtime) alone.
  if (fs.existsSync(STACK_ENV_FILE) && fs.readFileSync(STACK_ENV_FILE, 'utf8') === text) return;
  fs.mkdirSync(path.dirname(STACK_ENV_FILE), { recursive: true });
  fs.writeFileSync(STACK_ENV_FILE, text);
}

function printSummary(tools: ToolResult[], all: Component[], log: Log): void {
  if (tools.some((t) => t.status === 'built')) {
    log('');
    printToolSummary(tools, log);
  }
  log('');
  log(
    table(
      ['endpoint', 'address'],
      all.flatMap((c) => c.endpoints()),
    ),
  );
  log('');
  log(`env:  ${path.relative(process.cwd(), STACK_ENV_FILE) || STACK_ENV_FILE}   logs: ${path.relative(process.cwd(), LOGS_DIR) || LOGS_DIR}`);
}

/**
 * One stack operation at a time per checkout (jest projects and people share it). A lock
 * left by a dead process is taken over.
 */
async function acquireLock(log: Log): Promise<() => void> {
  const lock = path.join(LOCAL_DIR, 'stack.lock');
  fs.mkdirSync(LOCAL_DIR, { recursive: true });
  let announced = false;
  for (;;) {
    try {
      fs.writeFileSync(lock, `${process.pid}\n`, { flag: 'wx' });
      return () => fs.rmSync(lock, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = Number(fs.readFileSync(lock, 'utf8').trim());
    if (!holder || !isAlive(holder)) {
      fs.rmSync(lock, { force: true });
      continue;
    }
    if (!announced) log(`stack: waiting for another stack command (pid ${holder}) to finish`);
    announced = true;
    await sleep(1000);
  }
}
