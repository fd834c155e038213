import bunyan from 'bunyan';
import { Graceful, GracefulError } from '../src';
import type { GracefulErrorCode, GracefulOptions } from '../src';
import { describeValue } from '@lastcall/log-shim';
import { resolveOptions } from '../src/options';
import type { Logger } from '@lastcall/log-shim';
import { cleanUpGracefuls, recordingLogger, remember, TIMER_SLACK, within } from './support';

/** Options that keep an in-process Graceful harmless: no signals, no error handlers, no exit. */
function harmless(logger: Logger = recordingLogger()): GracefulOptions {
  return {
    signals: [],
    handleErrors: false,
    inProcessTest: false,
    reporter: () => undefined,
    logger,
    exit: () => undefined,
  };
}

function create(options: unknown): Graceful {
  return remember(new Graceful(options as GracefulOptions));
}

/** The code and message of the GracefulError `run` throws. */
function failureOf(run: () => unknown): { code: GracefulErrorCode; message: string } {
  try {
    run();
  } catch (error) {
    if (error instanceof GracefulError) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('expected a GracefulError, but nothing was thrown');
}

cleanUpGracefuls();

describe('new Graceful() options', () => {
  it('accepts every option at once without writing to the options object', () => {
    const options = Object.freeze({
      ...harmless(),
      timeout: 5000,
      shutdownDelay: 100,
      signals: Object.freeze(['SIGUSR2', 'SIGHUP'] as const),
    });
    const graceful = create(options);
    expect(graceful.state).toBe('running');
    expect(graceful.isReady).toBe(true);
    expect(Graceful.instance).toBe(graceful);
  });

  it.each([
    [42, 'the number 42'],
    ['fast', 'the string "fast"'],
    [null, 'null'],
    [[], 'an array'],
  ])('rejects options %p that are not an object, naming the value', (options, described) => {
    expect(failureOf(() => create(options))).toEqual({
      code: 'LASTCALL_ERR_GRACEFUL_INVALID_OPTIONS',
      message: `Graceful: options must be an object, got ${described}`,
    });
  });

  it('rejects an unknown option, naming it and listing the known ones', () => {
    expect(failureOf(() => create({ ...harmless(), timout: 5000 }))).toEqual({
      code: 'LASTCALL_ERR_GRACEFUL_INVALID_OPTIONS',
      message:
        'Graceful: unknown option "timout"; expected one of timeout, shutdownDelay, signals, ' +
        'handleErrors, inProcessTest, reporter, logger, exit',
    });
  });

  it('leaves Graceful.instance unset when the options are rejected', () => {
    expect(failureOf(() => create({ ...harmless(), timeout: 0 })).code).toBe(
      'LASTCALL_ERR_GRACEFUL_INVALID_TIMEOUT',
    );
    expect(Graceful.instance).toBeUndefined();
  });

  it('throws GracefulError instances named GracefulError', () => {
    let thrown: unknown;
    try {
      create({ ...harmless(), timeout: -1 });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(GracefulError);
    expect(thrown).toBeInstanceOf(Error);
    expect((thrown as Error).name).toBe('GracefulError');
  });

  describe('timeout', () => {
    it.each([
      [0, 'the number 0'],
      [-1, 'the number -1'],
      [Number.NaN, 'the number NaN'],
      [Number.POSITIVE_INFINITY, 'the number Infinity'],
      ['2000', 'the string "2000"'],
      [null, 'null'],
    ])('rejects %p with LASTCALL_ERR_GRACEFUL_INVALID_TIMEOUT', (timeout, described) => {
      expect(failureOf(() => create({ ...harmless(), timeout }))).toEqual({
        code: 'LASTCALL_ERR_GRACEFUL_INVALID_TIMEOUT',
        message: `Graceful: option "timeout" must be a finite number of milliseconds > 0, got ${described}`,
      });
    });

    it('stays the number given: two instances made from one frozen options object both hold a 150 ms deadline', async () => {
      // thehelp-cluster's Graceful overwrote its timeout option with the timer handle it started.
      for (const round of ['first', 'second']) {
        const logger = recordingLogger();
        const options = Object.freeze({ ...harmless(logger), timeout: 150 });
        const graceful = create(options);
        graceful.onShutdown(() => new Promise(() => {}), { name: `${round} stuck hook` });
        const startedAt = performance.now();
        await within(graceful.shutdown(), 150 * 8, `the ${round} deadline`);
        expect(performance.now() - startedAt).toBeGreaterThanOrEqual(150 - TIMER_SLACK);
        expect(options.timeout).toBe(150);
        expect(logger.entries).toContainEqual([
          'info',
          'shutting down',
          { reason: { kind: 'manual' }, timeout: 150, shutdownDelay: 0 },
        ]);
        expect(logger.entries).toContainEqual([
          'error',
          'shutdown did not finish within 150 ms; exiting',
          {
            code: 'LASTCALL_ERR_GRACEFUL_DEADLINE',
            pendingHooks: [`${round} stuck hook`],
            pendingChecks: [],
            pendingReports: 0,
          },
        ]);
        graceful.uninstall();
      }
    });
  });

  describe('shutdownDelay', () => {
    it.each([
      [-1, 'the number -1'],
      [Number.NaN, 'the number NaN'],
      ['100', 'the string "100"'],
    ])('rejects %p with LASTCALL_ERR_GRACEFUL_INVALID_DELAY', (shutdownDelay, described) => {
      expect(failureOf(() => create({ ...harmless(), shutdownDelay }))).toEqual({
        code: 'LASTCALL_ERR_GRACEFUL_INVALID_DELAY',
        message: `Graceful: option "shutdownDelay" must be a finite number of milliseconds >= 0, got ${described}`,
      });
    });

    it.each([
      [1000, 1000],
      [2000, 1000],
    ])(
      'rejects shutdownDelay %i with timeout %i: the delay counts against the timeout',
      (shutdownDelay, timeout) => {
        expect(failureOf(() => create({ ...harmless(), shutdownDelay, timeout }))).toEqual({
          code: 'LASTCALL_ERR_GRACEFUL_INVALID_DELAY',
          message:
            `Graceful: shutdownDelay (${shutdownDelay} ms) must be shorter than timeout ` +
            `(${timeout} ms), which counts from the first moment of shutdown and includes the delay`,
        });
      },
    );

    it('rejects a shutdownDelay not shorter than the default timeout of 30000 ms', () => {
      expect(failureOf(() => create({ ...harmless(), shutdownDelay: 30_000 })).code).toBe(
        'LASTCALL_ERR_GRACEFUL_INVALID_DELAY',
      );
    });

    it('accepts a shutdownDelay just under the timeout', () => {
      expect(create({ ...harmless(), shutdownDelay: 999, timeout: 1000 }).state).toBe('running');
    });
  });

  describe('LASTCALL_SHUTDOWN_DELAY', () => {
    it('is the default shutdownDelay: with "250" the hooks start no earlier than 250 ms after shutdown()', async () => {
      process.env['LASTCALL_SHUTDOWN_DELAY'] = '250';
      const logger = recordingLogger();
      const graceful = create(harmless(logger));
      let shutdownEventAt = Number.NaN;
      graceful.on('shutdown', () => {
        shutdownEventAt = performance.now();
      });
      const calledAt = performance.now();
      await within(graceful.shutdown(), 250 * 4, 'the delayed shutdown');
      expect(shutdownEventAt - calledAt).toBeGreaterThanOrEqual(250 - TIMER_SLACK);
      expect(logger.entries).toContainEqual([
        'info',
        'shutting down',
        { reason: { kind: 'manual' }, timeout: 30_000, shutdownDelay: 250 },
      ]);
    });

    it.each([
      ['abc', '"abc"'],
      ['-5', '"-5"'],
      ['Infinity', '"Infinity"'],
    ])(
      'rejects %p with LASTCALL_ERR_GRACEFUL_INVALID_DELAY, naming the variable',
      (value, shown) => {
        process.env['LASTCALL_SHUTDOWN_DELAY'] = value;
        expect(failureOf(() => create(harmless()))).toEqual({
          code: 'LASTCALL_ERR_GRACEFUL_INVALID_DELAY',
          message: `Graceful: LASTCALL_SHUTDOWN_DELAY must be a number of milliseconds >= 0, got ${shown}`,
        });
      },
    );

    it('rejects a value not shorter than the timeout', () => {
      process.env['LASTCALL_SHUTDOWN_DELAY'] = '2000';
      expect(failureOf(() => create({ ...harmless(), timeout: 1000 }))).toEqual({
        code: 'LASTCALL_ERR_GRACEFUL_INVALID_DELAY',
        message:
          'Graceful: shutdownDelay (2000 ms) must be shorter than timeout (1000 ms), ' +
          'which counts from the first moment of shutdown and includes the delay',
      });
    });

    it('is ignored when it is empty', () => {
      process.env['LASTCALL_SHUTDOWN_DELAY'] = ' ';
      expect(create({ ...harmless(), timeout: 1 }).state).toBe('running');
    });

    it('loses to the shutdownDelay option, which is used even when the variable is invalid', async () => {
      process.env['LASTCALL_SHUTDOWN_DELAY'] = 'abc';
      const logger = recordingLogger();
      const graceful = create({ ...harmless(logger), shutdownDelay: 0, timeout: 1000 });
      await within(graceful.shutdown(), 1000, 'the shutdown');
      expect(logger.entries).toContainEqual([
        'info',
        'shutting down',
        { reason: { kind: 'manual' }, timeout: 1000, shutdownDelay: 0 },
      ]);
    });
  });

  describe('signals', () => {
    it.each([
      ['SIGTERM', 'the string "SIGTERM"'],
      [{ 0: 'SIGTERM' }, 'an object'],
    ])('rejects %p, which is not an array', (signals, described) => {
      expect(failureOf(() => create({ ...harmless(), signals }))).toEqual({
        code: 'LASTCALL_ERR_GRACEFUL_INVALID_SIGNALS',
        message: `Graceful: option "signals" must be an array of signal names, got ${described}`,
      });
    });

    it.each([
      [['SIGTERM', 'SIGKILL'], 1, 'the string "SIGKILL"'],
      [['SIGSTOP'], 0, 'the string "SIGSTOP"'],
      [['SIGINT', 'SIGTERM', 'NOPE'], 2, 'the string "NOPE"'],
      [['sigterm'], 0, 'the string "sigterm"'],
      [[15], 0, 'the number 15'],
    ])('rejects %p, naming signals[%i] and its value', (signals, index, described) => {
      expect(failureOf(() => create({ ...harmless(), signals }))).toEqual({
        code: 'LASTCALL_ERR_GRACEFUL_INVALID_SIGNALS',
        message:
          `Graceful: option "signals[${index}]" must be a signal name a process can catch, ` +
          `such as "SIGTERM" (not SIGKILL or SIGSTOP), got ${described}`,
      });
    });

    it('installs one handler per signal however often it is listed', () => {
      const before = {
        SIGUSR2: process.listenerCount('SIGUSR2'),
        SIGHUP: process.listenerCount('SIGHUP'),
      };
      const graceful = create({ ...harmless(), signals: ['SIGUSR2', 'SIGHUP', 'SIGUSR2'] });
      graceful.start();
      expect({
        SIGUSR2: process.listenerCount('SIGUSR2'),
        SIGHUP: process.listenerCount('SIGHUP'),
      }).toEqual({ SIGUSR2: before.SIGUSR2 + 1, SIGHUP: before.SIGHUP + 1 });
      graceful.uninstall();
      expect({
        SIGUSR2: process.listenerCount('SIGUSR2'),
        SIGHUP: process.listenerCount('SIGHUP'),
      }).toEqual(before);
    });
  });

  describe('handleErrors, reporter, exit and logger', () => {
    it.each([
      ['yes', 'the string "yes"'],
      [1, 'the number 1'],
    ])('rejects handleErrors %p, which is not a boolean', (handleErrors, described) => {
      expect(failureOf(() => create({ ...harmless(), handleErrors }))).toEqual({
        code: 'LASTCALL_ERR_GRACEFUL_INVALID_OPTIONS',
        message: `Graceful: option "handleErrors" must be a boolean, got ${described}`,
      });
    });

    it.each([
      ['yes', 'the string "yes"'],
      [null, 'null'],
    ])('rejects inProcessTest %p, which is not a boolean', (inProcessTest, described) => {
      expect(failureOf(() => create({ ...harmless(), inProcessTest }))).toEqual({
        code: 'LASTCALL_ERR_GRACEFUL_INVALID_OPTIONS',
        message: `Graceful: option "inProcessTest" must be a boolean, got ${described}`,
      });
    });

    it.each([
      ['reporter', 'crash.log', 'the string "crash.log"'],
      ['reporter', { report: () => undefined }, 'an object'],
      ['exit', 42, 'the number 42'],
      ['exit', null, 'null'],
    ])('rejects %s %p, which is not a function', (name, value, described) => {
      expect(failureOf(() => create({ ...harmless(), [name]: value }))).toEqual({
        code: 'LASTCALL_ERR_GRACEFUL_INVALID_OPTIONS',
        message: `Graceful: option "${name}" must be a function, got ${described}`,
      });
    });

    it.each([
      ['an empty object', {}, 'an object'],
      ['a logger without fatal', { debug() {}, info() {}, warn() {}, error() {} }, 'an object'],
      [
        'a logger without child',
        { trace() {}, debug() {}, info() {}, warn() {}, error() {}, fatal() {} },
        'an object',
      ],
      ['null', null, 'null'],
      ['a string', 'pino', 'the string "pino"'],
    ])('rejects as logger %s, which lacks the level methods', (_label, logger, described) => {
      expect(failureOf(() => create({ ...harmless(), logger }))).toEqual({
        code: 'LASTCALL_ERR_GRACEFUL_INVALID_OPTIONS',
        message:
          'Graceful: option "logger" must be a logger with trace, debug, info, warn, error, fatal, child methods ' +
          `(getLogger() of @lastcall/log-shim), got ${described}`,
      });
    });
  });
});

describe('onShutdown() and addCheck() arguments', () => {
  it.each([['close the server'], [undefined], [{ name: 'db' }]])(
    'onShutdown rejects the hook %p, which is not a function',
    (hook) => {
      const graceful = create(harmless());
      expect(failureOf(() => graceful.onShutdown(hook as never))).toEqual({
        code: 'LASTCALL_ERR_GRACEFUL_INVALID_HOOK',
        message: `onShutdown: hook must be a function (reason, signal) => unknown, got ${describeValue(hook)}`,
      });
    },
  );

  it.each([
    [0, 'the number 0'],
    [-100, 'the number -100'],
    [Number.NaN, 'the number NaN'],
    [Number.POSITIVE_INFINITY, 'the number Infinity'],
    ['100', 'the string "100"'],
  ])('onShutdown rejects the hook timeout %p', (timeout, shown) => {
    const graceful = create(harmless());
    expect(
      failureOf(() => graceful.onShutdown(() => undefined, { timeout: timeout as number })),
    ).toEqual({
      code: 'LASTCALL_ERR_GRACEFUL_INVALID_HOOK',
      message: `onShutdown: timeout must be a finite number of milliseconds > 0, got ${shown}`,
    });
  });

  it('does not run a hook whose registration was rejected', async () => {
    const graceful = create(harmless());
    const ran: string[] = [];
    failureOf(() =>
      graceful.onShutdown(
        () => {
          ran.push('rejected hook');
        },
        { timeout: -1 },
      ),
    );
    graceful.onShutdown(() => {
      ran.push('valid hook');
    });
    await within(graceful.shutdown(), 1000, 'the shutdown');
    expect(ran).toEqual(['valid hook']);
  });

  it.each([[true], ['ready'], [null]])(
    'addCheck rejects the check %p, which is not a function',
    (check) => {
      const graceful = create(harmless());
      expect(failureOf(() => graceful.addCheck(check as never))).toEqual({
        code: 'LASTCALL_ERR_GRACEFUL_INVALID_CHECK',
        message: `addCheck: check must be a function () => boolean | Promise<boolean>, got ${describeValue(check)}`,
      });
    },
  );
});

describe('a winston, pino or bunyan logger given as it is', () => {
  it('goes through log-shim: a bunyan record keeps its fields as fields and a plain msg', () => {
    const records: Record<string, unknown>[] = [];
    const logger = bunyan.createLogger({
      name: 'app',
      streams: [
        {
          type: 'raw',
          level: 'trace',
          stream: { write: (record: object) => records.push(record as Record<string, unknown>) },
        },
      ],
    });
    const { logger: adapted } = resolveOptions({ logger });
    adapted.warn('shutdown hook "db pool" failed; the others go on', {
      hook: 'db pool',
      code: 'LASTCALL_ERR_GRACEFUL_HOOK_FAILED',
    });
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      name: 'app',
      module: 'lastcall:graceful',
      level: 40,
      msg: 'shutdown hook "db pool" failed; the others go on',
      hook: 'db pool',
      code: 'LASTCALL_ERR_GRACEFUL_HOOK_FAILED',
    });
  });
});
