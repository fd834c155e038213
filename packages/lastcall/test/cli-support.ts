/**
 * The real `lastcall` command (the built bin) in child processes, for the end-to-end tests.
 * Every wait is bounded; {@link killClis} SIGKILLs what a test left running.
 */
import { spawn } from 'node:child_process';
import type { ChildProcessByStdio } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Readable } from 'node:stream';

export const BIN = path.resolve(__dirname, '..', 'bin', 'lastcall.js');

/** The master tests' worker app: a plain http server; BUILD_FILE picks its build. */
export const WORKER_APP = path.resolve(
  __dirname,
  '..',
  '..',
  'master',
  'test',
  'fixtures',
  'worker-app.js',
);

const running = new Set<ChildProcessByStdio<null, Readable, Readable>>();
const tempDirs: string[] = [];

export function makeTempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lastcall-cli-'));
  tempDirs.push(dir);
  return dir;
}

/** The environment of every command: PATH, a run folder of the test's own, quiet logs. */
export function cliEnv(runDir: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env['PATH'],
    LASTCALL_RUN_DIR: runDir,
    LASTCALL_LOG_LEVEL: 'warn',
    ...extra,
  };
}

export interface CliProcess {
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  stdout(): string;
  stderr(): string;
  /** Resolves when stdout has a line matching `pattern`; rejects after `ms` or at exit. */
  waitForLine(pattern: RegExp, ms: number): Promise<string>;
  /** Resolves with the exit code; rejects (after a SIGKILL) after `ms`. */
  exited(ms: number): Promise<number | null>;
}

/** Starts `lastcall <args>` in `cwd`. */
export function spawnCli(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv): CliProcess {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let stdout = '';
  let stderr = '';
  const waiters = new Set<() => void>();
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
    for (const wake of waiters) wake();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const exit = new Promise<number | null>((resolve) => {
    child.on('close', (code) => {
      running.delete(child);
      for (const wake of waiters) wake();
      resolve(code);
    });
  });
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    waitForLine: (pattern, ms) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(
              `no line ${String(pattern)} within ${String(ms)} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`,
            ),
          );
        }, ms);
        const check = (): void => {
          const line = stdout.split('\n').find((candidate) => pattern.test(candidate));
          if (line !== undefined || child.exitCode !== null || child.signalCode !== null) {
            clearTimeout(timer);
            waiters.delete(check);
            if (line === undefined)
              reject(
                new Error(
                  `exited before ${String(pattern)}\nstdout:\n${stdout}\nstderr:\n${stderr}`,
                ),
              );
            else resolve(line);
          }
        };
        waiters.add(check);
        check();
      }),
    exited: (ms) =>
      Promise.race([
        exit,
        new Promise<never>((_, reject) =>
          setTimeout(() => {
            child.kill('SIGKILL');
            reject(
              new Error(
                `still running after ${String(ms)} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`,
              ),
            );
          }, ms).unref(),
        ),
      ]),
  };
}

/** Runs one command to its end: its exit code and output. */
export async function runCli(
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  ms = 30_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const cli = spawnCli(args, cwd, env);
  const code = await cli.exited(ms);
  return { code, stdout: cli.stdout(), stderr: cli.stderr() };
}

/** Process groups a test started (`detached: true`), killed whole by {@link killClis}. */
const groups = new Set<number>();

/**
 * Marks `pid` as the leader of a process group of the test's own (a child spawned with
 * `detached: true`), so that {@link killClis} kills the whole group: a master and its workers
 * never outlive a failing test.
 */
export function trackGroup(pid: number | undefined): void {
  if (pid !== undefined) groups.add(pid);
}

/** SIGKILLs every command and process group still running and removes the temp folders. */
export function killClis(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
  for (const pid of groups) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // the group is gone already
    }
  }
  groups.clear();
  for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/** A port nothing listens on now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => {
        resolve(port);
      });
    });
  });
}

/** True when `port` can be listened on at once. */
export function isBindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => {
      resolve(false);
    });
    server.listen(port, '127.0.0.1', () => {
      server.close(() => {
        resolve(true);
      });
    });
  });
}
