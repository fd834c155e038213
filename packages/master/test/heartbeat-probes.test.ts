/**
 * The heartbeat's probes for orchestrators (issue 19): `/readyz` answers as `<path>` in JSON
 * whatever the format, `/livez` answers 200 while the master's event loop turns and 503 after a
 * stall; the body carries the versions the serving workers reported and the drain telemetry;
 * `setDisabled` tells the master when the rotation changes.
 */
import { request } from 'undici';
import { Heartbeat, LIVENESS_STALL, MIXED_VERSION } from '../src/primary/heartbeat';
import type { HeartbeatState, LivenessBody } from '../src/primary/heartbeat';
import { readOptions } from '../src/primary/options';
import { heartbeatSettings, recordingLogger, serving } from './unit-support';

const SETTINGS = heartbeatSettings({ startVersion: '0.9.0' });

let heartbeat: Heartbeat | undefined;

afterEach(async () => {
  jest.useRealTimers();
  jest.restoreAllMocks();
  await heartbeat?.close();
  heartbeat = undefined;
});

/** A heartbeat on 127.0.0.1:0; its origin. Closed in `afterEach`. */
async function listening(
  state: () => HeartbeatState,
  settings: Partial<ConstructorParameters<typeof Heartbeat>[0]> = {},
  onDisabledChange?: (isDisabled: boolean) => void,
): Promise<string> {
  heartbeat = new Heartbeat({ ...SETTINGS, ...settings }, state, undefined, onDisabledChange);
  const { port } = await heartbeat.listen();
  return `http://127.0.0.1:${String(port)}`;
}

describe('GET /readyz', () => {
  it.each([
    ['serving', {}, 200, 'ok'],
    ['with a failed slot but enough ready workers', { failedSlots: 1, ready: 1 }, 200, 'degraded'],
    ['below minReady', { ready: 1, minReady: 2 }, 503, 'unavailable'],
    ['before the start resolved', { isStarted: false }, 503, 'starting'],
    ['shutting down', { isShuttingDown: true }, 503, 'shutting-down'],
  ])('answers like <path> when %s', async (_when, overrides, statusCode, status) => {
    const origin = await listening(() => serving(overrides));
    const response = await request(`${origin}/readyz`);
    expect(response.statusCode).toBe(statusCode);
    expect(response.headers['content-type']).toBe('application/json');
    expect(response.headers['cache-control']).toBe('no-store');
    expect(await response.body.json()).toMatchObject({ status, version: '0.9.0' });
    const ecv = await request(`${origin}/ecv`);
    expect(ecv.statusCode).toBe(statusCode);
    await ecv.body.dump();
  });

  it('answers 503 disabled while the node is out of rotation, and 200 again after', async () => {
    const origin = await listening(() => serving());
    heartbeat!.setDisabled(true);
    const disabled = await request(`${origin}/readyz`);
    expect(disabled.statusCode).toBe(503);
    expect(await disabled.body.json()).toMatchObject({ status: 'disabled' });
    heartbeat!.setDisabled(false);
    const enabled = await request(`${origin}/readyz`);
    expect(enabled.statusCode).toBe(200);
    expect(await enabled.body.json()).toMatchObject({ status: 'ok' });
  });

  it.each([
    ['serving', {}, 200, 'ok'],
    ['shutting down', { isShuttingDown: true }, 503, 'shutting-down'],
  ])(
    "answers JSON when %s with format 'cluster2', where <path> answers cluster2's text",
    async (_when, overrides, statusCode, status) => {
      const origin = await listening(() => serving(overrides), { format: 'cluster2' });
      const readyz = await request(`${origin}/readyz`);
      expect(readyz.statusCode).toBe(statusCode);
      expect(readyz.headers['content-type']).toBe('application/json');
      expect(await readyz.body.json()).toMatchObject({ status, workers: { ready: 2, total: 2 } });
      const ecv = await request(`${origin}/ecv`);
      expect(ecv.headers['content-type']).toBe('text/plain');
      expect((await ecv.body.text()).startsWith('{')).toBe(false);
    },
  );

  it('answers HEAD with the status and no body, and other methods with 405', async () => {
    const origin = await listening(() => serving({ isShuttingDown: true }));
    const head = await request(`${origin}/readyz`, { method: 'HEAD' });
    expect(head.statusCode).toBe(503);
    expect(await head.body.text()).toBe('');
    const post = await request(`${origin}/readyz`, { method: 'POST' });
    expect(post.statusCode).toBe(405);
    expect(post.headers['allow']).toBe('GET, HEAD');
    expect(await post.body.json()).toStrictEqual({ error: 'method not allowed' });
  });
});

