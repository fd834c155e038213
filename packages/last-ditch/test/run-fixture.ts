/**
 * Runs test/fixtures/crash.js as a real child process that loads `@lastcall/last-ditch` by name
 * (the built package), collects all of its stdout and stderr, and resolves when it exits or
 * after a bounded wait. Every child is SIGKILLed by {@link killFixtures} in `afterEach`.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface FixtureRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

const running = new Set<ChildProcess>();
const tempDirs: string[] = [];

/** A fresh folder under the OS temp dir, removed by {@link killFixtures}. */
export function makeTempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'last-ditch-'));
  tempDirs.push(dir);
  return dir;
}

/** Runs the fixture with `scenario` and extra env/argv; rejects if it has not exited in `ms`. */
export function runFixture(
  scenario: object,
  options: { env?: NodeJS.ProcessEnv; args?: readonly string[]; cwd?: string; ms?: number } = {},
): Promise<FixtureRun> {
  const child = spawn(
    process.execPath,
    [path.join(__dirname, 'fixtures', 'crash.js'), ...(options.args ?? [])],
    {
      cwd: options.cwd ?? os.tmpdir(),
      env: {
        PATH: process.env['PATH'],
        ...options.env,
        LAST_DITCH_FIXTURE: JSON.stringify(scenario),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  running.add(child);
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  const ms = options.ms ?? 15_000;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `fixture did not exit within ${String(ms)} ms: ${Buffer.concat(stderr).toString()}`,
        ),
      );
    }, ms);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      });
    });
  });
}

/** SIGKILLs every fixture still running and removes the temp folders. */
export function killFixtures(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
  for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/** The JSON lines of `text` that parse, in order. */
export function jsonLines(text: string): Record<string, unknown>[] {
  const lines: Record<string, unknown>[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // Not a JSON line: a log line of the child.
    }
  }
  return lines;
}
