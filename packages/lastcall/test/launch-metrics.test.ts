import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { LogFields, Logger } from '@lastcall/log-shim';
import StatsD from 'hot-shots';
import { LastcallError } from '../src/errors';
import { countLaunch } from '../src/launch-metrics';
import { listenUdp } from '../../last-ditch/test/udp-listener';
import type { UdpListener } from '../../last-ditch/test/udp-listener';

/** The part of statsd-client used here; it ships no types. */
type StatsdClientConstructor = new (options: {
  readonly host: string;
  readonly port: number;
  readonly prefix?: string;
}) => { increment(name: string, delta?: number): void; close(): void };

// eslint-disable-next-line @typescript-eslint/no-require-imports
const StatsdClient = require('statsd-client') as StatsdClientConstructor;

const ENV_NAMES = ['LASTCALL_STATSD', 'LASTCALL_APP_NAME', 'THEHELP_APP_NAME'] as const;
const savedEnv = new Map<string, string | undefined>();
const cleanups: (() => void)[] = [];

beforeEach(() => {
  for (const name of ENV_NAMES) {
    savedEnv.set(name, process.env[name]);
    Reflect.deleteProperty(process.env, name);
  }
});

afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
  for (const [name, value] of savedEnv) {
    if (value === undefined) Reflect.deleteProperty(process.env, name);
    else process.env[name] = value;
  }
});

/**
 * Every packet `listener` holds once a sentinel sent after the call has arrived: the call's own
 * datagram left before its promise resolved, so on loopback it is queued ahead of the sentinel.
 */
async function packetsAfterSentinel(listener: UdpListener): Promise<string[]> {
  const sender = dgram.createSocket('udp4');
  cleanups.push(() => {
    sender.close();
  });
  await new Promise<void>((resolve, reject) => {
    sender.send('sentinel', listener.port, '127.0.0.1', (error) => {
      if (error) reject(error);
      else resolve();
    });
  });
  const packets = await listener.waitForPackets(listener.packets.length + 1);
  return packets.filter((packet) => packet !== 'sentinel');
}

interface CapturedLine {
  readonly level: string;
  readonly message: string;
  readonly fields: LogFields;
}

/** A {@link Logger} that records every call. */
function captureLogger(lines: CapturedLine[] = []): Logger & { lines: CapturedLine[] } {
  const method =
    (level: string) =>
    (first: unknown, second?: unknown): void => {
      const message = typeof first === 'string' ? first : String(second);
      const fields = (typeof first === 'string' ? second : first) as LogFields;
      lines.push({ level, message, fields });
    };
  const logger = {
    lines,
    trace: method('trace'),
    debug: method('debug'),
    info: method('info'),
    warn: method('warn'),
    error: method('error'),
    fatal: method('fatal'),
    child: () => logger,
  };
  return logger;
}

function codeOf(fields: LogFields | undefined): unknown {
  const error = fields?.['err'];
  return typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : error;
}