describe('GET /livez', () => {
  it('answers 200 alive with no stall, also while the master drains', async () => {
    const origin = await listening(() => serving({ isShuttingDown: true }));
    const response = await request(`${origin}/livez`);
    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    const body = (await response.body.json()) as LivenessBody;
    expect(body).toStrictEqual({
      status: 'alive',
      pid: process.pid,
      uptime: body.uptime,
      stall: 0,
    });
    expect(body.uptime).toBeGreaterThanOrEqual(0);
    expect(body.uptime).toBeLessThan(5);
    const readyz = await request(`${origin}/readyz`);
    expect(readyz.statusCode).toBe(503);
    await readyz.body.dump();
  });

  it('answers 405 to POST, naming GET and HEAD', async () => {
    const origin = await listening(() => serving());
    const response = await request(`${origin}/livez`, { method: 'POST' });
    expect(response.statusCode).toBe(405);
    expect(response.headers['allow']).toBe('GET, HEAD');
    expect(await response.body.json()).toStrictEqual({ error: 'method not allowed' });
  });

  it('answers 503 wedged after the event loop stalled for LIVENESS_STALL ms', async () => {
    const origin = await listening(() => serving());
    // As if the event loop had been blocked for 6 s: the clock jumps, no tick ran meanwhile.
    const realNow = Date.now.bind(Date);
    jest.spyOn(Date, 'now').mockImplementation(() => realNow() + 6000);
    const response = await request(`${origin}/livez`);
    expect(response.statusCode).toBe(503);
    const body = (await response.body.json()) as LivenessBody;
    expect(body.status).toBe('wedged');
    expect(body.stall).toBeGreaterThanOrEqual(LIVENESS_STALL);
    // 6000 ms, give or take how late the tick before the jump ran.
    expect(body.stall).toBeLessThan(7000);
  });
});

