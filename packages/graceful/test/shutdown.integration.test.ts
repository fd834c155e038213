import * as path from 'node:path';
import type { AppEvent } from './run-app';
import { killApps, makeTempDir, readCrashLog, startApp } from './run-app';

afterEach(killApps);

const names = (events: AppEvent[], event: string): unknown[] =>
  events.filter((line) => line.event === event).map((line) => line['name']);

function crashEnv(): { env: NodeJS.ProcessEnv; crashLog: string } {
  const crashLog = path.join(makeTempDir(), 'crash.log');
  return { crashLog, env: { LASTCALL_CRASH_LOG: crashLog, LASTCALL_APP_NAME: 'shop' } };
}

describe('SIGTERM', () => {
  it('turns readiness false, waits shutdownDelay, runs the hooks last-first, then the checks, and exits 0', async () => {
    const app = startApp({
      options: { shutdownDelay: 300, timeout: 10_000 },
      server: true,
      hooks: [
        { name: 'db pool', ms: 30 },
        { name: 'queue', ms: 30 },
      ],
      checks: [{ name: 'jobs done', readyAfterMs: 100 }],
    });
    await app.waitFor('ready');
    app.child.kill('SIGTERM');
    const signal = await app.waitFor('signal');
    expect(signal).toMatchObject({ isReady: false, state: 'draining' });
    const shutdown = await app.waitFor('shutdown');
    expect(shutdown).toMatchObject({ kind: 'signal', isReady: false, state: 'closing' });
    expect(shutdown.t - signal.t).toBeGreaterThanOrEqual(290);
    expect(await app.exited()).toEqual({ code: 0, signal: null });
    expect(names(app.events, 'hook-start')).toEqual(['queue', 'db pool']);
    const order = app.events.map(
      (line) => `${line.event}${typeof line['name'] === 'string' ? ` ${line['name']}` : ''}`,
    );
    expect(order.slice(order.indexOf('shutdown'))).toEqual([
      'shutdown',
      'hook-start queue',
      'hook-end queue',
      'hook-start db pool',
      'hook-end db pool',
      'check-ready jobs done',
      'drain',
      'exit',
      'process-exit',
    ]);
    expect(app.events.find((line) => line.event === 'process-exit')).toMatchObject({ code: 0 });
  });

  it('goes on with the other hooks when one throws or outlives its own timeout', async () => {
    const app = startApp({
      options: { timeout: 10_000 },
      server: true,
      hooks: [
        { name: 'last' },
        { name: 'slow', hang: 'alive', timeout: 200 },
        { name: 'broken', fail: true },
      ],
    });
    await app.waitFor('ready');
    app.child.kill('SIGTERM');
    expect(await app.exited()).toEqual({ code: 0, signal: null });
    expect(names(app.events, 'hook-start')).toEqual(['broken', 'slow', 'last']);
    expect(names(app.events, 'hook-end')).toEqual(['last']);
    expect(app.stderr()).toMatch(
      /shutdown hook "broken" failed.*LASTCALL_ERR_GRACEFUL_HOOK_FAILED.*broken failed/,
    );
    expect(app.stderr()).toMatch(
      /shutdown hook "slow" did not finish within its 200 ms.*LASTCALL_ERR_GRACEFUL_HOOK_TIMEOUT/,
    );
  });

  it('exits at once with 143 on a second SIGTERM, naming the hook still pending', async () => {
    const app = startApp({
      server: true,
      options: { timeout: 20_000 },
      hooks: [{ name: 'stuck flush', hang: 'alive' }],
    });
    await app.waitFor('ready');
    app.child.kill('SIGTERM');
    await app.waitFor('hook-start');
    app.child.kill('SIGTERM');
    expect(await app.exited(5000)).toEqual({ code: 143, signal: null });
    expect(app.stderr()).toMatch(
      /SIGTERM received again during shutdown; exiting at once with 143.*"pendingHooks":\["stuck flush"\]/,
    );
  });

  it('exits with 130 on SIGINT after SIGTERM', async () => {
    const app = startApp({
      server: true,
      options: { timeout: 20_000 },
      hooks: [{ name: 'stuck', hang: 'alive' }],
    });
    await app.waitFor('ready');
    app.child.kill('SIGTERM');
    await app.waitFor('hook-start');
    app.child.kill('SIGINT');
    expect(await app.exited(5000)).toEqual({ code: 130, signal: null });
  });
});