describe('countLaunch() delivery', () => {
  it("sends '<app>.launches.master:1|c' to a 'host:port' target before it resolves", async () => {
    const listener = await listenUdp(cleanups);
    const logger = captureLogger();
    await countLaunch('master', { statsd: listener.address, appName: 'shop', logger });
    expect(await packetsAfterSentinel(listener)).toEqual(['shop.launches.master:1|c']);
    expect(logger.lines).toEqual([]);
  });

  it("sends '<app>.launches.worker:1|c' for a worker", async () => {
    const listener = await listenUdp(cleanups);
    await countLaunch('worker', { statsd: listener.address, appName: 'shop' });
    expect(await packetsAfterSentinel(listener)).toEqual(['shop.launches.worker:1|c']);
  });

  it("counts through the app's statsd-client instance, with its prefix", async () => {
    const listener = await listenUdp(cleanups);
    const client = new StatsdClient({ host: '127.0.0.1', port: listener.port, prefix: 'eu' });
    cleanups.push(() => {
      client.close();
    });
    await countLaunch('master', { statsd: client, appName: 'shop' });
    expect(await packetsAfterSentinel(listener)).toEqual(['eu.shop.launches.master:1|c']);
  });

  it("counts through the app's hot-shots client, with its prefix", async () => {
    const listener = await listenUdp(cleanups);
    const client = new StatsD({ host: '127.0.0.1', port: listener.port, prefix: 'eu.' });
    cleanups.push(() => {
      client.close();
    });
    await countLaunch('worker', { statsd: client, appName: 'shop' });
    expect(await packetsAfterSentinel(listener)).toEqual(['eu.shop.launches.worker:1|c']);
  });

  it('calls increment() of any other client with the metric name and 1', async () => {
    const calls: unknown[][] = [];
    await countLaunch('master', {
      statsd: { increment: (...args: unknown[]) => calls.push(args) },
      appName: 'shop',
    });
    expect(calls).toEqual([['shop.launches.master', 1]]);
  });

  it('sends to LASTCALL_STATSD when no statsd option is given', async () => {
    const listener = await listenUdp(cleanups);
    process.env['LASTCALL_STATSD'] = listener.address;
    await countLaunch('master', { appName: 'shop' });
    expect(await packetsAfterSentinel(listener)).toEqual(['shop.launches.master:1|c']);
  });

  it('prefers the statsd option to LASTCALL_STATSD', async () => {
    const fromEnv = await listenUdp(cleanups);
    const fromOption = await listenUdp(cleanups);
    process.env['LASTCALL_STATSD'] = fromEnv.address;
    await countLaunch('master', { statsd: fromOption.address, appName: 'shop' });
    expect(await packetsAfterSentinel(fromOption)).toEqual(['shop.launches.master:1|c']);
    expect(await packetsAfterSentinel(fromEnv)).toEqual([]);
  });

  it('sends nothing with statsd: false, even when LASTCALL_STATSD is set', async () => {
    const listener = await listenUdp(cleanups);
    process.env['LASTCALL_STATSD'] = listener.address;
    const logger = captureLogger();
    await countLaunch('master', { statsd: false, appName: 'shop', logger });
    expect(await packetsAfterSentinel(listener)).toEqual([]);
    expect(logger.lines).toEqual([]);
  });

  it('resolves before the next turn of the event loop and logs nothing without any target', async () => {
    const logger = captureLogger();
    const nextTurn = new Promise((resolve) => setImmediate(resolve, 'next turn'));
    const first = await Promise.race([
      countLaunch('worker', { logger }).then(() => 'resolved'),
      nextTurn,
    ]);
    expect(first).toBe('resolved');
    await expect(countLaunch('master')).resolves.toBeUndefined();
    expect(logger.lines).toEqual([]);
  });
});

describe('countLaunch() app name', () => {
  it('takes the appName option first, then LASTCALL_APP_NAME, then THEHELP_APP_NAME', async () => {
    const listener = await listenUdp(cleanups);
    process.env['LASTCALL_APP_NAME'] = 'from-lastcall-env';
    process.env['THEHELP_APP_NAME'] = 'from-thehelp-env';
    await countLaunch('master', { statsd: listener.address, appName: 'from-option' });
    await listener.waitForPackets(1);
    await countLaunch('master', { statsd: listener.address });
    await listener.waitForPackets(2);
    Reflect.deleteProperty(process.env, 'LASTCALL_APP_NAME');
    await countLaunch('master', { statsd: listener.address });
    expect(await listener.waitForPackets(3)).toEqual([
      'from-option.launches.master:1|c',
      'from-lastcall-env.launches.master:1|c',
      'from-thehelp-env.launches.master:1|c',
    ]);
  });

  it('replaces the characters statsd treats specially in the app name', async () => {
    const listener = await listenUdp(cleanups);
    await countLaunch('master', { statsd: listener.address, appName: '@shop/api v2:beta|x@y' });
    expect(await packetsAfterSentinel(listener)).toEqual([
      'shop_api_v2_beta_x_y.launches.master:1|c',
    ]);
  });

  it("ignores a LASTCALL_APP_NAME of 'undefined' and falls back to THEHELP_APP_NAME", async () => {
    const listener = await listenUdp(cleanups);
    process.env['LASTCALL_APP_NAME'] = 'undefined';
    process.env['THEHELP_APP_NAME'] = 'legacy';
    await countLaunch('worker', { statsd: listener.address });
    expect(await packetsAfterSentinel(listener)).toEqual(['legacy.launches.worker:1|c']);
  });
});

