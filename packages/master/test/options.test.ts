import bunyan from 'bunyan';
import { getLogger } from '@lastcall/log-shim';
import { MasterError } from '../src/errors';
import {
  MASTER_DEFAULTS,
  MAX_WORKERS,
  readOptions,
  workersFromEnvironment,
} from '../src/primary/options';

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(MasterError);
    return (error as MasterError).code;
  }
  return undefined;
}

describe('readOptions', () => {
  it('fills in the documented defaults', () => {
    const options = readOptions(undefined);
    expect(options).toMatchObject({
      exec: undefined,
      args: undefined,
      execArgv: [],
      env: {},
      readyOn: 'listening',
      readyTimeout: 30_000,
      drainTimeout: 30_000,
      killTimeout: 5000,
      maxSurge: 1,
      stableAfter: 5000,
      maxRestarts: 10,
      restartWindow: 60_000,
      restartSignal: 'SIGUSR2',
      backoff: { initial: 100, max: 30_000, factor: 2, jitter: 0.2 },
    });
    expect(options.backoff).toEqual(MASTER_DEFAULTS.backoff);
  });

  it('keeps what is given', () => {
    const options = readOptions({
      exec: 'server.js',
      args: ['--port', '3000'],
      execArgv: ['--max-old-space-size=512'],
      env: { NODE_ENV: 'production' },
      workers: 3,
      readyOn: { port: 3000, address: '127.0.0.1' },
      backoff: { initial: 50 },
      restartSignal: null,
    });
    expect(options.workers()).toBe(3);
    expect(options.args).toEqual(['--port', '3000']);
    expect(options.execArgv).toEqual(['--max-old-space-size=512']);
    expect(options.readyOn).toEqual({ port: 3000, address: '127.0.0.1' });
    expect(options.backoff).toEqual({ initial: 50, max: 30_000, factor: 2, jitter: 0.2 });
    expect(options.restartSignal).toBeNull();
  });

  it.each([
    ['not an object', 'fast', 'LASTCALL_ERR_MASTER_INVALID_OPTIONS'],
    ['an unknown option', { worker: 2 }, 'LASTCALL_ERR_MASTER_INVALID_OPTIONS'],
    ['an empty exec', { exec: '' }, 'LASTCALL_ERR_MASTER_INVALID_OPTIONS'],
    ['args not strings', { args: [1] }, 'LASTCALL_ERR_MASTER_INVALID_OPTIONS'],
    ['execArgv not an array', { execArgv: '--inspect' }, 'LASTCALL_ERR_MASTER_INVALID_OPTIONS'],
    ['env not strings', { env: { PORT: 3000 } }, 'LASTCALL_ERR_MASTER_INVALID_OPTIONS'],
    ['workers 0', { workers: 0 }, 'LASTCALL_ERR_MASTER_INVALID_WORKERS'],
    ['workers 1.5', { workers: 1.5 }, 'LASTCALL_ERR_MASTER_INVALID_WORKERS'],
    ['a readyOn of another kind', { readyOn: 'online' }, 'LASTCALL_ERR_MASTER_INVALID_OPTIONS'],
    [
      'a readyOn port out of range',
      { readyOn: { port: 70_000 } },
      'LASTCALL_ERR_MASTER_INVALID_OPTIONS',
    ],
    ['a negative readyTimeout', { readyTimeout: -1 }, 'LASTCALL_ERR_MASTER_INVALID_TIMEOUT'],
    ['an infinite drainTimeout', { drainTimeout: Infinity }, 'LASTCALL_ERR_MASTER_INVALID_TIMEOUT'],
    ['a killTimeout as a string', { killTimeout: '5s' }, 'LASTCALL_ERR_MASTER_INVALID_TIMEOUT'],
    ['maxSurge 0', { maxSurge: 0 }, 'LASTCALL_ERR_MASTER_INVALID_OPTIONS'],
    ['backoff not an object', { backoff: 100 }, 'LASTCALL_ERR_MASTER_INVALID_BACKOFF'],
    ['an unknown backoff key', { backoff: { start: 1 } }, 'LASTCALL_ERR_MASTER_INVALID_BACKOFF'],
    [
      'a backoff max under initial',
      { backoff: { initial: 500, max: 100 } },
      'LASTCALL_ERR_MASTER_INVALID_BACKOFF',
    ],
    [
      'a backoff factor under 1',
      { backoff: { factor: 0.5 } },
      'LASTCALL_ERR_MASTER_INVALID_BACKOFF',
    ],
    ['a jitter over 1', { backoff: { jitter: 2 } }, 'LASTCALL_ERR_MASTER_INVALID_BACKOFF'],
    [
      'SIGKILL as restartSignal',
      { restartSignal: 'SIGKILL' },
      'LASTCALL_ERR_MASTER_INVALID_SIGNAL',
    ],
    ['a made-up signal', { restartSignal: 'SIGRESTART' }, 'LASTCALL_ERR_MASTER_INVALID_SIGNAL'],
    ['beforeFork not a function', { beforeFork: 'chdir' }, 'LASTCALL_ERR_MASTER_INVALID_OPTIONS'],
    ['graceful not a Graceful', { graceful: {} }, 'LASTCALL_ERR_MASTER_INVALID_OPTIONS'],
    [
      'logger without methods',
      { logger: { log: () => undefined } },
      'LASTCALL_ERR_MASTER_INVALID_OPTIONS',
    ],
    [
      'a logger with only info and error',
      { logger: { info: () => undefined, error: () => undefined } },
      'LASTCALL_ERR_MASTER_INVALID_OPTIONS',
    ],
  ])('rejects %s with a coded error naming the option', (_what, options, code) => {
    expect(codeOf(() => readOptions(options as never))).toBe(code);
  });

  it('takes a Logger with every level method and child as it is', () => {
    const logger = getLogger('app');
    expect(readOptions({ logger }).logger).toBe(logger);
    expect(() =>
      readOptions({ logger: { info: () => undefined, error: () => undefined } as never }),
    ).toThrow(
      /option "logger" must be a winston, pino or bunyan logger, or a Logger with trace, debug, info, warn, error, fatal, child methods/,
    );
  });

  it('names the option, the value and what was expected', () => {
    expect(() => readOptions({ readyTimeout: -1 })).toThrow(
      'Master: option "readyTimeout" must be a finite number of ms > 0, got the number -1',
    );
    expect(() => readOptions({ workerz: 2 } as never)).toThrow(
      /unknown option "workerz"; known: exec, args, execArgv/,
    );
  });

  it('turns health on by default and off with false; fills the heartbeat and recycle defaults', () => {
    expect(readOptions({}).health).toEqual({
      pingInterval: 5000,
      missedPings: 3,
      probe: undefined,
    });
    expect(readOptions({ health: false }).health).toBeUndefined();
    expect(readOptions({ heartbeat: { port: 0 } }).heartbeat).toMatchObject({
      port: 0,
      host: '127.0.0.1',
      path: '/ecv',
      token: undefined,
      minReady: 1,
    });
    expect(readOptions({ recycle: { maxAgeMs: 1000 } }).recycle).toEqual({
      maxRequests: undefined,
      maxConnectionsServed: undefined,
      maxOpenConnections: undefined,
      openConnectionsName: 'maxOpenConnections',
      deprecations: [],
      maxRssMB: undefined,
      maxAgeMs: 1000,
      spacing: 30_000,
    });
  });

  it('checks a workers function when it is asked', () => {
    const options = readOptions({ workers: () => 0 });
    expect(codeOf(() => options.workers())).toBe('LASTCALL_ERR_MASTER_INVALID_WORKERS');
  });
});