describe('the deadline', () => {
  it('holds against a hook that never finishes, and names it', async () => {
    const app = startApp({
      server: true,
      options: { timeout: 600 },
      hooks: [{ name: 'forever', hang: 'alive' }],
    });
    await app.waitFor('ready');
    app.child.kill('SIGTERM');
    const signal = await app.waitFor('signal');
    expect(await app.exited(600 * 8)).toEqual({ code: 0, signal: null });
    const exit = app.events.find((line) => line.event === 'exit');
    expect(exit).toBeDefined();
    expect((exit?.t ?? 0) - signal.t).toBeGreaterThanOrEqual(590);
    expect(app.events.some((line) => line.event === 'drain')).toBe(false);
    expect(app.stderr()).toMatch(
      /shutdown did not finish within 600 ms.*LASTCALL_ERR_GRACEFUL_DEADLINE.*"pendingHooks":\["forever"\]/,
    );
  });

  it('holds against a check that is never ready, and names it', async () => {
    const app = startApp({
      options: { timeout: 600 },
      server: true,
      checks: [
        { name: 'sessions closed', never: true },
        { name: 'bad check', throws: true },
      ],
    });
    await app.waitFor('ready');
    app.child.kill('SIGTERM');
    expect(await app.exited(600 * 8)).toEqual({ code: 0, signal: null });
    expect(app.stderr()).toMatch(/"pendingChecks":\["sessions closed","bad check"\]/);
    expect(app.stderr().match(/exit check "bad check" threw/g)).toHaveLength(1);
  });

  it('ends the wait when a hook waits on a promise nothing can resolve any more', async () => {
    // A crash starts this shutdown: no server, so once the report is out nothing is left alive.
    const app = startApp(
      { crash: 'timer', options: { timeout: 20_000 }, hooks: [{ name: 'orphan', hang: 'empty' }] },
      { env: crashEnv().env },
    );
    expect(await app.exited(5000)).toEqual({ code: 1, signal: null });
    expect(app.stderr()).toMatch(/nothing is left that could finish.*"pendingHooks":\["orphan"\]/);
  });
});

describe('an uncaught error', () => {
  it.each(['timer', 'socket'])(
    'thrown in a %s callback is reported first, then shuts down gracefully with exit code 1',
    async (crash) => {
      const { env, crashLog } = crashEnv();
      const app = startApp({ crash, hooks: [{ name: 'close server' }] }, { env });
      expect(await app.exited()).toEqual({ code: 1, signal: null });
      const entries = readCrashLog(crashLog);
      expect(entries).toHaveLength(1);
      expect(entries[0]).toMatchObject({
        origin: 'uncaughtException',
        app: 'shop',
        error: { message: `boom from ${crash}` },
      });
      expect(names(app.events, 'hook-end')).toEqual(['close server']);
      expect(app.events.find((line) => line.event === 'shutdown')).toMatchObject({ kind: 'error' });
    },
  );

  it('an unhandled rejection is reported with its origin and exits with error.exitCode', async () => {
    const { env, crashLog } = crashEnv();
    const app = startApp({ crash: 'rejection', crashExitCode: 3, hooks: [{ name: 'h' }] }, { env });
    expect(await app.exited()).toEqual({ code: 3, signal: null });
    expect(readCrashLog(crashLog)).toMatchObject([
      { origin: 'unhandledRejection', error: { message: 'boom from rejection', exitCode: 3 } },
    ]);
    expect(names(app.events, 'hook-end')).toEqual(['h']);
  });

  it('a second error during shutdown is reported too, and the shutdown neither restarts nor hangs', async () => {
    const { env, crashLog } = crashEnv();
    const app = startApp(
      {
        crash: 'timer',
        hooks: [{ name: 'after' }, { name: 'crashy', crashInside: true, ms: 100 }],
      },
      { env },
    );
    expect(await app.exited()).toEqual({ code: 1, signal: null });
    const entries = readCrashLog(crashLog);
    expect(entries.map((entry) => (entry['error'] as { message: string }).message)).toEqual([
      'boom from timer',
      'crash inside crashy',
    ]);
    expect(entries[1]).toMatchObject({ origin: 'uncaughtException' });
    expect(names(app.events, 'hook-start')).toEqual(['crashy', 'after']);
    expect(app.events.filter((line) => line.event === 'shutdown')).toHaveLength(1);
  });
});

describe('what start() installs', () => {
  it('leaves a process that never shuts down free to exit: no timer, only the signal and error handlers', async () => {
    const app = startApp({});
    const ready = await app.waitFor('ready');
    expect(ready['listeners']).toEqual({
      SIGTERM: 1,
      SIGINT: 1,
      uncaughtException: 1,
      unhandledRejection: 1,
      beforeExit: 0,
      disconnect: 0,
    });
    expect(ready['activeResources']).not.toContain('Timeout');
    expect(await app.exited(5000)).toEqual({ code: 0, signal: null });
    expect(app.events.some((line) => line.event === 'shutdown')).toBe(false);
  });

  it('installs no error handler with handleErrors: false and only the signals asked for', async () => {
    const app = startApp({ options: { handleErrors: false, signals: ['SIGINT'] } });
    const ready = await app.waitFor('ready');
    expect(ready['listeners']).toMatchObject({
      SIGTERM: 0,
      SIGINT: 1,
      uncaughtException: 0,
      unhandledRejection: 0,
    });
    await app.exited(5000);
  });

  it('calls an injected exit instead of process.exit, and leaves nothing running after it', async () => {
    const app = startApp({ injectExit: true, server: true, hooks: [{ name: 'h', ms: 20 }] });
    await app.waitFor('ready');
    app.child.kill('SIGTERM');
    await app.waitFor('exit-called');
    expect(await app.exited(5000)).toEqual({ code: 0, signal: null });
    expect(app.events.find((line) => line.event === 'exit-called')).toMatchObject({ code: 0 });
    // The process ended on its own, later than exit-called: nothing of ours kept it alive.
    expect(app.events.at(-1)).toMatchObject({ event: 'process-exit', code: 0 });
  });

  it('works from an ES module app', async () => {
    const app = startApp({}, { fixture: 'esm-app.mjs' });
    await app.waitFor('ready');
    app.child.kill('SIGTERM');
    expect(await app.exited()).toEqual({ code: 0, signal: null });
    expect(app.events.map((line) => line.event)).toEqual(['ready', 'hook', 'exit']);
  });
});
