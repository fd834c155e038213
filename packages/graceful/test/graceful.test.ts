import * as os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { CHECK_INTERVAL, Graceful, deferSignals, describeReason } from '../src';
import type { ErrorInfo, GracefulEvents, GracefulOptions, ShutdownReason } from '../src';
import type { LogFields } from '@lastcall/log-shim';
import type { LogEntry, RecordingLogger } from './support';
import {
  cleanUpGracefuls,
  deferred,
  nextMacrotask,
  recordingLogger,
  remember,
  TIMER_SLACK,
  uninstallAll,
  within,
} from './support';

/** What Node does on an uncaught error; @types/node has no `emit` overload for it. */
function emitUncaughtException(error: Error, origin: NodeJS.UncaughtExceptionOrigin): void {
  (process as NodeJS.EventEmitter).emit('uncaughtException', error, origin);
}

/** Long enough for any shutdown here that is not waiting on a deadline. */
const PROMPTLY = 2000;

interface Harness {
  readonly graceful: Graceful;
  readonly log: LogEntry[];
  readonly logger: RecordingLogger;
  /** The codes `exit` was called with. */
  readonly codes: number[];
  /** What the reporter was called with. */
  readonly reports: [error: unknown, info: ErrorInfo][];
  /** A timeline the test writes to; `exit` adds `exit <code>`. */
  readonly steps: string[];
}

/**
 * A Graceful that cannot touch the process: no signals, no error handlers, a recording exit. Not
 * in in-process-test mode, which jest would otherwise turn on: these tests are about the exit.
 */
function create(options: GracefulOptions = {}): Harness {
  const logger = recordingLogger();
  const codes: number[] = [];
  const reports: [unknown, ErrorInfo][] = [];
  const steps: string[] = [];
  const graceful = new Graceful({
    signals: [],
    handleErrors: false,
    inProcessTest: false,
    logger,
    reporter: (error, info) => {
      reports.push([error, info]);
    },
    exit: (code) => {
      codes.push(code);
      steps.push(`exit ${code}`);
    },
    ...options,
  });
  remember(graceful);
  return {
    graceful,
    log: logger.entries,
    logger,
    codes,
    reports,
    steps,
  };
}

/** A hook that stays pending until the test releases it, and says when it started. */
function heldHook(): {
  hook: () => Promise<undefined>;
  started: Promise<undefined>;
  release: () => void;
} {
  const started = deferred();
  const released = deferred();
  return {
    hook: () => {
      started.resolve(undefined);
      return released.promise;
    },
    started: started.promise,
    release: () => {
      released.resolve(undefined);
    },
  };
}

cleanUpGracefuls();

describe('the instance of the process', () => {
  it('is undefined before one is created, the first one created, and undefined again after uninstall()', () => {
    expect(Graceful.instance).toBeUndefined();
    const { graceful } = create();
    expect(Graceful.instance).toBe(graceful);
    graceful.uninstall();
    expect(Graceful.instance).toBeUndefined();
  });

  it('Graceful.start() returns the same instance every time, and a fresh one after uninstall()', () => {
    const logger = recordingLogger();
    const first = Graceful.start({
      signals: [],
      handleErrors: false,
      inProcessTest: false,
      logger,
      exit: () => {},
    });
    remember(first);
    expect(Graceful.start()).toBe(first);
    expect(Graceful.instance).toBe(first);
    expect(logger.entries.filter(([level]) => level === 'warn')).toEqual([]);
    first.uninstall();
    const second = Graceful.start({
      signals: [],
      handleErrors: false,
      inProcessTest: false,
      logger,
      exit: () => {},
    });
    remember(second);
    expect(second).not.toBe(first);
    expect(Graceful.instance).toBe(second);
  });

  it('Graceful.start(options) a second time warns with LASTCALL_ERR_GRACEFUL_ALREADY_EXISTS and ignores the options', () => {
    const logger = recordingLogger();
    const first = Graceful.start({
      signals: [],
      handleErrors: false,
      inProcessTest: false,
      logger,
      exit: () => {},
    });
    remember(first);
    const before = process.listenerCount('SIGUSR2');
    const again = Graceful.start({ signals: ['SIGUSR2'], handleErrors: false, exit: () => {} });
    expect(again).toBe(first);
    expect(process.listenerCount('SIGUSR2')).toBe(before);
    expect(logger.entries).toEqual([
      [
        'warn',
        'Graceful.start(): already started; the options of this call are ignored',
        { code: 'LASTCALL_ERR_GRACEFUL_ALREADY_EXISTS' },
      ],
    ]);
  });

  it('new Graceful() while one exists warns with LASTCALL_ERR_GRACEFUL_ALREADY_EXISTS and leaves the first as the instance', () => {
    const first = create();
    const second = create();
    expect(second.log).toEqual([
      [
        'warn',
        'a second Graceful was created while one exists; use Graceful.start() to share the one of the process',
        { code: 'LASTCALL_ERR_GRACEFUL_ALREADY_EXISTS' },
      ],
    ]);
    expect(first.log).toEqual([]);
    expect(Graceful.instance).toBe(first.graceful);
    second.graceful.uninstall();
    expect(Graceful.instance).toBe(first.graceful);
  });

  it('logs through a child of the given logger bound to the role and pid', () => {
    const { logger } = create();
    expect(logger.bindings).toEqual([{ role: 'master', pid: process.pid }]);
  });

  it('installs nothing when created; start() installs its handlers once and uninstall() removes them', () => {
    const events = ['SIGUSR2', 'uncaughtException', 'unhandledRejection', 'beforeExit'] as const;
    const count = (): Record<string, number> =>
      Object.fromEntries(events.map((event) => [event, process.listenerCount(event)]));
    const before = count();
    const { graceful } = create({ signals: ['SIGUSR2'], handleErrors: true });
    expect(count()).toEqual(before);
    graceful.start();
    graceful.start();
    expect(count()).toEqual({
      SIGUSR2: (before['SIGUSR2'] ?? 0) + 1,
      uncaughtException: (before['uncaughtException'] ?? 0) + 1,
      unhandledRejection: (before['unhandledRejection'] ?? 0) + 1,
      beforeExit: before['beforeExit'],
    });
    graceful.uninstall();
    expect(count()).toEqual(before);
  });
});

