import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { startPostRenderer, type PostRenderer } from './post-renderer';

/** Runs the bridge as helm does: the program and its arguments, the manifest on stdin. */
function runAsHelm(post: PostRenderer, manifest: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const [, bin, , script, , socket] = post.args;
  return new Promise((resolve) => {
    const child = spawn(bin, [script, socket], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(manifest);
  });
}

describe(startPostRenderer.name, () => {
  let dir: string;
  let sut: PostRenderer | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'post-render-'));
  });

  afterEach(async () => {
    await sut?.close();
    sut = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('gives helm the flags that run the bridge with node', async () => {
    sut = await startPostRenderer(dir, async (m) => m);
    expect(sut.args).toEqual(['--post-renderer', process.execPath, '--post-renderer-args', join(dir, 'post-render.cjs'), '--post-renderer-args', join(dir, 'post-render.sock')]);
  });

  it('hands helm’s manifest to the review and prints what the review returns', async () => {
    const seen: string[] = [];
    sut = await startPostRenderer(dir, async (m) => {
      seen.push(m);
      return m;
    });
    const manifest = '---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n';
    const res = await runAsHelm(sut, manifest);
    expect(res).toEqual({ code: 0, stdout: manifest, stderr: '' });
    expect(seen).toEqual([manifest]);
    expect(sut.reviews()).toBe(1);
    expect(sut.refusal()).toBeUndefined();
  });

  it('exits 1 with the reason when the review refuses, and keeps the error for the caller', async () => {
    const refused = new Error('ConfigMap "a" in namespace "victim": outside namespace "t"');
    sut = await startPostRenderer(dir, async () => {
      throw refused;
    });
    const res = await runAsHelm(sut, 'kind: ConfigMap\n');
    expect(res.code).toBe(1);
    expect(res.stdout).toBe('');
    expect(res.stderr).toContain('caelus confinement check refused the rendered manifest: ConfigMap "a" in namespace "victim"');
    expect(sut.refusal()).toBe(refused);
  });

  it('passes large manifests through whole', async () => {
    sut = await startPostRenderer(dir, async (m) => m);
    const manifest = `data: "${'x'.repeat(3 * 1024 * 1024)}"\n`;
    const res = await runAsHelm(sut, manifest);
    expect(res.code).toBe(0);
    expect(res.stdout.length).toBe(manifest.length);
  });

  it('fails closed when the worker end is gone', async () => {
    sut = await startPostRenderer(dir, async (m) => m);
    const args = sut.args;
    await sut.close();
    const res = await runAsHelm({ ...sut, args }, 'kind: ConfigMap\n');
    expect(res.code).toBe(1);
    expect(res.stdout).toBe('');
    sut = undefined;
  });
});
