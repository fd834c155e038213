/**
 * The options issue 19 added to the master: `shutdownDelay` (option, LASTCALL_SHUTDOWN_DELAY, the
 * default of a master with a heartbeat), `keepAliveTimeout` and `headersTimeout`, the heartbeat
 * token (option, LASTCALL_HEARTBEAT_TOKEN, required off loopback), the probe paths a heartbeat
 * path may not take, and the deadline of the Graceful the master starts for itself.
 */
import { Graceful } from '@lastcall/graceful';
import type { Logger } from '@lastcall/log-shim';
import { MasterError } from '../src/errors';
import {
  HEARTBEAT_TOKEN_ENV,
  MASTER_DEFAULTS,
  SHUTDOWN_DELAY_ENV,
  isLoopbackHost,
  readOptions,
} from '../src/primary/options';
import { ProcessHooks, masterGracefulOptions } from '../src/primary/process-hooks';
import type { ProcessHookActions } from '../src/primary/process-hooks';

const savedDelay = process.env['LASTCALL_SHUTDOWN_DELAY'];
const savedToken = process.env['LASTCALL_HEARTBEAT_TOKEN'];

beforeEach(() => {
  delete process.env['LASTCALL_SHUTDOWN_DELAY'];
  delete process.env['LASTCALL_HEARTBEAT_TOKEN'];
});

afterEach(() => {
  if (savedDelay === undefined) delete process.env['LASTCALL_SHUTDOWN_DELAY'];
  else process.env['LASTCALL_SHUTDOWN_DELAY'] = savedDelay;
  if (savedToken === undefined) delete process.env['LASTCALL_HEARTBEAT_TOKEN'];
  else process.env['LASTCALL_HEARTBEAT_TOKEN'] = savedToken;
});

/** The MasterError `run` throws; fails the test when it returns. */
function failureOf(run: () => unknown): MasterError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(MasterError);
    return error as MasterError;
  }
  throw new Error('returned instead of throwing');
}

/** A Logger that drops everything. */
function quietLogger(): Logger {
  const logger: Logger = {
    trace: () => undefined,
    debug: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: () => undefined,
    fatal: () => undefined,
    child: () => logger,
  };
  return logger;
}

const TOKEN = 'tok-7f3a9c1e-never-printed';