describe('state and readiness', () => {
  it('moves running → draining → closing → exiting, with isReady false from the first moment', async () => {
    const seen: string[] = [];
    const exitCalled = deferred();
    const { graceful } = create({
      shutdownDelay: 50,
      exit: () => {
        look('exit()');
        exitCalled.resolve(undefined);
      },
    });
    const look = (where: string): void => {
      seen.push(`${where}: ${graceful.state}, isReady ${String(graceful.isReady)}`);
    };
    graceful.on('shutdown', () => {
      look('shutdown event');
    });
    graceful.onShutdown(() => {
      look('hook');
    });
    graceful.addCheck(() => {
      look('check');
      return true;
    });
    graceful.on('drain', () => {
      look('drain event');
    });
    graceful.on('exit', () => {
      look('exit event');
    });
    look('before');
    const done = graceful.shutdown();
    look('right after shutdown()');
    await within(done, PROMPTLY, 'the shutdown');
    await within(exitCalled.promise, PROMPTLY, 'exit()');
    expect(seen).toEqual([
      'before: running, isReady true',
      'right after shutdown(): draining, isReady false',
      'shutdown event: closing, isReady false',
      'hook: closing, isReady false',
      'check: closing, isReady false',
      'drain event: closing, isReady false',
      'exit event: exiting, isReady false',
      'exit(): exiting, isReady false',
    ]);
  });

  it('reports isReady false synchronously after shutdown() without a shutdownDelay', async () => {
    const { graceful } = create();
    expect(graceful.isReady).toBe(true);
    const done = graceful.shutdown();
    expect(graceful.isReady).toBe(false);
    await within(done, PROMPTLY, 'the shutdown');
  });

  it('has no reason and exit code 0 before the shutdown, and keeps both after it', async () => {
    const { graceful } = create();
    expect(graceful.reason).toBeUndefined();
    expect(graceful.exitCode).toBe(0);
    const error = Object.assign(new Error('disk gone'), { exitCode: 9 });
    await within(graceful.shutdown(error), PROMPTLY, 'the shutdown');
    expect(graceful.reason).toEqual({ kind: 'error', origin: 'manual', error });
    expect(graceful.exitCode).toBe(9);
  });
});

describe('shutdown()', () => {
  it('returns the same promise on every call, runs each hook once and calls exit once', async () => {
    const { graceful, codes } = create();
    let hookRuns = 0;
    let shutdownEvents = 0;
    graceful.onShutdown(() => {
      hookRuns += 1;
    });
    graceful.on('shutdown', () => {
      shutdownEvents += 1;
    });
    const first = graceful.shutdown();
    expect(graceful.shutdown()).toBe(first);
    await within(first, PROMPTLY, 'the shutdown');
    const afterwards = graceful.shutdown();
    expect(afterwards).toBe(first);
    await afterwards;
    expect({ hookRuns, shutdownEvents, codes }).toEqual({
      hookRuns: 1,
      shutdownEvents: 1,
      codes: [0],
    });
  });

  it('reports the error of a later shutdown(error) but keeps the reason and exit code of the first call', async () => {
    const { graceful, codes, reports } = create();
    const first = graceful.shutdown();
    const later = new Error('later');
    expect(graceful.shutdown(later)).toBe(first);
    await within(first, PROMPTLY, 'the shutdown');
    expect(graceful.reason).toEqual({ kind: 'manual' });
    expect(codes).toEqual([0]);
    expect(reports).toEqual([[later, { origin: 'manual' }]]);
  });

  it.each([
    { given: 'no error', error: undefined, code: 0 },
    { given: 'an Error', error: new Error('boom'), code: 1 },
    {
      given: 'an error with exitCode 7',
      error: Object.assign(new Error('x'), { exitCode: 7 }),
      code: 7,
    },
    {
      given: 'an error with exitCode 255',
      error: Object.assign(new Error('x'), { exitCode: 255 }),
      code: 255,
    },
    {
      given: 'an error with exitCode 0',
      error: Object.assign(new Error('x'), { exitCode: 0 }),
      code: 1,
    },
    {
      given: 'an error with exitCode 300',
      error: Object.assign(new Error('x'), { exitCode: 300 }),
      code: 1,
    },
    {
      given: 'an error with exitCode 2.5',
      error: Object.assign(new Error('x'), { exitCode: 2.5 }),
      code: 1,
    },
    {
      given: 'an error with exitCode "x"',
      error: Object.assign(new Error('x'), { exitCode: 'x' }),
      code: 1,
    },
    { given: 'a thrown string', error: 'boom', code: 1 },
  ])('calls exit with $code after shutdown($given)', async ({ error, code }) => {
    const { graceful, codes } = create();
    await within(graceful.shutdown(error), PROMPTLY, 'the shutdown');
    expect(codes).toEqual([code]);
    expect(graceful.exitCode).toBe(code);
  });

  it("reports shutdown(error) to the reporter with origin 'manual' before any hook runs", async () => {
    const { graceful, reports, steps } = create();
    const error = new Error('boom');
    graceful.onShutdown(() => {
      steps.push(`hook, ${reports.length} report(s) made`);
    });
    const done = graceful.shutdown(error);
    expect(reports).toEqual([[error, { origin: 'manual' }]]);
    await within(done, PROMPTLY, 'the shutdown');
    expect(steps).toEqual(['hook, 1 report(s) made', 'exit 1']);
    expect(graceful.reason).toEqual({ kind: 'error', origin: 'manual', error });
  });

  it('passes the info of shutdown(error, info) on to the reporter and into the reason', async () => {
    const { graceful, reports } = create();
    const error = new Error('handler crashed');
    const request = { method: 'GET', url: '/cart' };
    await within(
      graceful.shutdown(error, { origin: 'request', request }),
      PROMPTLY,
      'the shutdown',
    );
    expect(reports).toEqual([[error, { origin: 'request', request }]]);
    expect(graceful.reason).toEqual({ kind: 'error', origin: 'request', error });
  });

  it('reports nothing for shutdown() without an error', async () => {
    const { graceful, reports } = create();
    await within(graceful.shutdown(), PROMPTLY, 'the shutdown');
    expect(reports).toEqual([]);
  });
});

