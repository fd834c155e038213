/**
 * The heartbeat's dependency gate and cluster2's ECV format, seen by real clients: a real HTTP
 * server as the monitor URL that the test flips between 200 and 500, and a function monitor
 * that passes, throws and hangs. The heartbeat goes down and back with one log line per change,
 * while the workers serve on untouched.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { forkedPids, killApps, makeTempDir, sleep, startLoad, startMaster } from './support';
import type { MasterApp } from './support';

afterEach(killApps);

/** The monitor URL's server; the test sets its status code. */
let dependency: { server: http.Server; hits: number; statusCode: number } | undefined;

afterEach(async () => {
  const server = dependency?.server;
  dependency = undefined;
  if (server === undefined) return;
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

async function startDependency(): Promise<string> {
  const state = { server: http.createServer(), hits: 0, statusCode: 200 };
  state.server.on('request', (_req: http.IncomingMessage, res: http.ServerResponse) => {
    state.hits += 1;
    res.writeHead(state.statusCode).end();
  });
  await new Promise<void>((resolve) => state.server.listen(0, '127.0.0.1', resolve));
  dependency = state;
  return `http://127.0.0.1:${String((state.server.address() as AddressInfo).port)}/health`;
}

async function started(app: MasterApp): Promise<string> {
  const event = await app.waitFor('started', 20_000);
  const { port } = event['heartbeat'] as { port: number };
  return `http://127.0.0.1:${String(port)}/ecv`;
}

async function heartbeat(url: string): Promise<{ statusCode: number; text: string; type: string }> {
  const response = await request(url, { headersTimeout: 10_000, bodyTimeout: 10_000 });
  return {
    statusCode: response.statusCode,
    text: await response.body.text(),
    type: String(response.headers['content-type']),
  };
}

/** Polls the heartbeat (bounded) until it answers `statusCode`; returns that answer. */
async function heartbeatUntil(
  url: string,
  statusCode: number,
  ms = 10_000,
): Promise<{ statusCode: number; text: string; type: string }> {
  const deadline = Date.now() + ms;
  let last = await heartbeat(url);
  while (last.statusCode !== statusCode) {
    if (Date.now() > deadline) {
      throw new Error(`the heartbeat answered ${JSON.stringify(last)}, not ${String(statusCode)}`);
    }
    await sleep(50);
    last = await heartbeat(url);
  }
  return last;
}

function monitorLines(app: MasterApp): string[] {
  return app
    .stderr()
    .split('\n')
    .filter((line) => line.includes('heartbeat monitor'));
}

/** No worker was replaced: only the first forks, no recycle, drain, exit or respawn. */
function expectWorkersUntouched(app: MasterApp, workers: number): void {
  expect(forkedPids(app)).toHaveLength(workers);
  for (const name of ['recycle', 'drain', 'exit', 'respawn', 'failed']) {
    expect(app.eventsNamed(name)).toEqual([]);
  }
}

describe('the heartbeat monitor', () => {
  it('answers monitor-failed while the URL fails and comes back, one log line per change, workers untouched', async () => {
    const monitor = await startDependency();
    const app = startMaster(
      { workers: 2, heartbeat: { port: 0, monitor, monitorCacheMs: 200 } },
      { env: { LASTCALL_LOG_LEVEL: 'info' } },
    );
    const url = await started(app);
    const load = startLoad(app.port(), { keepAlive: 2, fresh: 1 });

    const up = await heartbeat(url);
    expect(up.statusCode).toBe(200);
    expect(JSON.parse(up.text)).toMatchObject({ status: 'ok', monitor: { status: 'up' } });

    if (dependency === undefined) throw new Error('no dependency');
    dependency.statusCode = 500;
    const down = await heartbeatUntil(url, 503);
    expect(JSON.parse(down.text)).toMatchObject({
      status: 'monitor-failed',
      monitor: { status: 'down', reason: `GET ${monitor} answered 500` },
    });
    // A burst while down shares the cached or in-flight check: checks start at least
    // monitorCacheMs apart, however many heartbeat requests come.
    const hitsBefore = dependency.hits;
    const burstStarted = Date.now();
    const burst = await Promise.all(Array.from({ length: 20 }, () => heartbeat(url)));
    const burstTook = Date.now() - burstStarted;
    expect(burst.map((answer) => answer.statusCode)).toEqual(Array(20).fill(503));
    expect(dependency.hits - hitsBefore).toBeLessThanOrEqual(1 + Math.floor(burstTook / 200));

    dependency.statusCode = 200;
    const back = await heartbeatUntil(url, 200);
    expect(JSON.parse(back.text)).toMatchObject({ status: 'ok', monitor: { status: 'up' } });

    const tally = await load.stop();
    expect(tally.errors).toEqual([]);
    expect(tally.statuses).toEqual([]);
    expect(tally.ok).toBeGreaterThan(0);
    expect([...tally.pids].map(Number).sort()).toEqual([...forkedPids(app)].sort());
    expectWorkersUntouched(app, 2);
    const lines = monitorLines(app);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain(`heartbeat monitor failed: GET ${monitor} answered 500`);
    expect(lines[1]).toContain('heartbeat monitor passes again');
  });

  it("checks a path on the workers' own port (cluster2's ecv.monitor)", async () => {
    const app = startMaster({ workers: 1, heartbeat: { port: 0, monitor: '/pid' } });
    const url = await started(app);
    expect(JSON.parse((await heartbeat(url)).text)).toMatchObject({
      status: 'ok',
      monitor: { status: 'up' },
    });
    // The app answers /slow after 3 s: past monitorTimeout, so the gate is down.
    const slow = startMaster({
      workers: 1,
      heartbeat: { port: 0, monitor: '/slow?ms=3000', monitorTimeout: 300 },
    });
    const slowUrl = await started(slow);
    const down = await heartbeat(slowUrl);
    expect(down.statusCode).toBe(503);
    expect(JSON.parse(down.text)).toMatchObject({
      status: 'monitor-failed',
      monitor: {
        reason: `GET http://127.0.0.1:${String(slow.port())}/slow did not answer within 300 ms`,
      },
    });
    expectWorkersUntouched(slow, 1);
  });
});

describe("cluster2's ECV format", () => {
  it('answers the exact text and codes through a function monitor that passes, throws and hangs, and a disable', async () => {
    const monitorFile = path.join(makeTempDir(), 'monitor');
    fs.writeFileSync(monitorFile, 'up');
    const app = startMaster(
      {
        workers: 2,
        heartbeat: { port: 0, format: 'cluster2', monitorTimeout: 300, monitorCacheMs: 0 },
      },
      { env: { LASTCALL_LOG_LEVEL: 'info' }, monitorFile },
    );
    const url = await started(app);
    const time = String.raw`\w{3} \w{3} \d{2} \d{4} \d{2}:\d{2}:\d{2} GMT[+-]\d{4} \(.+\)`;
    const text = (word: string, serves: boolean): RegExp =>
      new RegExp(
        `^status=${word}&ServeTraffic=${String(serves)}&ip=127\\.0\\.0\\.1` +
          `&hostname=${os.hostname()}&port=${String(app.port())}&time=${time}$`,
      );

    const available = await heartbeat(url);
    expect(available).toMatchObject({ statusCode: 200, type: 'text/plain' });
    expect(available.text).toMatch(text('AVAILABLE', true));

    fs.writeFileSync(monitorFile, 'throw');
    const warning = await heartbeat(url);
    expect(warning.statusCode).toBe(500);
    expect(warning.text).toMatch(text('WARNING', false));

    fs.writeFileSync(monitorFile, 'hang');
    const asked = Date.now();
    const hanging = await heartbeat(url);
    expect(hanging.statusCode).toBe(500);
    expect(Date.now() - asked).toBeLessThan(5000);

    fs.writeFileSync(monitorFile, 'up');
    expect((await heartbeat(url)).statusCode).toBe(200);

    const disable = await request(`${url}/disable`, { method: 'POST' });
    expect(disable.statusCode).toBe(204);
    expect(await disable.body.text()).toBe('');
    const disabled = await heartbeat(url);
    expect(disabled.statusCode).toBe(400);
    expect(disabled.text).toMatch(text('DISABLED', false));
    const head = await request(url, { method: 'HEAD' });
    expect(head.statusCode).toBe(400);
    expect(await head.body.text()).toBe('');
    const enable = await request(`${url}/enable`, { method: 'POST' });
    expect(enable.statusCode).toBe(204);
    await enable.body.text();
    expect((await heartbeat(url)).text).toMatch(text('AVAILABLE', true));

    expectWorkersUntouched(app, 2);
    const lines = monitorLines(app);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain(
      'heartbeat monitor failed: the monitor function threw: the database is gone',
    );
    expect(lines[1]).toContain('heartbeat monitor passes again');
  });
});
