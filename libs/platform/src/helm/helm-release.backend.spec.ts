import { ConfinementError } from '../kubernetes/confinement';
import { HelmError } from './helm.errors';
import { HelmReleaseBackend, unrecordedRelease } from './helm-release.backend';
import type { HelmRelease, UnlockResult } from './helm.types';

describe(unrecordedRelease.name, () => {
  it('fails, retryably, a revision helm reported done while its release Secret is still pending', () => {
    const err = unrecordedRelease({ revision: 3 }, { revision: 3, status: 'pending-upgrade' });
    expect(err).toMatchObject({ name: 'HelmError', kind: 'transient', retryable: true, message: expect.stringContaining('still pending-upgrade') });
    expect(unrecordedRelease({ revision: 1 }, { revision: 1, status: 'pending-install' })).toBeDefined();
  });

  it('accepts a recorded revision, and does not judge another revision or a missing one', () => {
    expect(unrecordedRelease({ revision: 3 }, { revision: 3, status: 'deployed' })).toBeUndefined();
    expect(unrecordedRelease({ revision: 3 }, { revision: 4, status: 'pending-upgrade' })).toBeUndefined();
    expect(unrecordedRelease({ revision: 3 }, undefined)).toBeUndefined();
  });
});

describe(HelmReleaseBackend.name, () => {
  const req = { release: 'web', namespace: 'web', chart: { ref: 'oci://r/webapp', version: '1.1.0' }, values: {}, timeoutSeconds: 60, owner: 'u1' };
  const rel = (revision: number, status = 'deployed') => ({ name: 'web', namespace: 'web', revision, status }) as HelmRelease;
  function setup(over: { unlock?: UnlockResult; upgrade?: () => Promise<HelmRelease>; latest?: HelmRelease; status?: HelmRelease } = {}) {
    const helm = {
      unlockPending: jest.fn(async () => over.unlock ?? { unlocked: false, revision: 1, previousStatus: 'deployed' as const }),
      upgradeInstall: jest.fn(over.upgrade ?? (async () => rel(2))),
      status: jest.fn(async () => over.status),
      rollback: jest.fn(async () => rel(4)),
      uninstall: jest.fn(),
      template: jest.fn(),
    };
    const storage = { latest: jest.fn(async () => over.latest ?? rel(2)), readDeployedManifest: jest.fn(async () => 'fresh'), deployedManifestOf: jest.fn(async () => 'cached') };
    const report = { unlocked: jest.fn(async () => undefined), rolledBack: jest.fn(async () => undefined) };
    const cache = { releaseSecrets: jest.fn(() => [{ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'sh.helm.release.v1.web.v2' } }]) };
    const sut = new HelmReleaseBackend({ helm: helm, storage: storage as never, cache });
    return { sut, helm, storage, report, cache };
  }

  it('unlocks a stale release first and reports it', async () => {
    const { sut, report } = setup({ unlock: { unlocked: true, revision: 2, previousStatus: 'pending-upgrade' }, upgrade: async () => rel(3), latest: rel(3) });
    await expect(sut.apply({ ...req, report })).resolves.toEqual({ revision: 3, unlocked: true });
    expect(report.unlocked).toHaveBeenCalledWith({ revision: 2, previousStatus: 'pending-upgrade' });
  });

  it('rolls a failed upgrade of a deployed release back to that revision', async () => {
    const failure = new HelmError('timeout', 'timed out waiting for the condition');
    const { sut, helm, report } = setup({ upgrade: async () => Promise.reject(failure), status: rel(2, 'failed') });
    await expect(sut.apply({ ...req, report })).rejects.toBe(failure);
    expect(helm.rollback).toHaveBeenCalledWith('web', 'web', 1, expect.objectContaining({ timeoutSeconds: 60, owner: 'u1' }));
    expect(report.rolledBack).toHaveBeenCalledWith({ failedRevision: 2, revision: 1 });
  });

  it('does not roll back what applied nothing', async () => {
    const { sut, helm } = setup({ upgrade: async () => Promise.reject(new ConfinementError('rendered manifest', [])), status: rel(2, 'failed') });
    await expect(sut.apply(req)).rejects.toBeInstanceOf(ConfinementError);
    expect(helm.status).not.toHaveBeenCalled();
    expect(helm.rollback).not.toHaveBeenCalled();
  });

  it('fails, retryably, when helm did not record the revision it reported', async () => {
    const { sut } = setup({ latest: rel(2, 'pending-upgrade') });
    await expect(sut.apply(req)).rejects.toMatchObject({ kind: 'transient', retryable: true });
  });

  it('reads the deployed manifest from the cached Secret list unless asked for a fresh read', async () => {
    const { sut, storage } = setup();
    await expect(sut.readDeployedManifest({ release: 'web', namespace: 'web' })).resolves.toBe('cached');
    await expect(sut.readDeployedManifest({ release: 'web', namespace: 'web' }, { fresh: true })).resolves.toBe('fresh');
    expect(storage.readDeployedManifest).toHaveBeenCalledTimes(1);
  });
});
