/**
 * A real master's life outside restarts: crashes, crash loops, failed starts, SIGTERM and a
 * master that is killed.
 */
import * as net from 'node:net';
import {
  forkedPids,
  get,
  killApps,
  sleep,
  startLoad,
  startMaster,
  waitForCount,
  waitGone,
} from './support';

afterEach(killApps);

describe('a crash', () => {
  it('is replaced at once by a listening worker; only the crashing request fails', async () => {
    const app = startMaster({ workers: 2, drainTimeout: 3000 });
    await app.waitFor('started', 20_000);
    const load = startLoad(app.port());
    await sleep(300);
    const crashedAt = Date.now();
    const crash = get(app.port(), '/crash');
    const [, , replacement] = await waitForCount(app, 'ready', 3, 10_000);
    const replacedIn = (replacement?.t ?? Infinity) - crashedAt;
    await waitForCount(app, 'exit', 1, 10_000);
    await sleep(300);
    const tally = await load.stop();
    // The plain app answers nothing to the request whose timer threw: its socket is closed at
    // the drain deadline. Everything else is served.
    expect(await crash).toEqual({ error: expect.any(String) as string });
    expect(tally.errors).toEqual([]);
    expect(tally.statuses).toEqual([]);
    // Younger than stableAfter (5 s), but it had become ready and served: no backoff.
    expect(app.eventsNamed('respawn')).toEqual([
      expect.objectContaining({ restarts: 1, delay: 0 }),
    ]);
    expect(app.eventsNamed('exit')).toEqual([
      expect.objectContaining({ code: 1, reason: 'crash' }),
    ]);
    // Bounded with a margin of 4: the replacement is asked for when the worker says it is
    // draining, not when it has exited.
    expect(replacedIn).toBeLessThan(4000);
  });

  it('loops with backoff per slot until the slot is failed; the other slot serves on', async () => {
    const app = startMaster({
      workers: 2,
      drainTimeout: 2000,
      maxRestarts: 3,
      restartWindow: 60_000,
      stableAfter: 1000,
      backoff: { initial: 200, factor: 2, max: 5000, jitter: 0.2 },
    });
    await app.waitFor('started', 20_000);
    const load = startLoad(app.port(), { keepAlive: 4, fresh: 1 });
    // Past stableAfter, so that the first death counts as a worker that had been stable.
    await sleep(1500);
    app.setBuild('crash-at-start');
    await get(app.port(), '/crash');
    const [failed] = await waitForCount(app, 'failed', 1, 20_000);
    await sleep(300);
    const tally = await load.stop();
    expect(tally.errors).toEqual([]);
    expect(tally.statuses).toEqual([]);
    const slot = failed?.['slot'] as number;
    const delays = app
      .eventsNamed('respawn')
      .filter((event) => event['slot'] === slot)
      .map((event) => event['delay'] as number);
    // The first death (after a stable life) re-forks at once; then each quick death doubles.
    expect(delays).toHaveLength(3);
    expect(delays[0]).toBe(0);
    expect(delays[1]).toBeGreaterThanOrEqual(160);
    expect(delays[1]).toBeLessThanOrEqual(240);
    expect(delays[2]).toBeGreaterThanOrEqual(320);
    expect(delays[2]).toBeLessThanOrEqual(480);
    expect(failed).toMatchObject({ restarts: 3, window: 60_000 });
    // The other slot was never touched.
    expect(app.eventsNamed('respawn').every((event) => event['slot'] === slot)).toBe(true);
  });
});

describe('a start', () => {
  it('where no worker becomes ready fails within readyTimeout with the exit code and stderr', async () => {
    const startedAt = Date.now();
    const app = startMaster(
      { workers: 2, readyTimeout: 1500, backoff: { initial: 100 } },
      { build: 'crash-at-start' },
    );
    const failed = await app.waitFor('start-failed', 10_000);
    expect(await app.exited(6000)).toEqual({ code: 1, signal: null });
    expect(Date.now() - startedAt).toBeLessThan(1500 + 4000);
    expect(failed).toMatchObject({
      code: 'LASTCALL_ERR_MASTER_START_FAILED',
      failures: expect.arrayContaining([
        expect.objectContaining({
          code: 3,
          reason: 'exited',
          stderrTail: expect.stringMatching(/missing-from-this-build/) as string,
        }),
      ]) as unknown,
    });
    expect(failed['message']).toMatch(/no worker became ready within 1500 ms/);
    // Re-forked with backoff meanwhile, never in a busy loop.
    expect(app.eventsNamed('fork').length).toBeLessThan(30);
    for (const pid of forkedPids(app)) expect(await waitGone(pid, 1000)).toBe(true);
  });

  it('on a port in use fails at once, naming the port', async () => {
    const busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const { port } = busy.address() as net.AddressInfo;
    try {
      const startedAt = Date.now();
      const app = startMaster({ workers: 2 }, { env: { PORT: String(port) } });
      const failed = await app.waitFor('start-failed', 10_000);
      expect(await app.exited(6000)).toEqual({ code: 1, signal: null });
      expect(Date.now() - startedAt).toBeLessThan(2000 + 6000);
      expect(failed).toMatchObject({ code: 'LASTCALL_ERR_MASTER_PORT_IN_USE' });
      expect(failed['message']).toContain(`127.0.0.1:${String(port)}`);
    } finally {
      busy.close();
    }
  });
});

describe('the end of a master', () => {
  it('on SIGTERM drains every worker: requests in flight complete, exit 0, the port is free', async () => {
    const app = startMaster({ workers: 2 });
    await app.waitFor('started', 20_000);
    const port = app.port();
    const slow = get(port, '/slow?ms=1000');
    await sleep(200);
    app.child.kill('SIGTERM');
    expect(await slow).toEqual({ status: 200, body: 'slow done' });
    expect(await app.exited(10_000)).toEqual({ code: 0, signal: null });
    for (const pid of forkedPids(app)) expect(await waitGone(pid, 1000)).toBe(true);
    // The port can be bound again at once.
    const again = net.createServer();
    await new Promise<void>((resolve, reject) => {
      again.once('error', reject);
      again.listen(port, '127.0.0.1', resolve);
    });
    again.close();
  });

  it('on a second SIGTERM during the drain exits at once and kills every worker', async () => {
    const app = startMaster({ workers: 2 });
    await app.waitFor('started', 20_000);
    const pids = forkedPids(app);
    const slow = get(app.port(), '/slow?ms=20000');
    await sleep(200);
    app.child.kill('SIGTERM');
    await sleep(300);
    app.child.kill('SIGTERM');
    // 128 + SIGTERM's 15: graceful's forced exit.
    expect(await app.exited(4000)).toEqual({ code: 143, signal: null });
    // SIGKILLed as the master exits; margin 4 over a second.
    for (const pid of pids) expect(await waitGone(pid, 4000)).toBe(true);
    expect(await slow).toEqual({ error: expect.any(String) as string });
  });

  it('SIGKILLed leaves no worker behind', async () => {
    const app = startMaster({ workers: 2 });
    await app.waitFor('started', 20_000);
    const pids = forkedPids(app);
    app.child.kill('SIGKILL');
    // A worker whose channel closes drains within DISCONNECT_TIMEOUT (1000 ms); margin 4.
    for (const pid of pids) expect(await waitGone(pid, 4000)).toBe(true);
  });
});
