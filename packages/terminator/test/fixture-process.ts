/**
 * Runs a fixture script from test/fixtures as a real child process, for the integration tests.
 * The child loads `@lastcall/terminator` by name (the built package) and talks to the test in
 * JSON lines on stdout. Every wait is bounded and every child is SIGKILLed by
 * {@link killFixtures}, which each integration test file calls in `afterEach`.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Protocol, SocketOutcome } from './support';
import { collect, connect, withTimeout } from './support';

/** One JSON line the fixture printed. */
export interface FixtureMessage {
  readonly event: string;
  readonly [key: string]: unknown;
}

/** How the child ended, and when (`performance.now()` in the test process). */
export interface FixtureExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly at: number;
}

export interface FixtureProcess {
  readonly child: ChildProcess;
  /**
   * Resolves with the first message of `event` that `matches` accepts, already printed or
   * still to come.
   */
  message(
    event: string,
    ms: number,
    matches?: (message: FixtureMessage) => boolean,
  ): Promise<FixtureMessage>;
  /** Resolves when the child has exited; never rejects. */
  readonly exited: Promise<FixtureExit>;
  hasExited(): boolean;
  /** Everything the child wrote to stderr so far, for failure messages. */
  stderr(): string;
}

const running = new Set<ChildProcess>();

/**
 * Starts `node test/fixtures/<script> ...args` with stdin ignored and no IPC channel, so that
 * nothing of the test's keeps the child alive: it must exit by itself.
 */
export function startFixture(script: string, args: readonly string[]): FixtureProcess {
  const child = spawn(process.execPath, [path.join(__dirname, 'fixtures', script), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const messages: FixtureMessage[] = [];
  const waiters: {
    accepts: (message: FixtureMessage) => boolean;
    resolve: (message: FixtureMessage) => void;
  }[] = [];
  let stdoutBuffer = '';
  let stderrText = '';
  let exit: FixtureExit | undefined;

  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    stdoutBuffer += chunk;
    let newline = stdoutBuffer.indexOf('\n');
    while (newline !== -1) {
      const line = stdoutBuffer.slice(0, newline);
      stdoutBuffer = stdoutBuffer.slice(newline + 1);
      newline = stdoutBuffer.indexOf('\n');
      if (line.trim() === '') continue;
      const message = JSON.parse(line) as FixtureMessage;
      messages.push(message);
      for (const waiter of waiters) if (waiter.accepts(message)) waiter.resolve(message);
    }
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderrText += chunk;
  });
  const exited = new Promise<FixtureExit>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      exit = { code, signal, at: performance.now() };
      resolve(exit);
    });
  });

  return {
    child,
    exited,
    hasExited: () => exit !== undefined,
    stderr: () => stderrText,
    message(event, ms, matches = () => true): Promise<FixtureMessage> {
      const accepts = (message: FixtureMessage): boolean =>
        message.event === event && matches(message);
      const found = messages.find(accepts);
      if (found !== undefined) return Promise.resolve(found);
      return withTimeout(
        new Promise<FixtureMessage>((resolve) => {
          waiters.push({ accepts, resolve });
        }),
        ms,
        `the fixture to print "${event}" (stderr: ${stderrText.slice(-2000)})`,
      );
    },
  };
}

/** SIGKILLs every fixture process still alive. */
export function killFixtures(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

/** Reads the port out of a `{ event: 'listening', port }` message. */
export function portOf(message: FixtureMessage): number {
  const { port } = message;
  if (typeof port !== 'number') throw new Error(`no port in ${JSON.stringify(message)}`);
  return port;
}

/**
 * Opens a keep-alive connection, has `GET /fast` answered on it (body `fast`) and leaves it idle;
 * `outcome` collects whatever arrives after that until the socket closes.
 */
export async function openIdleSocket(
  protocol: Protocol,
  port: number,
): Promise<{ socket: net.Socket; outcome: Promise<SocketOutcome> }> {
  const socket = await connect(protocol, port);
  const answered = withTimeout(
    new Promise<void>((resolve) => {
      let text = '';
      const onData = (chunk: Buffer): void => {
        text += chunk.toString('latin1');
        if (text.endsWith('\r\n\r\nfast')) {
          socket.removeListener('data', onData);
          resolve();
        }
      };
      socket.on('data', onData);
    }),
    5000,
    'the /fast response',
  );
  socket.write('GET /fast HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  await answered;
  return { socket, outcome: collect(socket, 10_000) };
}

/** Sends `GET <path>` on a new connection and collects everything until the socket closes. */
export async function sendRequest(
  protocol: Protocol,
  port: number,
  urlPath: string,
): Promise<{ socket: net.Socket; outcome: Promise<SocketOutcome> }> {
  const socket = await connect(protocol, port);
  const outcome = collect(socket, 10_000);
  socket.write(`GET ${urlPath} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
  return { socket, outcome };
}

/** Resolves with the error code of a new TCP connection to `port`, or `'connected'`. */
export function tryConnect(port: number): Promise<string> {
  return withTimeout(
    new Promise<string>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve('connected');
      });
      socket.once('error', (error: NodeJS.ErrnoException) => {
        resolve(error.code ?? 'unknown');
      });
    }),
    2000,
    'a new connection attempt',
  );
}

/** The body of the single HTTP/1 response in `text` (everything after the head). */
export function bodyOf(text: string): string {
  const end = text.indexOf('\r\n\r\n');
  return end === -1 ? '' : text.slice(end + 4);
}
