import { readFileSync } from 'node:fs';

import { inlineLauncher, type ProcessLauncher } from './launcher';
import { SpawnThread } from './spawn-thread';

interface Outcome {
  stdout: string;
  stderr: string;
  code?: number | null;
  error?: string;
}

/** Runs node with a script through the launcher; resolves when it reports close or error. */
function run(launcher: ProcessLauncher, script: string, env: Record<string, string> = {}, started?: (kill: (s: NodeJS.Signals) => void) => void): Promise<Outcome> {
  return new Promise((resolve) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const done = (rest: Partial<Outcome>) => resolve({ stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), ...rest });
    const child = launcher.launch(process.execPath, ['-e', script], env, {
      stdout: (c) => out.push(c),
      stderr: (c) => err.push(c),
      error: (code) => done({ error: code }),
      close: (code) => done({ code }),
    });
    started?.((s) => child.kill(s));
  });
}

/** Running, as opposed to gone or dead and not yet reaped (a zombie: no thread waits for it any more). */
const alive = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
};

describe.each([
  ['SpawnThread', () => new SpawnThread()],
  ['inlineLauncher', () => inlineLauncher],
])('%s', (_name, make) => {
  let launcher: ProcessLauncher;
  beforeAll(() => {
    launcher = make();
  });
  afterAll(async () => {
    if (launcher instanceof SpawnThread) await launcher.stop();
  });

  it('relays stdout, stderr and the exit code', async () => {
    const result = await run(launcher, `process.stdout.write('out'); process.stderr.write('err'); process.exitCode = 3`);
    expect(result).toEqual({ stdout: 'out', stderr: 'err', code: 3 });
  });

  it('passes several megabytes of output through unchanged', async () => {
    const result = await run(launcher, `const line = 'x'.repeat(1023) + '\\n'; for (let i = 0; i < 5 * 1024; i++) process.stdout.write(line)`);
    expect(result.code).toBe(0);
    expect(result.stdout).toHaveLength(5 * 1024 * 1024);
    expect(result.stdout).toBe(('x'.repeat(1023) + '\n').repeat(5 * 1024));
  });

  it('gives the child exactly the environment it is handed', async () => {
    const result = await run(launcher, `process.stdout.write(JSON.stringify(process.env))`, { ONLY_THIS: 'yes' });
    expect(JSON.parse(result.stdout)).toEqual({ ONLY_THIS: 'yes' });
  });

  it('reports a program that does not exist as an error, not a close', async () => {
    const outcome = await new Promise<Outcome>((resolve) => {
      launcher.launch(
        '/nonexistent/caelus-no-such-helm',
        [],
        {},
        {
          stdout: () => undefined,
          stderr: () => undefined,
          error: (error) => resolve({ stdout: '', stderr: '', error }),
          close: (code) => resolve({ stdout: '', stderr: '', code }),
        },
      );
    });
    expect(outcome.error).toBe('ENOENT');
  });

  it('forwards a kill signal to the child', async () => {
    let kill!: (s: NodeJS.Signals) => void;
    const running = run(launcher, `process.stdout.write('ready'); setTimeout(() => {}, 60_000)`, {}, (k) => (kill = k));
    await new Promise((r) => setTimeout(r, 300));
    kill('SIGTERM');
    const result = await running;
    expect(result.code).toBeNull();
    expect(result.stdout).toBe('ready');
  });
});

describe(SpawnThread.name, () => {
  it('kills the children it started and reports them failed when it is stopped', async () => {
    const thread = new SpawnThread();
    let printedPid!: (pid: number) => void;
    const pidPrinted = new Promise<number>((resolve) => (printedPid = resolve));
    const outcome = new Promise<string>((resolve) => {
      thread.launch(
        process.execPath,
        ['-e', `process.stdout.write(String(process.pid)); setTimeout(() => {}, 60_000)`],
        {},
        {
          stdout: (chunk) => printedPid(Number(chunk.toString())),
          stderr: () => undefined,
          error: (code) => resolve(`error ${code}`),
          close: (code) => resolve(`close ${code}`),
        },
      );
    });
    const pid = await pidPrinted;
    expect(alive(pid)).toBe(true);

    await thread.stop();

    expect(await outcome).toBe('error ESPAWNTHREAD');
    const deadline = Date.now() + 5_000;
    while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(alive(pid)).toBe(false);
  });

  it('ends after a quiet spell and starts again on the next launch', async () => {
    const thread = new SpawnThread(50);
    expect(await run(thread, `process.stdout.write('one')`)).toMatchObject({ stdout: 'one', code: 0 });
    await new Promise((r) => setTimeout(r, 300));
    expect(await run(thread, `process.stdout.write('two')`)).toMatchObject({ stdout: 'two', code: 0 });
    await thread.stop();
  });
});
