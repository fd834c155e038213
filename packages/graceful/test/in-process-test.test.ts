import * as vm from 'node:vm';
import { Graceful, isInProcessTest } from '../src';
import type { ErrorInfo, GracefulOptions } from '../src';
import { detectTestRunner } from '../src/in-process-test';
import type { ProcessTraits } from '../src/in-process-test';
import { cleanUpGracefuls, recordingLogger, remember, within } from './support';
import type { RecordingLogger } from './support';

/** The process Node emits uncaught errors on; jest's `process` is a copy with its own events. */
const nodeProcess = vm.runInThisContext('process') as NodeJS.Process;

/** What Node does before the `uncaughtException` listeners of a runner; no types for `emit`. */
function emitMonitor(error: Error): void {
  (nodeProcess as NodeJS.EventEmitter).emit('uncaughtExceptionMonitor', error, 'uncaughtException');
}

const JEST_GLOBALS = { describe, it, test, expect };
const PLAIN: ProcessTraits = {
  globals: {},
  mainScript: '/srv/app/server.js',
  env: {},
  loadedModules: [],
};
const fn = (): void => undefined;

describe('detectTestRunner()', () => {
  it('is jest here, from the globals of its test environment', () => {
    expect(detectTestRunner()).toBe('jest');
    expect(isInProcessTest()).toBe(true);
  });

  it.each<[string, Partial<ProcessTraits>, string | undefined]>([
    ['an app with no runner', {}, undefined],
    [
      'an app spawned by a test, with the environment of every runner',
      { env: { JEST_WORKER_ID: '1', NODE_TEST_CONTEXT: 'child-v8', VITEST: 'true' } },
      undefined,
    ],
    ['mocha, by .bin/mocha', { mainScript: '/p/node_modules/.bin/mocha' }, 'mocha'],
    ['mocha, by bin/mocha.js', { mainScript: '/p/node_modules/mocha/bin/mocha.js' }, 'mocha'],
    ['mocha, by _mocha', { mainScript: '/p/node_modules/.bin/_mocha' }, 'mocha'],
    [
      'mocha re-spawned with Node flags, on Windows',
      { mainScript: 'C:\\p\\node_modules\\mocha\\lib\\cli\\cli.js' },
      'mocha',
    ],
    [
      'a worker of mocha --parallel',
      { mainScript: '/p/node_modules/mocha/lib/nodejs/worker.js' },
      'mocha',
    ],
    [
      'mocha, by its BDD globals',
      { globals: { describe: fn, it: fn, specify: fn, context: fn } },
      'mocha',
    ],
    ['mocha, by its TDD globals', { globals: { suite: fn, test: fn, suiteSetup: fn } }, 'mocha'],
    ['jest, by its globals', { globals: JEST_GLOBALS }, 'jest'],
    [
      'jest without injected globals, in a jest-worker child',
      {
        mainScript: '/p/node_modules/jest-worker/build/processChild.js',
        env: { JEST_WORKER_ID: '2' },
      },
      'jest',
    ],
    [
      'jest --runInBand without injected globals',
      { mainScript: '/p/node_modules/.bin/jest', env: { JEST_WORKER_ID: '1' } },
      'jest',
    ],
    [
      'the jest binary without JEST_WORKER_ID (jest --version)',
      { mainScript: '/p/node_modules/.bin/jest' },
      undefined,
    ],
    [
      'node:test, loaded in this process',
      { loadedModules: ['NativeModule internal/test_runner/harness', 'NativeModule test'] },
      'node:test',
    ],
    [
      'not node:test when only its environment is inherited',
      { env: { NODE_TEST_CONTEXT: 'child-v8' }, loadedModules: ['NativeModule fs'] },
      undefined,
    ],
    ['vitest, by its worker global', { globals: { __vitest_worker__: {} } }, 'vitest'],
    [
      'another runner with describe/it globals',
      { globals: { describe: fn, it: fn } },
      'describe/it globals',
    ],
    ['globals that are not functions', { globals: { describe: 1, it: 'x' } }, undefined],
  ])('%s', (_label, traits, expected) => {
    expect(detectTestRunner({ ...PLAIN, ...traits })).toBe(expected);
  });
});

interface Harness {
  readonly graceful: Graceful;
  readonly logger: RecordingLogger;
  readonly codes: number[];
  readonly reports: [unknown, ErrorInfo][];
}

/** A Graceful with the default mode (detected: in-process test under jest) and recording seams. */
function create(options: GracefulOptions = {}): Harness {
  const logger = recordingLogger();
  const codes: number[] = [];
  const reports: [unknown, ErrorInfo][] = [];
  const graceful = new Graceful({
    logger,
    reporter: (error, info) => {
      reports.push([error, info]);
    },
    exit: (code) => {
      codes.push(code);
    },
    ...options,
  });
  remember(graceful);
  return { graceful, logger, codes, reports };
}

