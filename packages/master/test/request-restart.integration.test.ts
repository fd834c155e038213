/**
 * A worker that asks to be replaced (dutch-master's raw `{ event: 'request-restart' }`, or
 * `requestRestart(reason)` of @lastcall/master) is replaced through the rolling path: the master
 * forks its replacement, waits until it is ready, and only then drains the requester. Requests
 * are served one at a time and spaced; one from a worker that is not serving or already waiting
 * is ignored. The workers run test/fixtures/request-restart-worker.js, under a real master
 * (test/fixtures/master.js), some under undici's keep-alive load.
 */
import { fork } from 'node:child_process';
import * as path from 'node:path';
import { requestRestart } from '@lastcall/master';
import { fewestServing, forkedPids, get, killApps, sleep, startLoad, startMaster } from './support';
import type { AppEvent, MasterApp } from './support';

afterEach(killApps);

/** The workers' app, a file of test/fixtures (master.js joins it to its own folder). */
const WORKER_APP = 'request-restart-worker.js';

/**
 * How long to wait for something that must not happen. A request is queued and its recycle
 * emitted within milliseconds of arriving, and the master spaces requested replacements 1 s
 * ± 20 % apart (REQUESTED_RESTART_SPACING): 4 s is over 4x either.
 */
const QUIET_WINDOW = 4000;

/** The least gap between two requested replacements: 1 s − 20 % jitter, less some slack. */
const LEAST_SPACING = 600;

async function started(
  workers: number,
  env: NodeJS.ProcessEnv = {},
  options: Record<string, unknown> = {},
): Promise<MasterApp> {
  const app = startMaster({ workers, ...options }, { app: WORKER_APP, env });
  await app.waitFor('started', 20_000);
  return app;
}

interface Asked {
  readonly pid: number;
  readonly asked: boolean;
  readonly sent: boolean[];
  /** When the answer came back, by this process's clock (the same as the master's). */
  readonly at: number;
}

/** GET /ask-restart?… on a fresh connection: the worker that answers is the one that asks. */
async function askRestart(port: number, query: string): Promise<Asked> {
  const answer = await get(port, `/ask-restart?${query}`);
  if (!('status' in answer) || answer.status !== 200) {
    throw new Error(`/ask-restart?${query} failed: ${JSON.stringify(answer)}`);
  }
  return { ...(JSON.parse(answer.body) as Omit<Asked, 'at'>), at: Date.now() };
}

/** The events of one requested replacement, by position in the master's event stream. */
interface Replacement {
  readonly oldPid: number;
  readonly newPid: number;
  readonly recycle: AppEvent;
  readonly fork: AppEvent;
  readonly ready: AppEvent;
  readonly drain: AppEvent;
  readonly exit: AppEvent;
  /** Indexes in `app.events` of recycle, fork, ready, drain and exit, in that order. */
  readonly order: number[];
}

/** Waits until `oldPid` has exited, then reads its replacement from the events. */
async function replacementOf(app: MasterApp, oldPid: number): Promise<Replacement> {
  await app.waitFor('exit', 20_000, (event) => event['pid'] === oldPid);
  const { events } = app;
  const at = (from: number, where: (event: AppEvent) => boolean): number => {
    const index = events.findIndex((event, position) => position > from && where(event));
    if (index === -1) throw new Error(`missing event after #${String(from)}: ${dump(app)}`);
    return index;
  };
  const recycleAt = at(-1, (event) => event.event === 'recycle' && event['pid'] === oldPid);
  const slot = events[recycleAt]?.['slot'];
  const forkAt = at(recycleAt, (event) => event.event === 'fork' && event['slot'] === slot);
  const newPid = events[forkAt]?.['pid'] as number;
  const readyAt = at(-1, (event) => event.event === 'ready' && event['pid'] === newPid);
  const drainAt = at(-1, (event) => event.event === 'drain' && event['pid'] === oldPid);
  const exitAt = at(-1, (event) => event.event === 'exit' && event['pid'] === oldPid);
  const pick = (index: number): AppEvent => events[index] as AppEvent;
  return {
    oldPid,
    newPid,
    recycle: pick(recycleAt),
    fork: pick(forkAt),
    ready: pick(readyAt),
    drain: pick(drainAt),
    exit: pick(exitAt),
    order: [recycleAt, forkAt, readyAt, drainAt, exitAt],
  };
}

function dump(app: MasterApp): string {
  return `events: ${JSON.stringify(app.events)}\nstderr: ${app.stderr()}`;
}

/** The pids forked, ready and not exited: the workers alive and serving now. */
function servingPids(app: MasterApp): number[] {
  const exited = new Set(app.eventsNamed('exit').map((event) => event['pid'] as number));
  return app
    .eventsNamed('ready')
    .map((event) => event['pid'] as number)
    .filter((pid) => !exited.has(pid));
}