describe('the shutdownDelay option', () => {
  it('is 0 without a heartbeat and 3000 ms with one, when nothing else says', () => {
    expect(SHUTDOWN_DELAY_ENV).toBe('LASTCALL_SHUTDOWN_DELAY');
    expect(HEARTBEAT_TOKEN_ENV).toBe('LASTCALL_HEARTBEAT_TOKEN');
    expect(MASTER_DEFAULTS.heartbeatShutdownDelay).toBe(3000);
    expect(readOptions(undefined).shutdownDelay).toBe(0);
    expect(readOptions({}).shutdownDelay).toBe(0);
    expect(readOptions({ heartbeat: { port: 0 } }).shutdownDelay).toBe(3000);
  });

  it('keeps the value given, 0 included, with or without a heartbeat', () => {
    expect(readOptions({ shutdownDelay: 1500 }).shutdownDelay).toBe(1500);
    expect(readOptions({ shutdownDelay: 0, heartbeat: { port: 0 } }).shutdownDelay).toBe(0);
    expect(readOptions({ shutdownDelay: 250, heartbeat: { port: 0 } }).shutdownDelay).toBe(250);
    expect(readOptions({ shutdownDelay: 3_600_000 }).shutdownDelay).toBe(3_600_000);
  });

  it.each([-1, 3_600_001, Number.NaN, Infinity, '3000', null, true])(
    'refuses %p with LASTCALL_ERR_MASTER_INVALID_TIMEOUT, naming the option and the bounds',
    (shutdownDelay) => {
      const failure = failureOf(() => readOptions({ shutdownDelay } as never));
      expect(failure.code).toBe('LASTCALL_ERR_MASTER_INVALID_TIMEOUT');
      expect(failure.message).toMatch(
        /^Master: option "shutdownDelay" must be a number of ms from 0 to 3600000, got /,
      );
    },
  );

  it('reads LASTCALL_SHUTDOWN_DELAY when the option is not given, with or without a heartbeat', () => {
    process.env['LASTCALL_SHUTDOWN_DELAY'] = '2500';
    expect(readOptions({}).shutdownDelay).toBe(2500);
    expect(readOptions({ heartbeat: { port: 0 } }).shutdownDelay).toBe(2500);
    process.env['LASTCALL_SHUTDOWN_DELAY'] = '0';
    expect(readOptions({ heartbeat: { port: 0 } }).shutdownDelay).toBe(0);
    process.env['LASTCALL_SHUTDOWN_DELAY'] = ' 700 ';
    expect(readOptions({}).shutdownDelay).toBe(700);
  });

  it('lets the option win over LASTCALL_SHUTDOWN_DELAY', () => {
    process.env['LASTCALL_SHUTDOWN_DELAY'] = '2500';
    expect(readOptions({ shutdownDelay: 100 }).shutdownDelay).toBe(100);
    expect(readOptions({ shutdownDelay: 0, heartbeat: { port: 0 } }).shutdownDelay).toBe(0);
  });

  it('ignores an empty or blank LASTCALL_SHUTDOWN_DELAY', () => {
    for (const blank of ['', '   ']) {
      process.env['LASTCALL_SHUTDOWN_DELAY'] = blank;
      expect(readOptions({}).shutdownDelay).toBe(0);
      expect(readOptions({ heartbeat: { port: 0 } }).shutdownDelay).toBe(3000);
    }
  });

  it.each(['soon', '-5', '3600001', 'Infinity', '3s'])(
    'refuses LASTCALL_SHUTDOWN_DELAY=%j with a coded error quoting the variable and its value',
    (text) => {
      process.env['LASTCALL_SHUTDOWN_DELAY'] = text;
      const failure = failureOf(() => readOptions({}));
      expect(failure.code).toBe('LASTCALL_ERR_MASTER_INVALID_TIMEOUT');
      expect(failure.message).toBe(
        `Master: LASTCALL_SHUTDOWN_DELAY must be a number of ms from 0 to 3600000, got ${JSON.stringify(text)}`,
      );
    },
  );

  it('quotes at most 100 characters of a long invalid LASTCALL_SHUTDOWN_DELAY', () => {
    process.env['LASTCALL_SHUTDOWN_DELAY'] = `x${'9'.repeat(5000)}`;
    const failure = failureOf(() => readOptions({}));
    expect(failure.message).toBe(
      `Master: LASTCALL_SHUTDOWN_DELAY must be a number of ms from 0 to 3600000, got ${JSON.stringify(`x${'9'.repeat(99)}`)}`,
    );
  });

  it('does not read LASTCALL_SHUTDOWN_DELAY at all when the option is given', () => {
    process.env['LASTCALL_SHUTDOWN_DELAY'] = 'soon';
    expect(readOptions({ shutdownDelay: 10 }).shutdownDelay).toBe(10);
  });
});

