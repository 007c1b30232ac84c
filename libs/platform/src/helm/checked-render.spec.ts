import { applyCheckedArgs, checkRenderArgs, KEEP_POST_RENDERER, parseRenderedRelease, SUBSTITUTE_POST_RENDERER, uncheckedParts } from './checked-render';

describe('checked render', () => {
  describe(checkRenderArgs.name, () => {
    it('turns the upgrade into a server-side dry run without --wait or the OpenAPI check, its render kept by tee', () => {
      const sut = checkRenderArgs(['upgrade', '--install', 'web', '/charts/web', '--wait', '--timeout', '60s', '--skip-crds', '--output', 'json'], '/tmp/x/rendered.yaml');
      expect(sut).toEqual([
        'upgrade',
        '--install',
        'web',
        '/charts/web',
        '--timeout',
        '60s',
        '--skip-crds',
        '--output',
        'json',
        '--dry-run=server',
        '--disable-openapi-validation',
        '--post-renderer',
        'tee',
        '--post-renderer-args',
        '/tmp/x/rendered.yaml',
      ]);
      expect(KEEP_POST_RENDERER).toBe('tee');
    });

    it('does not repeat --disable-openapi-validation when the upgrade already skips the OpenAPI check', () => {
      const sut = checkRenderArgs(['upgrade', '--install', 'web', '/charts/web', '--wait', '--disable-openapi-validation', '--output', 'json'], '/tmp/x/rendered.yaml');
      expect(sut.filter((a) => a === '--disable-openapi-validation')).toHaveLength(1);
      expect(sut).toEqual(expect.arrayContaining(['--dry-run=server', '--post-renderer', 'tee']));
      expect(sut).not.toContain('--wait');
    });
  });

  describe(applyCheckedArgs.name, () => {
    it('makes helm print the checked file in place of its render', () => {
      expect(applyCheckedArgs('/tmp/x/checked-manifest.yaml')).toEqual(['--post-renderer', SUBSTITUTE_POST_RENDERER, '--post-renderer-args', '/tmp/x/checked-manifest.yaml']);
      expect(SUBSTITUTE_POST_RENDERER).toBe('cat');
    });
  });

  describe(parseRenderedRelease.name, () => {
    it('reads the manifest and the hooks of a release helm printed', () => {
      const stdout = JSON.stringify({
        name: 'web',
        manifest: '---\nkind: ConfigMap\n',
        hooks: [{ name: 'h', manifest: 'kind: Job\n' }, { name: 'no manifest' }, null],
        chart: { templates: [] },
      });
      expect(parseRenderedRelease(stdout)).toEqual({ manifest: '---\nkind: ConfigMap\n', hooks: ['kind: Job\n'] });
    });

    it('reads a release of hooks only (helm leaves out an empty manifest) as an empty manifest', () => {
      expect(parseRenderedRelease('{"name":"web","hooks":null}')).toEqual({ manifest: '', hooks: [] });
    });

    it('throws on output that is not JSON', () => {
      expect(() => parseRenderedRelease('Error: boom')).toThrow(SyntaxError);
    });
  });

  describe(uncheckedParts.name, () => {
    const checked = { manifest: 'kind: ConfigMap\n', hooks: ['kind: Job\nname: a\n', 'kind: Job\nname: b\n'] };

    it('finds nothing when helm applied the checked render', () => {
      expect(uncheckedParts(checked, { manifest: 'kind: ConfigMap\n', hooks: ['kind: Job\nname: a\n', 'kind: Job\nname: b\n'] })).toEqual({ manifest: false, hooks: [] });
    });

    it('names a different manifest and the hooks that were not checked', () => {
      const sut = uncheckedParts(checked, { manifest: 'kind: ConfigMap\nx: 1\n', hooks: ['kind: Job\nname: a\n', 'kind: Job\nname: c\n'] });
      expect(sut).toEqual({ manifest: true, hooks: ['kind: Job\nname: c\n'] });
    });
  });
});