describe('the stall watch of /livez', () => {
  /** A listening heartbeat on fake timers and a fake clock, ticked once on time. */
  async function onFakeClock(): Promise<Heartbeat> {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'], now: 1e12 });
    heartbeat = new Heartbeat(SETTINGS, () => serving());
    await heartbeat.listen();
    jest.advanceTimersByTime(2000);
    expect(heartbeat.liveness()).toMatchObject({
      statusCode: 200,
      body: { status: 'alive', stall: 0 },
    });
    return heartbeat;
  }

  /** The event loop blocked for `ms`: the clock moves, no timer fires; then the late tick. */
  function stall(ms: number): void {
    jest.setSystemTime(Date.now() + ms);
    jest.advanceTimersByTime(500);
  }

  it('counts a tick late by LIVENESS_STALL ms as a stall, and reports it for 30 s', async () => {
    const watched = await onFakeClock();
    stall(6000);
    expect(watched.liveness()).toStrictEqual({
      statusCode: 503,
      body: { status: 'wedged', pid: process.pid, uptime: 9, stall: 6000 },
    });
    jest.advanceTimersByTime(29_000);
    expect(watched.liveness()).toMatchObject({ statusCode: 503, body: { stall: 6000 } });
    jest.advanceTimersByTime(1500);
    expect(watched.liveness()).toMatchObject({
      statusCode: 200,
      body: { status: 'alive', stall: 0 },
    });
  });

  it('takes a stall of exactly LIVENESS_STALL ms, not a shorter one', async () => {
    const watched = await onFakeClock();
    stall(LIVENESS_STALL - 100);
    expect(watched.liveness()).toMatchObject({ statusCode: 200, body: { stall: 0 } });
    stall(LIVENESS_STALL);
    expect(watched.liveness()).toMatchObject({
      statusCode: 503,
      body: { status: 'wedged', stall: LIVENESS_STALL },
    });
  });

  it('reports the longest of the recent stalls', async () => {
    const watched = await onFakeClock();
    stall(9000);
    jest.advanceTimersByTime(5000);
    stall(7000);
    expect(watched.liveness().body.stall).toBe(9000);
  });

  it('sees a stall that the request itself is the first to notice', async () => {
    const watched = await onFakeClock();
    jest.setSystemTime(Date.now() + 8000);
    expect(watched.liveness()).toMatchObject({ statusCode: 503, body: { status: 'wedged' } });
  });

  it('stops ticking on close()', async () => {
    const watched = await onFakeClock();
    expect(jest.getTimerCount()).toBeGreaterThan(0);
    const before = jest.getTimerCount();
    await watched.close();
    heartbeat = undefined;
    expect(jest.getTimerCount()).toBeLessThan(before);
  });
});

describe('the versions in the body', () => {
  it.each<[string, HeartbeatState['servingVersions'], string | null, Record<string, number>]>([
    ['none reported: the version of the master at its start', [], '0.9.0', {}],
    ['one version', ['1.0.0', '1.0.0'], '1.0.0', { '1.0.0': 2 }],
    ['two versions: mixed', ['1.0.0', '2.0.0', '2.0.0'], MIXED_VERSION, { '1.0.0': 1, '2.0.0': 2 }],
    ['null and not yet said: unknown', [null, undefined], '0.9.0', { unknown: 2 }],
    ['one version beside an unknown', ['2.0.0', null], '2.0.0', { '2.0.0': 1, unknown: 1 }],
  ])('reports %s', async (_what, servingVersions, version, versions) => {
    expect(MIXED_VERSION).toBe('mixed');
    const origin = await listening(() => serving({ servingVersions }));
    for (const route of ['/ecv', '/readyz']) {
      const response = await request(`${origin}${route}`);
      expect(await response.body.json()).toMatchObject({ version, versions });
    }
  });

  it('reports heartbeat.version when given, whatever the workers run, and still counts theirs', async () => {
    const origin = await listening(() => serving({ servingVersions: ['1.0.0', '2.0.0'] }), {
      version: '9.9.9',
    });
    const response = await request(`${origin}/readyz`);
    expect(await response.body.json()).toMatchObject({
      version: '9.9.9',
      versions: { '1.0.0': 1, '2.0.0': 1 },
    });
  });

  it("reads heartbeat.version as given only; the master's LASTCALL_APP_VERSION is its start version", () => {
    const saved = process.env['LASTCALL_APP_VERSION'];
    try {
      process.env['LASTCALL_APP_VERSION'] = '3.1.4';
      expect(readOptions({ heartbeat: { port: 0 } }).heartbeat).toMatchObject({
        version: undefined,
        startVersion: '3.1.4',
      });
      expect(readOptions({ heartbeat: { port: 0, version: '9.9.9' } }).heartbeat).toMatchObject({
        version: '9.9.9',
        startVersion: '3.1.4',
      });
    } finally {
      if (saved === undefined) delete process.env['LASTCALL_APP_VERSION'];
      else process.env['LASTCALL_APP_VERSION'] = saved;
    }
  });

  it('reports null when no worker, no option and no start version says one', () => {
    heartbeat = new Heartbeat({ ...SETTINGS, startVersion: undefined }, () =>
      serving({ servingVersions: [null] }),
    );
    expect(heartbeat.report().body).toMatchObject({ version: null, versions: { unknown: 1 } });
  });
});

