/**
 * Rolling restarts of a real master (test/fixtures/master.js) whose workers run a plain http
 * app that knows nothing of lastcall, under real load: undici's keep-alive Pool, which honours
 * `Connection: close`, and a client that opens a new connection per request.
 */
import {
  fewestServing,
  get,
  killApps,
  sleep,
  startLoad,
  startMaster,
  waitForCount,
} from './support';

afterEach(killApps);

async function started(
  options: Record<string, unknown>,
  build?: Parameters<typeof startMaster>[1],
) {
  const app = startMaster(options, build);
  await app.waitFor('started', 20_000);
  return app;
}

describe('a rolling restart', () => {
  it.each([2, 4])(
    'of %i workers under keep-alive and new-connection load fails no request',
    async (workers) => {
      const app = await started({ workers });
      const before = new Set(app.eventsNamed('ready').map((event) => String(event['pid'])));
      const load = startLoad(app.port());
      await sleep(300);
      app.child.kill('SIGUSR2');
      const [done] = await waitForCount(app, 'restartDone', 1, 40_000);
      await sleep(300);
      const tally = await load.stop();
      expect(tally.errors).toEqual([]);
      expect(tally.statuses).toEqual([]);
      expect(tally.ok).toBeGreaterThan(100);
      const replaced = done?.['replaced'] as { oldPid: number; newPid: number }[];
      expect(replaced).toHaveLength(workers);
      // Served by old workers before and by new ones after.
      const newPids = replaced.map((step) => String(step.newPid));
      expect([...tally.pids].some((pid) => before.has(pid))).toBe(true);
      expect(newPids.every((pid) => tally.pids.has(pid))).toBe(true);
      expect(fewestServing(app)).toBe(workers);
    },
  );

  it('of 1 worker refuses no connection: the replacement listens before the old one stops', async () => {
    const app = await started({ workers: 1 });
    const load = startLoad(app.port(), { keepAlive: 2, fresh: 4 });
    await sleep(300);
    app.child.kill('SIGUSR2');
    await waitForCount(app, 'restartDone', 1, 30_000);
    await sleep(300);
    const tally = await load.stop();
    expect(tally.errors).toEqual([]);
    expect(tally.statuses).toEqual([]);
    expect(fewestServing(app)).toBe(1);
  });

  it('lets a request in flight on an old worker finish with 200', async () => {
    const app = await started({ workers: 2 });
    const slow = [get(app.port(), '/slow?ms=2000'), get(app.port(), '/slow?ms=2000')];
    await sleep(200);
    app.child.kill('SIGUSR2');
    expect(await Promise.all(slow)).toEqual([
      { status: 200, body: 'slow done' },
      { status: 200, body: 'slow done' },
    ]);
    await waitForCount(app, 'restartDone', 1, 30_000);
  });

  it('asked for twice at once runs twice, one after the other, never side by side', async () => {
    const app = await started({ workers: 2 });
    app.child.kill('SIGUSR1');
    const results = await waitForCount(app, 'restart-done', 2, 25_000);
    expect(results).toHaveLength(2);
    const order = app.events
      .filter((event) => event.event === 'restart' || event.event === 'restartDone')
      .map((event) => event.event);
    expect(order).toEqual(['restart', 'restartDone', 'restart', 'restartDone']);
    // Never more than workers + maxSurge alive: count forks against exits in order.
    let alive = 0;
    let most = 0;
    for (const event of app.events) {
      if (event.event === 'fork') alive += 1;
      if (event.event === 'exit') alive -= 1;
      most = Math.max(most, alive);
    }
    expect(most).toBe(3);
  });
});

describe('a restart signal while the master starts', () => {
  it('is ignored with a warning that says why, and the start goes on', async () => {
    const app = startMaster({ workers: 1 }, { build: 'slow-start' });
    // The signal handler is installed before the first fork; the worker listens 1 s later.
    await app.waitFor('fork', 20_000);
    app.child.kill('SIGUSR2');
    await app.waitFor('started', 20_000);
    expect(app.stderr()).toMatch(
      /restart signal ignored: Master\.restart\(\): the master is starting/,
    );
    expect(app.eventsNamed('restart')).toHaveLength(0);
  });
});

describe('a rolling restart with a bad build', () => {
  it.each([
    ['exits at startup', 'crash-at-start' as const, { code: 3, reason: 'exited' }],
    ['is never ready', 'never-ready' as const, { code: null, reason: 'timeout' }],
  ])(
    'whose replacement %s aborts, and the old workers go on serving',
    async (_what, build, failure) => {
      const app = await started({ workers: 2, readyTimeout: 1500 });
      const startedStatus = app.eventsNamed('started')[0]?.['status'] as { pid: number }[];
      const oldPids = startedStatus.map((row) => row.pid);
      const load = startLoad(app.port());
      await sleep(300);
      app.setBuild(build);
      app.child.kill('SIGUSR1');
      const [first] = await waitForCount(app, 'restart-failed', 2, 30_000);
      await sleep(300);
      const tally = await load.stop();
      expect(tally.errors).toEqual([]);
      expect(tally.statuses).toEqual([]);
      expect(first).toMatchObject({
        code: 'LASTCALL_ERR_MASTER_RESTART_ABORTED',
        failures: [expect.objectContaining({ slot: 0, ...failure })],
      });
      if (build === 'crash-at-start') {
        expect(first?.['message']).toMatch(/exited with code 3; stderr:\n.*cannot find module/);
        const failures = first?.['failures'] as { stderrTail: string }[];
        expect(failures[0]?.stderrTail).toMatch(/missing-from-this-build/);
      }
      // The old workers serve, and only they.
      const status = first?.['status'] as { pid: number; state: string }[];
      expect(status.map((row) => row.pid)).toEqual(oldPids);
      expect(status.every((row) => row.state === 'ready')).toBe(true);
      expect([...tally.pids].sort()).toEqual(oldPids.map(String).sort());
      expect(app.eventsNamed('restartAborted')).toHaveLength(2);
    },
  );
});