describe('shutdown hooks', () => {
  it('run the last registered first, each starting only after the previous one finished', async () => {
    const { graceful, steps } = create();
    for (const name of ['db pool', 'queue', 'server']) {
      graceful.onShutdown(
        async () => {
          steps.push(`start ${name}`);
          await sleep(20);
          steps.push(`end ${name}`);
        },
        { name },
      );
    }
    await within(graceful.shutdown(), PROMPTLY, 'the shutdown');
    expect(steps).toEqual([
      'start server',
      'end server',
      'start queue',
      'end queue',
      'start db pool',
      'end db pool',
      'exit 0',
    ]);
  });

  it("get the reason and an AbortSignal that aborts at the hook's own timeout, after which the next one starts", async () => {
    const { graceful, steps, log } = create({ timeout: 5000 });
    const seen: { reason?: ShutdownReason; abortedAfter?: number; abortReason?: unknown } = {};
    graceful.onShutdown(
      () => {
        steps.push('next hook');
      },
      { name: 'next' },
    );
    graceful.onShutdown(
      (reason, signal) => {
        seen.reason = reason;
        const startedAt = performance.now();
        signal.addEventListener('abort', () => {
          seen.abortedAfter = performance.now() - startedAt;
          seen.abortReason = signal.reason;
          steps.push('aborted');
        });
        return new Promise(() => {});
      },
      { name: 'slow', timeout: 100 },
    );
    await within(graceful.shutdown(), PROMPTLY, 'the shutdown');
    expect(steps).toEqual(['aborted', 'next hook', 'exit 0']);
    expect(seen.reason).toEqual({ kind: 'manual' });
    expect(seen.reason).toBe(graceful.reason);
    expect(seen.abortedAfter).toBeGreaterThanOrEqual(100 - TIMER_SLACK);
    expect(seen.abortedAfter).toBeLessThan(5000);
    expect((seen.abortReason as Error).name).toBe('TimeoutError');
    const timedOut = log.filter(
      ([, , fields]) =>
        (fields as LogFields | undefined)?.['code'] === 'LASTCALL_ERR_GRACEFUL_HOOK_TIMEOUT',
    );
    expect(timedOut).toEqual([
      [
        'error',
        'shutdown hook "slow" did not finish within its 100 ms; the others go on',
        {
          code: 'LASTCALL_ERR_GRACEFUL_HOOK_TIMEOUT',
          hook: 'slow',
          ms: expect.any(Number) as number,
        },
      ],
    ]);
  });

  it('that throw or reject are logged with LASTCALL_ERR_GRACEFUL_HOOK_FAILED and their name, and the others still run', async () => {
    const { graceful, steps, log, codes } = create();
    const thrown = new Error('sync boom');
    const rejected = new Error('async boom');
    graceful.onShutdown(
      () => {
        steps.push('first registered');
      },
      { name: 'first registered' },
    );
    graceful.onShutdown(
      async () => {
        steps.push('rejects');
        await Promise.resolve();
        throw rejected;
      },
      { name: 'rejects' },
    );
    graceful.onShutdown(function closeCache() {
      steps.push('throws');
      throw thrown;
    });
    await within(graceful.shutdown(), PROMPTLY, 'the shutdown');
    expect(steps).toEqual(['throws', 'rejects', 'first registered', 'exit 0']);
    expect(codes).toEqual([0]);
    expect(log.filter(([level]) => level === 'error')).toEqual([
      [
        'error',
        'shutdown hook "closeCache" failed; the others go on',
        { code: 'LASTCALL_ERR_GRACEFUL_HOOK_FAILED', hook: 'closeCache', err: thrown },
      ],
      [
        'error',
        'shutdown hook "rejects" failed; the others go on',
        { code: 'LASTCALL_ERR_GRACEFUL_HOOK_FAILED', hook: 'rejects', err: rejected },
      ],
    ]);
  });

  it('are removed by the function onShutdown returns, and calling it twice removes no other', async () => {
    const { graceful, steps } = create();
    const removeFirst = graceful.onShutdown(() => {
      steps.push('removed hook');
    });
    graceful.onShutdown(() => {
      steps.push('kept hook');
    });
    removeFirst();
    removeFirst();
    await within(graceful.shutdown(), PROMPTLY, 'the shutdown');
    expect(steps).toEqual(['kept hook', 'exit 0']);
  });

  it('added while the hooks run do not run, with a warning', async () => {
    const { graceful, steps, log } = create();
    graceful.onShutdown(
      () => {
        graceful.onShutdown(
          () => {
            steps.push('late hook');
          },
          { name: 'late' },
        );
        steps.push('adding hook');
      },
      { name: 'adder' },
    );
    await within(graceful.shutdown(), PROMPTLY, 'the shutdown');
    expect(steps).toEqual(['adding hook', 'exit 0']);
    expect(log).toContainEqual([
      'warn',
      'shutdown hook "late" was added after the shutdown began; it will not run',
      undefined,
    ]);
  });
});

