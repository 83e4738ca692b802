// ESLint: the recommended rules of ESLint and typescript-eslint, with formatting left to Prettier.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  globalIgnores(['lib/dist/', 'data/', 'handouts/', '.venv/', 'notebooks/', '**/*.d.ts']),
  js.configs.recommended,
  tseslint.configs.recommended,
  { languageOptions: { globals: { ...globals.node } } },
  {
    // The scripts are CommonJS, run by Node as they are.
    files: ['**/*.js'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Unused arguments and destructured leftovers are allowed when named with a leading underscore.
    rules: { '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }] },
  },
  {
    // The library asserts nothing it does not check: no `x!`. The numeric kernels over typed
    // arrays, whose indices are bounded by their loops, are the exception.
    files: ['lib/src/**/*.ts'],
    ignores: ['lib/src/analysis/tsne.ts', 'lib/src/analysis/gradient-variance.ts', 'lib/src/tools/bench.ts', 'lib/src/tools/bench-tsne.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'error' },
  },
  {
    // Tests load the CommonJS scripts they test with require(), as Node does.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-require-imports': ['error', { allow: ['^\\.\\./scripts/'] }] },
  },
  {
    // The pinned numbers are doubles as JavaScript prints them (shortest form that reads back
    // exactly); the rule compares 17-digit literals with toPrecision(17) and flags some wrongly.
    files: ['test/pinned-losses.test.ts'],
    rules: { 'no-loss-of-precision': 'off' },
  },
  prettier,
);
