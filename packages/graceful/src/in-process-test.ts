import type * as VM from 'node:vm';

/** A test runner that runs tests, and the app they load, in this very process (internal). */
export type TestRunner = 'mocha' | 'jest' | 'node:test' | 'vitest' | 'describe/it globals';

// `.bin/mocha`, `bin/mocha.js`, `_mocha`; `lib/cli/cli.js` when bin/mocha.js re-spawns Node with
// flags; `lib/nodejs/worker.js` for a worker of `mocha --parallel`.
const MOCHA_ENTRY = /(?:^|\/)(?:_?mocha(?:\.c?js)?|mocha\/lib\/(?:cli\/cli|nodejs\/worker)\.js)$/;

// `.bin/jest`, `jest/bin/jest.js`, `jest-cli/bin/jest.js` (--runInBand), a jest-worker child.
const JEST_ENTRY = /(?:^|\/)(?:jest(?:\.c?js)?|jest-worker\/build\/processChild\.js)$/;

/** What the detection looks at: this process's, or, in a test, made up. */
export interface ProcessTraits {
  /** The global object that the module under test sees (jest's test environment's). */
  readonly globals: Readonly<Record<string, unknown>>;
  /** `process.argv[1]`: the main script, if any. */
  readonly mainScript: string | undefined;
  readonly env: NodeJS.ProcessEnv;
  /** `process.moduleLoadList`: the built-in modules loaded so far, as `NativeModule <name>`. */
  readonly loadedModules: unknown;
}

function traitsOfThisProcess(): ProcessTraits {
  return {
    globals: globalThis,
    mainScript: process.argv[1],
    env: process.env,
    loadedModules: (process as { moduleLoadList?: unknown }).moduleLoadList,
  };
}

function areFunctions(scope: Readonly<Record<string, unknown>>, ...names: string[]): boolean {
  return names.every((name) => typeof scope[name] === 'function');
}

/**
 * The test runner whose tests run in this process, or `undefined` in an ordinary process. Told
 * by what exists in this process only, never by an environment variable alone: an app process
 * that a test spawns inherits `JEST_WORKER_ID`, `NODE_TEST_CONTEXT` and `VITEST`, and must still
 * exit as an app does.
 */
export function detectTestRunner(
  traits: ProcessTraits = traitsOfThisProcess(),
): TestRunner | undefined {
  const { globals } = traits;
  if (globals['__vitest_worker__'] !== undefined) return 'vitest';
  const script = (traits.mainScript ?? '').replaceAll('\\', '/');
  // Mocha defines its globals only while it loads each spec file: an app created from a
  // `--require` file, before any spec, is known by the main script.
  const hasMochaGlobals =
    areFunctions(globals, 'describe', 'it', 'specify', 'context') ||
    areFunctions(globals, 'suite', 'test', 'suiteSetup');
  if (MOCHA_ENTRY.test(script) || hasMochaGlobals) return 'mocha';
  // The globals exist in jest's test environment (unless `injectGlobals: false`), where a module
  // under test runs; the main script is jest's own or a jest-worker child.
  const isJestProcess = traits.env['JEST_WORKER_ID'] !== undefined && JEST_ENTRY.test(script);
  if (isJestProcess || areFunctions(globals, 'describe', 'it', 'test', 'expect')) return 'jest';
  // Neither NODE_TEST_CONTEXT nor the --test-* flags of `node --test` tell a test file from an
  // app it spawns: a child inherits the environment, and fork() the flags too (Node 24 and later
  // pass every --test-* flag to the process of each test file). Only the test file loads node:test.
  const loaded = traits.loadedModules;
  if (Array.isArray(loaded) && loaded.includes('NativeModule test')) return 'node:test';
  if (areFunctions(globals, 'describe', 'it') || areFunctions(globals, 'suite', 'test')) {
    return 'describe/it globals';
  }
  return undefined;
}

/**
 * Whether this process is a test runner's, whose tests load the app in process (supertest):
 * mocha, jest, `node:test` or vitest. In such a process `Graceful` and `GracefulExpress` install
 * no handler that exits the process and never call `process.exit`: an error in an endpoint is
 * the failure of the test that caused it, and the runner prints its report and sets the exit
 * code. Told by what only the test process has, so that an app process a test spawns still exits
 * as an app does:
 *
 * - mocha: its globals (`describe`/`it`/`context`/`specify`, or `suite`/`test`/`suiteSetup`),
 *   defined while it loads a spec file, or a main script of mocha's own (`mocha`, `_mocha`);
 * - jest: its globals in the test environment (`describe`/`it`/`test`/`expect`), or
 *   `JEST_WORKER_ID` together with a main script of jest's own or of a jest-worker child;
 * - `node:test`: the `node:test` module loaded in this process (the environment and the
 *   `--test-*` flags of `node --test` are inherited by the processes a test spawns). The test
 *   file must load `node:test` before it creates the app: an `import` always does, a CommonJS
 *   `require('node:test')` must come first;
 * - vitest: its `__vitest_worker__` global.
 *
 * The option `inProcessTest` of `Graceful` and `GracefulExpress` overrides it either way.
 */
export function isInProcessTest(): boolean {
  return detectTestRunner() !== undefined;
}

/**
 * Node's own `process`. jest's test environment hands the modules it runs a copy of `process`
 * with an event emitter of its own (jest-util's createProcessObject), whose events Node never
 * emits: a listener that must hear an uncaught error there has to be on the process of the main
 * context, where `vm.runInThisContext` evaluates. Elsewhere it is `process` itself.
 */
export function nodeProcess(): NodeJS.Process {
  try {
    // Loaded when first asked, not at module load: importing graceful loads nothing it does not use.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const vm = require('node:vm') as typeof VM;
    const main = vm.runInThisContext('process') as unknown;
    return typeof (main as Partial<NodeJS.Process> | null)?.on === 'function'
      ? (main as NodeJS.Process)
      : process;
  } catch {
    return process;
  }
}
