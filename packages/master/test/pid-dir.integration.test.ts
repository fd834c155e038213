/**
 * Issue 18, cluster2's pid files: with `pidDir`, the master writes `<name>.pid` and each ready
 * worker `<name>-worker-<slot>.pid` there; a slot's file follows its replacement (rolling restart,
 * crash), goes when its worker exits without one, and every file goes at the master's exit. A
 * folder that is not ours alone is refused with a code.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Master } from '@lastcall/master';
import type { MasterError } from '@lastcall/master';
import { get, killApps, makeTempDir, startMaster, waitForCount } from './support';
import type { AppEvent, MasterApp } from './support';

afterEach(() => {
  killApps();
});

interface Worker {
  readonly slot: number;
  readonly pid: number;
}

function workersOf(started: AppEvent): Worker[] {
  return (started['status'] as Worker[]).map(({ slot, pid }) => ({ slot, pid }));
}

/** The file's pid, or undefined when there is no file. */
function pidIn(file: string): number | undefined {
  try {
    return Number(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves once `file` names `pid` (or is gone, for `undefined`); rejects after `ms`. */
async function untilFileNames(file: string, pid: number | undefined, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (pidIn(file) !== pid) {
    if (Date.now() > deadline) {
      throw new Error(`${file} names ${String(pidIn(file))}, not ${String(pid)}`);
    }
    await pause(25);
  }
}

function startWithPidDir(
  options: Record<string, unknown>,
  env: NodeJS.ProcessEnv = {},
): { app: MasterApp; dir: string } {
  const dir = path.join(makeTempDir(), 'pids');
  const app = startMaster({ readyTimeout: 10_000, pidDir: dir, ...options }, { env });
  return { app, dir };
}

it("writes the master's and each ready worker's pid file (0644) and removes them all at exit", async () => {
  const parent = makeTempDir();
  const dir = path.join(parent, 'pids');
  fs.mkdirSync(dir, { mode: 0o755 });
  // Left by a master that was SIGKILLed: this master owns the name, so it is not current.
  fs.writeFileSync(path.join(dir, 'acme-shop-worker-7.pid'), '999999\n');
  fs.writeFileSync(path.join(dir, 'other-worker-0.pid'), '999998\n');
  const app = startMaster(
    { readyTimeout: 10_000, pidDir: dir },
    { env: { LASTCALL_APP_NAME: '@acme/shop' } },
  );
  const workers = workersOf(await app.waitFor('started', 20_000));
  expect(workers).toHaveLength(2);
  expect(pidIn(path.join(dir, 'acme-shop.pid'))).toBe(app.child.pid);
  for (const { slot, pid } of workers) {
    const file = path.join(dir, `acme-shop-worker-${String(slot)}.pid`);
    expect(fs.readFileSync(file, 'utf8')).toBe(`${String(pid)}\n`);
    expect(fs.lstatSync(file).mode & 0o777).toBe(0o644);
  }
  expect(fs.readdirSync(dir).sort()).toEqual([
    'acme-shop-worker-0.pid',
    'acme-shop-worker-1.pid',
    'acme-shop.pid',
    'other-worker-0.pid',
  ]);
  app.child.kill('SIGTERM');
  expect(await app.exited(20_000)).toEqual({ code: 0, signal: null });
  expect(fs.readdirSync(dir)).toEqual(['other-worker-0.pid']);
}, 60_000);

it('makes a missing pidDir 0755 and names the files after pidFile when given beside it', async () => {
  const parent = makeTempDir();
  const dir = path.join(parent, 'pids');
  const pidFile = path.join(parent, 'cart.pid');
  const app = startMaster({ workers: 1, readyTimeout: 10_000, pidDir: dir, pidFile });
  const [worker] = workersOf(await app.waitFor('started', 20_000));
  expect(fs.lstatSync(dir).mode & 0o777).toBe(0o755);
  expect(pidIn(pidFile)).toBe(app.child.pid);
  expect(fs.readdirSync(dir)).toEqual(['cart-worker-0.pid']);
  expect(pidIn(path.join(dir, 'cart-worker-0.pid'))).toBe(worker?.pid);
  app.child.kill('SIGTERM');
  expect(await app.exited(20_000)).toEqual({ code: 0, signal: null });
  expect(fs.readdirSync(dir)).toEqual([]);
  expect(fs.existsSync(pidFile)).toBe(false);
}, 60_000);

it("replaces a slot's file with its replacement's pid on a rolling restart, and keeps it when the old worker exits", async () => {
  const { app, dir } = startWithPidDir({ drainTimeout: 10_000 });
  const before = workersOf(await app.waitFor('started', 20_000));
  process.kill(app.child.pid ?? 0, 'SIGUSR2');
  const done = await app.waitFor('restartDone', 30_000);
  const replaced = (done['replaced'] as { slot: number; oldPid: number; newPid: number }[]).sort(
    (a, b) => a.slot - b.slot,
  );
  expect(replaced.map((step) => step.slot)).toEqual([0, 1]);
  // The report comes once every old worker has exited: their exits left the new pids in place.
  for (const step of replaced) {
    expect(before.map((worker) => worker.pid)).toContain(step.oldPid);
    expect(app.eventsNamed('exit').map((event) => event['pid'])).toContain(step.oldPid);
    expect(pidIn(path.join(dir, `lastcall-worker-${String(step.slot)}.pid`))).toBe(step.newPid);
  }
  expect(pidIn(path.join(dir, 'lastcall.pid'))).toBe(app.child.pid);
}, 60_000);

it("follows a crashed worker's replacement, and removes the file of a worker that exits without one", async () => {
  const { app, dir } = startWithPidDir({ drainTimeout: 2000 });
  await app.waitFor('started', 20_000);
  // The crash replacement is ready: the slot's file names it.
  void get(app.port(), '/crash');
  const crashed = await app.waitFor('exit', 20_000, (event) => event['reason'] === 'crash');
  const slot = crashed['slot'] as number;
  const file = path.join(dir, `lastcall-worker-${String(slot)}.pid`);
  const [, replacement] = await waitForCount(app, 'ready', 3, 20_000);
  const readyAgain = app.eventsNamed('ready').filter((event) => event['slot'] === slot);
  const replacementPid = readyAgain[readyAgain.length - 1]?.['pid'] as number;
  expect(replacement).toBeDefined();
  expect(replacementPid).not.toBe(crashed['pid']);
  await untilFileNames(file, replacementPid);
  // A replacement that never gets ready: the crashed worker's exit takes its file along.
  app.setBuild('never-ready');
  void get(app.port(), '/crash');
  const second = await app.waitFor(
    'exit',
    20_000,
    (event) => event['reason'] === 'crash' && event['pid'] !== crashed['pid'],
  );
  const secondFile = path.join(dir, `lastcall-worker-${String(second['slot'])}.pid`);
  expect(pidIn(secondFile)).toBeUndefined();
  const otherSlot = second['slot'] === 0 ? 1 : 0;
  const serving = app.eventsNamed('ready').filter((event) => event['slot'] === otherSlot);
  expect(pidIn(path.join(dir, `lastcall-worker-${String(otherSlot)}.pid`))).toBe(
    serving[serving.length - 1]?.['pid'],
  );
}, 60_000);

describe('refuses a pidDir that is not a folder of ours alone', () => {
  function refusal(dir: string): Promise<AppEvent> {
    const app = startMaster({ workers: 1, readyTimeout: 10_000, pidDir: dir });
    return app.waitFor('start-failed', 20_000);
  }

  it('a file', async () => {
    const file = path.join(makeTempDir(), 'not-a-folder');
    fs.writeFileSync(file, '');
    const failed = await refusal(file);
    expect(failed['code']).toBe('LASTCALL_ERR_MASTER_PID_DIR_FAILED');
    expect(failed['message']).toBe(
      `the pidDir ${file} cannot hold the pid files: it is not a folder`,
    );
  });

  it('a folder others can write into', async () => {
    const dir = path.join(makeTempDir(), 'shared');
    fs.mkdirSync(dir);
    fs.chmodSync(dir, 0o777);
    const failed = await refusal(dir);
    expect(failed).toMatchObject({
      code: 'LASTCALL_ERR_MASTER_PID_DIR_FAILED',
      message: `the pidDir ${dir} cannot hold the pid files: other users can write into it (mode 0777)`,
    });
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('a symbolic link to a folder', async () => {
    const parent = makeTempDir();
    fs.mkdirSync(path.join(parent, 'real'), { mode: 0o755 });
    const link = path.join(parent, 'link');
    fs.symlinkSync(path.join(parent, 'real'), link);
    const failed = await refusal(link);
    expect(failed).toMatchObject({
      code: 'LASTCALL_ERR_MASTER_PID_DIR_FAILED',
      message: `the pidDir ${link} cannot hold the pid files: it is a symbolic link`,
    });
    expect(fs.readdirSync(path.join(parent, 'real'))).toEqual([]);
  });

  it.each([[''], [42], [['pids']]])('the option %j, in the constructor', (pidDir) => {
    let error: MasterError | undefined;
    try {
      new Master({ pidDir: pidDir as string });
    } catch (thrown) {
      error = thrown as MasterError;
    }
    expect(error?.code).toBe('LASTCALL_ERR_MASTER_INVALID_OPTIONS');
    expect(error?.message).toMatch(/^Master: option "pidDir" must be a path to a folder, got /);
  });
});