/** The most workers alive at once, counting forks against exits in order. */
function mostAlive(app: MasterApp): number {
  let alive = 0;
  let most = 0;
  for (const event of app.events) {
    if (event.event === 'fork') alive += 1;
    if (event.event === 'exit') alive -= 1;
    most = Math.max(most, alive);
  }
  return most;
}

/** The replacement first, then the requester drains and exits drained; N workers serve after. */
function expectReplacedFirst(app: MasterApp, replacement: Replacement, workers: number): void {
  const { order } = replacement;
  expect({ order, events: app.events }).toEqual({
    order: [...order].sort((a, b) => a - b),
    events: app.events,
  });
  expect(new Set(order).size).toBe(5);
  expect(replacement.newPid).not.toBe(replacement.oldPid);
  expect(replacement.drain['reason']).not.toMatch(/crash|uncaught|exit/i);
  expect(replacement.exit).toMatchObject({ pid: replacement.oldPid, reason: 'drained', code: 0 });
  // Never fewer than N serving: the requester drained only once its replacement was ready.
  expect(fewestServing(app)).toBe(workers);
  expect(servingPids(app)).toHaveLength(workers);
  expect(servingPids(app)).toContain(replacement.newPid);
  expect(servingPids(app)).not.toContain(replacement.oldPid);
}

/**
 * Under a keep-alive load, has the worker that answers ask to be replaced with `query`, waits out
 * its replacement, and expects the load to have lost no request and reached the replacement.
 */
async function expectReplacedUnderLoad(
  app: MasterApp,
  query: string,
): Promise<{ requester: Asked; replacement: Replacement }> {
  const load = startLoad(app.port());
  await sleep(300);
  const requester = await askRestart(app.port(), query);
  expect(requester).toMatchObject({ asked: true, sent: [true] });
  const replacement = await replacementOf(app, requester.pid);
  await sleep(300);
  const tally = await load.stop();
  expect(tally.errors).toEqual([]);
  expect(tally.statuses).toEqual([]);
  expect(tally.ok).toBeGreaterThan(100);
  expect(tally.pids).toContain(String(replacement.newPid));
  return { requester, replacement };
}

/** The bodies of `count` GET /pid, each on its own connection; all must be 200. */
async function servedBy(port: number, count: number): Promise<string[]> {
  const answers = await Promise.all(Array.from({ length: count }, () => get(port, '/pid')));
  return answers.map((answer) =>
    'status' in answer && answer.status === 200 ? answer.body : JSON.stringify(answer),
  );
}

