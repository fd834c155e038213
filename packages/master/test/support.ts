/**
 * Helpers of the master's integration tests: a master fixture with its worker build in a file,
 * a bounded load from real clients, and event bookkeeping.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client, Pool } from 'undici';
import { makeTempDir, startApp } from '../../graceful/test/run-app';
import type { App, AppEvent } from '../../graceful/test/run-app';

export { killApps, makeTempDir, waitForCount } from '../../graceful/test/run-app';
export type { App, AppEvent };

/** The worker builds test/fixtures/worker-app.js knows. */
export type Build =
  'good' | 'crash-at-start' | 'async-crash-at-start' | 'never-ready' | 'slow-start';

/** A running master fixture and the file its workers read their build from. */
export interface MasterApp extends App {
  readonly buildFile: string;
  setBuild(build: Build): void;
  /** The port the workers listen on, once started. */
  port(): number;
  eventsNamed(name: string): AppEvent[];
}

/** Starts test/fixtures/master.js with `options` for `new Master()`. */
export function startMaster(
  options: Record<string, unknown>,
  {
    build = 'good',
    env = {},
    probe,
    app: workerApp,
    logsDir,
    monitorFile,
  }: {
    build?: Build;
    env?: NodeJS.ProcessEnv;
    probe?: 'fail-first';
    app?: string;
    logsDir?: string;
    /** A function `heartbeat.monitor` reading this file (`up`, `down`, `throw`, `hang`). */
    monitorFile?: string;
  } = {},
): MasterApp {
  const buildFile = path.join(makeTempDir(), 'build');
  fs.writeFileSync(buildFile, build);
  const app = startApp(
    { options, probe, app: workerApp, logsDir, monitorFile },
    {
      fixture: path.join(__dirname, 'fixtures', 'master.js'),
      env: { LASTCALL_LOG_LEVEL: 'warn', BUILD_FILE: buildFile, ...env },
    },
  );
  const eventsNamed = (name: string): AppEvent[] =>
    app.events.filter((event) => event.event === name);
  return Object.assign(app, {
    buildFile,
    setBuild: (next: Build) => {
      fs.writeFileSync(buildFile, next);
    },
    port: () => {
      const listening = eventsNamed('listening')[0];
      if (listening === undefined) throw new Error('no worker has listened yet');
      return listening['port'] as number;
    },
    eventsNamed,
  });
}

/** What a load saw. */
export interface LoadTally {
  ok: number;
  statuses: number[];
  errors: string[];
  pids: Set<string>;
}

/**
 * A load until `stop()`: `keepAlive` loops on one keep-alive Pool (which honours
 * `Connection: close`) and `fresh` loops that open a new connection for every request.
 */
export function startLoad(
  port: number,
  {
    keepAlive = 8,
    fresh = 2,
    path: urlPath = '/pid',
  }: { keepAlive?: number; fresh?: number; path?: string } = {},
): { tally: LoadTally; stop: () => Promise<LoadTally> } {
  const origin = `http://127.0.0.1:${String(port)}`;
  const pool = new Pool(origin, { connections: Math.max(1, keepAlive) });
  const tally: LoadTally = { ok: 0, statuses: [], errors: [], pids: new Set() };
  let isLoading = true;
  // A load stops by itself: after LOAD_LIMIT_MS, and after the test that forgot it (a failed
  // assertion before its stop()), so that no load hammers a closed port for the rest of the run.
  const limit = setTimeout(() => {
    isLoading = false;
  }, LOAD_LIMIT_MS);
  limit.unref();
  const once = async (reset: boolean): Promise<void> => {
    try {
      const response = await pool.request({ path: urlPath, method: 'GET', reset });
      const body = await response.body.text();
      if (response.statusCode === 200) {
        tally.ok += 1;
        tally.pids.add(body);
      } else {
        tally.statuses.push(response.statusCode);
      }
    } catch (error) {
      const { code, message } = error as NodeJS.ErrnoException;
      tally.errors.push(code ?? message);
    }
  };
  const loop = async (reset: boolean): Promise<void> => {
    while (isLoading) await once(reset);
  };
  const loops = [
    ...Array.from({ length: keepAlive }, () => loop(false)),
    ...Array.from({ length: fresh }, () => loop(true)),
  ];
  const stop = async (): Promise<LoadTally> => {
    isLoading = false;
    clearTimeout(limit);
    loads.delete(stop);
    await Promise.all(loops);
    await pool.close();
    return tally;
  };
  loads.add(stop);
  return { tally, stop };
}

/** The longest a load runs, in ms, when nobody stops it. */
const LOAD_LIMIT_MS = 120_000;

/** The loads not stopped yet. */
const loads = new Set<() => Promise<LoadTally>>();

// Every test file that uses this kit stops what a failed test left running.
afterEach(async () => {
  await Promise.all([...loads].map((stop) => stop()));
});

/** One GET on its own connection; resolves with status and body, or the error's code. */
export async function get(
  port: number,
  urlPath: string,
): Promise<{ status: number; body: string } | { error: string }> {
  const client = new Client(`http://127.0.0.1:${String(port)}`);
  try {
    const response = await client.request({ path: urlPath, method: 'GET' });
    return { status: response.statusCode, body: await response.body.text() };
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    return { error: code ?? message };
  } finally {
    await client.close();
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls until `pid` is gone or `ms` have passed; true when it is gone. */
export async function waitGone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await sleep(25);
  }
  return !isAlive(pid);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The pids of the workers the master forked, from its `fork` events. */
export function forkedPids(app: MasterApp): number[] {
  return app.eventsNamed('fork').map((event) => event['pid'] as number);
}

/**
 * The fewest workers that were ready and not draining at any moment after the first
 * `started`, from the master's events in order.
 */
export function fewestServing(app: MasterApp): number {
  const serving = new Set<number>();
  let fewest = Infinity;
  let isStarted = false;
  for (const event of app.events) {
    const pid = event['pid'] as number;
    if (event.event === 'ready') serving.add(pid);
    else if (event.event === 'drain' || event.event === 'exit') serving.delete(pid);
    else if (event.event === 'started') isStarted = true;
    if (isStarted) fewest = Math.min(fewest, serving.size);
  }
  return fewest;
}
