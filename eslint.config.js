'use strict';

/**
 * Flat config for the whole repo. TypeScript is linted with type information (typescript-eslint
 * `strictTypeChecked`); the plain CommonJS scripts (tools, examples, test fixtures, configs) get
 * ESLint's recommended rules with Node's globals.
 */
const js = require('@eslint/js');
const { defineConfig, globalIgnores } = require('eslint/config');
const tseslint = require('typescript-eslint');

/**
 * The globals of a CommonJS module running on Node 20. Spelled out here because the `globals`
 * package is not a dependency of this repo.
 */
const nodeGlobals = Object.fromEntries(
  [
    'AbortController',
    'AbortSignal',
    'Blob',
    'Buffer',
    'BroadcastChannel',
    'DOMException',
    'Event',
    'EventTarget',
    'FormData',
    'Headers',
    'MessageChannel',
    'MessagePort',
    'Request',
    'Response',
    'TextDecoder',
    'TextEncoder',
    'URL',
    'URLSearchParams',
    'WebAssembly',
    '__dirname',
    '__filename',
    'atob',
    'btoa',
    'clearImmediate',
    'clearInterval',
    'clearTimeout',
    'console',
    'crypto',
    'exports',
    'fetch',
    'global',
    'module',
    'performance',
    'process',
    'queueMicrotask',
    'require',
    'setImmediate',
    'setInterval',
    'setTimeout',
    'structuredClone',
  ].map((name) => [name, 'readonly']),
);

/** Unused names are an error, except the ones deliberately marked unused with a leading `_`. */
const unusedVarsOptions = {
  args: 'after-used',
  argsIgnorePattern: '^_',
  varsIgnorePattern: '^_',
  caughtErrors: 'all',
  caughtErrorsIgnorePattern: '^_',
};

module.exports = defineConfig([
  globalIgnores([
    '**/node_modules/',
    '**/dist/',
    '**/.build/',
    '**/coverage/',
    '.cache/',
    'docs/benchmarks/',
    '**/*.d.ts',
  ]),

  {
    name: 'lastcall/javascript',
    files: ['**/*.js', '**/*.cjs'],
    extends: [js.configs.recommended],
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'commonjs',
      globals: nodeGlobals,
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      'no-unused-vars': ['error', unusedVarsOptions],
      strict: ['error', 'global'],
    },
  },

  {
    name: 'lastcall/typescript',
    files: ['**/*.ts'],
    extends: [tseslint.configs.strictTypeChecked],
    languageOptions: {
      parserOptions: {
        // Each file is checked with the tsconfig.json nearest to it: packages/<x>/tsconfig.json
        // for src, packages/<x>/test/tsconfig.json for tests. The repo tools' tests belong to no
        // build project, so they get the options Jest compiles them with.
        projectService: {
          allowDefaultProject: ['tools/*.test.ts'],
          defaultProject: 'tsconfig.jest.json',
        },
        tsconfigRootDir: __dirname,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', unusedVarsOptions],
      // Numbers in messages (`port ${port}`, `${ms} ms`) are the common, harmless case.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { fixStyle: 'separate-type-imports' },
      ],
      eqeqeq: ['error', 'always'],
    },
  },

  {
    name: 'lastcall/typescript-tests',
    files: ['packages/*/test/**/*.ts', 'tools/**/*.test.ts'],
    rules: {
      // A test that already checked a value exists may say so with `!` instead of a branch.
      '@typescript-eslint/no-non-null-assertion': 'off',
      // `expect(object.method).toHaveBeenCalled()` passes methods unbound on purpose.
      '@typescript-eslint/unbound-method': 'off',
      // Tests hand no-op callbacks and empty handlers to the APIs they exercise.
      '@typescript-eslint/no-empty-function': 'off',
      // `socket.on('close', () => resolve())` and `afterEach(() => server.close())` are the
      // idiom of event-driven tests; the rule still applies to every other void expression.
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
    },
  },
]);
