// ESLint (flat config) with typescript-eslint's type-aware rules. Prettier owns formatting.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';
import jest from 'eslint-plugin-jest';

/*
 * Imports: one style (by path alias, `src/...` and `test/...`, never `./` or `../`), and the layers (docs/architecture.md):
 * - the pure domain code (`src/<feature>/domain/`) imports no framework, no driver and no database code;
 * - the shared layers (`src/database`, `src/common`, `src/config`) import no feature;
 * - no feature imports what sits above it: the commands (`src/cli`), the demo data (`src/demo-data`), the app's
 *   assembly (`src/app.*`, `src/main`, `src/entities`);
 * - the owner's connection (row-level security does not bind it) only where owner-connection.ts names it.
 * `no-restricted-imports` takes one list per file, so each block below carries the whole list for its files.
 */
const RELATIVE = { group: ['./*', '../*'], message: 'Import by path alias (src/..., test/...), not by a relative path.' };
const FEATURES = ['audit', 'auth', 'engagement', 'health', 'ingestion', 'journey', 'opportunities', 'organizations', 'patients', 'records', 'risk', 'scoring', 'consent', 'privacy', 'jobs', 'file-store'];
const NO_FEATURES = { group: FEATURES.map((f) => `src/${f}/*`), message: 'The shared layers (database, common, config) import no feature: pass what they need down.' };
const ABOVE = {
  group: ['src/cli/*', 'src/demo-data/*', 'src/app.module', 'src/app.factory', 'src/main', 'src/entities'],
  message: 'A feature does not import the commands, the demo data or the app assembly above it.',
};
const OWNER = { group: ['src/database/owner-connection'], message: 'The owner connection bypasses row-level security: only the places owner-connection.ts names use it.' };
const PURE = {
  group: ['@nestjs/*', 'typeorm', 'typeorm/*', 'pg', 'pg-*', 'src/database/*', 'src/*/*.repository', 'src/*/*.service'],
  message: 'Domain code is pure: no framework, driver or database (docs/architecture.md).',
};
const restrict = (...patterns) => ['error', { patterns }];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.data/**', 'eslint.config.mjs', 'jest.config.js', 'sdk/dist/**', 'sdk/src/openapi.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-unsafe-function-type': 'off',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-console': 'error',
      'no-restricted-imports': restrict(RELATIVE),
    },
  },
  { files: ['src/**/*.ts'], rules: { 'no-restricted-imports': restrict(RELATIVE, ABOVE, OWNER) } },
  { files: ['src/database/**/*.ts', 'src/common/**/*.ts', 'src/config/**/*.ts'], rules: { 'no-restricted-imports': restrict(RELATIVE, NO_FEATURES, ABOVE) } },
  { files: ['src/**/domain/**/*.ts'], rules: { 'no-restricted-imports': restrict(RELATIVE, ABOVE, OWNER, PURE) } },
  {
    // The named users of the owner connection (src/database/owner-connection.ts), and what sits above the features.
    files: ['src/scoring/recompute/maintenance.ts', 'src/scoring/recompute/metrics-partition*.ts', 'src/scoring/recompute/organization-recompute.ts', 'src/scoring/scoring.service.ts', 'src/scoring/statistics/organization-statistics.job.ts', 'src/fhir-import/import-statistics.ts', 'src/opportunities/opportunities-partition-swap.ts', 'src/engagement/engagement-partition-swap.ts'],
    rules: { 'no-restricted-imports': restrict(RELATIVE, ABOVE) },
  },
  { files: ['src/cli/**/*.ts', 'src/demo-data/**/*.ts', 'src/app.*.ts', 'src/main.ts', 'src/entities.ts'], rules: { 'no-restricted-imports': restrict(RELATIVE) } },
  // Tests may use any layer; the test setup runs before the path aliases exist, and the benchmarks have no alias.
  { files: ['src/**/*.spec.ts'], rules: { 'no-restricted-imports': restrict(RELATIVE) } },
  { files: ['test/setup/**', 'bench/**'], rules: { 'no-restricted-imports': 'off' } },
  // The SDK is a package of its own, built for front ends: its modules import each other relatively (`./client.js`).
  { files: ['sdk/**'], rules: { 'no-restricted-imports': 'off' } },
  {
    files: ['**/*.spec.ts', 'test/**/*.ts', 'bench/**/*.ts', 'sdk/examples/**/*.ts', 'sdk/test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', 'no-console': 'off', '@typescript-eslint/no-non-null-assertion': 'off' },
  },
  {
    // Tests that can fail: every test asserts (expect, or a helper named expect*), none is focused or skipped, no
    // expect hides in a condition (a branch not taken asserts nothing), every expect is complete and awaited.
    files: ['**/*.spec.ts', 'test/**/*.e2e-spec.ts', 'test/**/*.int-spec.ts', 'test/**/*.bench.ts', 'test/utils/**/*.ts'],
    plugins: { jest },
    languageOptions: { globals: jest.environments.globals.globals },
    rules: {
      'jest/expect-expect': ['error', { assertFunctionNames: ['expect', 'expect*', '**.expect*', 'fc.assert'] }],
      'jest/no-focused-tests': 'error',
      'jest/no-disabled-tests': 'error',
      'jest/no-conditional-expect': 'error',
      'jest/valid-expect': 'error',
    },
  },
  {
    // The named, justified exceptions to jest/no-disabled-tests: the one helper that skips a test on purpose, and only
    // with a printed reason (a machine without the product's ../shared folder or without Redis).
    files: ['test/utils/skip-unless.ts'],
    rules: { 'jest/no-disabled-tests': 'off', 'jest/expect-expect': 'off' },
  },
  {
    files: ['scripts/**/*.js', 'test/setup/*.js', 'bench/**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', process: 'readonly', __dirname: 'readonly', __filename: 'readonly', console: 'readonly', setInterval: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  prettier,
);
