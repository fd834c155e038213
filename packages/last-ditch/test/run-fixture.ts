/**
 * Runs a fixture of test/fixtures (crash.js by default) as a real child process that loads
 * `@lastcall/last-ditch` by name (the built package), collects all of its stdout and stderr, and
 * resolves when it exits or after a bounded wait. Every child, and every cluster worker it
 * announced on stdout, is SIGKILLed by {@link killFixtures} in `afterEach`; the recording
 * servers are closed there too.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export interface FixtureRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Each running child with its stdout so far, which may announce cluster workers. */
const running = new Map<ChildProcess, Buffer[]>();
const tempDirs: string[] = [];
const servers: http.Server[] = [];

/** A fresh folder under the OS temp dir, removed by {@link killFixtures}. */
export function makeTempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'last-ditch-'));
  tempDirs.push(dir);
  return dir;
}

/** Where and how {@link runFixture} runs its child. */
export interface FixtureOptions {
  /** The file in test/fixtures; default `crash.js`. */
  readonly fixture?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly args?: readonly string[];
  readonly cwd?: string;
  /** How long the child may run before it is killed and the run rejects; default 15 s. */
  readonly ms?: number;
}

/**
 * Runs the fixture with `scenario` (as JSON in LAST_DITCH_FIXTURE; only PATH is inherited) and
 * extra env/argv; rejects if it has not exited in `options.ms`.
 */
export function runFixture(scenario: object, options: FixtureOptions = {}): Promise<FixtureRun> {
  const fixture = options.fixture ?? 'crash.js';
  const child = spawn(
    process.execPath,
    [path.join(__dirname, 'fixtures', fixture), ...(options.args ?? [])],
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
  const stdout: Buffer[] = [];
  running.set(child, stdout);
  const stderr: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  const ms = options.ms ?? 15_000;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `${fixture} did not exit within ${String(ms)} ms: ${Buffer.concat(stderr).toString()}`,
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

/**
 * SIGKILLs every fixture still running and the cluster workers it announced (`{ event:
 * 'forked', pid }`) but never saw exit (`{ event: 'worker-exit', pid }`): a worker exits by
 * itself when its primary's IPC channel closes, but not while its event loop is blocked. Then
 * closes the recording servers and removes the temp folders.
 */
export function killFixtures(): void {
  for (const [child, stdout] of running) {
    child.kill('SIGKILL');
    killStrayWorkers(Buffer.concat(stdout).toString('utf8'));
  }
  running.clear();
  for (const server of servers.splice(0)) {
    server.close();
    server.closeAllConnections();
  }
  for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

function killStrayWorkers(stdout: string): void {
  const lines = jsonLines(stdout);
  const exited = new Set(lines.filter((line) => line['event'] === 'worker-exit').map(pidOf));
  for (const line of lines) {
    const pid = pidOf(line);
    if (line['event'] !== 'forked' || pid === undefined || exited.has(pid)) continue;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // ESRCH: it is gone already.
    }
  }
}

function pidOf(line: Record<string, unknown>): number | undefined {
  const pid = line['pid'];
  return typeof pid === 'number' ? pid : undefined;
}

/**
 * A real HTTP server on 127.0.0.1:0 that records every request body; with `hang` it never
 * answers. Closed by {@link killFixtures}.
 */
export async function startRecordingServer(options: {
  readonly path: string;
  readonly hang?: boolean;
  readonly answer?: string;
}): Promise<{ url: string; bodies: string[] }> {
  const bodies: string[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      bodies.push(Buffer.concat(chunks).toString('utf8'));
      if (options.hang !== true) response.end(options.answer ?? 'ok');
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${String(port)}${options.path}`, bodies };
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
