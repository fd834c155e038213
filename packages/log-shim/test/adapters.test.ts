import { format, stripVTControlCharacters } from 'node:util';
import createDebug from 'debug';
import * as winston from 'winston';
import { detectLoggerKind, getLogger, setLogger } from '../src';
import type { LogRecord } from './support';
import {
  makeError,
  ownSnapshot,
  recordingBunyan,
  recordingDebug,
  recordingPino,
  recordingWinston,
  spyOnStderr,
} from './support';

afterEach(() => {
  setLogger(undefined);
});

/** The message key of each host's records. */
const hosts = [
  { host: 'winston', make: () => recordingWinston(), messageKey: 'message', nameKey: 'name' },
  { host: 'bunyan', make: () => recordingBunyan(), messageKey: 'msg', nameKey: 'module' },
  { host: 'pino', make: () => recordingPino(), messageKey: 'msg', nameKey: 'name' },
] as const;

describe.each(hosts)('$host', ({ host, make, messageKey, nameKey }) => {
  function only(records: LogRecord[]): LogRecord {
    expect(records).toHaveLength(1);
    return records[0] ?? {};
  }

  it('delivers the message and the metadata for (message, meta)', () => {
    const { logger, records } = make();
    setLogger(logger);
    getLogger('test:adapters').info('listening', { port: 3000, nested: { a: [1, 2] } });
    const record = only(records);
    expect(record[messageKey]).toBe('listening');
    expect(record['port']).toBe(3000);
    expect(record['nested']).toEqual({ a: [1, 2] });
    expect(record[nameKey]).toBe('test:adapters');
  });

  it('delivers the message and the metadata for (meta, message)', () => {
    const { logger, records } = make();
    setLogger(logger);
    getLogger('test:adapters').warn({ port: 3000 }, 'slow start');
    const record = only(records);
    expect(record[messageKey]).toBe('slow start');
    expect(record['port']).toBe(3000);
  });

  it('delivers an Error with message, code, stack and cause, alone or after a message', () => {
    const { logger, records } = make();
    if (host === 'pino') {
      expectPinoErrors();
      return;
    }
    setLogger(logger);
    const log = getLogger('test:adapters');
    const error = makeError();
    log.error(error);
    log.error('report failed', error);
    expect(records).toHaveLength(2);
    expect(records[0]?.[messageKey]).toBe('cannot write report');
    expect(records[1]?.[messageKey]).toBe('report failed');
    for (const record of records) {
      expect(record['err']).toMatchObject({
        name: 'Error',
        message: 'cannot write report',
        reportId: 'r-1',
        stack: error.stack,
        cause: { name: 'Error', message: 'disk full', code: 'ENOSPC' },
      });
    }
  });

  it('carries getLogger and child bindings on every event', () => {
    const { logger, records } = make();
    setLogger(logger);
    const log = getLogger('test:adapters', { role: 'master' }).child({ requestId: 'q-7' });
    log.info('served', { status: 200 });
    expect(only(records)).toMatchObject({ role: 'master', requestId: 'q-7', status: 200 });
  });

  it('leaves the given logger object exactly as it was', () => {
    const { logger } = make();
    // bunyan caches a flag on itself at its first record; only changes made by the shim count.
    (logger as { info(message: string): unknown }).info('warm-up');
    const snapshot = ownSnapshot(logger);
    setLogger(logger);
    const log = getLogger('test:adapters').child({ a: 1 });
    for (const level of ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const) {
      log[level]('x', { b: 2 });
    }
    expect(snapshot.changedSince()).toEqual([]);
  });
});

/**
 * pino runs its own `err` serializer over the field, which folds the cause chain into the message
 * and the stack (`caused by: ...`) the way pino users expect; custom pino serializers still apply.
 */
function expectPinoErrors(): void {
  const { logger, records } = recordingPino();
  setLogger(logger);
  const error = makeError();
  getLogger('test:adapters').error('report failed', error);
  expect(records[0]?.['msg']).toBe('report failed');
  expect(records[0]?.['err']).toMatchObject({
    name: 'Error',
    message: 'cannot write report: disk full',
    reportId: 'r-1',
  });
  const stack = (records[0]?.['err'] as { stack?: unknown } | undefined)?.stack;
  expect(stack).toEqual(expect.stringContaining(error.stack ?? 'no stack'));
  expect(stack).toEqual(expect.stringContaining('caused by: Error: disk full'));
}