describe('workersFromEnvironment', () => {
  it('reads LASTCALL_WORKERS, then THEHELP_NUMBER_WORKERS, else the parallelism', () => {
    expect(workersFromEnvironment({ LASTCALL_WORKERS: '3', THEHELP_NUMBER_WORKERS: '5' })).toBe(3);
    expect(workersFromEnvironment({ THEHELP_NUMBER_WORKERS: '5' })).toBe(5);
    expect(workersFromEnvironment({})).toBeGreaterThanOrEqual(1);
  });

  it('rejects a count that is not a whole number >= 1', () => {
    expect(codeOf(() => workersFromEnvironment({ LASTCALL_WORKERS: 'four' }))).toBe(
      'LASTCALL_ERR_MASTER_INVALID_WORKERS',
    );
    expect(() => workersFromEnvironment({ LASTCALL_WORKERS: '0' })).toThrow(
      'LASTCALL_WORKERS must be a whole number from 1 to 512, got "0"',
    );
  });

  it.each(['1e5', '1e3', '0x10', '513', '100000', '2.0'])(
    'refuses LASTCALL_WORKERS=%s like the --workers flag does, up to MAX_WORKERS',
    (text) => {
      expect(codeOf(() => workersFromEnvironment({ LASTCALL_WORKERS: text }))).toBe(
        'LASTCALL_ERR_MASTER_INVALID_WORKERS',
      );
      expect(codeOf(() => workersFromEnvironment({ THEHELP_NUMBER_WORKERS: text }))).toBe(
        'LASTCALL_ERR_MASTER_INVALID_WORKERS',
      );
    },
  );

  it('takes MAX_WORKERS itself, and caps the default to it', () => {
    expect(MAX_WORKERS).toBe(512);
    expect(workersFromEnvironment({ LASTCALL_WORKERS: ' 512 ' })).toBe(512);
    expect(workersFromEnvironment({})).toBeLessThanOrEqual(MAX_WORKERS);
  });

  it('bounds the option and a workers function alike', () => {
    expect(codeOf(() => readOptions({ workers: 100_000 }))).toBe(
      'LASTCALL_ERR_MASTER_INVALID_WORKERS',
    );
    expect(() => readOptions({ workers: 513 })).toThrow(/a whole number from 1 to 512/);
    const options = readOptions({ workers: () => 1e5 });
    expect(codeOf(() => options.workers())).toBe('LASTCALL_ERR_MASTER_INVALID_WORKERS');
    expect(readOptions({ workers: 512 }).workers()).toBe(512);
  });
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
    const { logger: adapted } = readOptions({ logger: logger });
    adapted.info('worker exit', { slot: 1, code: 1, reason: 'crashed' });
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      name: 'app',
      module: 'lastcall:master',
      level: 30,
      msg: 'worker exit',
      slot: 1,
      code: 1,
      reason: 'crashed',
    });
  });
});
