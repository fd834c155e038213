import { adaptLogger, getLogger, REDACTED, setLogger, setRedaction } from '../src';
import type { Logger } from '../src';
import { codeOf, recordingBunyan, recordingPino, recordingWinston, spyOnStderr } from './support';

let stderr: ReturnType<typeof spyOnStderr>;

beforeEach(() => {
  setRedaction({ patterns: [], env: {} });
  stderr = spyOnStderr();
});

afterEach(() => {
  stderr.restore();
  setLogger(undefined);
});

afterAll(() => {
  setRedaction({ patterns: [], env: process.env });
});

describe('adaptLogger', () => {
  it('writes a bunyan record with the fields as top-level properties and the plain message', () => {
    const { logger, records } = recordingBunyan();
    const log = adaptLogger(logger, 'lastcall:graceful').child({ role: 'master', pid: 42 });
    log.error('shutdown hook "db pool" failed; the others go on', {
      hook: 'db pool',
      code: 'LASTCALL_ERR_GRACEFUL_HOOK_FAILED',
      err: new Error('connect postgres://app:s3cret@db failed'),
    });
    expect(records).toHaveLength(1);
    const record = records[0] ?? {};
    expect(record).toMatchObject({
      name: 'app',
      module: 'lastcall:graceful',
      role: 'master',
      pid: 42,
      level: 50,
      msg: 'shutdown hook "db pool" failed; the others go on',
      hook: 'db pool',
      code: 'LASTCALL_ERR_GRACEFUL_HOOK_FAILED',
      err: { name: 'Error', message: `connect postgres://${REDACTED}@db failed` },
    });
    expect(JSON.stringify(record)).not.toContain('s3cret');
  });

  it('writes a pino record with the fields as fields', () => {
    const { logger, records } = recordingPino();
    adaptLogger(logger, 'lastcall:master').warn('slow start', { ms: 120, token: 'abc' });
    expect(records).toMatchObject([
      { level: 40, name: 'lastcall:master', msg: 'slow start', ms: 120, token: REDACTED },
    ]);
  });

  it('writes a winston record with the fields as fields', () => {
    const { logger, records } = recordingWinston();
    adaptLogger(logger, 'lastcall:master').info({ workers: 2 }, 'listening');
    expect(records).toEqual([
      { level: 'info', message: 'listening', name: 'lastcall:master', workers: 2 },
    ]);
  });

  it('keeps writing into the given logger whatever setLogger says', () => {
    const given = recordingPino();
    const log = adaptLogger(given.logger, 'lastcall:graceful');
    const other = recordingPino();
    setLogger(other.logger);
    log.info('to the given one');
    expect(given.records).toMatchObject([{ msg: 'to the given one' }]);
    expect(other.records).toEqual([]);
  });

  it('returns a Logger it is given as it is: a getLogger facade or any object with its methods', () => {
    const facade = getLogger('test:adapt');
    const own: Logger = {
      trace: () => undefined,
      debug: () => undefined,
      info: () => undefined,
      warn: () => undefined,
      error: () => undefined,
      fatal: () => undefined,
      child: () => own,
    };
    expect(adaptLogger(facade, 'lastcall:graceful')).toBe(facade);
    expect(adaptLogger(own, 'lastcall:graceful')).toBe(own);
  });

  it('gives an object with only some level methods the missing ones', () => {
    const lines: unknown[][] = [];
    const partial = {
      info: (...args: unknown[]) => lines.push(['info', ...args]),
      error: (...args: unknown[]) => lines.push(['error', ...args]),
    };
    const log = adaptLogger(partial, 'lastcall:master');
    log.warn('draining', { slot: 1 });
    log.fatal('gone');
    expect(lines).toEqual([
      ['error', 'draining', { name: 'lastcall:master', slot: 1 }],
      ['error', 'gone', { name: 'lastcall:master' }],
    ]);
  });

  it('prints what the given logger throws on to stderr, redacted', () => {
    const throwing = {
      info: () => {
        throw new Error('transport closed');
      },
    };
    adaptLogger(throwing, 'lastcall:master').info('password=abc');
    expect(stderr.lines.join('')).toContain('LASTCALL_ERR_LOG_SHIM_LOGGER_THREW');
    expect(stderr.lines.join('')).toContain(`password=${REDACTED}`);
    expect(stderr.lines.join('')).not.toContain('abc');
  });

  it.each([
    ['no logger', { log: 42 }, 'test', 'LASTCALL_ERR_LOG_SHIM_INVALID_LOGGER'],
    ['null', null, 'test', 'LASTCALL_ERR_LOG_SHIM_INVALID_LOGGER'],
    ['an empty name', { info: () => undefined }, '', 'LASTCALL_ERR_LOG_SHIM_INVALID_NAME'],
  ])('rejects %s', (_what, logger, name, code) => {
    expect(codeOf(() => adaptLogger(logger as never, name))).toBe(code);
  });
});
