/**
 * A worker that crashes asynchronously while it starts (it throws 200 ms after loading, before it
 * listens) tells the master it is draining, then exits. Its readiness still settles, with its
 * exit code and stderr: a reload exits with the failure and the next reload works; a first start
 * fails naming the worker's error.
 */
import { get, killApps, startMaster } from './support';

afterEach(killApps);

it('aborts a reload whose new worker crashes asynchronously while starting, and the next reload works', async () => {
  const app = startMaster({ workers: 2, readyTimeout: 20_000 });
  const started = await app.waitFor('started', 20_000);
  const before = (started['status'] as { pid: number }[]).map((worker) => worker.pid).sort();
  app.setBuild('async-crash-at-start');
  const startedAt = Date.now();
  process.kill(app.child.pid ?? 0, 'SIGUSR1');
  const failed = await app.waitFor('restart-failed', 30_000);
  // Settled by the worker's exit, not by readyTimeout (20 s).
  expect(Date.now() - startedAt).toBeLessThan(15_000);
  expect(failed).toMatchObject({ code: 'LASTCALL_ERR_MASTER_RESTART_ABORTED' });
  const failures = failed['failures'] as { reason: string; code: number; stderrTail: string }[];
  expect(failures[0]).toMatchObject({ reason: 'exited', code: 1 });
  expect(failures[0]?.stderrTail).toMatch(/async crash while starting/);
  expect(String(failed['message'])).toMatch(
    /exited with code 1; stderr:[\s\S]*async crash while starting/,
  );
  const serving = await get(app.port(), '/pid');
  expect(serving).toMatchObject({ status: 200 });
  expect(before).toContain(Number('body' in serving ? serving.body : 0));

  app.setBuild('good');
  process.kill(app.child.pid ?? 0, 'SIGUSR1');
  const done = await app.waitFor('restart-done', 30_000);
  const after = (done['status'] as { pid: number }[]).map((worker) => worker.pid);
  expect(after.some((pid) => before.includes(pid))).toBe(false);
});

it('fails a first start naming the error of a worker that crashes asynchronously while starting', async () => {
  const app = startMaster({ workers: 1, readyTimeout: 5000 }, { build: 'async-crash-at-start' });
  const failed = await app.waitFor('start-failed', 30_000);
  expect(failed).toMatchObject({ code: 'LASTCALL_ERR_MASTER_START_FAILED' });
  expect(String(failed['message'])).not.toMatch(/no worker exited; none became ready/);
  expect(String(failed['message'])).toMatch(
    /exited with code 1; stderr:[\s\S]*async crash while starting/,
  );
});
