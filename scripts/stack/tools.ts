import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TOOLS_BIN_DIR, toolsCacheDir } from './paths';
import { isAlive, run, runOk, tail } from './proc';
import { KUBERNETES_STAGING_VERSION, KUBERNETES_VERSION, TOOLS, toolsFor, ToolSpec } from './versions';

const MARKER = '.caelus-tool.json';
const PROGRESS_EVERY_MS = 20_000;

export interface ToolResult {
  name: string;
  version: string;
  status: 'cached' | 'built';
  seconds: number;
  dir: string;
}

export function toolDir(tool: ToolSpec): string {
  return path.join(toolsCacheDir(), `${tool.name}-${tool.version}`);
}

/** Absolute path of a tool binary in the cache, e.g. toolBinary('kubectl'). */
export function toolBinary(binary: string): string {
  const tool = TOOLS.find((t) => t.binaries.includes(binary));
  if (!tool) throw new Error(`no pinned tool provides ${binary}`);
  return path.join(toolDir(tool), 'bin', binary);
}

export function isInstalled(tool: ToolSpec): boolean {
  const dir = toolDir(tool);
  return fs.existsSync(path.join(dir, MARKER)) && tool.binaries.every((b) => fs.existsSync(path.join(dir, 'bin', b)));
}

type Log = (line: string) => void;

/**
 * Makes sure every pinned tool the stack needs (the default ones, plus those of the given
 * profiles, e.g. 'flux') is in the cache, building the missing ones from the Go module proxy
 * one at a time (the builds already use every core), and links the installed ones into .local/bin.
 */
export async function ensureTools(log: Log = console.log, profiles: readonly string[] = [], options: { profileOnly?: boolean } = {}): Promise<ToolResult[]> {
  const results: ToolResult[] = [];
  const wanted = toolsFor(profiles, options);
  const missing = wanted.filter((t) => !isInstalled(t));
  if (missing.length > 0) {
    log(`tools: building ${missing.map((t) => `${t.name} ${t.version}`).join(', ')} into ${toolsCacheDir()}`);
    log('tools: a cold build takes many minutes (the kubernetes bundle is the bulk); later runs reuse the cache');
  }
  for (const tool of wanted) {
    if (isInstalled(tool)) {
      results.push({ name: tool.name, version: tool.version, status: 'cached', seconds: 0, dir: toolDir(tool) });
      continue;
    }
    const started = Date.now();
    const built = await withBuildLock(tool, log, () => buildTool(tool, log));
    const seconds = Math.round((Date.now() - started) / 1000);
    log(`tools: ${tool.name} ${tool.version} ${built ? 'built' : 'built by another process'} in ${seconds}s`);
    results.push({ name: tool.name, version: tool.version, status: 'built', seconds, dir: toolDir(tool) });
  }
  linkTools();
  return results;
}

/**
 * Runs `build` holding `<tool dir>.lock` (the builder's pid). When another live process holds it
 * (a second checkout, or `.ci/run` building the tools while lint and the unit tests run), waits
 * for that build instead of compiling the same packages again: resolves false once the tool is
 * installed, or takes the lock over when the holder died.
 */
