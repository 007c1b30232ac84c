import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isInstalled, toolDir, withBuildLock } from './tools';
import type { ToolSpec } from './versions';

describe(withBuildLock.name, () => {
  const tool: ToolSpec = { name: 'fake', version: '1.0.0', module: 'example.com/fake', binaries: ['fake'], build: { kind: 'go-install', packages: [] } };
  const saved = process.env.XDG_CACHE_HOME;
  let cache: string;
  const lines: string[] = [];
  const log = (line: string) => lines.push(line);

  const install = () => {
    fs.mkdirSync(path.join(toolDir(tool), 'bin'), { recursive: true });
    fs.writeFileSync(path.join(toolDir(tool), 'bin', 'fake'), '');
    fs.writeFileSync(path.join(toolDir(tool), '.caelus-tool.json'), '{}');
  };
  const lockFile = () => `${toolDir(tool)}.lock`;
  const child = () => spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });

  beforeEach(() => {
    cache = fs.mkdtempSync(path.join(os.tmpdir(), 'caelus-tools-'));
    process.env.XDG_CACHE_HOME = cache;
    lines.length = 0;
  });
  afterEach(() => {
    process.env.XDG_CACHE_HOME = saved;
    fs.rmSync(cache, { recursive: true, force: true });
  });

  it('builds when nobody else is, and removes its lock afterwards', async () => {
    const build = jest.fn(async () => {
      expect(fs.readFileSync(lockFile(), 'utf8')).toBe(String(process.pid));
      install();
    });
    await expect(withBuildLock(tool, log, build, 10)).resolves.toBe(true);
    expect(build).toHaveBeenCalledTimes(1);
    expect(fs.existsSync(lockFile())).toBe(false);
  });

  it('waits for a build another live process holds, and does not build again once it is installed', async () => {
    const holder = child();
    try {
      fs.mkdirSync(path.dirname(lockFile()), { recursive: true });
      fs.writeFileSync(lockFile(), String(holder.pid));
      const build = jest.fn(async () => install());
      const waiting = withBuildLock(tool, log, build, 10);
      await new Promise((r) => setTimeout(r, 100));
      install();
      await expect(waiting).resolves.toBe(false);
      expect(build).not.toHaveBeenCalled();
      expect(lines.join('\n')).toContain(`waiting for the build in process ${holder.pid}`);
      expect(fs.readFileSync(lockFile(), 'utf8')).toBe(String(holder.pid));
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it('takes over the lock of a process that died, and builds', async () => {
    const dead = child();
    dead.kill('SIGKILL');
    await new Promise((r) => dead.once('exit', r));
    fs.mkdirSync(path.dirname(lockFile()), { recursive: true });
    fs.writeFileSync(lockFile(), String(dead.pid));
    const build = jest.fn(async () => install());
    await expect(withBuildLock(tool, log, build, 10)).resolves.toBe(true);
    expect(build).toHaveBeenCalledTimes(1);
    expect(isInstalled(tool)).toBe(true);
    expect(fs.existsSync(lockFile())).toBe(false);
  });
});