describe('the keepAliveTimeout and headersTimeout options', () => {
  it.each(['keepAliveTimeout', 'headersTimeout'] as const)(
    '%s: undefined (Node keeps its own) unless given, then the value',
    (name) => {
      expect(readOptions({})[name]).toBeUndefined();
      expect(readOptions({ [name]: 65_000 })[name]).toBe(65_000);
      expect(readOptions({ [name]: 1 })[name]).toBe(1);
      expect(readOptions({ [name]: 2 ** 31 - 1 })[name]).toBe(2 ** 31 - 1);
    },
  );

  it.each([
    ['keepAliveTimeout', 0],
    ['keepAliveTimeout', -1],
    ['keepAliveTimeout', 1.5],
    ['keepAliveTimeout', 2 ** 31],
    ['keepAliveTimeout', Number.NaN],
    ['keepAliveTimeout', '65000'],
    ['headersTimeout', 0],
    ['headersTimeout', 66_000.5],
    ['headersTimeout', Infinity],
    ['headersTimeout', false],
  ] as const)(
    'refuses %s %p with LASTCALL_ERR_MASTER_INVALID_TIMEOUT, naming it and its bounds',
    (name, value) => {
      const failure = failureOf(() => readOptions({ [name]: value }));
      expect(failure.code).toBe('LASTCALL_ERR_MASTER_INVALID_TIMEOUT');
      expect(failure.message).toMatch(
        new RegExp(
          `^Master: option "${name}" must be a whole number of ms from 1 to 2147483647, got `,
        ),
      );
    },
  );
});

describe('the heartbeat token', () => {
  it('comes from heartbeat.token, else LASTCALL_HEARTBEAT_TOKEN, else there is none', () => {
    expect(readOptions({ heartbeat: { port: 0 } }).heartbeat?.token).toBeUndefined();
    expect(readOptions({ heartbeat: { port: 0, token: TOKEN } }).heartbeat?.token).toBe(TOKEN);
    process.env['LASTCALL_HEARTBEAT_TOKEN'] = 'from-env';
    expect(readOptions({ heartbeat: { port: 0 } }).heartbeat?.token).toBe('from-env');
    expect(readOptions({ heartbeat: { port: 0, token: TOKEN } }).heartbeat?.token).toBe(TOKEN);
    process.env['LASTCALL_HEARTBEAT_TOKEN'] = '';
    expect(readOptions({ heartbeat: { port: 0 } }).heartbeat?.token).toBeUndefined();
  });

  it.each(['0.0.0.0', '::', '10.1.2.3', 'lb.example.com'])(
    'is required for a heartbeat on %j: LASTCALL_ERR_MASTER_TOKEN_REQUIRED saying where to set it',
    (host) => {
      const failure = failureOf(() => readOptions({ heartbeat: { port: 0, host } }));
      expect(failure.code).toBe('LASTCALL_ERR_MASTER_TOKEN_REQUIRED');
      expect(failure.message).toBe(
        `Master: the heartbeat listens on ${host}, beyond this machine, so its disable and enable routes need a token: set heartbeat.token, LASTCALL_HEARTBEAT_TOKEN or --heartbeat-token`,
      );
    },
  );

  it.each(['0.0.0.0', '::', '10.1.2.3'])(
    'lets a heartbeat on %j listen with a token from the option or the environment',
    (host) => {
      expect(readOptions({ heartbeat: { port: 0, host, token: TOKEN } }).heartbeat).toMatchObject({
        host,
        token: TOKEN,
      });
      process.env['LASTCALL_HEARTBEAT_TOKEN'] = TOKEN;
      expect(readOptions({ heartbeat: { port: 0, host } }).heartbeat).toMatchObject({
        host,
        token: TOKEN,
      });
    },
  );

  it.each(['127.0.0.1', 'localhost', '::1'])(
    'is not required for a heartbeat on the loopback %j',
    (host) => {
      expect(readOptions({ heartbeat: { port: 0, host } }).heartbeat).toMatchObject({
        host,
        token: undefined,
      });
    },
  );

  it('is not required for the default host, 127.0.0.1', () => {
    expect(readOptions({ heartbeat: { port: 0 } }).heartbeat?.host).toBe('127.0.0.1');
  });

  it.each([
    ['a heartbeat path taken by a probe', { path: '/readyz' }],
    ['a port out of range', { port: 70_000 }],
    ['an empty host', { host: '' }],
    ['a path without its slash', { path: 'ecv' }],
    ['an unknown key', { tokn: 'x' }],
  ])('never puts the token in the message of %s', (_what, heartbeat) => {
    process.env['LASTCALL_HEARTBEAT_TOKEN'] = `env-${TOKEN}`;
    const viaEnv = failureOf(() => readOptions({ heartbeat: { port: 0, ...heartbeat } }));
    expect(viaEnv.message).not.toContain(TOKEN);
    delete process.env['LASTCALL_HEARTBEAT_TOKEN'];
    const viaOption = failureOf(() =>
      readOptions({ heartbeat: { port: 0, token: TOKEN, ...heartbeat } }),
    );
    expect(viaOption.message).not.toContain(TOKEN);
    expect(viaOption.code).toBe(viaEnv.code);
  });

  it('refuses an empty heartbeat.token without quoting the token of the environment', () => {
    // The only error that is about the token is thrown when there is none; an empty option
    // token with a token in the environment is refused without quoting the environment's.
    process.env['LASTCALL_HEARTBEAT_TOKEN'] = TOKEN;
    const failure = failureOf(() =>
      readOptions({ heartbeat: { port: 0, host: '0.0.0.0', token: '' } }),
    );
    expect(failure.code).toBe('LASTCALL_ERR_MASTER_INVALID_OPTIONS');
    expect(failure.message).not.toContain(TOKEN);
  });

  it('refuses a token given as a number without quoting it: a number is still a secret', () => {
    const failure = failureOf(() =>
      readOptions({ heartbeat: { port: 0, token: 987654321 as unknown as string } }),
    );
    expect(failure.code).toBe('LASTCALL_ERR_MASTER_INVALID_OPTIONS');
    expect(failure.message).toBe(
      'Master: option "heartbeat.token" must be a non-empty string, got a number',
    );
    expect(failure.message).not.toContain('987654321');
  });
});