describe('a worker that asks to be replaced', () => {
  it("by dutch-master's raw request-restart is drained only once its replacement is ready, with no failed request", async () => {
    const app = await started(2);
    const { requester, replacement } = await expectReplacedUnderLoad(app, 'via=dutch');
    expect(replacement.recycle['reason']).toMatch(/request/);
    expectReplacedFirst(app, replacement, 2);
    expect(app.eventsNamed('recycle')).toHaveLength(1);
    expect(forkedPids(app)).toHaveLength(3);
    const pids = await servedBy(app.port(), 6);
    expect(pids).not.toContain(String(requester.pid));
    expect(pids.every((pid) => /^\d+$/.test(pid))).toBe(true);
  });

  it("by requestRestart('leak detected') is drained only once its replacement is ready, the reason logged, with no failed request", async () => {
    const app = await started(2, { LASTCALL_LOG_LEVEL: 'info' });
    const { requester, replacement } = await expectReplacedUnderLoad(
      app,
      'via=api&reason=leak%20detected',
    );
    expect(replacement.recycle).toMatchObject({
      pid: requester.pid,
      reason: expect.stringMatching(/leak detected/) as unknown,
    });
    expectReplacedFirst(app, replacement, 2);
    // The master's own log (stderr, at info) carries the reason.
    expect(app.stderr()).toMatch(/lastcall:master .*leak detected/);
    expect(forkedPids(app)).toHaveLength(3);
  });

  it('asking 50 times at once is replaced once, and the master forks nothing more', async () => {
    const app = await started(2);
    const requester = await askRestart(app.port(), 'via=both&times=50&reason=again');
    expect(requester.sent).toEqual(Array.from({ length: 50 }, () => true));
    const replacement = await replacementOf(app, requester.pid);
    expectReplacedFirst(app, replacement, 2);
    await sleep(QUIET_WINDOW);
    expect({ recycles: app.eventsNamed('recycle'), forks: forkedPids(app) }).toEqual({
      recycles: [expect.objectContaining({ pid: requester.pid })],
      forks: [expect.any(Number), expect.any(Number), replacement.newPid],
    });
    expect(app.eventsNamed('exit')).toEqual([
      expect.objectContaining({ pid: requester.pid, reason: 'drained' }),
    ]);
    expect(app.child.exitCode).toBeNull();
    const pids = await servedBy(app.port(), 6);
    expect(pids.every((pid) => /^\d+$/.test(pid) && pid !== String(requester.pid))).toBe(true);
  });

  it('two workers asking at once are replaced one after the other, spaced, never side by side', async () => {
    const app = await started(2);
    const originals = servingPids(app);
    expect(originals).toHaveLength(2);
    // Keep-alive load only: a loop of new connections would share the round-robin with the asks
    // below, and could keep them landing on the same worker.
    const load = startLoad(app.port(), { keepAlive: 4, fresh: 0 });
    await sleep(300);
    const first = await askRestart(app.port(), `via=api&reason=first&only=${originals.join(',')}`);
    expect(first).toMatchObject({ asked: true, sent: [true] });
    const other = originals.find((pid) => pid !== first.pid) as number;
    // New connections go round-robin; a few tries reach the other worker, which alone may ask.
    let second: Asked | undefined;
    for (let tries = 0; tries < 20 && second === undefined; tries += 1) {
      const answer = await askRestart(app.port(), `via=dutch&only=${String(other)}`);
      if (answer.asked) second = answer;
    }
    if (second === undefined) throw new Error(`worker ${String(other)} never answered`);
    const replacedFirst = await replacementOf(app, first.pid);
    const replacedSecond = await replacementOf(app, other);
    await sleep(300);
    const tally = await load.stop();
    expect(tally.errors).toEqual([]);
    expect(tally.statuses).toEqual([]);
    // Both asked while the first replacement was still starting.
    expect(second.at).toBeLessThan(replacedFirst.ready.t);
    expectReplacedFirst(app, replacedFirst, 2);
    expectReplacedFirst(app, replacedSecond, 2);
    // The second replacement is forked only after the first requester's replacement was ready
    // and the first requester had gone, and a spacing later.
    const [, secondForkAt] = replacedSecond.order;
    const [, , firstReadyAt, , firstExitAt] = replacedFirst.order;
    expect(secondForkAt).toBeGreaterThan(firstReadyAt ?? Infinity);
    expect(secondForkAt).toBeGreaterThan(firstExitAt ?? Infinity);
    expect(replacedSecond.recycle.t - replacedFirst.exit.t).toBeGreaterThanOrEqual(LEAST_SPACING);
    expect(mostAlive(app)).toBe(3);
    expect(app.eventsNamed('recycle').map((event) => event['pid'])).toEqual([first.pid, other]);
    expect(forkedPids(app)).toHaveLength(4);
  });

  it('is ignored while it is still starting', async () => {
    const app = await started(2, { ASK_AT_START: '1' });
    await sleep(QUIET_WINDOW);
    expect({ recycles: app.eventsNamed('recycle'), forks: forkedPids(app) }).toEqual({
      recycles: [],
      forks: [expect.any(Number), expect.any(Number)],
    });
    expect(servingPids(app)).toHaveLength(2);
  });

  it('with a reason that is not a string is ignored with one warning, and nothing restarts', async () => {
    const app = await started(2);
    const malformed = await get(app.port(), '/malformed?times=5');
    expect(malformed).toMatchObject({ status: 200 });
    const deadline = Date.now() + 10_000;
    const warning = /sent a lastcall message of an unknown type or shape/g;
    const isWarned = (): boolean => (app.stderr().match(warning) ?? []).length > 0;
    while (!isWarned() && Date.now() < deadline) await sleep(50);
    await sleep(QUIET_WINDOW);
    expect({
      warnings: app.stderr().match(warning) ?? [],
      recycles: app.eventsNamed('recycle'),
      forks: forkedPids(app).length,
    }).toEqual({ warnings: [expect.any(String)], recycles: [], forks: 2 });
    expect(app.child.exitCode).toBeNull();
    // The channel still works: a well-formed request from a worker is honoured.
    const requester = await askRestart(app.port(), 'via=api&reason=well-formed');
    const replacement = await replacementOf(app, requester.pid);
    expect(replacement.recycle['reason']).toMatch(/well-formed/);
  });
});

describe('requestRestart outside a lastcall worker', () => {
  it('returns false in a process that no master forked', () => {
    expect(requestRestart('not a worker')).toBe(false);
    expect(requestRestart()).toBe(false);
  });

  it('returns false in a child with an IPC channel and LASTCALL_MASTER=1 that is no cluster worker', async () => {
    const child = fork(path.join(__dirname, 'fixtures', WORKER_APP), [], {
      env: { PATH: process.env['PATH'], OUTSIDE_PROBE: '1', LASTCALL_MASTER: '1' },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    const stderr: Buffer[] = [];
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
    try {
      const answer = await new Promise<unknown>((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(new Error(`no answer within 10 s: ${Buffer.concat(stderr).toString()}`));
        }, 10_000);
        child.once('message', (message) => {
          clearTimeout(timer);
          resolve(message);
        });
        // 'exit' may come before the message it sent is read: give the channel a moment.
        child.once('exit', (code) => {
          setTimeout(() => {
            clearTimeout(timer);
            reject(new Error(`exited ${String(code)}: ${Buffer.concat(stderr).toString()}`));
          }, 500);
        });
      });
      expect(answer).toEqual({ sent: false });
    } finally {
      child.kill('SIGKILL');
    }
  });
});
