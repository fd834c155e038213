/**
 * The master's services around its workers, with real processes: the heartbeat a load balancer
 * polls, the pid file, worker → master requests, recycling and health checks.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { request } from 'undici';
import { get, killApps, makeTempDir, sleep, startLoad, startMaster, waitForCount } from './support';
import type { MasterApp } from './support';

afterEach(killApps);

async function started(options: Record<string, unknown>): Promise<MasterApp> {
  const app = startMaster(options);
  await app.waitFor('started', 20_000);
  return app;
}

function heartbeatPort(app: MasterApp): number {
  const address = app.eventsNamed('started')[0]?.['heartbeat'] as { port: number };
  return address.port;
}

async function call(
  port: number,
  urlPath: string,
  init: { method?: 'GET' | 'POST' | 'PUT'; token?: string } = {},
): Promise<{ status: number; body: Record<string, unknown>; allow: unknown }> {
  const response = await request(`http://127.0.0.1:${String(port)}${urlPath}`, {
    method: init.method ?? 'GET',
    headers: init.token === undefined ? {} : { authorization: `Bearer ${init.token}` },
  });
  const body = (await response.body.json()) as Record<string, unknown>;
  return { status: response.statusCode, body, allow: response.headers['allow'] };
}

describe('the heartbeat', () => {
  it('answers 200 with the workers while serving, 503 once disabled, 200 again once enabled', async () => {
    const app = await started({ workers: 2, heartbeat: { port: 0, version: '1.2.3' } });
    const port = heartbeatPort(app);
    expect(await call(port, '/ecv')).toMatchObject({
      status: 200,
      body: { status: 'ok', workers: { ready: 2, total: 2, failedSlots: 0 }, version: '1.2.3' },
    });
    expect(await call(port, '/ecv/disable', { method: 'POST' })).toMatchObject({ status: 200 });
    expect(await call(port, '/ecv')).toMatchObject({ status: 503, body: { status: 'disabled' } });
    // The workers serve on: only the load balancer's view changed.
    expect(await get(app.port(), '/ok')).toEqual({ status: 200, body: 'ok' });
    expect(await call(port, '/ecv/enable', { method: 'POST' })).toMatchObject({ status: 200 });
    expect(await call(port, '/ecv')).toMatchObject({ status: 200, body: { status: 'ok' } });
  });

  it('needs the token for control requests when one is set; 405 for other methods, 404 elsewhere', async () => {
    const app = await started({ workers: 1, heartbeat: { port: 0, token: 's3cret' } });
    const port = heartbeatPort(app);
    expect(await call(port, '/ecv/disable', { method: 'POST' })).toMatchObject({ status: 403 });
    expect(await call(port, '/ecv/disable', { method: 'POST', token: 'wrong' })).toMatchObject({
      status: 403,
    });
    expect(await call(port, '/ecv')).toMatchObject({ status: 200 });
    expect(await call(port, '/ecv/disable', { method: 'POST', token: 's3cret' })).toMatchObject({
      status: 200,
    });
    expect(await call(port, '/ecv')).toMatchObject({ status: 503 });
    expect(await call(port, '/ecv', { method: 'PUT' })).toMatchObject({
      status: 405,
      allow: 'GET, HEAD',
    });
    expect(await call(port, '/ecv/disable')).toMatchObject({ status: 405, allow: 'POST' });
    expect(await call(port, '/elsewhere')).toMatchObject({ status: 404 });
  });

  it('turns 503 at the first moment of SIGTERM while the workers still serve the delay', async () => {
    const app = startMaster(
      { workers: 2, heartbeat: { port: 0 } },
      { env: { LASTCALL_SHUTDOWN_DELAY: '1500' } },
    );
    await app.waitFor('started', 20_000);
    const port = heartbeatPort(app);
    app.child.kill('SIGTERM');
    await sleep(300);
    expect(await call(port, '/ecv')).toMatchObject({
      status: 503,
      body: { status: 'shutting-down' },
    });
    expect(await get(app.port(), '/ok')).toEqual({ status: 200, body: 'ok' });
    expect(await app.exited(15_000)).toEqual({ code: 0, signal: null });
  });

  it('on a port in use fails the start, naming the address', async () => {
    const first = await started({ workers: 1, heartbeat: { port: 0 } });
    const port = heartbeatPort(first);
    const second = startMaster({ workers: 1, heartbeat: { port } });
    const failed = await second.waitFor('start-failed', 10_000);
    expect(failed).toMatchObject({ code: 'LASTCALL_ERR_MASTER_PORT_IN_USE' });
    expect(failed['message']).toContain(`127.0.0.1:${String(port)}`);
    expect(await second.exited(10_000)).toEqual({ code: 1, signal: null });
  });
});

describe('the pid file', () => {
  it('is written at start, refused to a second master, and removed at exit', async () => {
    const pidFile = path.join(makeTempDir(), 'master.pid');
    const app = await started({ workers: 1, pidFile });
    expect(fs.readFileSync(pidFile, 'utf8').trim()).toBe(String(app.child.pid));
    const second = startMaster({ workers: 1, pidFile });
    const failed = await second.waitFor('start-failed', 10_000);
    expect(failed).toMatchObject({ code: 'LASTCALL_ERR_MASTER_PID_FILE_IN_USE' });
    expect(failed['message']).toContain(String(app.child.pid));
    expect(await second.exited(10_000)).toEqual({ code: 1, signal: null });
    expect(fs.readFileSync(pidFile, 'utf8').trim()).toBe(String(app.child.pid));
    app.child.kill('SIGTERM');
    expect(await app.exited(10_000)).toEqual({ code: 0, signal: null });
    expect(fs.existsSync(pidFile) ? fs.readFileSync(pidFile, 'utf8') : 'gone').toBe('gone');
  });

  it('replaces a stale one whose process is gone', async () => {
    const pidFile = path.join(makeTempDir(), 'master.pid');
    fs.writeFileSync(pidFile, '2147483646\n');
    const app = await started({ workers: 1, pidFile });
    expect(fs.readFileSync(pidFile, 'utf8').trim()).toBe(String(app.child.pid));
  });
});

describe('requestMaster', () => {
  it("resolves with the handler's answer, and rejects with coded errors", async () => {
    const app = await started({ workers: 1 });
    const ask = async (query: string): Promise<unknown> => {
      const answer = await get(app.port(), `/ask?${query}`);
      return 'body' in answer ? JSON.parse(answer.body) : answer;
    };
    expect(await ask('type=double&n=21')).toEqual({ value: { doubled: 42, slot: 0 } });
    expect(await ask('type=boom')).toEqual({
      code: 'LASTCALL_ERR_MASTER_REQUEST_FAILED',
      message: 'the handler failed',
    });
    expect(await ask('type=nobody')).toEqual({
      code: 'LASTCALL_ERR_MASTER_REQUEST_UNKNOWN',
      message: 'no handler for "nobody"',
    });
    expect(await ask('type=slow&timeout=300')).toEqual({
      code: 'LASTCALL_ERR_MASTER_REQUEST_TIMEOUT',
      message: 'requestMaster("slow"): no answer within 300 ms',
    });
  });
});

describe('recycling', () => {
  it('replaces workers past maxRequests one at a time, spaced, with no failed request', async () => {
    const app = await started({ workers: 2, recycle: { maxRequests: 200, spacing: 800 } });
    const load = startLoad(app.port());
    const recycles = await waitForCount(app, 'recycle', 3, 30_000);
    const tally = await load.stop();
    expect(tally.errors).toEqual([]);
    expect(tally.statuses).toEqual([]);
    expect(recycles[0]?.['reason']).toMatch(/^recycle: \d+ requests \(maxRequests 200\)$/);
    // Spaced by 800 ms ± 20 %, and each one finished before the next began.
    for (let index = 1; index < recycles.length; index += 1) {
      const gap = (recycles[index]?.t ?? 0) - (recycles[index - 1]?.t ?? 0);
      expect(gap).toBeGreaterThanOrEqual(640);
    }
    expect(app.eventsNamed('restartStep').length).toBeGreaterThanOrEqual(2);
  });
});

describe('recycling by other limits', () => {
  it.each([
    ['age', { maxAgeMs: 1500 }, /^recycle: \d+ ms old \(maxAgeMs 1500\)$/],
    ['memory', { maxRssMB: 1 }, /^recycle: rss \d+ MiB \(maxRssMB 1\)$/],
    ['connections', { maxConnections: 2 }, /^recycle: \d+ connections \(maxConnections 2\)$/],
  ])('by %s replaces workers with no failed request', async (_what, limits, reason) => {
    const app = await started({ workers: 2, recycle: { ...limits, spacing: 500 } });
    const load = startLoad(app.port(), { keepAlive: 8, fresh: 1 });
    const [recycle] = await waitForCount(app, 'recycle', 1, 15_000);
    await waitForCount(app, 'restartStep', 1, 15_000);
    await waitForCount(app, 'exit', 1, 15_000);
    const tally = await load.stop();
    expect(recycle?.['reason']).toMatch(reason);
    expect(tally.errors).toEqual([]);
    expect(tally.statuses).toEqual([]);
  });
});

describe('health checks', () => {
  it('replace a worker whose event loop is blocked, killing it when it cannot drain', async () => {
    const app = await started({
      workers: 2,
      health: { pingInterval: 300, missedPings: 3 },
      drainTimeout: 1000,
      killTimeout: 500,
    });
    const blocked = await get(app.port(), '/block?ms=20000');
    expect(blocked).toMatchObject({ status: 200 });
    const [recycle] = await waitForCount(app, 'recycle', 1, 15_000);
    expect(recycle?.['reason']).toMatch(/^health: \d+ pings unanswered$/);
    const [exit] = await waitForCount(app, 'exit', 1, 15_000);
    expect(exit).toMatchObject({ pid: recycle?.['pid'], signal: 'SIGKILL', reason: 'killed' });
    // The slot serves again with a new worker.
    await waitForCount(app, 'ready', 3, 10_000);
    expect(await get(app.port(), '/ok')).toEqual({ status: 200, body: 'ok' });
  });

  it('replace a worker whose probe fails, and only that one', async () => {
    const app = startMaster({ workers: 2, health: { pingInterval: 300 } }, { probe: 'fail-first' });
    await app.waitFor('started', 20_000);
    const load = startLoad(app.port());
    const [recycle] = await waitForCount(app, 'recycle', 1, 15_000);
    await waitForCount(app, 'exit', 1, 15_000);
    await sleep(1000);
    const tally = await load.stop();
    expect(recycle?.['reason']).toBe('health: the probe answered false');
    expect(app.eventsNamed('recycle')).toHaveLength(1);
    expect(app.eventsNamed('exit')).toEqual([
      expect.objectContaining({ pid: recycle?.['pid'], reason: 'drained', code: 0 }),
    ]);
    expect(tally.errors).toEqual([]);
    expect(tally.statuses).toEqual([]);
  });
});

describe('fixed-port mode', () => {
  async function freePort(): Promise<number> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    return port;
  }

  it('gives each worker its own port, and keeps it through a crash and a rolling restart', async () => {
    const ports = [await freePort(), await freePort()];
    const app = await started({ ports, drainTimeout: 3000 });
    const status = app.eventsNamed('started')[0]?.['status'] as { port: number; pid: number }[];
    expect(status.map((row) => row.port)).toEqual(ports);
    for (const row of status) {
      expect(await get(row.port, '/pid')).toEqual({ status: 200, body: String(row.pid) });
    }
    const loads = ports.map((port) => startLoad(port, { keepAlive: 3, fresh: 1 }));
    await sleep(300);
    // Crash the worker of the first port: it comes back on that port.
    void get(ports[0] ?? 0, '/crash');
    await waitForCount(app, 'ready', 3, 10_000);
    app.child.kill('SIGUSR2');
    await waitForCount(app, 'restartDone', 1, 30_000);
    await sleep(300);
    const [first, second] = await Promise.all(loads.map((load) => load.stop()));
    // The second port never noticed; the first lost at most the crashing worker's requests.
    expect(second?.errors).toEqual([]);
    expect(second?.statuses).toEqual([]);
    expect(first?.statuses).toEqual([]);
    // A plain app: what was executing on the crashed worker may fail, nothing else.
    expect(first?.errors.length).toBeLessThanOrEqual(4);
    expect(app.eventsNamed('respawn')).toEqual([expect.objectContaining({ slot: 0 })]);
    const ready = app.eventsNamed('ready').map((event) => event['slot']);
    expect(ready).toEqual([expect.any(Number), expect.any(Number), 0, 0, 1]);
  });

  it('refuses workers that differ from the number of ports', async () => {
    const app = startMaster({ ports: [31337, 31338], workers: 3 });
    expect(await app.exited(10_000)).toMatchObject({ code: 1 });
    expect(app.stderr()).toMatch(
      /LASTCALL_ERR_MASTER_INVALID_WORKERS|must be left out or equal the number of ports/,
    );
  });
});

describe('SIGUSR2 when it is not the restart signal', () => {
  it('reopens the setupLogs() files of the master and of every worker, as after logrotate', async () => {
    const logsDir = makeTempDir();
    const app = startMaster(
      { workers: 1, restartSignal: 'SIGHUP' },
      { logsDir, env: { LASTCALL_LOG_LEVEL: 'info' } },
    );
    await app.waitFor('started', 20_000);
    const files = (): string[] => fs.readdirSync(logsDir).filter((name) => name.endsWith('.log'));
    const deadline = Date.now() + 5000;
    while (files().length < 2 && Date.now() < deadline) await sleep(50);
    const before = files().sort();
    expect(before).toEqual([
      expect.stringMatching(/^master-/),
      expect.stringMatching(/^worker-1-/),
    ]);
    // logrotate: move the files away, then SIGUSR2.
    for (const name of before)
      fs.renameSync(path.join(logsDir, name), path.join(logsDir, `${name}.1`));
    app.child.kill('SIGUSR2');
    await sleep(500);
    expect(await get(app.port(), '/log?text=after-rotation')).toEqual({
      status: 200,
      body: 'logged',
    });
    // The master logs the restart SIGHUP starts, into its reopened file.
    app.child.kill('SIGHUP');
    await waitForCount(app, 'restartDone', 1, 20_000);
    const reopened = (name: string): string =>
      fs.existsSync(path.join(logsDir, name))
        ? fs.readFileSync(path.join(logsDir, name), 'utf8')
        : '';
    const waitUntil = Date.now() + 5000;
    while (!(
      reopened(before[0] ?? '').includes('SIGHUP') &&
      reopened(before[1] ?? '').includes('after-rotation')
    )) {
      if (Date.now() > waitUntil) break;
      await sleep(50);
    }
    expect(reopened(before[0] ?? '')).toContain('SIGHUP received; rolling restart');
    expect(reopened(before[1] ?? '')).toContain('after-rotation');
    expect(app.eventsNamed('restart')).toHaveLength(1);
  });
});

describe("the workers' output", () => {
  it('reaches the master whole lines at a time, never two workers mid-line', async () => {
    const app = await started({ workers: 2 });
    const ports = app.port();
    // Two connections: round-robin sends one to each worker.
    const answers = await Promise.all([
      get(ports, '/spam?lines=150'),
      get(ports, '/spam?lines=150'),
    ]);
    expect(answers).toEqual([
      { status: 200, body: 'spammed' },
      { status: 200, body: 'spammed' },
    ]);
    const spamLines = (): string[] =>
      app
        .stderr()
        .split('\n')
        .filter((line) => line.includes('spam '));
    // The master forwards what it reads; the last lines may still be on their way.
    const deadline = Date.now() + 5000;
    while (spamLines().length < 300 && Date.now() < deadline) await sleep(50);
    const lines = spamLines();
    expect(lines).toHaveLength(300);
    for (const line of lines) expect(line).toMatch(/^spam \d+ \d+ x{4000}$/);
    expect(new Set(lines.map((line) => line.split(' ')[1])).size).toBe(2);
  });
});
