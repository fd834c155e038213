import * as fs from 'node:fs';
import * as path from 'node:path';
import { killApps, makeTempDir, startApp } from './run-app';

afterEach(killApps);

/** Polls until `pid` is gone or `ms` have passed; true when it is gone. */
async function waitGone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return false;
}

describe('in a cluster worker', () => {
  it('tells the primary it is draining as the shutdown starts, leaves the cluster, then exits 0', async () => {
    const markerDir = makeTempDir();
    const app = startApp({ then: 'sigterm', markerDir }, { fixture: 'cluster-app.js' });
    const exit = await app.waitFor('worker-exit');
    // exitedAfterDisconnect: the worker disconnected itself, acknowledged by the primary, before
    // it exited, so the primary had stopped routing connections to it.
    expect(exit).toMatchObject({ code: 0, signal: null, exitedAfterDisconnect: true });
    const messages = app.events.filter((line) => line.event === 'message');
    expect(messages).toEqual([
      expect.objectContaining({
        message: { lastcall: 1, type: 'draining', reason: { kind: 'signal', signal: 'SIGTERM' } },
      }),
    ]);
    expect(fs.readFileSync(path.join(markerDir, 'hook-ran'), 'utf8')).toBe(String(exit['pid']));
  });

  it('shuts down when the IPC channel closes because the primary died', async () => {
    const markerDir = makeTempDir();
    const app = startApp({ then: 'die', markerDir }, { fixture: 'cluster-app.js' });
    const forked = await app.waitFor('forked');
    await app.waitFor('listening');
    const workerPid = forked['pid'] as number;
    app.child.kill('SIGKILL');
    try {
      expect(await waitGone(workerPid, 5000)).toBe(true);
      expect(fs.readFileSync(path.join(markerDir, 'hook-ran'), 'utf8')).toBe(String(workerPid));
    } finally {
      try {
        process.kill(workerPid, 'SIGKILL');
      } catch {
        // Gone already, as it should be.
      }
    }
  });
});

describe('in a cluster worker whose primary dies during a shutdown', () => {
  it('exits within DISCONNECT_TIMEOUT instead of its own, longer deadline', async () => {
    const markerDir = makeTempDir();
    const app = startApp(
      { then: 'sigterm', markerDir, hookMs: 20_000, timeout: 30_000 },
      { fixture: 'cluster-app.js' },
    );
    const forked = await app.waitFor('forked');
    await app.waitFor('message');
    const workerPid = forked['pid'] as number;
    app.child.kill('SIGKILL');
    try {
      // DISCONNECT_TIMEOUT is 1000 ms: a margin of 4, far below the hook's 20 s.
      expect(await waitGone(workerPid, 4000)).toBe(true);
    } finally {
      try {
        process.kill(workerPid, 'SIGKILL');
      } catch {
        // Gone already, as it should be.
      }
    }
  });
});

describe('outside a cluster', () => {
  it('sends nothing and watches no IPC channel', async () => {
    const app = startApp({});
    const ready = await app.waitFor('ready');
    expect(ready['listeners']).toMatchObject({ disconnect: 0 });
    expect(await app.exited(5000)).toEqual({ code: 0, signal: null });
  });
});
