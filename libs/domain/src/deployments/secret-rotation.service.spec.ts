import { DataSource } from 'typeorm';
import { DeploymentsRepository } from '../../../persistence/src';
import { SecretBox } from '../values';
import { SecretRotationService } from './secret-rotation.service';

describe(SecretRotationService.name, () => {
  const oldBox = new SecretBox(Buffer.alloc(32, 1));
  const box = new SecretBox(Buffer.alloc(32, 2), [Buffer.alloc(32, 1)]);

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
      a: { adminPassword: oldBox.seal('pw-a') },
      b: { title: 'no secrets' },
      c: { adminPassword: box.seal('pw-c') },
      d: { smtp: { password: oldBox.seal('pw-d') }, tokens: [oldBox.seal('t')] },
    });

    const report = await sut.resealDeployments({ batchSize: 3 });

    expect(report).toEqual({ scanned: 4, updated: 2, values: 3, failed: [] });
    expect(deployments.idsAfter.mock.calls).toEqual([
      [undefined, 3],
      ['c', 3],
      ['d', 3],
    ]);
    expect(deployments.update.mock.calls.map((c) => c[0])).toEqual(['a', 'd']);
    expect(box.open(rows.a.adminPassword as never)).toBe('pw-a');
    expect(box.needsReseal(rows.a.adminPassword as never)).toBe(false);
    await expect(sut.resealDeployments()).resolves.toMatchObject({ scanned: 4, updated: 0 });
  });

  it('reports deployments no key opens, by id only, and goes on with the others', async () => {
    const stranger = new SecretBox(Buffer.alloc(32, 9));
    const { sut } = setup({ a: { pw: stranger.seal('lost') }, b: { pw: oldBox.seal('ok') } });
    const report = await sut.resealDeployments();
    expect(report).toMatchObject({ scanned: 2, updated: 1, failed: [{ deploymentId: 'a', reason: 'secret was sealed with another key' }] });
    expect(JSON.stringify(report)).not.toContain('lost');
  });
});
