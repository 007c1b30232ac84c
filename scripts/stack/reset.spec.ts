import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { removeLogsBut } from './index';

describe(removeLogsBut.name, () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'caelus-reset-'));
    fs.mkdirSync(path.join(dir, 'bench', 'bench1234ab'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'bench', 'bench1234ab', 'worker.log'), 'kept');
    fs.mkdirSync(path.join(dir, 'reliability'));
    fs.writeFileSync(path.join(dir, 'temporal.log'), 'gone');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('keeps the named directories with their contents and removes every other entry', () => {
    removeLogsBut(dir, ['bench']);
    expect(fs.readdirSync(dir)).toEqual(['bench']);
    expect(fs.readFileSync(path.join(dir, 'bench', 'bench1234ab', 'worker.log'), 'utf8')).toBe('kept');
  });
});