describe('isLoopbackHost', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.8.9.10', true],
    ['localhost', true],
    ['LocalHost', true],
    ['::1', true],
    ['[::1]', true],
    ['::ffff:127.0.0.1', true],
    ['0.0.0.0', false],
    ['::', false],
    ['10.1.2.3', false],
    ['128.0.0.1', false],
    ['localhost.example.com', false],
    ['::ffff:10.0.0.1', false],
  ])('%s is loopback: %s', (host, expected) => {
    expect(isLoopbackHost(host)).toBe(expected);
  });
});

describe('heartbeat.path', () => {
  it.each(['/readyz', '/livez'])(
    'refuses %j, a route of the probes, with LASTCALL_ERR_MASTER_INVALID_OPTIONS',
    (path) => {
      const failure = failureOf(() => readOptions({ heartbeat: { port: 0, path } }));
      expect(failure.code).toBe('LASTCALL_ERR_MASTER_INVALID_OPTIONS');
      expect(failure.message).toBe(
        `Master: option "heartbeat.path" must be not /readyz or /livez, got the string "${path}"`,
      );
    },
  );

  it('takes any other path, /ready and /readyz/x included', () => {
    expect(readOptions({ heartbeat: { port: 0, path: '/ready' } }).heartbeat?.path).toBe('/ready');
    expect(readOptions({ heartbeat: { port: 0, path: '/readyz/x' } }).heartbeat?.path).toBe(
      '/readyz/x',
    );
  });
});

describe('masterGracefulOptions', () => {
  it('gives a deadline of shutdownDelay + drainTimeout + killTimeout + 2000 ms and no delay of its own', () => {
    expect(
      masterGracefulOptions({ shutdownDelay: 3000, drainTimeout: 30_000, killTimeout: 5000 }),
    ).toStrictEqual({ timeout: 40_000, shutdownDelay: 0 });
    expect(
      masterGracefulOptions({ shutdownDelay: 0, drainTimeout: 1000, killTimeout: 500 }),
    ).toStrictEqual({ timeout: 3500, shutdownDelay: 0 });
  });

  it('covers the default delay of a master with a heartbeat, and the env delay', () => {
    expect(masterGracefulOptions(readOptions({})).timeout).toBe(37_000);
    expect(masterGracefulOptions(readOptions({ heartbeat: { port: 0 } })).timeout).toBe(40_000);
    process.env['LASTCALL_SHUTDOWN_DELAY'] = '10000';
    expect(masterGracefulOptions(readOptions({ drainTimeout: 1000 })).timeout).toBe(18_000);
  });
});