/** The listeners the non-test mode would add, on the `process` graceful sees and on Node's. */
function listenerCounts(): Record<string, number> {
  return {
    SIGTERM: process.listenerCount('SIGTERM'),
    SIGINT: process.listenerCount('SIGINT'),
    uncaughtException: process.listenerCount('uncaughtException'),
    unhandledRejection: process.listenerCount('unhandledRejection'),
    nodeSIGTERM: nodeProcess.listenerCount('SIGTERM'),
    nodeUncaughtException: nodeProcess.listenerCount('uncaughtException'),
    monitor: nodeProcess.listenerCount('uncaughtExceptionMonitor'),
  };
}

const TEST_MODE_LINE =
  'in-process test (jest): no signal or uncaught-error handler that exits is installed, ' +
  'and shutdown() does not exit; errors are left to the test runner';

cleanUpGracefuls();

describe('Graceful in in-process-test mode', () => {
  it('is the default under jest, and installs only an uncaughtExceptionMonitor, on Node’s process', () => {
    const before = listenerCounts();
    const { graceful, logger } = create();
    expect(graceful.isInProcessTest).toBe(true);
    graceful.start();
    graceful.start();
    expect(listenerCounts()).toEqual({ ...before, monitor: before['monitor']! + 1 });
    expect(logger.entries).toEqual([['info', TEST_MODE_LINE, { inProcessTest: true }]]);
    graceful.uninstall();
    expect(listenerCounts()).toEqual(before);
  });

  it('installs nothing at all with handleErrors: false', () => {
    const before = listenerCounts();
    create({ handleErrors: false }).graceful.start();
    expect(listenerCounts()).toEqual(before);
  });

  it('with inProcessTest: false given, installs its exiting handlers even under jest', () => {
    const before = listenerCounts();
    const { graceful } = create({ inProcessTest: false });
    expect(graceful.isInProcessTest).toBe(false);
    graceful.start();
    expect(listenerCounts()).toEqual({
      ...before,
      SIGTERM: before['SIGTERM']! + 1,
      SIGINT: before['SIGINT']! + 1,
      uncaughtException: before['uncaughtException']! + 1,
      unhandledRejection: before['unhandledRejection']! + 1,
    });
  });

  it('shutdown() runs the hooks and the exit event, and never calls exit', async () => {
    const { graceful, logger, codes } = create();
    graceful.start();
    const steps: string[] = [];
    graceful.onShutdown(() => {
      steps.push('hook');
    });
    graceful.on('exit', (code) => steps.push(`exit event ${String(code)}`));
    await within(graceful.shutdown(), 2000, 'the shutdown');
    expect(steps).toEqual(['hook', 'exit event 0']);
    expect(codes).toEqual([]);
    expect(graceful.state).toBe('exiting');
    const messages = logger.entries.map(([, message]) => message);
    expect(messages).toContain(
      'shutdown finished (exit code 0); in-process test: the process is left to the test runner',
    );
    expect(messages.filter((message) => String(message).startsWith('exiting with'))).toEqual([]);
  });

  it('shutdown(error) reports the error and keeps its exit code, without exiting', async () => {
    const { graceful, codes, reports } = create();
    const error = new Error('boom');
    await within(graceful.shutdown(error), 2000, 'the shutdown');
    expect(reports).toEqual([[error, { origin: 'manual' }]]);
    expect(graceful.exitCode).toBe(1);
    expect(codes).toEqual([]);
  });

  it('on an uncaught error, lets the error context answer its request, with no report and no shutdown', () => {
    const { graceful, codes, reports } = create();
    graceful.start();
    const seen: string[] = [];
    graceful.addErrorContext((error, origin) => {
      seen.push(`${(error as Error).message} ${origin}`);
      return {
        info: { extra: { route: '/async' } },
        afterReport: () => seen.push('answered'),
      };
    });
    emitMonitor(new Error('async boom'));
    expect(seen).toEqual(['async boom uncaughtException', 'answered']);
    expect(reports).toEqual([]);
    expect(codes).toEqual([]);
    expect(graceful.state).toBe('running');
  });

  it('logs an error context that throws while answering, and goes on', () => {
    const { graceful, logger } = create();
    graceful.start();
    const failure = new Error('res.send failed');
    graceful.addErrorContext(() => ({
      afterReport: () => {
        throw failure;
      },
    }));
    expect(() => {
      emitMonitor(new Error('async boom'));
    }).not.toThrow();
    expect(logger.entries.slice(1)).toEqual([
      ['error', 'an error context failed to answer its request', { err: failure }],
    ]);
    expect(graceful.state).toBe('running');
  });
});
