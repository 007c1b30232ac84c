import { cliProfiles, defaultProfiles, profilesFromEnv } from './index';
import { TEMPORAL_CLI_VERSION, TEMPORAL_SERVER_VERSION, TOOLS, toolsFor } from './versions';

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

  it('adds them for the flux profile, both controllers in one module-set build with their CRDs', () => {
    const flux = toolsFor(['flux']).filter((t) => t.profile === 'flux');
    expect(flux.map((t) => t.binaries)).toEqual([['helm-controller', 'source-controller']]);
    expect(flux[0].build).toMatchObject({
      kind: 'module-set',
      tidyTolerant: true,
      crds: [
        { module: 'github.com/fluxcd/helm-controller', dir: 'config/crd/bases' },
        { module: 'github.com/fluxcd/source-controller', dir: 'config/crd/bases' },
      ],
    });
    expect(toolsFor(['flux'])).toHaveLength(TOOLS.length);
    expect(toolsFor(['flux'], { profileOnly: true })).toEqual(flux);
    expect(toolsFor([], { profileOnly: true })).toEqual([]);
  });

  it('builds temporal-server and its SQL tool with the CLI, at the server release the CLI requires, so the profile adds no tool', () => {
    expect(toolsFor(['temporal-server'])).toEqual(toolsFor());
    const temporal = TOOLS.find((t) => t.name === 'temporal')!;
    expect(temporal.binaries).toEqual(['temporal', 'temporal-server', 'temporal-sql-tool', 'temporal-ui-server']);
    expect(temporal.build).toMatchObject({
      kind: 'module-set',
      parts: [
        { module: 'github.com/temporalio/cli', version: TEMPORAL_CLI_VERSION },
        { module: 'go.temporal.io/server', version: TEMPORAL_SERVER_VERSION, packages: ['go.temporal.io/server/cmd/server', 'go.temporal.io/server/cmd/tools/sql'] },
      ],
      tags: ['disable_grpc_modules'],
      rename: { server: 'temporal-server', sql: 'temporal-sql-tool' },
      separate: [{ package: 'github.com/temporalio/ui-server/v2/cmd/server', binary: 'temporal-ui-server' }],
    });
    expect(temporal.version).toBe(`${TEMPORAL_CLI_VERSION}+server.${TEMPORAL_SERVER_VERSION}`);
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