describe("ProcessHooks: the master's shutdown delay", () => {
  const installed: { hooks: ProcessHooks; graceful: Graceful }[] = [];

  afterEach(() => {
    for (const { hooks, graceful } of installed.splice(0)) {
      hooks.uninstall();
      graceful.uninstall();
    }
  });

  /**
   * ProcessHooks installed on a Graceful of the test's own (no signals, no exit) with a master
   * `shutdownDelay` and graceful's own `gracefulDelay`; the times of its actions, from shutdown().
   */
  function install(
    shutdownDelay: number,
    gracefulDelay: number,
  ): {
    graceful: Graceful;
    times: { shuttingDown?: number; stop?: number; afterDelay?: boolean };
  } {
    const graceful = new Graceful({
      signals: [],
      handleErrors: false,
      inProcessTest: true,
      logger: quietLogger(),
      timeout: 20_000,
      shutdownDelay: gracefulDelay,
    });
    const times: { shuttingDown?: number; stop?: number; afterDelay?: boolean } = {};
    const actions: ProcessHookActions = {
      stop: (afterDelay) => {
        times.stop = Date.now();
        times.afterDelay = afterDelay;
        return Promise.resolve();
      },
      restart: () => undefined,
      shuttingDown: () => {
        times.shuttingDown = Date.now();
      },
      reopenWorkerLogs: () => undefined,
      killAll: () => undefined,
    };
    const options = readOptions({
      shutdownDelay,
      graceful,
      restartSignal: null,
      logger: quietLogger(),
    });
    const hooks = new ProcessHooks(options, actions);
    installed.push({ hooks, graceful });
    hooks.install();
    return { graceful, times };
  }

  it('says shutting down at once, and stops the workers only after shutdownDelay', async () => {
    const { graceful, times } = install(600, 0);
    const startedAt = Date.now();
    const done = graceful.shutdown();
    expect(times.shuttingDown).toBeDefined();
    expect(times.shuttingDown! - startedAt).toBeLessThan(50);
    expect(times.stop).toBeUndefined();
    await done;
    expect(times.stop! - startedAt).toBeGreaterThanOrEqual(590);
    expect(times.stop! - startedAt).toBeLessThan(5000);
    expect(times.afterDelay).toBe(true);
  });

  it('stops at once without a shutdownDelay, and says no delay was waited', async () => {
    const { graceful, times } = install(0, 0);
    const startedAt = Date.now();
    await graceful.shutdown();
    expect(times.shuttingDown).toBeDefined();
    expect(times.stop! - startedAt).toBeLessThan(300);
    expect(times.afterDelay).toBe(false);
  });

  it("counts the delay from the first moment of the shutdown, so graceful's own delay is not added", async () => {
    const { graceful, times } = install(1200, 800);
    const startedAt = Date.now();
    await graceful.shutdown();
    // 1200 ms in all, not 800 + 1200.
    expect(times.stop! - startedAt).toBeGreaterThanOrEqual(1190);
    expect(times.stop! - startedAt).toBeLessThan(1700);
  });

  it('stops at once when graceful waited longer than the delay already', async () => {
    const { graceful, times } = install(600, 900);
    const startedAt = Date.now();
    await graceful.shutdown();
    // 900 ms in all, not 900 + 600.
    expect(times.stop! - startedAt).toBeGreaterThanOrEqual(890);
    expect(times.stop! - startedAt).toBeLessThan(1350);
  });
});