describe('level mapping', () => {
  it('maps trace to silly and fatal to error on winston npm levels', () => {
    const { logger, records } = recordingWinston();
    setLogger(logger);
    const log = getLogger('test:levels');
    log.trace('t');
    log.fatal('f');
    expect(records.map((record) => record['level'])).toEqual(['silly', 'error']);
  });

  it('maps warn to warning and fatal to crit on winston syslog levels', () => {
    const { logger, records } = recordingWinston({ levels: { ...syslogLevels }, level: 'debug' });
    setLogger(logger);
    const log = getLogger('test:levels');
    log.warn('w');
    log.fatal('f');
    expect(records.map((record) => record['level'])).toEqual(['warning', 'crit']);
  });

  it('keeps all six levels on pino and bunyan', () => {
    const pinoLogger = recordingPino();
    setLogger(pinoLogger.logger);
    const levels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
    for (const level of levels) getLogger('test:levels')[level](level);
    expect(pinoLogger.records.map((record) => record['level'])).toEqual([10, 20, 30, 40, 50, 60]);
    const bunyanLogger = recordingBunyan();
    setLogger(bunyanLogger.logger);
    for (const level of levels) getLogger('test:levels')[level](level);
    expect(bunyanLogger.records.map((record) => record['level'])).toEqual([10, 20, 30, 40, 50, 60]);
  });
});

const syslogLevels = {
  emerg: 0,
  alert: 1,
  crit: 2,
  error: 3,
  warning: 4,
  notice: 5,
  info: 6,
  debug: 7,
};

describe('debug', () => {
  it('prefixes the level and prints the message and the metadata', () => {
    const { logger, records } = recordingDebug('app:db');
    setLogger(logger);
    const log = getLogger('test:debug');
    log.info('connected', { host: 'db1' });
    log.warn({ retries: 3 }, 'slow');
    log.error('failed', makeError());
    expect(records).toHaveLength(3);
    expect(records[0]?.['line']).toMatch(/app:db INFO connected .*host: 'db1'/s);
    expect(records[1]?.['line']).toMatch(/app:db WARN slow .*retries: 3/s);
    expect(records[2]?.['line']).toMatch(/ERROR failed .*cannot write report.*disk full.*ENOSPC/s);
  });
});

describe('any object with level methods', () => {
  it('calls (message, fields) and falls back to a nearby method when a level is missing', () => {
    const calls: unknown[][] = [];
    const logger = Object.freeze({
      info: (...args: unknown[]) => calls.push(['info', ...args]),
      error: (...args: unknown[]) => calls.push(['error', ...args]),
    });
    setLogger(logger);
    const log = getLogger('test:generic');
    log.debug('d');
    log.warn({ a: 1 }, 'w');
    log.fatal('f');
    expect(calls).toEqual([
      ['info', 'd', { name: 'test:generic' }],
      ['error', 'w', { name: 'test:generic', a: 1 }],
      ['error', 'f', { name: 'test:generic' }],
    ]);
  });

  it('works with a frozen pino logger', () => {
    const { logger, records } = recordingPino();
    setLogger(Object.freeze(logger));
    getLogger('test:frozen').info('still logs');
    expect(records[0]?.['msg']).toBe('still logs');
  });
});

describe('console', () => {
  it('prints one readable line per event through console.error, that is stderr', () => {
    const calls: string[][] = [];
    const fakeConsole = {
      log: (line: string) => calls.push(['log', line]),
      info: (line: string) => calls.push(['info', line]),
      warn: (line: string) => calls.push(['warn', line]),
      error: (line: string) => calls.push(['error', line]),
      debug: (line: string) => calls.push(['debug', line]),
      trace: () => calls.push(['trace']),
      table: () => undefined,
      dir: () => undefined,
    };
    setLogger(fakeConsole);
    const log = getLogger('test:console');
    log.trace('t');
    log.info('up', { port: 1 });
    log.fatal('down');
    expect(calls.map(([method]) => method)).toEqual(['error', 'error', 'error']);
    expect(calls[1]?.[1]).toMatch(/^\d{4}-\d\d-\d\dT\S+Z INFO {2}test:console up \{"port":1\}$/);
  });
});

describe('detectLoggerKind', () => {
  it('tells every supported logger apart by its shape alone', () => {
    expect(detectLoggerKind(recordingWinston().logger)).toBe('winston');
    expect(detectLoggerKind(winston)).toBe('winston');
    expect(detectLoggerKind(recordingPino().logger)).toBe('pino');
    expect(detectLoggerKind(recordingBunyan().logger)).toBe('bunyan');
    expect(detectLoggerKind(recordingDebug('app').logger)).toBe('debug');
    expect(detectLoggerKind(createDebug)).toBe('debug-module');
    expect(detectLoggerKind(console)).toBe('console');
    expect(detectLoggerKind({ warning: () => undefined })).toBe('level-methods');
    expect(detectLoggerKind({ write: () => undefined })).toBeUndefined();
    expect(detectLoggerKind(() => undefined)).toBeUndefined();
  });
});

