import * as http from 'node:http';
import * as os from 'node:os';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { Heartbeat } from '../src/primary/heartbeat';
import type { HeartbeatSettings, HeartbeatState } from '../src/primary/heartbeat';
import { HeartbeatMonitor, hostOf } from '../src/primary/heartbeat-monitor';
import type { AppAddress, MonitorSettings } from '../src/primary/heartbeat-monitor';
import { cluster2Answer } from '../src/primary/cluster2-ecv';
import { readOptions } from '../src/primary/options';
import { MasterError } from '../src/errors';
import { heartbeatSettings, recordingLogger, serving, sleep } from './unit-support';
import type { Logged } from './unit-support';

function settings(overrides: Partial<HeartbeatSettings> = {}): HeartbeatSettings {
  return heartbeatSettings({ version: '1.2.3', ...overrides });
}

/** A real dependency whose answer the test sets: a status code, or `'hang'` (never answers). */
async function startDependency(): Promise<{
  port: number;
  hits: string[];
  answer: (next: number | 'hang') => void;
  close: () => Promise<void>;
}> {
  let current: number | 'hang' = 200;
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(req.url ?? '');
    if (current === 'hang') return;
    res.writeHead(current, { 'Content-Type': 'text/plain' }).end('dependency');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    hits,
    answer: (next) => {
      current = next;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function monitorOf(
  target: MonitorSettings['target'],
  {
    timeout = 2000,
    cacheMs = 0,
    app,
  }: { timeout?: number; cacheMs?: number; app?: AppAddress } = {},
): { monitor: HeartbeatMonitor; log: { lines: Logged[] } } {
  const { logger, records } = recordingLogger();
  const monitor = new HeartbeatMonitor({ target, timeout, cacheMs }, () => app, logger);
  cleanups.push(() => {
    monitor.close();
  });
  return { monitor, log: { lines: records } };
}

describe('HeartbeatMonitor with a function', () => {
  it('is up on true, and down with the reason on false, a throw, a rejection or no answer', async () => {
    const answers: (() => unknown)[] = [
      () => true,
      () => false,
      () => {
        throw new Error('db gone');
      },
      () => Promise.reject(new Error('redis refused')),
      () => new Promise(() => undefined),
      () => 'yes',
    ];
    let index = 0;
    const { monitor } = monitorOf(() => answers[index]?.() as boolean, { timeout: 200 });
    const reasons: (string | null)[] = [];
    for (index = 0; index < answers.length; index += 1) {
      reasons.push((await monitor.check()).reason);
    }
    expect(reasons).toEqual([
      null,
      'the monitor function returned false',
      'the monitor function threw: db gone',
      'the monitor function threw: redis refused',
      'the monitor function did not settle within 200 ms',
      'the monitor function returned "yes"',
    ]);
  });

  it('shares one check among concurrent callers and reuses it for cacheMs', async () => {
    let calls = 0;
    let release: (up: boolean) => void = () => undefined;
    const { monitor } = monitorOf(
      () => {
        calls += 1;
        return new Promise<boolean>((resolve) => {
          release = resolve;
        });
      },
      { cacheMs: 300 },
    );
    const concurrent = [monitor.check(), monitor.check(), monitor.check()];
    await sleep(20);
    expect(calls).toBe(1);
    release(true);
    const results = await Promise.all(concurrent);
    expect(new Set(results).size).toBe(1);
    expect(results[0]?.isUp).toBe(true);
    await monitor.check();
    expect(calls).toBe(1);
    await sleep(400);
    const next = monitor.check();
    release(false);
    expect((await next).isUp).toBe(false);
    expect(calls).toBe(2);
  });

  it('logs each change once: warn when it goes down, info when it is back, nothing per check', async () => {
    const sequence = [true, false, false, false, true, true, false];
    let index = 0;
    const { monitor, log } = monitorOf(() => sequence[index] === true);
    for (index = 0; index < sequence.length; index += 1) await monitor.check();
    expect(log.lines.map((line) => line.level)).toEqual(['warn', 'info', 'warn']);
    expect(log.lines[0]?.message).toMatch(
      /^heartbeat monitor failed: the monitor function returned false; .*the workers are left alone$/,
    );
    expect(log.lines[1]?.message).toMatch(/^heartbeat monitor passes again after \d+ ms/);
  });

  it('warns when the very first check fails', async () => {
    const { monitor, log } = monitorOf(() => false);
    await monitor.check();
    expect(log.lines.map((line) => line.level)).toEqual(['warn']);
  });
});

describe('HeartbeatMonitor with a URL or a path', () => {
  it('is up on 2xx and down with the status code, then up again', async () => {
    const dependency = await startDependency();
    cleanups.push(dependency.close);
    const { monitor, log } = monitorOf(`http://127.0.0.1:${String(dependency.port)}/health?k=1`);
    expect(await monitor.check()).toMatchObject({ isUp: true, reason: null });
    dependency.answer(500);
    expect((await monitor.check()).reason).toBe(
      `GET http://127.0.0.1:${String(dependency.port)}/health answered 500`,
    );
    dependency.answer(302);
    expect((await monitor.check()).isUp).toBe(false);
    dependency.answer(204);
    expect((await monitor.check()).isUp).toBe(true);
    expect(dependency.hits).toEqual(Array(4).fill('/health?k=1'));
    expect(log.lines.map((line) => line.level)).toEqual(['warn', 'info']);
  });

  it('is down when the dependency refuses or does not answer within the timeout', async () => {
    const dependency = await startDependency();
    dependency.answer('hang');
    cleanups.push(dependency.close);
    const hanging = monitorOf(`http://127.0.0.1:${String(dependency.port)}/`, { timeout: 300 });
    const started = Date.now();
    expect((await hanging.monitor.check()).reason).toBe(
      `GET http://127.0.0.1:${String(dependency.port)}/ did not answer within 300 ms`,
    );
    expect(Date.now() - started).toBeLessThan(2000);

    const closed = await startDependency();
    await closed.close();
    const refused = monitorOf(`http://127.0.0.1:${String(closed.port)}/`);
    expect((await refused.monitor.check()).reason).toBe(
      `GET http://127.0.0.1:${String(closed.port)}/ failed: ECONNREFUSED`,
    );
  });

  it('checks a path on the address the app listens on, and is down before one listens', async () => {
    const dependency = await startDependency();
    cleanups.push(dependency.close);
    const before = monitorOf('/healthcheck');
    expect((await before.monitor.check()).reason).toBe(
      'no worker listens yet, so /healthcheck cannot be checked',
    );
    const { monitor } = monitorOf('/healthcheck', {
      app: { address: '0.0.0.0', port: dependency.port },
    });
    expect((await monitor.check()).isUp).toBe(true);
    expect(dependency.hits).toEqual(['/healthcheck']);
  });

  it('reaches a wildcard address on loopback and brackets IPv6', () => {
    expect(hostOf('0.0.0.0')).toBe('127.0.0.1');
    expect(hostOf('::')).toBe('127.0.0.1');
    expect(hostOf('::1')).toBe('[::1]');
    expect(hostOf('10.1.2.3')).toBe('10.1.2.3');
  });
});

describe('the heartbeat with a monitor', () => {
  let heartbeat: Heartbeat | undefined;
  afterEach(async () => {
    await heartbeat?.close();
    heartbeat = undefined;
  });

  async function started(
    monitor: MonitorSettings['target'],
    state: () => HeartbeatState = () => serving(),
    format: HeartbeatSettings['format'] = 'json',
  ): Promise<{ url: string; log: { lines: Logged[] } }> {
    const { logger, records } = recordingLogger();
    heartbeat = new Heartbeat(
      settings({ format, monitor: { target: monitor, timeout: 500, cacheMs: 0 } }),
      state,
      logger,
    );
    const { port } = await heartbeat.listen();
    return { url: `http://127.0.0.1:${String(port)}/ecv`, log: { lines: records } };
  }

  it('answers 503 monitor-failed with the reason while it fails, and 200 once it passes', async () => {
    let isUp = false;
    const { url, log } = await started(() => isUp);
    const down = await request(url);
    expect(down.statusCode).toBe(503);
    expect(await down.body.json()).toMatchObject({
      status: 'monitor-failed',
      monitor: { status: 'down', reason: 'the monitor function returned false' },
    });
    isUp = true;
    const up = await request(url);
    expect(up.statusCode).toBe(200);
    expect(await up.body.json()).toMatchObject({
      status: 'ok',
      monitor: { status: 'up', reason: null },
    });
    expect(log.lines.map((line) => line.level)).toEqual(['warn', 'info']);
  });

  it('does not ask the monitor while the node is out of rotation for another reason', async () => {
    let calls = 0;
    let state = serving({ isStarted: false });
    const { url } = await started(
      () => {
        calls += 1;
        return true;
      },
      () => state,
    );
    const starting = await request(url);
    expect(await starting.body.json()).toMatchObject({
      status: 'starting',
      monitor: { status: 'unchecked' },
    });
    expect(calls).toBe(0);
    state = serving();
    expect((await request(url)).statusCode).toBe(200);
    expect(calls).toBe(1);
  });

  it('answers HEAD after the check too', async () => {
    const { url } = await started(() => false);
    const response = await request(url, { method: 'HEAD' });
    expect(response.statusCode).toBe(503);
    expect(await response.body.text()).toBe('');
  });
});

describe("the heartbeat in cluster2's format", () => {
  let heartbeat: Heartbeat | undefined;
  afterEach(async () => {
    await heartbeat?.close();
    heartbeat = undefined;
  });

  const TIME = String.raw`\w{3} \w{3} \d{2} \d{4} \d{2}:\d{2}:\d{2} GMT[+-]\d{4} \(.+\)`;
  const textOf = (word: string, serves: boolean, port = '8123'): RegExp =>
    new RegExp(
      `^status=${word}&ServeTraffic=${String(serves)}&ip=127\\.0\\.0\\.1&hostname=${os.hostname()}&port=${port}&time=${TIME}$`,
    );

  it.each([
    ['serving', {}, 200, 'AVAILABLE', true],
    ['degraded', { failedSlots: 1 }, 200, 'AVAILABLE', true],
    ['starting', { isStarted: false }, 400, 'DISABLED', false],
    ['shutting down', { isShuttingDown: true }, 400, 'DISABLED', false],
    ['below minReady', { ready: 0 }, 500, 'WARNING', false],
  ])('answers %s with %s', async (_when, overrides, statusCode, word, serves) => {
    heartbeat = new Heartbeat(settings({ format: 'cluster2' }), () => serving(overrides));
    const { port } = await heartbeat.listen();
    const response = await request(`http://127.0.0.1:${String(port)}/ecv`);
    expect(response.statusCode).toBe(statusCode);
    expect(response.headers['content-type']).toBe('text/plain');
    expect(await response.body.text()).toMatch(textOf(word, serves));
  });

  it('answers a failed monitor with 500 WARNING, and disable/enable with 204 and 400 DISABLED', async () => {
    let isUp = false;
    heartbeat = new Heartbeat(
      settings({ format: 'cluster2', monitor: { target: () => isUp, timeout: 500, cacheMs: 0 } }),
      () => serving(),
      recordingLogger().logger,
    );
    const { port } = await heartbeat.listen();
    const base = `http://127.0.0.1:${String(port)}/ecv`;
    const failed = await request(base);
    expect(failed.statusCode).toBe(500);
    expect(await failed.body.text()).toMatch(textOf('WARNING', false));
    isUp = true;
    const disable = await request(`${base}/disable`, { method: 'POST' });
    expect(disable.statusCode).toBe(204);
    expect(await disable.body.text()).toBe('');
    const disabled = await request(base);
    expect(disabled.statusCode).toBe(400);
    expect(await disabled.body.text()).toMatch(textOf('DISABLED', false));
    expect((await request(`${base}/enable`, { method: 'POST' })).statusCode).toBe(204);
    const available = await request(base);
    expect(available.statusCode).toBe(200);
    expect(await available.body.text()).toMatch(textOf('AVAILABLE', true));
  });

  it('writes the fields in order, the port empty before a worker listens', () => {
    const now = new Date(Date.UTC(2024, 2, 5, 10, 0, 0));
    expect(cluster2Answer('ok', { ip: '::ffff:10.0.0.7', port: 3000, now })).toEqual({
      statusCode: 200,
      text: `status=AVAILABLE&ServeTraffic=true&ip=10.0.0.7&hostname=${os.hostname()}&port=3000&time=${now.toString()}`,
    });
    expect(cluster2Answer('disabled', { ip: '::1', port: undefined, now }).text).toBe(
      `status=DISABLED&ServeTraffic=false&ip=::1&hostname=${os.hostname()}&port=&time=${now.toString()}`,
    );
  });
});

describe('heartbeat options', () => {
  const base = { port: 0 };
  it.each([
    ['format', { format: 'xml' }, /"heartbeat.format" must be 'json' or 'cluster2'/],
    ['a relative monitor', { monitor: 'healthcheck' }, /"heartbeat.monitor" must be a function/],
    ['an ftp monitor', { monitor: 'ftp://db/' }, /"heartbeat.monitor"/],
    ['a protocol-relative monitor', { monitor: '//db/health' }, /"heartbeat.monitor"/],
    ['a number monitor', { monitor: 42 }, /"heartbeat.monitor"/],
    ['monitorTimeout 0', { monitor: '/h', monitorTimeout: 0 }, /"heartbeat.monitorTimeout"/],
    [
      'monitorTimeout too long',
      { monitor: '/h', monitorTimeout: 60_001 },
      /"heartbeat.monitorTimeout" must be a number of ms > 0 and <= 60000/,
    ],
    ['monitorCacheMs < 0', { monitor: '/h', monitorCacheMs: -1 }, /"heartbeat.monitorCacheMs"/],
    ['monitorCacheMs NaN', { monitor: '/h', monitorCacheMs: NaN }, /"heartbeat.monitorCacheMs"/],
    [
      'monitorTimeout without a monitor',
      { monitorTimeout: 100 },
      /"heartbeat.monitorTimeout" needs "heartbeat.monitor"/,
    ],
    ['an unknown key', { monitorUrl: 'http://x/' }, /unknown option "heartbeat.monitorUrl"/],
  ])('refuses %s', (_name, heartbeat, message) => {
    let thrown: unknown;
    try {
      readOptions({ heartbeat: { ...base, ...heartbeat } as never });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(MasterError);
    expect(thrown).toMatchObject({ code: 'LASTCALL_ERR_MASTER_INVALID_OPTIONS' });
    expect((thrown as Error).message).toMatch(message);
  });

  it('fills in the defaults and takes each kind of monitor', () => {
    expect(readOptions({ heartbeat: base }).heartbeat).toMatchObject({
      format: 'json',
      monitor: undefined,
    });
    const check = (): boolean => true;
    expect(readOptions({ heartbeat: { ...base, monitor: check } }).heartbeat?.monitor).toEqual({
      target: check,
      timeout: 2000,
      cacheMs: 1000,
    });
    const url = readOptions({
      heartbeat: {
        ...base,
        format: 'cluster2',
        monitor: 'https://db.internal:8443/ping',
        monitorTimeout: 500,
        monitorCacheMs: 0,
      },
    }).heartbeat;
    expect(url).toMatchObject({
      format: 'cluster2',
      monitor: { target: 'https://db.internal:8443/ping', timeout: 500, cacheMs: 0 },
    });
    expect(
      readOptions({ heartbeat: { ...base, monitor: '/healthcheck' } }).heartbeat?.monitor?.target,
    ).toBe('/healthcheck');
  });
});