describe('exit checks', () => {
  it('wait for an async check that resolves true later, after the hooks', async () => {
    const { graceful, steps } = create();
    let calls = 0;
    graceful.addCheck(async () => {
      calls += 1;
      await sleep(100);
      steps.push('check resolved');
      return true;
    });
    graceful.onShutdown(() => {
      steps.push('hook');
    });
    await within(graceful.shutdown(), PROMPTLY, 'the shutdown');
    expect(steps).toEqual(['hook', 'check resolved', 'exit 0']);
    expect(calls).toBe(1);
  });

  it('are evaluated again on recheck(), and exit follows in the same turn once they are ready', async () => {
    const { graceful, steps } = create({ timeout: 10_000 });
    let isDone = false;
    const firstEvaluation = deferred();
    graceful.addCheck(
      () => {
        steps.push(`check ${String(isDone)}`);
        firstEvaluation.resolve(undefined);
        return isDone;
      },
      { name: 'sessions closed' },
    );
    const done = graceful.shutdown();
    await within(firstEvaluation.promise, PROMPTLY, 'the first evaluation');
    // Let the not-ready result settle, so the checks wait for the next round.
    await nextMacrotask();
    isDone = true;
    const recheckedAt = performance.now();
    steps.push('recheck');
    graceful.recheck();
    setImmediate(() => steps.push('the next macrotask'));
    await within(done, CHECK_INTERVAL * 10, 'the exit after recheck()');
    expect(performance.now() - recheckedAt).toBeLessThan(CHECK_INTERVAL * 10);
    await nextMacrotask();
    // exit came before the next macrotask, so before any polling timer could have had a turn.
    expect(steps.slice(steps.indexOf('recheck'))).toEqual([
      'recheck',
      'check true',
      'exit 0',
      'the next macrotask',
    ]);
  });

  it(`are evaluated again every CHECK_INTERVAL (${CHECK_INTERVAL} ms) without a recheck()`, async () => {
    const { graceful, codes } = create({ timeout: 10_000 });
    let calls = 0;
    graceful.addCheck(() => {
      calls += 1;
      return calls === 3;
    });
    const startedAt = performance.now();
    await within(graceful.shutdown(), CHECK_INTERVAL * 20, 'the shutdown');
    expect(calls).toBe(3);
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(CHECK_INTERVAL * 2 - TIMER_SLACK);
    expect(codes).toEqual([0]);
  });

  it('are removed by the function addCheck returns, which lets a waiting shutdown go on at once', async () => {
    const { graceful, steps } = create({ timeout: 10_000 });
    const firstEvaluation = deferred();
    let calls = 0;
    const removeCheck = graceful.addCheck(() => {
      calls += 1;
      firstEvaluation.resolve(undefined);
      return false;
    });
    const removedBeforeShutdown = graceful.addCheck(() => false);
    removedBeforeShutdown();
    const done = graceful.shutdown();
    await within(firstEvaluation.promise, PROMPTLY, 'the first evaluation');
    await nextMacrotask();
    const callsBefore = calls;
    steps.push('remove');
    removeCheck();
    setImmediate(() => steps.push('the next macrotask'));
    await within(done, CHECK_INTERVAL * 10, 'the exit after the removal');
    await nextMacrotask();
    expect(steps).toEqual(['remove', 'exit 0', 'the next macrotask']);
    expect(calls).toBe(callsBefore);
  });

  it('count only true as ready: a check returning a truthy string holds the exit until the deadline', async () => {
    const { graceful, log, codes } = create({ timeout: 200 });
    graceful.addCheck(() => 'yes' as unknown as boolean, { name: 'truthy' });
    await within(graceful.shutdown(), 200 * 8, 'the deadline');
    expect(codes).toEqual([0]);
    expect(log).toContainEqual([
      'error',
      'shutdown did not finish within 200 ms; exiting',
      {
        code: 'LASTCALL_ERR_GRACEFUL_DEADLINE',
        pendingHooks: [],
        pendingChecks: ['truthy'],
        pendingReports: 0,
      },
    ]);
  });
});

