import { createRequire } from 'node:module';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { getLogger, setLogger } from '../src';
import type * as Winston from 'winston';
import type { LogFields } from '../src';
import { codeOf, recordingPino, recordingWinston, spyOnStderr } from './support';

let stderr: ReturnType<typeof spyOnStderr>;

beforeEach(() => {
  delete process.env['LASTCALL_LOG_LEVEL'];
  setLogger(undefined);
  stderr = spyOnStderr();
});

afterEach(() => {
  stderr.restore();
  delete process.env['LASTCALL_LOG_LEVEL'];
  setLogger(undefined);
});

describe('late configuration', () => {
  it('sends events of loggers handed out earlier to the logger set later', () => {
    const log = getLogger('test:late', { role: 'master' });
    const child = log.child({ pid: 7 });
    const pinoLogger = recordingPino();
    setLogger(pinoLogger.logger);
    child.info('to pino');
    const winstonLogger = recordingWinston();
    setLogger(winstonLogger.logger);
    log.info('to winston');
    expect(pinoLogger.records).toMatchObject([
      { msg: 'to pino', name: 'test:late', role: 'master', pid: 7 },
    ]);
    expect(winstonLogger.records).toMatchObject([
      { message: 'to winston', name: 'test:late', role: 'master' },
    ]);
    expect(stderr.lines).toEqual([]);
  });

  it('asks a factory once per module name and routes each module to its logger', () => {
    const made = new Map<string, ReturnType<typeof recordingWinston>>();
    const factory = jest.fn((name: string) => {
      const logger = recordingWinston({ defaultMeta: { app: name } });
      made.set(name, logger);
      return logger.logger;
    });
    setLogger(factory);
    getLogger('test:a').info('one');
    getLogger('test:a').info('two');
    getLogger('test:b').info('three');
    expect(factory.mock.calls).toEqual([['test:a'], ['test:b']]);
    expect(made.get('test:a')?.records.map((record) => record['message'])).toEqual(['one', 'two']);
    expect(made.get('test:b')?.records).toMatchObject([{ message: 'three', app: 'test:b' }]);
  });

  it('falls back to stderr with a coded warning when the factory returns no logger', () => {
    setLogger(() => 42 as unknown as object);
    getLogger('test:bad-factory').info('still printed');
    expect(stderr.lines).toHaveLength(2);
    expect(stderr.lines[0]).toMatch(
      /WARN {2}lastcall:log-shim .*"test:bad-factory".*the number 42.*LASTCALL_ERR_LOG_SHIM_FACTORY_FAILED/,
    );
    expect(stderr.lines[1]).toMatch(/INFO {2}test:bad-factory still printed\n$/);
  });
});

describe('bad input', () => {
  it('rejects a value that is not a logger, naming it', () => {
    expect(codeOf(() => setLogger(42 as unknown as object))).toBe(
      'LASTCALL_ERR_LOG_SHIM_INVALID_LOGGER',
    );
    expect(() => setLogger(42 as unknown as object)).toThrow(/got the number 42/);
    expect(codeOf(() => setLogger({ write: () => undefined }))).toBe(
      'LASTCALL_ERR_LOG_SHIM_INVALID_LOGGER',
    );
  });

  it('rejects a missing name and bindings that are not an object', () => {
    expect(codeOf(() => getLogger(''))).toBe('LASTCALL_ERR_LOG_SHIM_INVALID_NAME');
    expect(codeOf(() => getLogger('x', 'y' as unknown as LogFields))).toBe(
      'LASTCALL_ERR_LOG_SHIM_INVALID_BINDINGS',
    );
    expect(codeOf(() => getLogger('x').child([] as unknown as LogFields))).toBe(
      'LASTCALL_ERR_LOG_SHIM_INVALID_BINDINGS',
    );
  });
});

