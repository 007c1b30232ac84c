// The layering of docs/CONTRIBUTING.md ("Lint and layering"), checked by `npm run lint:layers`.
// Paths are relative to the repository root; `$1` in a `to` refers to the group captured by the `from` path.
const LIB_INDEX = '^libs/[^/]+/src/index\\.ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'workflow-purity',
      severity: 'error',
      comment: 'Workflow code runs in the Temporal sandbox and is replayed: it imports no platform, persistence or domain code (types of activities come from ../activities).',
      from: { path: '^libs/orchestration/src/workflows/' },
      to: { path: '^libs/(platform|persistence|domain)/' },
    },
    {
      name: 'domain-not-up',
      severity: 'error',
      comment: 'The domain knows nothing of the apps or of orchestration (the API and the worker call into it, not the other way round).',
      from: { path: '^libs/domain/' },
      to: { path: ['^apps/', '^libs/orchestration/'] },
    },
    {
      name: 'adapters-not-domain',
      severity: 'error',
      comment: 'Platform and persistence are adapters: they import no domain code.',
      from: { path: '^libs/(platform|persistence)/' },
      to: { path: '^libs/domain/' },
    },
    {
      name: 'cli-is-http-client',
      severity: 'error',
      comment: 'The CLI is a client of the HTTP API: it imports no domain or persistence code.',
      from: { path: '^apps/cli/' },
      to: { path: '^libs/(domain|persistence)/' },
    },
    {
      name: 'libs-not-apps',
      severity: 'error',
      comment: 'Libraries import no application.',
      from: { path: '^libs/' },
      to: { path: '^apps/' },
    },
    {
      name: 'lib-through-index',
      severity: 'error',
      comment: 'Another lib is imported through its index (libs/<x>/src/index.ts); relative imports inside a lib are fine.',
      from: { path: '^libs/([^/]+)/' },
      to: { path: '^libs/', pathNot: ['^libs/$1/', LIB_INDEX] },
    },
    {
      name: 'app-through-index',
      severity: 'error',
      // Migrations are left out: persistence's data source loads them, so a migration that imported a lib's
      // index would pull the whole lib (and persistence again) into a cycle; they take the few files they need.
      comment: 'Apps, scripts and benchmarks import a lib through its index (libs/<x>/src/index.ts).',
      from: { path: '^(apps|scripts|bench)/' },
      to: { path: '^libs/', pathNot: LIB_INDEX },
    },
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'No import cycles (type-only imports included: they still tangle the modules).',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['(^|/)node_modules/', '^dist/', '^\\.local/'] },
    // Type-only imports count: `import type` from a forbidden layer is still a dependency on it.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