describe('events', () => {
  it("emit 'shutdown' with the reason, then 'drain', then 'exit' with the code, before exit is called", async () => {
    const { graceful, steps } = create();
    let shutdownReason: ShutdownReason | undefined;
    graceful.on('shutdown', (reason) => {
      shutdownReason = reason;
      steps.push('shutdown event');
    });
    graceful.on('drain', () => {
      steps.push('drain event');
    });
    graceful.on('exit', (code) => {
      steps.push(`exit event ${code}`);
    });
    graceful.onShutdown(() => {
      steps.push('hook');
    });
    const error = Object.assign(new Error('x'), { exitCode: 3 });
    await within(graceful.shutdown(error), PROMPTLY, 'the shutdown');
    expect(steps).toEqual(['shutdown event', 'hook', 'drain event', 'exit event 3', 'exit 3']);
    expect(shutdownReason).toEqual({ kind: 'error', origin: 'manual', error });
    expect(shutdownReason).toBe(graceful.reason);
  });

  it.each(['shutdown', 'drain', 'exit'] as const)(
    "log a throwing '%s' listener, and the shutdown goes on",
    async (event: keyof GracefulEvents) => {
      const { graceful, steps, log, codes } = create();
      const failure = new Error(`${event} listener broke`);
      graceful.on(event, () => {
        throw failure;
      });
      graceful.onShutdown(() => {
        steps.push('hook');
      });
      await within(graceful.shutdown(), PROMPTLY, 'the shutdown');
      expect(steps).toEqual(['hook', 'exit 0']);
      expect(codes).toEqual([0]);
      expect(log.filter(([level]) => level === 'error')).toEqual([
        ['error', `a "${event}" listener threw; the shutdown goes on`, { err: failure }],
      ]);
    },
  );
});

describe('shutdownDelay', () => {
  it("holds the 'shutdown' event and the hooks back for the delay while readiness is already false", async () => {
    const { graceful, steps } = create({ shutdownDelay: 100 });
    let shutdownEventAt = Number.NaN;
    graceful.on('shutdown', () => {
      shutdownEventAt = performance.now();
      steps.push('shutdown event');
    });
    graceful.onShutdown(() => {
      steps.push('hook');
    });
    const calledAt = performance.now();
    const done = graceful.shutdown();
    expect({ state: graceful.state, isReady: graceful.isReady, steps: [...steps] }).toEqual({
      state: 'draining',
      isReady: false,
      steps: [],
    });
    await within(done, 100 * 4, 'the delayed shutdown');
    const delayed = shutdownEventAt - calledAt;
    expect(delayed).toBeGreaterThanOrEqual(100 - TIMER_SLACK);
    expect(delayed).toBeLessThan(100 * 4);
    expect(steps).toEqual(['shutdown event', 'hook', 'exit 0']);
  });
});

describe('the deadline', () => {
  it('calls exit with the decided code when a hook never finishes, logging LASTCALL_ERR_GRACEFUL_DEADLINE with the hook', async () => {
    const { graceful, log, codes, steps } = create({ timeout: 200 });
    let hookSignal: AbortSignal | undefined;
    graceful.on('drain', () => {
      steps.push('drain event');
    });
    graceful.onShutdown(
      (_reason, signal) => {
        hookSignal = signal;
        return new Promise(() => {});
      },
      { name: 'stuck flush' },
    );
    const startedAt = performance.now();
    const error = Object.assign(new Error('db down'), { exitCode: 7 });
    await within(graceful.shutdown(error), 200 * 8, 'the deadline');
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(200 - TIMER_SLACK);
    expect(codes).toEqual([7]);
    expect(steps).toEqual(['exit 7']);
    expect(hookSignal?.aborted).toBe(true);
    expect(log).toContainEqual([
      'error',
      'shutdown did not finish within 200 ms; exiting',
      {
        code: 'LASTCALL_ERR_GRACEFUL_DEADLINE',
        pendingHooks: ['stuck flush'],
        pendingChecks: [],
        pendingReports: 0,
      },
    ]);
  });

  it('holds against a reporter that never settles, counting it as a pending report', async () => {
    const { graceful, log, codes } = create({
      timeout: 200,
      reporter: () => new Promise(() => {}),
    });
    await within(graceful.shutdown(new Error('boom')), 200 * 8, 'the deadline');
    expect(codes).toEqual([1]);
    expect(log).toContainEqual([
      'error',
      'shutdown did not finish within 200 ms; exiting',
      {
        code: 'LASTCALL_ERR_GRACEFUL_DEADLINE',
        pendingHooks: [],
        pendingChecks: [],
        pendingReports: 1,
      },
    ]);
  });
});

describe('the reporter', () => {
  it.each([
    ['rejects', (failure: Error) => () => Promise.reject(failure)],
    [
      'throws',
      (failure: Error) => () => {
        throw failure;
      },
    ],
  ])('that %s is logged, and the shutdown still exits', async (_how, makeReporter) => {
    const failure = new Error('disk full');
    const { graceful, log, codes } = create({ reporter: makeReporter(failure) });
    await within(graceful.shutdown(new Error('boom')), PROMPTLY, 'the shutdown');
    expect(codes).toEqual([1]);
    expect(log.filter(([level]) => level === 'error')).toEqual([
      ['error', 'the crash reporter failed', { err: failure }],
    ]);
  });

  it('is awaited before exit is called', async () => {
    const steps: string[] = [];
    const { graceful } = create({
      reporter: async () => {
        await sleep(100);
        steps.push('report written');
      },
      exit: (code) => {
        steps.push(`exit ${code}`);
      },
    });
    graceful.onShutdown(() => {
      steps.push('hook');
    });
    await within(graceful.shutdown(new Error('boom')), PROMPTLY, 'the shutdown');
    expect(steps).toEqual(['hook', 'report written', 'exit 1']);
  });
});

