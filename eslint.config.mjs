// ESLint with typescript-eslint's type-aware rules (docs/CONTRIBUTING.md, "Lint and layering").
// Formatting is Prettier's job and layering is dependency-cruiser's (.dependency-cruiser.cjs).
import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// Test and tooling code: specs, the stack-backed suites, the local stack, benchmarks.
const TESTS_AND_TOOLING = ['**/*.spec.ts', '**/*.spec.tsx', 'test/**', 'scripts/**', 'bench/**'];

export default tseslint.config(
  {
    ignores: ['dist/', 'coverage/', '.local/', 'node_modules/', 'bench/results/', 'charts/', 'test/**/fixtures/charts/'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        // Each file is checked against its nearest tsconfig.json (the root one, or apps/console's).
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
      globals: { ...globals.node },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // The promise rules are the point here: a dropped promise is an unhandled rejection in the
      // worker, or a response sent before its write.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
    },
  },
  {
    files: ['apps/console/src/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'react-hooks/rules-of-hooks': 'error',
      'react-hooks/exhaustive-deps': 'error',
      // `onClick={async () => …}` is how React handlers are written; React ignores the promise.
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { attributes: false } }],
    },
  },
  {
    files: TESTS_AND_TOOLING,
    rules: {
      // Tests and tools read JSON (HTTP bodies, helm and kubectl output, benchmark results) as
      // `any` on purpose; the application code keeps these rules.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // Fakes implement async ports without awaiting anything.
      '@typescript-eslint/require-await': 'off',
      // `expect(fake.method).toHaveBeenCalled()` passes methods unbound by design.
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  {
    // Plain JavaScript config and helper files are in no tsconfig: no type information.
    files: ['**/*.{js,cjs,mjs}'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['**/*.{js,cjs}'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
