import { DomainError } from '../../../domain/src';
import type { ReleaseBackend } from './release-backend.port';
import { backendOf, ReleaseBackends } from './release-backends';

function fakeBackend(name: string) {
  return {
    apply: jest.fn(async () => ({ revision: name === 'helm' ? 1 : 2, unlocked: false })),
    uninstall: jest.fn(async () => ({ uninstalled: true, kept: [] })),
    render: jest.fn(async () => `rendered by ${name}`),
    readDeployedManifest: jest.fn(async (_ref: unknown, _options?: unknown): Promise<string | undefined> => `deployed by ${name}`),
  } satisfies ReleaseBackend;
}

describe(ReleaseBackends.name, () => {
  const helm = fakeBackend('helm');
  const flux = fakeBackend('flux');
  const sut = new ReleaseBackends({ helm, flux });
  const ref = { release: 'web-1', namespace: 'web-1' };

  beforeEach(() => jest.clearAllMocks());

  it('routes every call to the backend the request names', async () => {
    await expect(sut.apply({ ...ref, backend: 'flux', chart: { ref: 'oci://r/x' }, values: {}, timeoutSeconds: 60 })).resolves.toEqual({ revision: 2, unlocked: false });
    await expect(sut.readDeployedManifest({ ...ref, backend: 'flux' })).resolves.toBe('deployed by flux');
    await expect(sut.render({ ...ref, backend: 'flux', chart: { ref: 'oci://r/x' }, values: {} })).resolves.toBe('rendered by flux');
    await sut.uninstall({ ...ref, backend: 'flux', timeoutSeconds: 60 });
    expect(flux.uninstall).toHaveBeenCalledTimes(1);
    expect(helm.apply).not.toHaveBeenCalled();
    expect(helm.uninstall).not.toHaveBeenCalled();
  });

  it('holds a release only on a backend that reconciles by itself', async () => {
    const hold = jest.fn(async () => true);
    const withHold = new ReleaseBackends({ helm, flux: { ...flux, hold } });
    await expect(withHold.hold({ ...ref, backend: 'flux' })).resolves.toBe(true);
    expect(hold).toHaveBeenCalledWith({ ...ref, backend: 'flux' });
    await expect(withHold.hold(ref)).resolves.toBe(false);
    expect(hold).toHaveBeenCalledTimes(1);
  });

  it('uses helm when the request names no backend', async () => {
    await expect(sut.readDeployedManifest(ref, { fresh: true })).resolves.toBe('deployed by helm');
    expect(helm.readDeployedManifest).toHaveBeenCalledWith(ref, { fresh: true });
    expect(flux.readDeployedManifest).not.toHaveBeenCalled();
  });

  it('refuses, for good, a backend the worker does not have', async () => {
    const helmOnly = new ReleaseBackends({ helm, flux: undefined });
    const err = await helmOnly.readDeployedManifest({ ...ref, backend: 'flux' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DomainError);
    expect((err as DomainError).code).toBe('InvalidInput');
    expect((err as Error).message).toMatch(/"flux" is not available on this worker \(it has: helm\)/);
    await expect(sut.readDeployedManifest({ ...ref, backend: 'toString' })).rejects.toThrow(/"toString" is not available/);
  });
});

describe(backendOf.name, () => {
  it('reads the template capability, undefined (helm) when it is not set', () => {
    expect(backendOf({ template: { capabilities: { backend: 'flux' } } } as never)).toBe('flux');
    expect(backendOf({ template: { capabilities: {} } } as never)).toBeUndefined();
    expect(backendOf({ template: {} } as never)).toBeUndefined();
  });
});