describe('countLaunch() failures', () => {
  it('resolves and logs one warning when the OS refuses the datagram', async () => {
    const logger = captureLogger();
    // Linux and macOS refuse a broadcast from a socket without SO_BROADCAST: EACCES.
    await expect(
      countLaunch('master', { statsd: '255.255.255.255:8125', appName: 'shop', logger }),
    ).resolves.toBeUndefined();
    expect(logger.lines).toHaveLength(1);
    expect(logger.lines[0]).toMatchObject({
      level: 'warn',
      fields: { role: 'master', pid: process.pid, metric: 'shop.launches.master' },
    });
    expect(codeOf(logger.lines[0]?.fields)).toBe('EACCES');
  });

  it('resolves and logs one warning when LASTCALL_STATSD has a bad port', async () => {
    process.env['LASTCALL_STATSD'] = '127.0.0.1:99999';
    const logger = captureLogger();
    await expect(countLaunch('worker', { appName: 'shop', logger })).resolves.toBeUndefined();
    expect(logger.lines.map(({ level }) => level)).toEqual(['warn']);
    expect(codeOf(logger.lines[0]?.fields)).toBe('LASTCALL_ERR_LAST_DITCH_INVALID_TARGET');
  });

  it("resolves and logs one warning when the client's increment() throws", async () => {
    const logger = captureLogger();
    const failure = Object.assign(new Error('socket gone'), { code: 'ECLIENT' });
    await countLaunch('worker', {
      statsd: {
        increment: () => {
          throw failure;
        },
      },
      appName: 'shop',
      logger,
    });
    expect(logger.lines).toHaveLength(1);
    expect(logger.lines[0]?.fields['err']).toBe(failure);
  });

  it('resolves and logs one warning when the app cannot be named: its working folder is gone', async () => {
    const before = process.cwd();
    const gone = fs.mkdtempSync(path.join(os.tmpdir(), 'lastcall-cwd-'));
    process.chdir(gone);
    cleanups.push(() => {
      process.chdir(before);
    });
    fs.rmdirSync(gone);
    const logger = captureLogger();
    const calls: unknown[][] = [];
    await expect(
      countLaunch('worker', {
        statsd: { increment: (...args: unknown[]) => calls.push(args) },
        logger,
      }),
    ).resolves.toBeUndefined();
    expect(calls).toEqual([]);
    expect(logger.lines).toHaveLength(1);
    expect(logger.lines[0]?.fields).not.toHaveProperty('metric');
    expect(codeOf(logger.lines[0]?.fields)).toBe('ENOENT');
  });

  it("resolves when the app's logger throws while warning", async () => {
    let warnings = 0;
    const throwingLogger: Logger = {
      ...captureLogger(),
      warn: () => {
        warnings += 1;
        throw new Error('logger broken');
      },
    };
    await expect(
      countLaunch('master', { statsd: '255.255.255.255:8125', logger: throwingLogger }),
    ).resolves.toBeUndefined();
    expect(warnings).toBe(1);
  });
});

/** What `run` throws synchronously; `undefined` when it returns (a rejection does not count). */
function thrownBy(run: () => unknown): unknown {
  try {
    void run();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('countLaunch() bad arguments', () => {
  it.each([
    [{ statsd: 42 }, 'option "statsd" must be a client with an increment() method'],
    [{ statsd: true }, 'option "statsd" must be'],
    [{ statsd: 'nohost' }, 'option "statsd" must be'],
    [{ statsd: '127.0.0.1:0' }, 'option "statsd" must be'],
    [{ statsd: '127.0.0.1:65536' }, 'option "statsd" must be'],
    [{ statsd: {} }, 'option "statsd" must be'],
    [{ appName: '' }, 'option "appName" must be a non-empty string, got'],
    [{ appName: '   ' }, 'option "appName" must be a non-empty string'],
    [{ appName: 42 }, 'option "appName" must be a non-empty string'],
    [{ logger: {} }, 'option "logger" must be a logger with a warn() method'],
    [{ statd: 'x' }, 'unknown option "statd"; expected one of statsd, appName, logger'],
    ['shop', 'options must be an object'],
    [null, 'options must be an object'],
  ])('throws LASTCALL_ERR_LASTCALL_INVALID_OPTIONS at once for %p', (options, message) => {
    const thrown = thrownBy(() => countLaunch('master', options as never));
    expect(thrown).toBeInstanceOf(LastcallError);
    expect(thrown).toMatchObject({
      name: 'LastcallError',
      code: 'LASTCALL_ERR_LASTCALL_INVALID_OPTIONS',
    });
    expect((thrown as Error).message).toContain(message);
  });

  it('throws LASTCALL_ERR_LASTCALL_INVALID_OPTIONS for a role other than master or worker', () => {
    const thrown = thrownBy(() => countLaunch('primary' as never));
    expect(thrown).toBeInstanceOf(LastcallError);
    expect(thrown).toMatchObject({ code: 'LASTCALL_ERR_LASTCALL_INVALID_OPTIONS' });
    expect((thrown as Error).message).toBe(
      "countLaunch(): role must be 'master' or 'worker', got the string \"primary\"",
    );
  });

  it('accepts options given as undefined, as a caller passing its own options through does', async () => {
    const listener = await listenUdp(cleanups);
    process.env['LASTCALL_STATSD'] = listener.address;
    await countLaunch('master', { statsd: undefined, appName: 'shop', logger: undefined });
    expect(await packetsAfterSentinel(listener)).toEqual(['shop.launches.master:1|c']);
  });
});
