/**
 * Runs a fixture of test/fixtures (crash.js by default) as a real child process that loads
 * `@lastcall/last-ditch` by name (the built package), collects all of its stdout and stderr, and
 * resolves when it exits or after a bounded wait. Every child, and every cluster worker it
 * announced on stdout, is SIGKILLed by {@link killFixtures} in `afterEach`; the recording
 * servers are closed there too.
 */
import { execFileSync, spawn } from 'node:child_process';
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
/** Starts `options.fixture` with `scenario` in LAST_DITCH_FIXTURE; only PATH is inherited. */
function spawnFixture(
  scenario: object,
  options: FixtureOptions,
  stderr: 'pipe' | number,
): ChildProcess {
  return spawn(
    process.execPath,
    [path.join(__dirname, 'fixtures', options.fixture ?? 'crash.js'), ...(options.args ?? [])],
    {
      cwd: options.cwd ?? os.tmpdir(),
      env: {
        PATH: process.env['PATH'],
        ...options.env,
        LAST_DITCH_FIXTURE: JSON.stringify(scenario),
      },
      stdio: ['ignore', 'pipe', stderr],
    },
  );
}

export function runFixture(scenario: object, options: FixtureOptions = {}): Promise<FixtureRun> {
  const fixture = options.fixture ?? 'crash.js';
  const child = spawnFixture(scenario, options, 'pipe');
  const stdout: Buffer[] = [];
  running.set(child, stdout);
  const stderr: Buffer[] = [];
  child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
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
 * A real HTTP server on 127.0.0.1:0 that records every request body and when it answered;
 * with `hang` it never answers. Closed by {@link killFixtures}.
 */
export async function startRecordingServer(options: {
  readonly path: string;
  readonly hang?: boolean;
  readonly answer?: string;
  /** Answer this many ms after the body arrived; default at once. */
  readonly delayMs?: number;
}): Promise<{ url: string; bodies: string[]; answeredAt: number[] }> {
  const bodies: string[] = [];
  const answeredAt: number[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      bodies.push(Buffer.concat(chunks).toString('utf8'));
      if (options.hang === true) return;
      setTimeout(() => {
        answeredAt.push(Date.now());
        response.end(options.answer ?? 'ok');
      }, options.delayMs ?? 0);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${String(port)}${options.path}`, bodies, answeredAt };
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

/** A run whose stderr nobody read while the child ran. */
export interface UnreadRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  /** Everything that was in stderr, read only after the child exited. */
  readonly stderr: Buffer;
  /** How many bytes were in the pipe before the child started (`stderr: 'full-fifo'`). */
  readonly prefilled: number;
}

/** Where an {@link runWithUnreadStderr} child's stderr goes. */
export type UnreadStderr =
  /** Node's own `stdio: 'pipe'` (a socket pair on Linux) with no reader attached. */
  | 'socket'
  /**
   * A real FIFO, filled to the brim before the child starts and handed to it as a blocking
   * descriptor, as a log shipper that stopped reading leaves it.
   */
  | 'full-fifo';

/**
 * Runs a fixture whose stderr is never read while it runs (stdout is). Rejects if the child has
 * not exited within `options.ms` (default 15 s); it is SIGKILLed then.
 */
export async function runWithUnreadStderr(
  scenario: object,
  stderr: UnreadStderr,
  options: FixtureOptions = {},
): Promise<UnreadRun> {
  const fixture = options.fixture ?? 'crash.js';
  const fifo = stderr === 'full-fifo' ? openFullFifo(makeTempDir()) : undefined;
  const child = spawnFixture(scenario, options, fifo === undefined ? 'pipe' : fifo.writer);
  if (fifo !== undefined) fs.closeSync(fifo.writer);
  const stdout: Buffer[] = [];
  running.set(child, stdout);
  child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
  const ms = options.ms ?? 15_000;
  try {
    const [code, signal, text] = await new Promise<
      [number | null, NodeJS.Signals | null, Promise<Buffer>]
    >((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${fixture} with an unread stderr did not exit within ${String(ms)} ms`));
      }, ms);
      child.on('exit', (exitCode, exitSignal) => {
        clearTimeout(timer);
        // Read at once: on the next tick Node resumes a stdio stream nobody consumes and drops
        // what it holds (flushStdio in lib/internal/child_process.js).
        const drained =
          fifo === undefined ? drainStream(child.stderr) : Promise.resolve(drainFifo(fifo.reader));
        resolve([exitCode, exitSignal, drained]);
      });
    });
    const stderrText = await text;
    await new Promise<void>((resolve) => {
      if (child.stdout === null || child.stdout.readableEnded) resolve();
      else child.stdout.on('close', () => resolve());
    });
    return {
      code,
      signal,
      stdout: Buffer.concat(stdout).toString('utf8'),
      stderr: stderrText,
      prefilled: fifo?.prefilled ?? 0,
    };
  } finally {
    running.delete(child);
    if (fifo !== undefined) fs.closeSync(fifo.reader);
  }
}

/** A FIFO with a reader that never reads, filled until the kernel refuses more. */
function openFullFifo(dir: string): { reader: number; writer: number; prefilled: number } {
  const file = path.join(dir, 'stderr.fifo');
  execFileSync('mkfifo', ['-m', '600', file]);
  const reader = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  const filler = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
  let prefilled = 0;
  try {
    for (;;) prefilled += fs.writeSync(filler, Buffer.alloc(4096, '.'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
  } finally {
    fs.closeSync(filler);
  }
  // Opened without O_NONBLOCK: the child gets a blocking descriptor, as a shell pipe is.
  const writer = fs.openSync(file, fs.constants.O_WRONLY);
  return { reader, writer, prefilled };
}

/** Reads whatever a non-blocking FIFO reader holds now, until it is empty or closed. */
export function drainFifo(reader: number): Buffer {
  const chunks: Buffer[] = [];
  for (;;) {
    const chunk = Buffer.alloc(65536);
    let count: number;
    try {
      count = fs.readSync(reader, chunk, 0, chunk.length, null);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EAGAIN') break;
      throw error;
    }
    if (count === 0) break;
    chunks.push(chunk.subarray(0, count));
  }
  return Buffer.concat(chunks);
}

function drainStream(stream: NodeJS.ReadableStream | null): Promise<Buffer> {
  if (stream === null) return Promise.resolve(Buffer.alloc(0));
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error('stderr did not end within 5 s of the exit'));
    }, 5000);
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
  });
}
