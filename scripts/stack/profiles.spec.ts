import { cliProfiles, defaultProfiles, profilesFromEnv } from './index';
import { TOOLS, toolsFor } from './versions';

describe(profilesFromEnv.name, () => {
  it.each([
    [{}, []],
    [{ CAELUS_STACK_FLUX: '1' }, ['flux']],
    [{ CAELUS_STACK_FLUX: 'true' }, ['flux']],
    [{ CAELUS_STACK_FLUX: '0' }, []],
    [{ CAELUS_STACK_FLUX: '' }, []],
    [{ CAELUS_STACK_TEMPORAL: 'server' }, ['temporal-server']],
    [{ CAELUS_STACK_TEMPORAL: 'dev', CAELUS_STACK_FLUX: '1' }, ['flux']],
  ])('reads %j as %j', (env, profiles) => {
    expect(profilesFromEnv(env as NodeJS.ProcessEnv)).toEqual(profiles);
  });
});

describe(toolsFor.name, () => {
  it('leaves the Flux controllers out of the default stack', () => {
    const names = toolsFor().map((t) => t.name);
    expect(names).toEqual(['kubernetes', 'temporal', 'registry']);
  });

  it('adds them for the flux profile, built through wrapper modules with their CRDs', () => {
    const flux = toolsFor(['flux']).filter((t) => t.profile === 'flux');
    expect(flux.map((t) => t.binaries[0])).toEqual(['source-controller', 'helm-controller']);
    for (const t of flux) expect(t.build).toEqual(expect.objectContaining({ kind: 'wrapper', crds: 'config/crd/bases' }));
    expect(toolsFor(['flux'])).toHaveLength(TOOLS.length - 1);
  });

  it('adds temporal-server and its SQL tool for the temporal-server profile', () => {
    const server = toolsFor(['temporal-server']).filter((t) => t.profile === 'temporal-server');
    expect(server.map((t) => t.binaries)).toEqual([['temporal-server', 'temporal-sql-tool']]);
    expect(server[0].build).toMatchObject({ kind: 'go-install', tags: ['disable_grpc_modules'], rename: { server: 'temporal-server', sql: 'temporal-sql-tool' } });
  });
});

describe(defaultProfiles.name, () => {
  it('remembers the Temporal of the last up unless the environment says otherwise', () => {
    expect(defaultProfiles({}, { CAELUS_STACK_TEMPORAL: 'server' })).toEqual(['temporal-server']);
    expect(defaultProfiles({ CAELUS_STACK_TEMPORAL: 'dev' }, { CAELUS_STACK_TEMPORAL: 'server' })).toEqual([]);
    expect(defaultProfiles({}, {})).toEqual([]);
  });
});

describe(cliProfiles.name, () => {
  it('adds and removes profiles from the flags', () => {
    expect(cliProfiles(['--temporal', 'server'], [])).toEqual(['temporal-server']);
    expect(cliProfiles(['--with-flux', '--temporal', 'dev'], ['temporal-server'])).toEqual(['flux']);
    expect(() => cliProfiles(['--temporal', 'sqlite'], [])).toThrow(/--temporal takes dev or server/);
  });
});
