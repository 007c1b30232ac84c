import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkoutId, ownClusterLayout, replacedServerBinary, SYSTEM_STATE_DIR } from './postgres';

describe(ownClusterLayout.name, () => {
  const asRoot = os.userInfo().uid === 0;

  it('puts the cluster of a root stack under the system state directory, per checkout', () => {
    const sut = ownClusterLayout({}, '/home/dev/src/caelus');
    if (asRoot && sut.serviceUser) {
      expect(sut.root).toBe(path.join(SYSTEM_STATE_DIR, checkoutId('/home/dev/src/caelus')));
      expect(sut.serviceUser).toBe('postgres');
    } else {
      expect(sut.root).toBe('/home/dev/src/caelus/.local/postgres');
    }
    expect(sut.port).toBe(54329);
  });

  it('takes the directory and port from CAELUS_POSTGRES_DIR and CAELUS_POSTGRES_PORT', () => {
    const sut = ownClusterLayout({ CAELUS_POSTGRES_DIR: '/srv/pg/one', CAELUS_POSTGRES_PORT: '55001' }, '/x/caelus');
    expect(sut.root).toBe('/srv/pg/one');
    expect(sut.port).toBe(55001);
  });

  it('refuses a port that is not one', () => {
    expect(() => ownClusterLayout({ CAELUS_POSTGRES_PORT: '70000' }, '/x')).toThrow(/CAELUS_POSTGRES_PORT/);
    expect(() => ownClusterLayout({ CAELUS_POSTGRES_PORT: 'abc' }, '/x')).toThrow(/CAELUS_POSTGRES_PORT/);
  });
});

describe(checkoutId.name, () => {
  it('names the checkout and tells two checkouts of the same name apart', () => {
    const a = checkoutId('/home/a/caelus');
    const b = checkoutId('/home/b/caelus');
    expect(a).toMatch(/^caelus-[0-9a-f]{12}$/);
    expect(b).toMatch(/^caelus-[0-9a-f]{12}$/);
    expect(a).not.toBe(b);
    expect(checkoutId('/home/a/caelus')).toBe(a);
  });

  it('keeps odd characters out of the directory name', () => {
    expect(checkoutId('/tmp/my clone (2)')).toMatch(/^my_clone__2_-[0-9a-f]{12}$/);
  });
});

describe(replacedServerBinary.name, () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  /** A data directory whose postmaster.pid names pid 4242, and a /proc whose 4242/exe points at `exe`. */
  function layout(exe: string | undefined, pidFile = '4242\n/var/lib/x/data\n1700000000\n5432\n'): { dataDir: string; procRoot: string } {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'caelus-pgexe-'));
    dirs.push(root);
    const dataDir = path.join(root, 'data');
    fs.mkdirSync(dataDir);
    fs.writeFileSync(path.join(dataDir, 'postmaster.pid'), pidFile);
    const procRoot = path.join(root, 'proc');
    fs.mkdirSync(path.join(procRoot, '4242'), { recursive: true });
    if (exe) fs.symlinkSync(exe, path.join(procRoot, '4242', 'exe'));
    return { dataDir, procRoot };
  }

  it('names the binary when the running server’s file was replaced on disk', () => {
    const { dataDir, procRoot } = layout('/usr/lib/postgresql/15/bin/postgres (deleted)');
    expect(replacedServerBinary(dataDir, procRoot)).toBe('/usr/lib/postgresql/15/bin/postgres');
  });

  it('is undefined while the running server is the file on disk', () => {
    const { dataDir, procRoot } = layout('/usr/lib/postgresql/15/bin/postgres');
    expect(replacedServerBinary(dataDir, procRoot)).toBeUndefined();
  });

  it('is undefined when no cluster runs or /proc does not tell', () => {
    const { dataDir, procRoot } = layout(undefined);
    expect(replacedServerBinary(dataDir, procRoot)).toBeUndefined();
    expect(replacedServerBinary(path.join(dataDir, 'missing'), procRoot)).toBeUndefined();
    const garbled = layout('/x (deleted)', 'not-a-pid\n');
    expect(replacedServerBinary(garbled.dataDir, garbled.procRoot)).toBeUndefined();
  });
});
