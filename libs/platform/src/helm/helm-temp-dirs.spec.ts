import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

import { helmTempDirPrefix, removeStaleHelmTempDirs } from './helm-temp-dirs';

describe(removeStaleHelmTempDirs.name, () => {
  let dir: string;
  const DEAD = 4_000_001;
  const LIVE = 4_000_002;
  const isAlive = (pid: number) => pid === LIVE;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'helm-temp-dirs-spec-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function valuesDir(name: string, ageMs = 0): Promise<string> {
    const path = join(dir, name);
    await mkdir(path);
    await writeFile(join(path, 'values.json'), '{"password":"hunter2"}', { mode: 0o600 });
    const when = new Date(Date.now() - ageMs);
    await utimes(path, when, when);
    return path;
  }

  it('removes the directories of dead processes and keeps those of live ones', async () => {
    const dead = await valuesDir(`caelus-helm-${DEAD}-0badc0de-AbC123`);
    const live = await valuesDir(`caelus-helm-${LIVE}-0badc0de-XyZ789`);

    const removed = await removeStaleHelmTempDirs({ dir, isAlive });

    expect(removed).toEqual([dead]);
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(live)).toBe(true);
  });

  it('removes a former incarnation with our pid (a restarted container) but never our own', async () => {
    const own = await mkdtemp(helmTempDirPrefix(dir));
    const formerIncarnation = await valuesDir(`caelus-helm-${process.pid}-00000000-Qwe456`);

    const removed = await removeStaleHelmTempDirs({ dir, isAlive: () => true });

    expect(removed).toEqual([formerIncarnation]);
    expect(existsSync(own)).toBe(true);
  });

  it('removes directories named the old way once they are a day old', async () => {
    const old = await valuesDir('caelus-helm-OldOne', 25 * 3600 * 1000);
    const recent = await valuesDir('caelus-helm-NewOne', 60_000);

    expect(await removeStaleHelmTempDirs({ dir, isAlive })).toEqual([old]);
    expect(existsSync(recent)).toBe(true);
  });

  it('leaves anything else alone: other names, files, symbolic links', async () => {
    const other = await valuesDir('caelus-chart-it-AbC123');
    const file = join(dir, `caelus-helm-${DEAD}-0badc0de-File00`);
    await writeFile(file, 'x');

    expect(await removeStaleHelmTempDirs({ dir, isAlive })).toEqual([]);
    expect(existsSync(other)).toBe(true);
    expect(existsSync(file)).toBe(true);
  });

  it('reports an unreadable directory instead of failing the start-up', async () => {
    const errors: string[] = [];

    const removed = await removeStaleHelmTempDirs({ dir: join(dir, 'missing'), onError: (path, err) => errors.push(`${basename(path)}: ${err.code}`) });

    expect(removed).toEqual([]);
    expect(errors).toEqual(['missing: ENOENT']);
  });
});

describe(helmTempDirPrefix.name, () => {
  it('names the directory after this process', () => {
    expect(basename(helmTempDirPrefix('/t'))).toMatch(new RegExp(`^caelus-helm-${process.pid}-[0-9a-f]{8}-$`));
  });
});