describe('the drain telemetry in the body', () => {
  it('passes the draining workers and their requests in flight through', async () => {
    const origin = await listening(() =>
      serving({ isShuttingDown: true, draining: { workers: 2, inFlight: 7 } }),
    );
    const response = await request(`${origin}/readyz`);
    expect(await response.body.json()).toMatchObject({
      status: 'shutting-down',
      draining: { workers: 2, inFlight: 7 },
    });
    expect(heartbeat!.report().body.draining).toStrictEqual({ workers: 2, inFlight: 7 });
  });
});

describe('setDisabled', () => {
  it('calls back once per change with the new state', () => {
    const changes: boolean[] = [];
    heartbeat = new Heartbeat(
      SETTINGS,
      () => serving(),
      undefined,
      (isDisabled) => {
        changes.push(isDisabled);
      },
    );
    heartbeat.setDisabled(true);
    heartbeat.setDisabled(true);
    expect(heartbeat.isDisabled).toBe(true);
    heartbeat.setDisabled(false);
    heartbeat.setDisabled(false);
    expect(heartbeat.isDisabled).toBe(false);
    expect(changes).toStrictEqual([true, false]);
  });

  it('is what POST <path>/disable and /enable call: the callback hears those too', async () => {
    const changes: boolean[] = [];
    const origin = await listening(
      () => serving(),
      {},
      (isDisabled) => {
        changes.push(isDisabled);
      },
    );
    const disable = await request(`${origin}/ecv/disable`, { method: 'POST' });
    expect(disable.statusCode).toBe(200);
    expect(await disable.body.json()).toMatchObject({ status: 'disabled', httpStatus: 503 });
    await (await request(`${origin}/ecv/disable`, { method: 'POST' })).body.dump();
    expect(changes).toStrictEqual([true]);
    const enable = await request(`${origin}/ecv/enable`, { method: 'POST' });
    expect(await enable.body.json()).toMatchObject({ status: 'ok', httpStatus: 200 });
    expect(changes).toStrictEqual([true, false]);
  });

  it('is not called for a refused POST (a wrong token)', async () => {
    const changes: boolean[] = [];
    const origin = await listening(
      () => serving(),
      { token: 's3cret' },
      (isDisabled) => {
        changes.push(isDisabled);
      },
    );
    const refused = await request(`${origin}/ecv/disable`, {
      method: 'POST',
      headers: { authorization: 'Bearer wrong!' },
    });
    expect(refused.statusCode).toBe(403);
    await refused.body.dump();
    expect(changes).toStrictEqual([]);
    const allowed = await request(`${origin}/ecv/disable`, {
      method: 'POST',
      headers: { authorization: 'Bearer s3cret' },
    });
    expect(allowed.statusCode).toBe(200);
    await allowed.body.dump();
    expect(changes).toStrictEqual([true]);
  });
});

describe('a request the heartbeat cannot answer', () => {
  it('is answered 500 and logged, and the heartbeat answers on: never an unhandled rejection', async () => {
    const { logger, records } = recordingLogger();
    let isBroken = true;
    heartbeat = new Heartbeat(
      SETTINGS,
      () => {
        if (isBroken) throw new Error('the state broke');
        return serving();
      },
      logger,
    );
    const { port } = await heartbeat.listen();
    const origin = `http://127.0.0.1:${String(port)}`;
    const broken = await request(`${origin}/readyz`);
    await broken.body.text();
    expect(broken.statusCode).toBe(500);
    expect(records).toContainEqual(
      expect.objectContaining({
        level: 'error',
        message: 'the heartbeat could not answer a request',
      }),
    );
    isBroken = false;
    const answer = await request(`${origin}/readyz`);
    await answer.body.text();
    expect(answer.statusCode).toBe(200);
  });
});
