import { unrecordedRelease } from './helm-release.backend';

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
