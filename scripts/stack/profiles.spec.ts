import { profilesFromEnv } from './index';
import { TOOLS, toolsFor } from './versions';

describe(profilesFromEnv.name, () => {
  it.each([
    [{}, []],
    [{ CAELUS_STACK_FLUX: '1' }, ['flux']],
    [{ CAELUS_STACK_FLUX: 'true' }, ['flux']],
    [{ CAELUS_STACK_FLUX: '0' }, []],
    [{ CAELUS_STACK_FLUX: '' }, []],
  ])('reads %j as %j', (env, profiles) => {
    expect(profilesFromEnv(env as NodeJS.ProcessEnv)).toEqual(profiles);
  });
});

describe(toolsFor.name, () => {
  it('leaves the Flux controllers out of the default stack', () => {
    const names = toolsFor().map((t) => t.name);
    expect(names).toEqual(['kubernetes', 'etcd', 'kwok', 'temporal', 'helm', 'registry']);
  });

  it('adds them for the flux profile, built through wrapper modules with their CRDs', () => {
    const flux = toolsFor(['flux']).filter((t) => t.profile === 'flux');
    expect(flux.map((t) => t.binaries[0])).toEqual(['source-controller', 'helm-controller']);
    for (const t of flux) expect(t.build).toEqual(expect.objectContaining({ kind: 'wrapper', crds: 'config/crd/bases' }));
    expect(toolsFor(['flux'])).toHaveLength(TOOLS.length);
  });
});
