/**
 * A fork that fails aborts the restart it belongs to and never crashes the master. Tested for
 * real: the master is moved into a pids cgroup (the tests run as root; the cgroup is made here
 * and removed afterwards) whose limit is the number of tasks it has, so that spawning a worker
 * fails with EAGAIN, as at a machine's process limit.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { get, killApps, sleep, startMaster } from './support';

const PIDS_ROOT = '/sys/fs/cgroup/pids';
let cgroup: string | undefined;

/** Puts `pid` into a new pids cgroup that allows no more tasks than it has now. */
function confine(pid: number): string {
  // cgroup v1 (this machine's); a pids.max limit works the same way under v2.
  if (!fs.existsSync(path.join(PIDS_ROOT, 'cgroup.procs'))) {
    throw new Error(`${PIDS_ROOT} is not a mounted pids cgroup: cannot limit the master's tasks`);
  }
  const dir = path.join(PIDS_ROOT, `lastcall-fork-${String(process.pid)}`);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'cgroup.procs'), String(pid));
  fs.writeFileSync(
    path.join(dir, 'pids.max'),
    fs.readFileSync(path.join(dir, 'pids.current'), 'utf8').trim(),
  );
  return dir;
}

/** Lifts the limit, puts `pid` back into the root cgroup and removes the test's cgroup. */
function release(pid: number | undefined): void {
  if (cgroup === undefined) return;
  try {
    fs.writeFileSync(path.join(cgroup, 'pids.max'), 'max');
    if (pid !== undefined) fs.writeFileSync(path.join(PIDS_ROOT, 'cgroup.procs'), String(pid));
  } catch {
    // the process is gone already
  }
  fs.rmdirSync(cgroup);
  cgroup = undefined;
}

afterEach(() => {
  killApps();
  // A killed process leaves its cgroup within moments; rmdir refuses a cgroup with tasks.
  for (let attempt = 0; attempt < 50 && cgroup !== undefined; attempt += 1) {
    try {
      release(undefined);
    } catch {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
  }
});

it('aborts a restart whose fork fails with EAGAIN, keeps the old workers serving, and restarts once it can fork again', async () => {
  const app = startMaster({ workers: 2, readyTimeout: 10_000 });
  const started = await app.waitFor('started', 20_000);
  const before = (started['status'] as { pid: number }[]).map((worker) => worker.pid).sort();
  const masterPid = app.child.pid ?? 0;
  cgroup = confine(masterPid);

  process.kill(masterPid, 'SIGUSR1');
  const failed = await app.waitFor('restart-failed', 20_000);
  expect(failed).toMatchObject({ code: 'LASTCALL_ERR_MASTER_RESTART_ABORTED' });
  expect(String(failed['message'])).toMatch(/could not be forked .*\n?.*EAGAIN/);
  const failures = failed['failures'] as { reason: string; stderrTail: string }[];
  expect(failures[0]).toMatchObject({ reason: 'fork-failed' });
  expect(failures[0]?.stderrTail).toMatch(/EAGAIN/);
  // The master is alive, and its old workers serve.
  expect(app.child.exitCode).toBeNull();
  const pids = new Set<string>();
  for (let attempt = 0; attempt < 40 && pids.size < 2; attempt += 1) {
    const answer = await get(app.port(), '/pid');
    expect(answer).toMatchObject({ status: 200 });
    if ('body' in answer) pids.add(answer.body);
  }
  expect([...pids].map(Number).sort()).toEqual(before);
  expect(app.stderr()).not.toMatch(/uncaughtException/);

  release(masterPid);
  await sleep(200);
  process.kill(masterPid, 'SIGUSR1');
  const done = await app.waitFor('restart-done', 30_000);
  const after = (done['status'] as { pid: number }[]).map((worker) => worker.pid);
  expect(after.some((pid) => before.includes(pid))).toBe(false);
});
