/**
 * Real processes of the lab, each started inside a namespace with `ip netns exec` (which execs the
 * command, so the child's pid is the command's own and a signal sent to it reaches it). Output is
 * kept for the failure messages; every wait is bounded.
 */
import { spawn } from 'node:child_process';
import type { ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';

export interface LabProcess {
  readonly pid: number;
  stdout(): string;
  stderr(): string;
  /** Writes to its stdin. */
  write(text: string): void;
  /** Resolves with the first whole stdout line matching `pattern`; rejects after `ms` or at exit. */
  waitForLine(pattern: RegExp, ms: number): Promise<string>;
  /** Resolves with the exit code (or the signal's name); rejects after `ms`, SIGKILLing it. */
  exited(ms: number): Promise<number | string>;
  /** Whether it still runs. */
  isRunning(): boolean;
  kill(signal: NodeJS.Signals): void;
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Everything a test started and has not seen exit, SIGKILLed by {@link killLabProcesses}. */
const running = new Set<ChildProcessByStdio<Writable, Readable, Readable>>();

/**
 * Runs `command args` in `netns` (or in this namespace when undefined) with exactly `env`.
 */
export function spawnIn(
  netns: string | undefined,
  command: string,
  args: readonly string[],
  { env, cwd }: { env: NodeJS.ProcessEnv; cwd?: string },
): LabProcess {
  const argv =
    netns === undefined ? [command, ...args] : ['netns', 'exec', netns, command, ...args];
  const child = spawn(netns === undefined ? command : 'ip', netns === undefined ? args : argv, {
    env,
    cwd,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`could not start ${command}`);
  running.add(child);
  // A stdin whose reader is gone must not throw into the test.
  child.stdin.on('error', () => undefined);
  let stdout = '';
  let stderr = '';
  const waiters = new Set<() => void>();
  const wake = (): void => {
    for (const waiter of [...waiters]) waiter();
  };
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
    wake();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  let outcome: number | string | undefined;
  const exit = new Promise<number | string>((resolve) => {
    child.on('close', (code, signal) => {
      running.delete(child);
      outcome = code ?? signal ?? 'unknown';
      wake();
      resolve(outcome);
    });
  });
  const describe = (): string =>
    `${command} ${args.join(' ')}\nstdout:\n${stdout.slice(-4000)}\nstderr:\n${stderr.slice(-4000)}`;
  return {
    pid: child.pid,
    stdout: () => stdout,
    stderr: () => stderr,
    write: (text) => {
      child.stdin.write(text);
    },
    waitForLine: (pattern, ms) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          // Whole lines only: a long line arrives in several chunks.
          const line = stdout
            .split('\n')
            .slice(0, -1)
            .find((candidate) => pattern.test(candidate));
          if (line === undefined && outcome === undefined) return;
          clearTimeout(timer);
          waiters.delete(check);
          if (line === undefined) {
            reject(
              new Error(`exited (${String(outcome)}) before ${String(pattern)}: ${describe()}`),
            );
          } else resolve(line);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no line ${String(pattern)} within ${String(ms)} ms: ${describe()}`));
        }, ms);
        waiters.add(check);
        check();
      }),
    exited: (ms) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`still running after ${String(ms)} ms: ${describe()}`));
        }, ms);
        void exit.then((value) => {
          clearTimeout(timer);
          resolve(value);
        });
      }),
    isRunning: () => outcome === undefined,
    kill: (signal) => {
      child.kill(signal);
    },
  };
}

/** Runs a command to its end within `ms`: its exit code and output. */
export async function runIn(
  netns: string | undefined,
  command: string,
  args: readonly string[],
  options: { env: NodeJS.ProcessEnv; cwd?: string },
  ms = 30_000,
): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const child = spawnIn(netns, command, args, options);
  const code = await child.exited(ms);
  return { code, stdout: child.stdout(), stderr: child.stderr() };
}

/** SIGKILLs every lab process that has not exited. */
export function killLabProcesses(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}