describe('the error handlers', () => {
  // Jest gives each test file a copy of `process` with its own listeners (jest-util's
  // createProcessObject), and keeps its own handlers on the real one: emitting here reaches
  // graceful's handlers only. These checks make sure none is left behind for the next test.
  let before: { uncaughtException: number; unhandledRejection: number };

  beforeEach(() => {
    before = {
      uncaughtException: process.listenerCount('uncaughtException'),
      unhandledRejection: process.listenerCount('unhandledRejection'),
    };
  });

  afterEach(() => {
    uninstallAll();
    expect({
      uncaughtException: process.listenerCount('uncaughtException'),
      unhandledRejection: process.listenerCount('unhandledRejection'),
    }).toEqual(before);
  });

  it.each(['uncaughtException', 'unhandledRejection'] as const)(
    "report an uncaughtException (Node's origin %s) with that origin and shut down with exit code 1",
    async (origin) => {
      const { graceful, reports, codes } = create({ handleErrors: true });
      graceful.start();
      const crash = new Error('boom');
      emitUncaughtException(crash, origin);
      expect(reports).toEqual([[crash, { origin }]]);
      expect(graceful.isReady).toBe(false);
      expect(graceful.reason).toEqual({ kind: 'error', origin, error: crash });
      await within(graceful.shutdown(), PROMPTLY, 'the shutdown');
      expect(codes).toEqual([1]);
    },
  );

  it('report a second uncaughtException during the shutdown, which neither restarts it nor changes the code', async () => {
    const { graceful, reports, codes, log } = create({ handleErrors: true });
    graceful.start();
    const held = heldHook();
    graceful.onShutdown(held.hook, { name: 'flush' });
    let shutdownEvents = 0;
    graceful.on('shutdown', () => {
      shutdownEvents += 1;
    });
    const first = new Error('first');
    const second = Object.assign(new Error('second'), { exitCode: 9 });
    emitUncaughtException(first, 'uncaughtException');
    await within(held.started, PROMPTLY, 'the hook');
    emitUncaughtException(second, 'uncaughtException');
    expect(reports).toEqual([
      [first, { origin: 'uncaughtException' }],
      [second, { origin: 'uncaughtException' }],
    ]);
    expect(log).toContainEqual([
      'error',
      'uncaughtException during shutdown; reported, the shutdown goes on',
      { err: second, origin: 'uncaughtException' },
    ]);
    held.release();
    await within(graceful.shutdown(), PROMPTLY, 'the shutdown');
    expect(graceful.reason).toEqual({ kind: 'error', origin: 'uncaughtException', error: first });
    expect(shutdownEvents).toBe(1);
    expect(codes).toEqual([1]);
  });

  it('report at most 10 errors during one shutdown, then say once that the next are not reported', async () => {
    const { graceful, reports, codes, log } = create({ handleErrors: true });
    graceful.start();
    const held = heldHook();
    graceful.onShutdown(held.hook, { name: 'flush' });
    emitUncaughtException(new Error('first'), 'uncaughtException');
    await within(held.started, PROMPTLY, 'the hook');
    // A write to a broken pipe whose report writes to it again: the same error, over and over.
    for (let index = 0; index < 25; index += 1) {
      emitUncaughtException(new Error(`EPIPE ${String(index)}`), 'uncaughtException');
    }
    expect(reports).toHaveLength(1 + 10);
    expect(
      log.filter(([, message]) =>
        String(message).startsWith('more than 10 errors during shutdown'),
      ),
    ).toHaveLength(1);
    held.release();
    await within(graceful.shutdown(), PROMPTLY, 'the shutdown');
    expect(codes).toEqual([1]);
  });

  it("report an unhandledRejection with origin 'unhandledRejection' and shut down with exit code 1", async () => {
    const { graceful, reports, codes } = create({ handleErrors: true });
    graceful.start();
    const reason = new Error('rejected');
    process.emit('unhandledRejection', reason, Promise.resolve());
    expect(reports).toEqual([[reason, { origin: 'unhandledRejection' }]]);
    expect(graceful.reason).toEqual({ kind: 'error', origin: 'unhandledRejection', error: reason });
    await within(graceful.shutdown(), PROMPTLY, 'the shutdown');
    expect(codes).toEqual([1]);
  });

  it('are not reached any more after uninstall()', () => {
    const { graceful, reports } = create({ handleErrors: true });
    graceful.start();
    graceful.uninstall();
    emitUncaughtException(new Error('after uninstall'), 'uncaughtException');
    expect(reports).toEqual([]);
    expect(graceful.isReady).toBe(true);
  });
});

