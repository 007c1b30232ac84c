// Three tiers (STYLE.md #10): unit specs next to the code, integration and end-to-end
// suites under test/ against the real local stack, which global setup brings up; and the
// reliability suites (test/reliability), end-to-end too.
const transform = {
  '^.+\\.ts$': [
    '@swc/jest',
    {
      jsc: {
        parser: { syntax: 'typescript', decorators: true },
        transform: { legacyDecorator: true, decoratorMetadata: true },
        target: 'es2023',
      },
      module: { type: 'commonjs' },
    },
  ],
};
// The stack's state (.local: etcd writes *.snap files, which jest would take for obsolete
// snapshots and fail the run) and build output stay out of jest's file map.
const common = {
  testEnvironment: 'node',
  transform,
  moduleFileExtensions: ['ts', 'js', 'json'],
  modulePathIgnorePatterns: ['<rootDir>/.local/', '<rootDir>/dist/'],
};

module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs,scripts}/**/*.spec.ts'], testPathIgnorePatterns: ['/node_modules/', '<rootDir>/apps/console/'] },
    {
      // The web console's components in a DOM (jsdom); `npm run test:unit` runs them too.
      displayName: 'console',
      testEnvironment: 'jsdom',
      testMatch: ['<rootDir>/apps/console/**/*.spec.{ts,tsx}'],
      transform: {
        '^.+\\.tsx?$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript', tsx: true }, transform: { react: { runtime: 'automatic' } }, target: 'es2022' }, module: { type: 'commonjs' } }],
      },
      moduleFileExtensions: ['tsx', 'ts', 'js', 'cjs', 'json'],
      moduleNameMapper: {
        '\\.css$': '<rootDir>/apps/console/src/test-support/style-stub.ts',
        '^@rjsf/validator-ajv8$': '<rootDir>/apps/console/src/components/ajv-validator-stand-in.ts',
      },
      setupFiles: ['<rootDir>/apps/console/src/test-support/jsdom-setup.ts'],
      modulePathIgnorePatterns: ['<rootDir>/.local/', '<rootDir>/dist/'],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.int-spec.ts'],
      // The suites that need Flux's controllers (the stack's Flux and the Flux release backend) run with
      // CAELUS_STACK_FLUX=1, in `npm run test:flux` (npm test's last step, after CI has built Flux in the background), see docs/STACK.md.
      testPathIgnorePatterns: /^(1|true|yes)$/i.test(process.env.CAELUS_STACK_FLUX ?? '') ? ['/node_modules/'] : ['/node_modules/', '/(stack-flux|flux-backend|flux-drift-disabled)\\.int-spec\\.ts$'],
      globalSetup: '<rootDir>/test/setup/global-setup.ts',
      globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/test/setup/timeouts.ts'],
    },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.e2e-spec.ts'],
      globalSetup: '<rootDir>/test/setup/global-setup.ts',
      globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/test/setup/timeouts.ts'],
    },
    {
      // Faults, races, hostile input and secrets on the local stack (docs/RELIABILITY.md).
      ...common,
      displayName: 'reliability',
      testMatch: ['<rootDir>/test/reliability/**/*.rel-spec.ts'],
      globalSetup: '<rootDir>/test/setup/global-setup.ts',
      globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/test/setup/timeouts.ts', '<rootDir>/test/reliability/support/timeouts.ts'],
    },
  ],
};