describe('the debug module', () => {
  it('makes one debug instance per module name, enabled by its namespace', () => {
    const lines: string[] = [];
    const previousLog = createDebug.log;
    // On a terminal debug colours the namespace; the colours are not what is tested here.
    createDebug.log = (...args: unknown[]) => lines.push(stripVTControlCharacters(format(...args)));
    createDebug.enable('test:ns-on');
    try {
      setLogger(createDebug);
      getLogger('test:ns-on').info('shown', { a: 1 });
      getLogger('test:ns-off').info('hidden');
    } finally {
      createDebug.disable();
      createDebug.log = previousLog;
    }
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/test:ns-on INFO shown .*a: 1/s);
  });
});

describe('levels set on the app logger after the first event', () => {
  it('follows a pino level change, through the child the shim keeps', () => {
    const { logger, records } = recordingPino();
    logger.level = 'info';
    setLogger(logger);
    const log = getLogger('test:pino-level', { role: 'worker 1' });
    log.debug('hidden');
    log.info('shown');
    logger.level = 'debug';
    log.debug('now shown');
    logger.level = 'warn';
    log.info('hidden again');
    log.warn('warned');
    expect(records.map((record) => record['msg'])).toEqual(['shown', 'now shown', 'warned']);
    expect(records[1]).toMatchObject({ name: 'test:pino-level', role: 'worker 1', level: 20 });
  });

  it('follows a bunyan level change, through the child the shim keeps', () => {
    const { logger, records } = recordingBunyan();
    logger.level('info');
    setLogger(logger);
    const log = getLogger('test:bunyan-level');
    log.debug('hidden');
    log.info('shown');
    logger.level('debug');
    log.debug('now shown');
    logger.level('error');
    log.warn('hidden again');
    expect(records.map((record) => record['msg'])).toEqual(['shown', 'now shown']);
    expect(records[1]).toMatchObject({ module: 'test:bunyan-level', level: 20 });
  });

  it('follows a winston level change', () => {
    const { logger, records } = recordingWinston();
    logger.level = 'info';
    setLogger(logger);
    const log = getLogger('test:winston-level');
    log.debug('hidden');
    logger.level = 'debug';
    log.debug('now shown');
    expect(records.map((record) => record['message'])).toEqual(['now shown']);
  });
});

describe("the caller's objects", () => {
  it.each(hosts)('are neither changed nor kept by $host', ({ make, messageKey }) => {
    const { logger, records } = make();
    setLogger(logger);
    const meta = { port: 3000, name: 'from-meta' };
    const log = getLogger('test:meta', { role: 'master' });
    log.info('first', meta);
    log.info(meta, 'second');
    expect(meta).toEqual({ port: 3000, name: 'from-meta' });
    expect(records.map((record) => record[messageKey])).toEqual(['first', 'second']);
    for (const record of records) expect(record['port']).toBe(3000);
  });

  it('keeps a meta field called name under module on bunyan, which reserves name', () => {
    const { logger, records } = recordingBunyan();
    setLogger(logger);
    getLogger('test:bunyan-name').info('x', { name: 'job-7', id: 1 });
    expect(records[0]).toMatchObject({ name: 'app', module: 'job-7', id: 1 });
  });

  it('carries bindings on a frozen pino logger, which cannot make children', () => {
    const { logger, records } = recordingPino();
    setLogger(Object.freeze(logger));
    getLogger('test:frozen', { role: 'master' }).child({ pid: 9 }).info('x', { a: 1 });
    expect(records[0]).toMatchObject({
      msg: 'x',
      name: 'test:frozen',
      role: 'master',
      pid: 9,
      a: 1,
    });
  });
});

describe('a logger that throws', () => {
  it('never throws from a log call: the event and one coded warning go to stderr', () => {
    const stderr = spyOnStderr();
    try {
      const calls: string[] = [];
      setLogger({
        info: (message: string) => {
          calls.push(message);
          throw new Error('transport closed');
        },
      });
      const log = getLogger('test:throwing', { role: 'master' });
      expect(() => {
        log.info('first', { a: 1 });
        log.info('second');
      }).not.toThrow();
      expect(calls).toEqual(['first', 'second']);
      expect(stderr.lines).toHaveLength(3);
      expect(stderr.lines[0]).toMatch(
        /WARN {2}lastcall:log-shim the app's logger threw while logging for "test:throwing" \(transport closed\).*LASTCALL_ERR_LOG_SHIM_LOGGER_THREW/,
      );
      expect(stderr.lines[1]).toMatch(/INFO {2}test:throwing first \{"role":"master","a":1\}\n$/);
      expect(stderr.lines[2]).toMatch(/INFO {2}test:throwing second \{"role":"master"\}\n$/);
    } finally {
      stderr.restore();
    }
  });
});
