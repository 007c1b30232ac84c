import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseChartRef } from './chart-ref';

describe(parseChartRef.name, () => {
  let base: string;
  let root: string;
  let outside: string;

  const chart = (dir: string) => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'Chart.yaml'), 'apiVersion: v2\nname: c\nversion: 1.0.0\n');
    return dir;
  };
  const sut = (ref: string, roots: string[] = [root]) => parseChartRef(ref, roots);
  const rejected = (ref: string, roots?: string[]) => {
    const res = sut(ref, roots);
    expect(res.source).toBeUndefined();
    expect(res.problems).toHaveLength(1);
    expect(res.problems[0].field).toBe('chartRef');
    return res.problems[0].message;
  };

  beforeAll(() => {
    base = mkdtempSync(join(tmpdir(), 'caelus-chart-ref-'));
    root = join(base, 'charts');
    outside = join(base, 'elsewhere');
    chart(join(root, 'webapp'));
    chart(join(outside, 'evil'));
    mkdirSync(join(root, 'not-a-chart'), { recursive: true });
    writeFileSync(join(root, 'file.tgz'), 'x');
    symlinkSync(join(outside, 'evil'), join(root, 'escape'));
    symlinkSync(join(root, 'webapp'), join(root, 'alias'));
    chart(join(base, 'charts-sibling', 'x'));
  });

  afterAll(() => rmSync(base, { recursive: true, force: true }));

  describe('oci references', () => {
    it.each([
      ['oci://registry.example.com/charts/webapp', 'registry.example.com'],
      ['oci://127.0.0.1:5001/charts/webapp', '127.0.0.1:5001'],
      ['oci://localhost:5001/webapp', 'localhost:5001'],
      ['oci://ghcr.io/org/my-chart', 'ghcr.io'],
      ['oci://r.example/a/b_c/d.e', 'r.example'],
    ])('accepts %s', (ref, registry) => {
      expect(sut(ref)).toEqual({ source: { kind: 'oci', ref, registry }, problems: [] });
    });

    it.each([
      'oci://',
      'oci://registry.example.com',
      'oci://registry.example.com/',
      'oci://Registry.example.com/charts/webapp',
      'oci://registry.example.com/Charts/WebApp',
      'oci://registry.example.com/charts/webapp:1.0.0',
      'oci://registry.example.com/charts/webapp@sha256:abc',
      'oci://registry.example.com/charts/../webapp',
      'oci://registry.example.com/charts//webapp',
      'oci://user:pass@registry.example.com/charts/webapp',
      'oci://registry.example.com/charts/webapp?x=1',
      'oci://registry.example.com/--set/x',
      'oci://registry.example.com:99999999/x',
      'oci://-registry/x',
    ])('rejects %s', (ref) => {
      expect(rejected(ref)).toMatch(/oci:\/\//);
    });
  });

  describe('other schemes', () => {
    it.each(['https://charts.example.com/webapp', 'http://x/y', 'file:///etc', 'OCI://registry/x', 'git+ssh://host/repo'])('rejects %s', (ref) => {
      expect(rejected(ref)).toMatch(/oci:\/\/|local chart/);
    });
  });

  describe('local paths', () => {
    it('accepts a chart directory inside a root and returns its real path', () => {
      expect(sut(join(root, 'webapp'))).toEqual({ source: { kind: 'local', path: join(root, 'webapp') }, problems: [] });
    });

    it('accepts the chart through a symlink that stays inside the root', () => {
      expect(sut(join(root, 'alias')).source).toEqual({ kind: 'local', path: join(root, 'webapp') });
    });

    it('accepts a chart under any of several roots', () => {
      expect(sut(join(outside, 'evil'), [root, outside]).source?.kind).toBe('local');
    });

    it('resolves a harmless ".." that ends inside the root', () => {
      expect(sut(join(root, 'not-a-chart', '..', 'webapp')).source).toEqual({ kind: 'local', path: join(root, 'webapp') });
    });

    it('rejects ".." traversal out of the root', () => {
      expect(rejected(`${root}/../elsewhere/evil`)).toMatch(/inside one of the allowed chart roots/);
      expect(rejected(`${root}/webapp/../../elsewhere/evil`)).toMatch(/inside one of the allowed chart roots/);
    });

    it('rejects a symlink inside the root that points outside it', () => {
      expect(rejected(join(root, 'escape'))).toMatch(/inside one of the allowed chart roots/);
    });

    it('rejects a sibling directory whose name merely starts like the root', () => {
      expect(rejected(join(base, 'charts-sibling', 'x'))).toMatch(/inside one of the allowed chart roots/);
    });

    it('rejects a chart outside every root', () => {
      expect(rejected(join(outside, 'evil'))).toMatch(/inside one of the allowed chart roots/);
    });

    it('rejects relative paths', () => {
      expect(rejected('charts/webapp')).toMatch(/absolute/);
      expect(rejected('./webapp')).toMatch(/absolute/);
      expect(rejected('../webapp')).toMatch(/absolute/);
      expect(rejected('~/webapp')).toMatch(/absolute/);
    });

    it('rejects paths that do not exist', () => {
      expect(rejected(join(root, 'missing'))).toMatch(/does not exist/);
    });

    it('rejects a directory without Chart.yaml and a plain file', () => {
      expect(rejected(join(root, 'not-a-chart'))).toMatch(/Chart.yaml/);
      expect(rejected(join(root, 'file.tgz'))).toMatch(/Chart.yaml/);
    });

    it('rejects every local path when no root is configured', () => {
      expect(rejected(join(root, 'webapp'), [])).toMatch(/disabled/);
    });
  });

  describe('flags and shell text', () => {
    it.each(['--set', '--set=a=b', '-f', '--post-renderer=/bin/sh', '-'])('rejects the flag %s', (ref) => {
      expect(rejected(ref)).toMatch(/start with "-"/);
    });

    it.each(['oci://r.example/x --set a=b', '/charts/webapp\n--set', 'oci://r.example/x\t-f', '/charts/web\0app', ' /charts/webapp'])('rejects whitespace and NUL in %j', (ref) => {
      expect(rejected(ref)).toMatch(/whitespace/);
    });

    it.each(['oci://r.example/x;rm', 'oci://r.example/$(id)', 'oci://r.example/`id`', 'oci://r.example/x|cat', 'oci://r.example/x&&y', "oci://r.example/x'"])(
      'rejects the shell metacharacters in %s',
      (ref) => {
        expect(rejected(ref)).toMatch(/oci:\/\//);
      },
    );

    it.each(['/x;rm -rf', '$(id)', '`id`', '|cat', '&&id'])('does not accept %j as a local chart', (ref) => {
      expect(sut(join(root, ref)).source).toBeUndefined();
      expect(sut(ref).source).toBeUndefined();
    });

    it('rejects references over 512 characters', () => {
      expect(rejected(`oci://r.example/${'a'.repeat(600)}`)).toMatch(/512/);
    });
  });
});