describe('signals', () => {
  it('a second signal during a hanging hook exits at once with 128 + its number, naming the hook', async () => {
    const { graceful, log, codes } = create({ signals: ['SIGUSR2'], timeout: 10_000 });
    graceful.start();
    const held = heldHook();
    graceful.onShutdown(held.hook, { name: 'stuck flush' });
    process.emit('SIGUSR2');
    expect(graceful.reason).toEqual({ kind: 'signal', signal: 'SIGUSR2' });
    await within(held.started, PROMPTLY, 'the hook');
    expect(codes).toEqual([]);
    process.emit('SIGUSR2');
    const forced = 128 + os.constants.signals.SIGUSR2;
    expect(codes).toEqual([forced]);
    expect(graceful.state).toBe('exiting');
    expect(graceful.exitCode).toBe(forced);
    expect(log).toContainEqual(['info', 'SIGUSR2 received; shutting down', { signal: 'SIGUSR2' }]);
    expect(log).toContainEqual([
      'error',
      `SIGUSR2 received again during shutdown; exiting at once with ${forced}`,
      {
        code: 'LASTCALL_ERR_GRACEFUL_FORCED',
        pendingHooks: ['stuck flush'],
        pendingChecks: [],
        pendingReports: 0,
      },
    ]);
    held.release();
    await within(graceful.shutdown(), PROMPTLY, 'the rest of the shutdown');
    expect(codes).toEqual([forced]);
  });

  it('leaves a signal alone while someone who deferred signals takes it, and acts once they stop', async () => {
    const { graceful, codes } = create({ signals: ['SIGUSR2'], timeout: 10_000 });
    graceful.start();
    let isDeferred = true;
    const takeBack = deferSignals((signal) => signal === 'SIGUSR2' && isDeferred);
    try {
      process.emit('SIGUSR2');
      process.emit('SIGUSR2');
      expect(graceful.state).toBe('running');
      expect(codes).toEqual([]);
      isDeferred = false;
      process.emit('SIGUSR2');
      expect(graceful.reason).toEqual({ kind: 'signal', signal: 'SIGUSR2' });
    } finally {
      takeBack();
    }
    await within(graceful.shutdown(), PROMPTLY, 'the shutdown');
    expect(codes).toEqual([0]);
  });

  it('ignores a decider that throws, and takes the signal back when asked', () => {
    const { graceful } = create({ signals: ['SIGUSR2'], timeout: 10_000 });
    graceful.start();
    const takeBackThrowing = deferSignals(() => {
      throw new Error('broken decider');
    });
    const takeBack = deferSignals(() => true);
    takeBack();
    process.emit('SIGUSR2');
    takeBackThrowing();
    expect(graceful.reason).toEqual({ kind: 'signal', signal: 'SIGUSR2' });
  });
});

describe('describeReason()', () => {
  it.each<[string, ShutdownReason, Record<string, unknown>]>([
    ['a signal', { kind: 'signal', signal: 'SIGTERM' }, { kind: 'signal', signal: 'SIGTERM' }],
    [
      'an error',
      { kind: 'error', origin: 'uncaughtException', error: new TypeError('password=hunter2') },
      { kind: 'error', origin: 'uncaughtException', error: 'TypeError' },
    ],
    [
      'a thrown string',
      { kind: 'error', origin: 'unhandledRejection', error: 'password=hunter2' },
      { kind: 'error', origin: 'unhandledRejection', error: 'a thrown string' },
    ],
    ['a disconnect', { kind: 'disconnect' }, { kind: 'disconnect' }],
    ['a manual shutdown', { kind: 'manual' }, { kind: 'manual' }],
  ])('describes %s as plain data without any error message', (_what, reason, described) => {
    expect(describeReason(reason)).toEqual(described);
    expect(JSON.stringify(describeReason(reason))).not.toContain('hunter2');
  });

  it("keeps the error message out of graceful's own 'shutting down' log line", async () => {
    const { graceful, log } = create();
    await within(graceful.shutdown(new RangeError('token=s3cr3t')), PROMPTLY, 'the shutdown');
    const shuttingDown = log.filter(([, message]) => message === 'shutting down');
    expect(shuttingDown).toEqual([
      [
        'info',
        'shutting down',
        {
          reason: { kind: 'error', origin: 'manual', error: 'RangeError' },
          timeout: 30_000,
          shutdownDelay: 0,
        },
      ],
    ]);
    expect(JSON.stringify(log.filter(([level]) => level !== 'error'))).not.toContain('s3cr3t');
  });
});

