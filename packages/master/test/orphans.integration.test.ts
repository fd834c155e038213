/**
 * Issue 17, "No orphans": every worker leads its own process group and session (the master
 * forks it through setsid), so what a worker starts goes with it. Each worker of
 * test/fixtures/orphan-worker.js starts `sleep 1000` in its group; whichever way the worker or
 * its master ends, that sleep must be gone within a bounded wait.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { forkedPids, get, killApps, makeTempDir, startMaster } from './support';
import type { AppEvent, MasterApp } from './support';

/** ms for a process to be gone once something killed it, or made it exit (4x and more). */
const GONE_WITHIN = 5000;

/** The masters of this file's tests and the folders their workers write their sleep pids in. */
const runs: { app: MasterApp; dir: string }[] = [];

afterEach(() => {
  // The masters first, so that none forks again; then each worker's whole group (the worker and
  // its sleep, also one whose pid file was never read), then every sleep a file names.
  for (const { app } of runs) app.child.kill('SIGKILL');
  for (const { app, dir } of runs) {
    for (const pid of forkedPids(app)) {
      if (commandLineOf(pid).some((arg) => arg.endsWith('orphan-worker.js'))) {
        const isLeader = statOf(pid)?.pgrp === pid;
        killQuietly(isLeader ? -pid : pid);
      }
    }
    for (const file of fs.readdirSync(dir).filter((name) => /^\d+$/.test(name))) {
      const sleeper = Number(fs.readFileSync(path.join(dir, file), 'utf8'));
      if (statOf(sleeper)?.comm === 'sleep') killQuietly(sleeper);
    }
  }
  runs.length = 0;
  killApps();
});

function startOrphanMaster(options: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) {
  const dir = makeTempDir();
  const app = startMaster(
    { workers: 1, readyTimeout: 10_000, ...options },
    { app: 'orphan-worker.js', env: { ORPHAN_DIR: dir, ...env } },
  );
  runs.push({ app, dir });
  return { app, dir };
}

/** The pids of the workers in a `started` event's status. */
function workerPids(started: AppEvent): number[] {
  return (started['status'] as { pid: number }[]).map((worker) => worker.pid);
}

/** The pid of the sleep worker `pid` started, from its file; rejects after `ms`. */
async function sleeperOf(dir: string, pid: number, ms = 10_000): Promise<number> {
  const file = path.join(dir, String(pid));
  const deadline = Date.now() + ms;
  while (!fs.existsSync(file)) {
    if (Date.now() > deadline) throw new Error(`worker ${String(pid)} wrote no sleep pid`);
    await pause(25);
  }
  const sleeper = Number(fs.readFileSync(file, 'utf8'));
  expect(statOf(sleeper)?.comm).toBe('sleep');
  expect(isDead(sleeper)).toBe(false);
  return sleeper;
}

/** Fields of /proc/<pid>/stat, or undefined when there is no such process. */
function statOf(
  pid: number,
): { comm: string; state: string; pgrp: number; session: number } | undefined {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${String(pid)}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
  const [state = '', , pgrp, session] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { comm, state, pgrp: Number(pgrp), session: Number(session) };
}

function commandLineOf(pid: number): string[] {
  try {
    return fs
      .readFileSync(`/proc/${String(pid)}/cmdline`, 'utf8')
      .split('\0')
      .slice(0, -1);
  } catch {
    return [];
  }
}

/**
 * True when `pid` is dead. A zombie counts: an orphan is reparented to PID 1, which in a
 * container may never reap it, and `kill(pid, 0)` succeeds on a zombie.
 */
function isDead(pid: number): boolean {
  const state = statOf(pid)?.state;
  return state === undefined || state === 'Z' || state === 'X';
}

/** Resolves with the pids of `pids` still alive after `ms` (none, when all died in time). */
async function survivorsAfter(pids: number[], ms: number): Promise<number[]> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline && !pids.every(isDead)) await pause(25);
  return pids.filter((pid) => !isDead(pid));
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Gone already.
  }
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

it('forks every worker as the leader of its own process group and session, with node argv unchanged', async () => {
  const { app, dir } = startOrphanMaster({ workers: 2 });
  const pids = workerPids(await app.waitFor('started', 20_000));
  expect(pids).toHaveLength(2);
  for (const pid of pids) {
    expect(statOf(pid)).toMatchObject({ pgrp: pid, session: pid });
    expect(statOf(await sleeperOf(dir, pid))).toMatchObject({ pgrp: pid, session: pid });
    // setsid ran `node ...` in place: node's argv is what cluster gives it without setsid.
    expect(commandLineOf(pid)).toEqual([
      process.execPath,
      '--require',
      expect.stringMatching(/[/\\]worker[/\\]runtime\.js$/),
      path.join(__dirname, 'fixtures', 'orphan-worker.js'),
    ]);
  }
  const answer = await get(app.port(), '/process');
  expect(answer).toMatchObject({ status: 200 });
  expect(JSON.parse('body' in answer ? answer.body : '{}')).toEqual({
    execPath: process.execPath,
    argv0: process.execPath,
    execArgv: ['--require', expect.stringMatching(/[/\\]worker[/\\]runtime\.js$/)],
  });
});

