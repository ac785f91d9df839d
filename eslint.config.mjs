// ESLint (flat config): ESLint's and typescript-eslint's recommended rules, without type information so that
// `npm run lint` stays fast. Rules that tsc already enforces (unused locals and parameters) are left to tsc for
// TypeScript files.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist/', 'dist.building-*/', 'coverage/', 'node_modules/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    // Unused names prefixed with _ are deliberate (a callback's unused parameter, a skipped tuple slot).
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    files: ['**/*.ts', '**/*.mts', '**/*.cts'],
    rules: { '@typescript-eslint/no-unused-vars': 'off' }, // tsc's noUnusedLocals and noUnusedParameters
  },
  {
    // Scripts, examples, benchmarks and the consumer fixtures run in Node.
    files: ['**/*.mjs', '**/*.cjs', '**/*.js'],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    files: ['**/*.cjs', 'jest.config.js'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // A CommonJS consumer's `import x = require('…')` is what spec/packaging/consumer/types/cjs.cts tests.
    files: ['**/*.cts'],
    rules: { '@typescript-eslint/no-require-imports': ['error', { allowAsImport: true }] },
  },
  {
    files: ['spec/**', 'marbles/**'],
    languageOptions: { globals: { ...globals.jest, ...globals.node } },
  },
);