export async function withBuildLock(tool: ToolSpec, log: Log, build: () => Promise<void>, pollMs = 2000): Promise<boolean> {
  const lock = `${toolDir(tool)}.lock`;
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  let announced = 0;
  for (;;) {
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const text = fs.readFileSync(lock, 'utf8').trim();
    const holder = Number(text);
    // An empty lock is one being written, unless it stayed empty (its writer died at once).
    const stale = text === '' ? Date.now() - fs.statSync(lock).mtimeMs > 10_000 : !Number.isInteger(holder) || holder <= 0 || !isAlive(holder);
    if (stale) {
      fs.rmSync(lock, { force: true });
      continue;
    }
    if (isInstalled(tool)) return false;
    if (Date.now() - announced >= PROGRESS_EVERY_MS) {
      log(`tools: ${tool.name} ${tool.version}: waiting for the build in process ${holder} (${lock})`);
      announced = Date.now();
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
  try {
    if (isInstalled(tool)) return false;
    await build();
    return true;
  } finally {
    fs.rmSync(lock, { force: true });
  }
}

export function printToolSummary(results: ToolResult[], log: Log = console.log): void {
  const rows = results.map((r) => [r.name, r.version, r.status, r.status === 'built' ? `${r.seconds}s` : '-', r.dir]);
  log(table(['tool', 'version', 'status', 'build time', 'location'], rows));
}

/** Symlinks every cached binary into .local/bin (CAELUS_TOOLS_BIN). */
export function linkTools(): void {
  fs.mkdirSync(TOOLS_BIN_DIR, { recursive: true });
  for (const tool of TOOLS) {
    if (!isInstalled(tool)) continue;
    for (const binary of tool.binaries) {
      const target = path.join(toolDir(tool), 'bin', binary);
      const link = path.join(TOOLS_BIN_DIR, binary);
      let current: string | undefined;
      try {
        current = fs.readlinkSync(link);
      } catch {
        current = undefined;
      }
      if (current === target) continue;
      fs.rmSync(link, { force: true });
      try {
        fs.symlinkSync(target, link);
      } catch (err) {
        // Another process (e.g. .ci/run's early tool build) linked it between our rm and symlink.
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || fs.readlinkSync(link) !== target) throw err;
      }
    }
  }
}

export async function findGo(): Promise<string> {
  for (const candidate of ['go', '/usr/local/go/bin/go']) {
    const res = await run(candidate, ['version'], { timeoutMs: 20_000 });
    if (res.code === 0) return candidate;
  }
  throw new Error('the Go toolchain (>= 1.26) is needed to build the stack tools; install it or put `go` on PATH');
}

async function buildTool(tool: ToolSpec, log: Log): Promise<void> {
  const go = await findGo();
  const finalDir = toolDir(tool);
  // Build into a scratch directory and rename at the end, so an interrupted build is
  // never mistaken for a finished one.
  // (Per process, so two checkouts building at once do not write over each other.)
  const workDir = `${finalDir}.partial-${process.pid}`;
  fs.rmSync(workDir, { recursive: true, force: true });
  fs.mkdirSync(path.join(workDir, 'bin'), { recursive: true });
  const buildLog = path.join(workDir, 'build.log');
  const env: NodeJS.ProcessEnv = { ...process.env, CGO_ENABLED: '0' };
  const binDir = path.join(workDir, 'bin');
  const label = `${tool.name} ${tool.version}`;

  switch (tool.build.kind) {
    case 'go-install': {
      const ldflags = ['-s', '-w', ...(tool.build.ldflags ?? [])].join(' ');
      const pkgs = tool.build.packages.map((p) => `${p}@v${tool.version}`);
      const tags = tool.build.tags?.length ? ['-tags', tool.build.tags.join(',')] : [];
      await goWithProgress(label, go, ['install', '-trimpath', ...tags, '-ldflags', ldflags, ...pkgs], {
        env: { ...env, GOBIN: binDir },
        cwd: workDir,
        buildLog,
        log,
      });
      for (const [from, to] of Object.entries(tool.build.rename ?? {})) fs.renameSync(path.join(binDir, from), path.join(binDir, to));
      break;
    }
    case 'kubernetes-bundle': {
      const b = tool.build;
      const src = path.join(workDir, 'src');
      fs.mkdirSync(src, { recursive: true });
      const staging = await stagingModules(go, KUBERNETES_VERSION, env);
      const available = await publishedModules(go, staging, env);
      const replaces = available.map((m) => `replace ${m} => ${m} v${KUBERNETES_STAGING_VERSION}`).join('\n');
      // k8s.io/kubernetes points its k8s.io/* requirements at ./staging, which only works inside
      // its own repo; the generated module points each at the published release instead, and so
      // does every other part of the bundle (one version of each shared package, compiled once).
      const requires = [{ module: tool.module, version: KUBERNETES_VERSION }, ...b.parts].map((p) => `\t${p.module} v${p.version}`).join('\n');
      fs.writeFileSync(path.join(src, 'go.mod'), `module caelus.local/kubernetes\n\ngo 1.26.0\n\nrequire (\n${requires}\n)\n\n${replaces}\n`);
      for (const [dir, source] of Object.entries(b.mains ?? {})) {
        fs.mkdirSync(path.join(src, dir), { recursive: true });
        fs.writeFileSync(path.join(src, dir, 'main.go'), source);
      }
      const pkgs = [...b.commands.map((c) => `k8s.io/kubernetes/cmd/${c}`), ...b.parts.flatMap((p) => p.packages)];
      // Keeps every imported module in go.mod through `go mod tidy` (the local mains import theirs themselves).
      const imports = pkgs
        .filter((p) => !p.startsWith('./'))
        .map((p) => `\t_ "${p}"`)
        .join('\n');
      fs.writeFileSync(path.join(src, 'tools.go'), `//go:build tools\n\npackage tools\n\nimport (\n${imports}\n)\n`);
      await goWithProgress(`${label} (modules)`, go, ['mod', 'tidy'], { env, cwd: src, buildLog, log });
      const [major, minor] = KUBERNETES_VERSION.split('.');
      const stamp = (pkg: string) => [
        `-X ${pkg}.gitVersion=v${KUBERNETES_VERSION}`,
        `-X ${pkg}.gitMajor=${major}`,
        `-X ${pkg}.gitMinor=${minor}`,
        `-X ${pkg}.gitTreeState=clean`,
        `-X ${pkg}.buildDate=${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}`,
      ];
      // Unstamped, the binaries report v0.0.0 and kwokctl/helm misjudge the cluster.
      const ldflags = ['-s', '-w', ...stamp('k8s.io/component-base/version'), ...stamp('k8s.io/client-go/pkg/version'), ...(b.ldflags ?? [])].join(' ');
      await goWithProgress(label, go, ['build', '-trimpath', '-ldflags', ldflags, '-o', binDir + path.sep, ...pkgs], {
        env,
        cwd: src,
        buildLog,
        log,
      });
      break;
    }
    case 'module-set': {
      const b = tool.build;
      const src = path.join(workDir, 'src');
      fs.mkdirSync(src, { recursive: true });
      const requires = b.parts.map((p) => `\t${p.module} v${p.version}`).join('\n');
      const replaces = (b.replaces ?? []).map((r) => `replace ${r}\n`).join('');
      fs.writeFileSync(path.join(src, 'go.mod'), `module caelus.local/${tool.name}\n\ngo 1.26.0\n\nrequire (\n${requires}\n)\n${replaces ? `\n${replaces}` : ''}`);
      const pkgs = b.parts.flatMap((p) => p.packages);
      const imported = [...pkgs, ...(b.separate ?? []).map((x) => x.package)];
      // Keeps every part in go.mod through `go mod tidy`.
      fs.writeFileSync(path.join(src, 'tools.go'), `//go:build tools\n\npackage tools\n\nimport (\n${imported.map((p) => `\t_ "${p}"`).join('\n')}\n)\n`);
      await goWithProgress(`${label} (modules)`, go, ['mod', 'tidy', ...(b.tidyTolerant ? ['-e'] : [])], { env, cwd: src, buildLog, log });
      const wanted = await goListVersions(go, b.parts, env, src);
      const moved = b.parts.filter((p) => wanted.get(p.module) !== `v${p.version}`);
      // MVS may pick a newer release of a part that another part requires: then the pin above is not what runs.
      if (moved.length) throw new Error(`${label}: ${moved.map((p) => `${p.module} resolved to ${wanted.get(p.module)}, not v${p.version}`).join('; ')}`);
      const tags = b.tags?.length ? ['-tags', b.tags.join(',')] : [];
      const ldflags = ['-s', '-w', ...(b.ldflags ?? [])].join(' ');
      await goWithProgress(label, go, ['build', '-trimpath', ...tags, '-ldflags', ldflags, '-o', binDir + path.sep, ...pkgs], { env, cwd: src, buildLog, log });
      for (const [from, to] of Object.entries(b.rename ?? {})) fs.renameSync(path.join(binDir, from), path.join(binDir, to));
      for (const sep of b.separate ?? []) {
        await goWithProgress(`${label} (${sep.binary})`, go, ['build', '-trimpath', ...tags, '-ldflags', ldflags, '-o', path.join(binDir, sep.binary), sep.package], { env, cwd: src, buildLog, log });
      }
      for (const crd of b.crds ?? []) {
        const part = b.parts.find((p) => p.module === crd.module)!;
        const out = await runOk(go, ['mod', 'download', '-json', `${part.module}@v${part.version}`], { env, cwd: src, timeoutMs: 600_000 });
        const from = path.join((JSON.parse(out) as { Dir: string }).Dir, crd.dir);
        const to = path.join(workDir, 'crds');
        fs.mkdirSync(to, { recursive: true });
        for (const f of fs.readdirSync(from).filter((n) => n.endsWith('.yaml'))) fs.copyFileSync(path.join(from, f), path.join(to, f));
      }
      break;
    }
  }

  for (const b of tool.binaries) {
    if (!fs.existsSync(path.join(binDir, b))) throw new Error(`${label}: build finished but ${b} is missing (see ${buildLog})`);
  }
  fs.writeFileSync(path.join(workDir, MARKER), JSON.stringify({ name: tool.name, version: tool.version, builtAt: new Date().toISOString() }, null, 2) + '\n');
  if (isInstalled(tool)) {
    // Another process finished the same build first; keep its copy.
    fs.rmSync(workDir, { recursive: true, force: true });
    return;
  }
  fs.rmSync(finalDir, { recursive: true, force: true });
  fs.renameSync(workDir, finalDir);
}

/** The version MVS selected for each part's module in the generated module. */
async function goListVersions(go: string, parts: { module: string }[], env: NodeJS.ProcessEnv, cwd: string): Promise<Map<string, string>> {
  const out = await runOk(go, ['list', '-m', '-f', '{{.Path}} {{.Version}}', ...parts.map((p) => p.module)], { env, cwd, timeoutMs: 600_000 });
  return new Map(
    out
      .trim()
      .split('\n')
      .map((l) => l.split(' ') as [string, string]),
  );
}

/** The k8s.io/* modules k8s.io/kubernetes maps to ./staging in its go.mod. */
async function stagingModules(go: string, version: string, env: NodeJS.ProcessEnv): Promise<string[]> {
  const out = await runOk(go, ['mod', 'download', '-json', `k8s.io/kubernetes@v${version}`], { env, timeoutMs: 600_000 });
  const goMod = (JSON.parse(out) as { GoMod: string }).GoMod;
  const text = fs.readFileSync(goMod, 'utf8');
  return [...text.matchAll(/^\s*(k8s\.io\/[\w.-]+)\s+=>\s+\.\/staging\//gm)].map((m) => m[1]);
}

/** Drops staging modules that were never published at this version (e.g. sample plugins). */
async function publishedModules(go: string, modules: string[], env: NodeJS.ProcessEnv): Promise<string[]> {
  const res = await run(go, ['mod', 'download', '-json', ...modules.map((m) => `${m}@v${KUBERNETES_STAGING_VERSION}`)], {
    env,
    timeoutMs: 900_000,
  });
  const entries = res.stdout
    .split(/\n}\n?/)
    .filter((chunk) => chunk.trim())
    .map((chunk) => JSON.parse(`${chunk}\n}`) as { Path: string; Error?: string });
  return modules.filter((m) => entries.some((e) => e.Path === m && !e.Error));
}

async function goWithProgress(label: string, go: string, args: string[], opts: { env: NodeJS.ProcessEnv; cwd: string; buildLog: string; log: Log }): Promise<void> {
  const started = Date.now();
  opts.log(`tools: ${label}: go ${args[0]} ...`);
  const fd = fs.openSync(opts.buildLog, 'a');
  fs.writeSync(fd, `\n$ ${go} ${args.join(' ')}\n`);
  const child = spawn(go, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  const timer = setInterval(() => {
    opts.log(`tools: ${label}: still building (${Math.round((Date.now() - started) / 1000)}s)`);
  }, PROGRESS_EVERY_MS);
  try {
    const code = await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (c) => resolve(c ?? 1));
    });
    if (code !== 0) {
      throw new Error(`building ${label} failed (go ${args[0]} exited ${code}); log: ${opts.buildLog}\n${tail(opts.buildLog)}`);
    }
  } finally {
    clearInterval(timer);
  }
}

export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (c ?? '').padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
