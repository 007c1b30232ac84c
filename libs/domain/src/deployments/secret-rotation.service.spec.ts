import { DataSource } from 'typeorm';
import { DeploymentsRepository } from '../../../persistence/src';
import { ENCRYPTED_KEY, SecretBox } from '../values';
import { SecretRotationService } from './secret-rotation.service';

describe(SecretRotationService.name, () => {
  const oldBox = new SecretBox(Buffer.alloc(32, 1));
  const box = new SecretBox(Buffer.alloc(32, 2), [Buffer.alloc(32, 1)]);
  const at = (id: string, path: string) => ({ owner: 'deployment' as const, id, path });

  function setup(rows: Record<string, Record<string, unknown>>) {
    const manager = { tx: true };
    const db = { transaction: jest.fn(async (fn: (m: unknown) => Promise<unknown>) => fn(manager)) };
    const ids = Object.keys(rows).sort();
    const deployments = {
      idsAfter: jest.fn(async (after: string | undefined, limit: number) => ids.filter((id) => after === undefined || id > after).slice(0, limit)),
      findByIdForUpdate: jest.fn(async (id: string, m: unknown) => (m === manager ? { id, userValues: rows[id] } : null)),
      update: jest.fn(async (id: string, patch: { userValues: Record<string, unknown> }) => {
        rows[id] = patch.userValues;
      }),
    };
    const sut = new SecretRotationService(db as unknown as DataSource, deployments as unknown as DeploymentsRepository, box);
    return { sut, deployments, rows };
  }

  it('re-seals old values in batches, under the row lock, and leaves current ones alone', async () => {
    const { sut, deployments, rows } = setup({
      a: { adminPassword: oldBox.seal('pw-a', at('a', '/adminPassword')) },
      b: { title: 'no secrets' },
      c: { adminPassword: box.seal('pw-c', at('c', '/adminPassword')) },
      d: { smtp: { password: oldBox.seal('pw-d', at('d', '/smtp/password')) }, tokens: [oldBox.sealUnbound('t')] },
    });

    const report = await sut.resealDeployments({ batchSize: 3 });

    expect(report).toEqual({ scanned: 4, updated: 2, values: 3, failed: [] });
    expect(deployments.idsAfter.mock.calls).toEqual([
      [undefined, 3],
      ['c', 3],
      ['d', 3],
    ]);
    expect(deployments.update.mock.calls.map((c) => c[0])).toEqual(['a', 'd']);
    expect(box.open(rows.a.adminPassword as never, at('a', '/adminPassword'))).toBe('pw-a');
    expect(box.open((rows.d.tokens as never[])[0], at('d', '/tokens/0'))).toBe('t');
    expect((rows.d.tokens as Record<string, string>[])[0][ENCRYPTED_KEY]).toMatch(/^v2\./);
    expect(box.needsReseal(rows.a.adminPassword as never)).toBe(false);
    await expect(sut.resealDeployments()).resolves.toMatchObject({ scanned: 4, updated: 0 });
  });

  it('reports deployments no key opens, by id only, and goes on with the others', async () => {
    const stranger = new SecretBox(Buffer.alloc(32, 9));
    const { sut } = setup({ a: { pw: stranger.seal('lost', at('a', '/pw')) }, b: { pw: oldBox.seal('ok', at('b', '/pw')) } });
    const report = await sut.resealDeployments();
    expect(report).toMatchObject({ scanned: 2, updated: 1, failed: [{ deploymentId: 'a', reason: 'secret was sealed with another key' }] });
    expect(JSON.stringify(report)).not.toContain('lost');
  });

  it('reports, by id, a deployment holding an envelope copied from another row, and leaves it as it is', async () => {
    const copied = oldBox.seal('someone-elses', at('b', '/pw'));
    const { sut, rows } = setup({ a: { pw: copied }, b: { pw: oldBox.seal('ok', at('b', '/pw')) } });
    const report = await sut.resealDeployments();
    expect(report).toMatchObject({ scanned: 2, updated: 1, failed: [{ deploymentId: 'a', reason: expect.stringMatching(/does not open here/) }] });
    expect(rows.a.pw).toBe(copied);
    expect(JSON.stringify(report)).not.toContain('someone-elses');
  });

  it('re-seals template default values, bound to the template', async () => {
    const defaults: Record<string, Record<string, unknown>> = { t1: { user: { adminPassword: oldBox.seal('dflt', { owner: 'template', id: 't1', path: '/user/adminPassword' }) } } };
    const db = { transaction: jest.fn(async (fn: (m: unknown) => Promise<unknown>) => fn({})) };
    const templates = {
      idsAfter: jest.fn(async (after: string | undefined) => (after ? [] : ['t1'])),
      findByIdForUpdate: jest.fn(async (id: string) => ({ id, defaultValues: defaults[id] })),
      updateDefaultValues: jest.fn(async (id: string, doc: Record<string, unknown>) => {
        defaults[id] = doc;
      }),
    };
    const sut = new SecretRotationService(db as unknown as DataSource, {} as DeploymentsRepository, box, templates as never);
    await expect(sut.resealTemplates()).resolves.toEqual({ scanned: 1, updated: 1, values: 1, failed: [] });
    expect(box.open((defaults.t1.user as Record<string, never>).adminPassword, { owner: 'template', id: 't1', path: '/user/adminPassword' })).toBe('dflt');
    await expect(sut.resealTemplates()).resolves.toMatchObject({ updated: 0 });
  });
});