describe('fixed edge cases', () => {
  it('does not run a hook added during the shutdownDelay, and warns', async () => {
    const { graceful, steps, log } = create({ shutdownDelay: 50 });
    const finished = graceful.shutdown();
    graceful.onShutdown(
      () => {
        steps.push('late hook');
      },
      { name: 'late' },
    );
    await within(finished, PROMPTLY, 'the shutdown');
    expect(steps).toEqual(['exit 0']);
    expect(log).toContainEqual([
      'warn',
      'shutdown hook "late" was added after the shutdown began; it will not run',
      undefined,
    ]);
  });

  it("lets a listener added right after shutdown() see the 'shutdown' event, without a delay", async () => {
    const { graceful } = create();
    const finished = graceful.shutdown();
    expect(graceful.state).toBe('draining');
    const seen: string[] = [];
    graceful.on('shutdown', (reason) => seen.push(reason.kind));
    await within(finished, PROMPTLY, 'the shutdown');
    expect(seen).toEqual(['manual']);
  });

  it('stops the remaining hooks and the drain event when a second signal forced the exit', async () => {
    const { graceful, steps, codes } = create({ signals: ['SIGUSR2'], timeout: 10_000 });
    graceful.start();
    graceful.onShutdown(
      () => {
        steps.push('hook registered first');
      },
      { name: 'first' },
    );
    const held = heldHook();
    graceful.onShutdown(held.hook, { name: 'held' });
    graceful.on('drain', () => steps.push('drain'));
    process.emit('SIGUSR2');
    await within(held.started, PROMPTLY, 'the held hook');
    process.emit('SIGUSR2');
    held.release();
    await within(graceful.shutdown(), PROMPTLY, 'the rest of the shutdown');
    const forced = 128 + os.constants.signals.SIGUSR2;
    expect(codes).toEqual([forced]);
    expect(steps).toEqual([`exit ${String(forced)}`]);
  });

  it('names anonymous hooks uniquely, also after one was removed', async () => {
    const { graceful, log } = create();
    const fail = (): never => {
      throw new Error('x');
    };
    const removeFirst = graceful.onShutdown(() => fail());
    graceful.onShutdown(() => fail());
    removeFirst();
    graceful.onShutdown(() => fail());
    await within(graceful.shutdown(), PROMPTLY, 'the shutdown');
    const failed = log
      .filter(
        ([, , fields]) =>
          (fields as { code?: string } | undefined)?.code === 'LASTCALL_ERR_GRACEFUL_HOOK_FAILED',
      )
      .map(([, , fields]) => (fields as { hook: string }).hook);
    expect(failed).toEqual(['hook 3', 'hook 2']);
  });

  it('does not lose a recheck() made while an async check is being evaluated', async () => {
    const { graceful, codes } = create({ timeout: 10_000 });
    let isReady = false;
    const firstEvaluation = deferred();
    const finishFirst = deferred();
    let evaluations = 0;
    graceful.addCheck(async () => {
      evaluations += 1;
      const answer = isReady;
      if (evaluations === 1) {
        firstEvaluation.resolve(undefined);
        await finishFirst.promise;
      }
      return answer;
    });
    const finished = graceful.shutdown();
    await within(firstEvaluation.promise, PROMPTLY, 'the first evaluation');
    isReady = true;
    graceful.recheck();
    finishFirst.resolve(undefined);
    // Evaluated again at once, not after a CHECK_INTERVAL timer: exit comes before any macrotask.
    await nextMacrotask();
    expect(codes).toEqual([0]);
    expect(evaluations).toBe(2);
    await within(finished, PROMPTLY, 'the shutdown');
  });

  it('accepts a timeout below one millisecond, and rejects handleErrors: null', () => {
    expect(() => create({ timeout: 0.5 })).not.toThrow();
    expect(() => create({ handleErrors: null as unknown as boolean })).toThrow(
      'Graceful: option "handleErrors" must be a boolean, got null',
    );
  });
});

describe('addErrorContext()', () => {
  afterEach(uninstallAll);

  it('puts the context of the first provider that answers into the report, then calls its afterReport', async () => {
    const { graceful, reports, codes, steps } = create({ handleErrors: true });
    graceful.start();
    graceful.addErrorContext(() => undefined);
    graceful.addErrorContext((error, origin) => ({
      info: { request: { method: 'GET', url: '/boom' } },
      afterReport: () => {
        steps.push(`500 for ${origin}: ${(error as Error).message}`);
      },
    }));
    graceful.addErrorContext(() => {
      throw new Error('never asked: the one before answered');
    });
    const error = new Error('kaboom');
    emitUncaughtException(error, 'uncaughtException');
    expect(reports).toEqual([
      [error, { origin: 'uncaughtException', request: { method: 'GET', url: '/boom' } }],
    ]);
    expect(steps).toEqual(['500 for uncaughtException: kaboom']);
    await within(graceful.shutdown(), PROMPTLY, 'the shutdown');
    expect(codes).toEqual([1]);
  });

  it('neither reports nor shuts down for an error a provider contained, and goes on for others', () => {
    const { graceful, reports } = create({ handleErrors: true });
    graceful.start();
    graceful.addErrorContext((error) =>
      error instanceof SyntaxError ? { isContained: true } : undefined,
    );
    emitUncaughtException(new SyntaxError('not json'), 'uncaughtException');
    expect(reports).toEqual([]);
    expect(graceful.state).toBe('running');
    const error = new Error('kaboom');
    emitUncaughtException(error, 'uncaughtException');
    expect(reports).toEqual([[error, { origin: 'uncaughtException' }]]);
    expect(graceful.state).not.toBe('running');
  });

  it('skips a provider that throws and logs it, and shuts down all the same', async () => {
    const { graceful, reports, codes, log } = create({ handleErrors: true });
    graceful.start();
    const remove = graceful.addErrorContext(() => ({ info: { extra: { never: true } } }));
    remove();
    graceful.addErrorContext(() => {
      throw new Error('provider broke');
    });
    const error = new Error('kaboom');
    emitUncaughtException(error, 'uncaughtException');
    expect(reports).toEqual([[error, { origin: 'uncaughtException' }]]);
    expect(
      log.some(([, message]) => message === 'an error context provider threw; it is skipped'),
    ).toBe(true);
    await within(graceful.shutdown(), PROMPTLY, 'the shutdown');
    expect(codes).toEqual([1]);
  });

  it('rejects a provider that is not a function', () => {
    const { graceful } = create();
    expect(() => graceful.addErrorContext('request' as never)).toThrow(
      'addErrorContext: provider must be a function (error, origin) => context | undefined, got the string "request"',
    );
  });
});

describe("the 'draining' event", () => {
  it('fires at the first moment of shutdown, with the reason, before the delay and the shutdown event', async () => {
    const { graceful, steps } = create({ shutdownDelay: 50 });
    graceful.on('draining', (reason) => steps.push(`draining ${reason.kind} ${graceful.state}`));
    graceful.on('shutdown', () => steps.push('shutdown'));
    const finished = graceful.shutdown();
    expect(steps).toEqual(['draining manual draining']);
    await within(finished, PROMPTLY, 'the shutdown');
    expect(steps).toEqual(['draining manual draining', 'shutdown', 'exit 0']);
  });
});