describe('console fallback', () => {
  it('prints one readable line per event to stderr at level info by default', () => {
    const log = getLogger('test:fallback', { pid: 9 });
    log.debug('hidden');
    log.info('hello', { port: 80 });
    log.error(new Error('boom'));
    expect(stderr.lines).toHaveLength(2);
    expect(stderr.lines[0]).toMatch(
      /^\d{4}-\d\d-\d\dT[\d:.]+Z INFO {2}test:fallback hello \{"pid":9,"port":80\}\n$/,
    );
    expect(stderr.lines[1]).toMatch(/ERROR test:fallback boom \{"pid":9,"err":\{"name":"Error"/);
    expect(stderr.lines[1]?.split('\n')).toHaveLength(2);
  });

  it('follows LASTCALL_LOG_LEVEL', () => {
    process.env['LASTCALL_LOG_LEVEL'] = 'warn';
    const log = getLogger('test:level');
    log.info('dropped');
    log.warn('kept');
    process.env['LASTCALL_LOG_LEVEL'] = 'trace';
    setLogger(undefined);
    log.trace('now kept');
    expect(stderr.lines.map((line) => line.replace(/^\S+ /, ''))).toEqual([
      'WARN  test:level kept\n',
      'TRACE test:level now kept\n',
    ]);
  });

  it('warns once about a bad LASTCALL_LOG_LEVEL and uses info', () => {
    process.env['LASTCALL_LOG_LEVEL'] = 'loud';
    const log = getLogger('test:level');
    log.debug('dropped');
    log.info('kept');
    expect(stderr.lines).toHaveLength(2);
    expect(stderr.lines[0]).toMatch(/LASTCALL_LOG_LEVEL="loud" is not a level.*using info/);
    expect(stderr.lines[0]).toContain('LASTCALL_ERR_LOG_SHIM_INVALID_LEVEL');
    expect(stderr.lines[1]).toMatch(/INFO {2}test:level kept/);
  });
});

describe("the app's own winston", () => {
  // The app's copy, loaded the way the app loads it (outside jest's module registry).
  const appWinston = createRequire(path.join(process.cwd(), 'package.json'))(
    'winston',
  ) as typeof Winston;

  it('is used only once the app gave its default logger a transport', () => {
    const log = getLogger('test:default');
    log.info('before');
    const records: unknown[] = [];
    const stream = new Writable({
      objectMode: true,
      write(info: unknown, _encoding, done) {
        records.push(info);
        done();
      },
    });
    const transport = new appWinston.transports.Stream({ stream });
    /* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment --
       winston's typings declare the Stream transport apart from TransportStream, which it extends. */
    appWinston.add(transport);
    try {
      log.info('after', { port: 1 });
    } finally {
      appWinston.remove(transport);
    }
    /* eslint-enable @typescript-eslint/no-unsafe-class-instance-assignment */
    log.info('removed again');
    expect(stderr.lines.map((line) => line.replace(/^\S+ /, ''))).toEqual([
      'INFO  test:default before\n',
      'INFO  test:default removed again\n',
    ]);
    expect(records).toMatchObject([{ level: 'info', message: 'after', port: 1 }]);
  });
});

describe('factory failures', () => {
  it('reports a throwing factory once per name and keeps logging to stderr', () => {
    setLogger(() => {
      throw new Error('no config yet');
    });
    const log = getLogger('test:throwing');
    log.info('first');
    log.info('second');
    expect(stderr.lines).toHaveLength(3);
    expect(stderr.lines[0]).toMatch(/it threw no config yet.*LASTCALL_ERR_LOG_SHIM_FACTORY_FAILED/);
    expect(stderr.lines.slice(1).map((line) => line.replace(/^\S+ /, ''))).toEqual([
      'INFO  test:throwing first\n',
      'INFO  test:throwing second\n',
    ]);
  });

  it('keeps a multi-line message on one line', () => {
    getLogger('test:lines').info('a\nb');
    expect(stderr.lines).toHaveLength(1);
    expect(stderr.lines[0]).toMatch(/INFO {2}test:lines a\\nb\n$/);
  });
});