it('forks workers into the master process group when LASTCALL_WORKER_SETSID=0', async () => {
  const { app } = startOrphanMaster({}, { LASTCALL_WORKER_SETSID: '0' });
  const [pid = 0] = workerPids(await app.waitFor('started', 20_000));
  const masterGroup = statOf(app.child.pid ?? 0)?.pgrp;
  expect(masterGroup).toBeGreaterThan(1);
  expect(statOf(pid)).toMatchObject({ pgrp: masterGroup });
});

it('takes the child along when the master SIGKILLs a worker at its drain deadline', async () => {
  const { app, dir } = startOrphanMaster({ drainTimeout: 1000, killTimeout: 500 });
  const [pid = 0] = workerPids(await app.waitFor('started', 20_000));
  const sleeper = await sleeperOf(dir, pid);
  // Blocked for a minute, the worker reads neither the drain order nor SIGTERM: only the
  // master's SIGKILL (1.5 s into the drain) ends it.
  expect(await get(app.port(), '/block?ms=60000')).toMatchObject({ status: 200 });
  process.kill(app.child.pid ?? 0, 'SIGUSR2');
  const exit = await app.waitFor('exit', 20_000, (event) => event['pid'] === pid);
  expect(exit).toMatchObject({ signal: 'SIGKILL', reason: 'killed' });
  expect(await survivorsAfter([pid, sleeper], GONE_WITHIN)).toEqual([]);
});

it("takes the child along when a worker is SIGKILLed by someone else: the master kills the rest of the worker's group", async () => {
  const { app, dir } = startOrphanMaster({});
  const [pid = 0] = workerPids(await app.waitFor('started', 20_000));
  const sleeper = await sleeperOf(dir, pid);
  process.kill(pid, 'SIGKILL');
  expect(await app.waitFor('exit', 10_000, (event) => event['pid'] === pid)).toMatchObject({
    signal: 'SIGKILL',
  });
  expect(await survivorsAfter([sleeper], GONE_WITHIN)).toEqual([]);
});

it('takes the child along when a worker crashes', async () => {
  const { app, dir } = startOrphanMaster({ drainTimeout: 5000 });
  const [pid = 0] = workerPids(await app.waitFor('started', 20_000));
  const sleeper = await sleeperOf(dir, pid);
  expect(await get(app.port(), '/crash')).toMatchObject({ status: 200 });
  expect(await app.waitFor('exit', 20_000, (event) => event['pid'] === pid)).toMatchObject({
    code: 1,
    reason: 'crash',
  });
  expect(await survivorsAfter([sleeper], GONE_WITHIN)).toEqual([]);
});

it('takes the child along when a worker exits by itself with code 0', async () => {
  const { app, dir } = startOrphanMaster({});
  const [pid = 0] = workerPids(await app.waitFor('started', 20_000));
  const sleeper = await sleeperOf(dir, pid);
  expect(await get(app.port(), '/exit')).toMatchObject({ status: 200 });
  expect(await app.waitFor('exit', 10_000, (event) => event['pid'] === pid)).toMatchObject({
    code: 0,
  });
  expect(await survivorsAfter([sleeper], GONE_WITHIN)).toEqual([]);
});

it("takes every worker's child along when the master stops on SIGTERM", async () => {
  const { app, dir } = startOrphanMaster({ workers: 2 });
  const pids = workerPids(await app.waitFor('started', 20_000));
  const sleepers = await Promise.all(pids.map((pid) => sleeperOf(dir, pid)));
  process.kill(app.child.pid ?? 0, 'SIGTERM');
  expect(await app.exited(20_000)).toEqual({ code: 0, signal: null });
  expect(await survivorsAfter([...pids, ...sleepers], GONE_WITHIN)).toEqual([]);
});

it("takes every worker's child along when the master is SIGKILLed: each worker sees its channel close and exits with its group", async () => {
  const { app, dir } = startOrphanMaster({ workers: 2 });
  const pids = workerPids(await app.waitFor('started', 20_000));
  const sleepers = await Promise.all(pids.map((pid) => sleeperOf(dir, pid)));
  process.kill(app.child.pid ?? 0, 'SIGKILL');
  expect(await app.exited(5000)).toEqual({ code: null, signal: 'SIGKILL' });
  expect(await survivorsAfter(pids, 10_000)).toEqual([]);
  expect(await survivorsAfter(sleepers, GONE_WITHIN)).toEqual([]);
});
