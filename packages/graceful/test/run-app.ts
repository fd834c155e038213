/**
 * Runs test/fixtures/<fixture> as a real child process that loads `@lastcall/graceful` by name
 * (the built package). The scenario goes as JSON in GRACEFUL_FIXTURE; the child prints one JSON
 * line per event on stdout. Every wait is bounded; every child is SIGKILLed by
 * {@link killApps} in `afterEach`.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess, ChildProcessByStdio } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Readable } from 'node:stream';

/** One JSON line the child printed. */
export type AppEvent = Record<string, unknown> & { readonly event: string; readonly t: number };

/** A running child and what it has printed so far. */
export interface App {
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  readonly events: AppEvent[];
  stderr(): string;
  /** Resolves with the first event named `name` (and matching `where`), or rejects after `ms`. */
  waitFor(name: string, ms?: number, where?: (event: AppEvent) => boolean): Promise<AppEvent>;
  /** Resolves with the exit code and signal, or rejects (after killing the child) after `ms`. */
  exited(ms?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running = new Set<ChildProcess>();
const tempDirs: string[] = [];

/** A fresh folder under the OS temp dir, removed by {@link killApps}. */
export function makeTempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'graceful-'));
  tempDirs.push(dir);
  return dir;
}

/**
 * Starts `fixture` (a file of test/fixtures, or an absolute path: other packages' tests use this
 * runner too) with `scenario`; `env` is added to a bare environment (PATH only).
 */
export function startApp(
  scenario: object,
  options: { fixture?: string; env?: NodeJS.ProcessEnv } = {},
): App {
  const fixture = options.fixture ?? 'app.js';
  const child = spawn(
    process.execPath,
    [path.isAbsolute(fixture) ? fixture : path.join(__dirname, 'fixtures', fixture)],
    {
      cwd: os.tmpdir(),
      env: {
        PATH: process.env['PATH'],
        ...options.env,
        GRACEFUL_FIXTURE: JSON.stringify(scenario),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  running.add(child);
  const events: AppEvent[] = [];
  const stderr: Buffer[] = [];
  let partial = '';
  const waiters = new Set<() => void>();
  child.stdout.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (line.startsWith('{')) events.push(JSON.parse(line) as AppEvent);
    }
    for (const wake of waiters) wake();
  });
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => {
      running.delete(child);
      for (const wake of waiters) wake();
      resolve({ code, signal });
    });
  });
  const describe = (): string =>
    `events: ${JSON.stringify(events)}\nstderr: ${Buffer.concat(stderr).toString('utf8')}`;
  return {
    child,
    events,
    stderr: () => Buffer.concat(stderr).toString('utf8'),
    waitFor(name, ms = 10_000, where = () => true) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const found = events.find((event) => event.event === name && where(event));
          if (found !== undefined) {
            finish();
            resolve(found);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            finish();
            reject(new Error(`the app exited before "${name}"\n${describe()}`));
          }
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`no "${name}" within ${String(ms)} ms\n${describe()}`));
        }, ms);
        const finish = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    exited(ms = 10_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`the app did not exit within ${String(ms)} ms\n${describe()}`));
        }, ms);
        void exit.then((result) => {
          clearTimeout(timer);
          resolve(result);
        });
      });
    },
  };
}

/**
 * Resolves with the events named `name` once the app has printed `count` of them; rejects after
 * `ms`, or as soon as the app has exited without them.
 */
export async function waitForCount(
  app: App,
  name: string,
  count: number,
  ms = 20_000,
): Promise<AppEvent[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = app.events.filter((event) => event.event === name);
    if (found.length >= count) return found;
    if (Date.now() > deadline || app.child.exitCode !== null || app.child.signalCode !== null) {
      throw new Error(
        `${String(found.length)} of ${String(count)} "${name}" within ${String(ms)} ms\n` +
          `events: ${JSON.stringify(app.events)}\nstderr: ${app.stderr()}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** SIGKILLs every app still running and removes the temp folders. */
export function killApps(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
  for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/** The JSON lines of a crash log. */
export function readCrashLog(file: string): Record<string, unknown>[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
