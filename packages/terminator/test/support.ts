/**
 * Shared helpers for the terminator tests: servers on 127.0.0.1:0, raw clients, bounded waits.
 * Every wait here has a timeout so a broken behaviour fails a test instead of hanging it.
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { Agent } from 'undici';
import type { TerminationReport } from '../src';

/** A self-signed certificate for 127.0.0.1 and localhost, valid until 2126. */
export const tlsFixture = {
  key: readFileSync(path.join(__dirname, 'fixtures/tls/key.pem')),
  cert: readFileSync(path.join(__dirname, 'fixtures/tls/cert.pem')),
};

export type Protocol = 'http' | 'https';

/** Both HTTP/1 flavours, for `describe.each`. */
export const protocols: readonly Protocol[] = ['http', 'https'];

/** Creates an HTTP or HTTPS server with the fixture certificate. */
export function createServer(protocol: Protocol, handler?: http.RequestListener): http.Server {
  return protocol === 'https'
    ? https.createServer(tlsFixture, handler)
    : http.createServer(handler);
}

/** Listens on 127.0.0.1 and an OS-chosen port; resolves with the port. */
export async function listen(server: net.Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return address.port;
}

/** Opens a raw TCP or TLS connection to 127.0.0.1:port; resolves once it is ready to write. */
export async function connect(protocol: Protocol, port: number): Promise<net.Socket> {
  const socket =
    protocol === 'https'
      ? tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false })
      : net.connect({ host: '127.0.0.1', port });
  await withTimeout(
    once(socket, protocol === 'https' ? 'secureConnect' : 'connect'),
    2000,
    'connect',
  );
  return socket;
}

/** Rejects with a named error when `promise` takes longer than `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`timed out after ${String(ms)} ms waiting for ${what}`));
    }, ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** How a raw socket ended, as seen by the client. */
export interface SocketOutcome {
  /** Everything received, as latin1 text. */
  readonly received: string;
  /** `'end'` for a FIN, `'reset'` for ECONNRESET, `'error'` for any other error. */
  readonly ending: 'end' | 'reset' | 'error';
}

/** Collects what a raw socket receives until it closes (bounded by `ms`). */
export function collect(socket: net.Socket, ms = 5000): Promise<SocketOutcome> {
  return withTimeout(
    new Promise<SocketOutcome>((resolve) => {
      const chunks: Buffer[] = [];
      let ending: SocketOutcome['ending'] = 'end';
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('error', (error: NodeJS.ErrnoException) => {
        ending = error.code === 'ECONNRESET' ? 'reset' : 'error';
      });
      socket.on('close', () => {
        resolve({ received: Buffer.concat(chunks).toString('latin1'), ending });
      });
    }),
    ms,
    'the socket to close',
  );
}

/** Parses the status codes and `Connection` headers of every HTTP/1 response in `text`. */
export function parseResponses(text: string): { status: number; connection: string | undefined }[] {
  const responses: { status: number; connection: string | undefined }[] = [];
  const pattern = /HTTP\/1\.1 (\d{3})[^\r]*\r\n((?:[^\r]+\r\n)*)\r\n/g;
  for (const match of text.matchAll(pattern)) {
    const status = Number(match[1]);
    if (status === 100) continue;
    const connection = /^connection: *(.+)$/im
      .exec(match[2] ?? '')?.[1]
      ?.trim()
      .toLowerCase();
    responses.push({ status, connection });
  }
  return responses;
}

/** Resolves after `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Registers an `afterEach` that runs the steps given to the returned `defer`, newest first, each
 * bounded to 2 s, so whatever a test opened is closed even when it fails half way.
 */
export function useCleanups(): (step: () => unknown) => void {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const step of cleanups.splice(0).reverse()) {
      await withTimeout(Promise.resolve().then(step), 2000, 'cleanup').catch(() => undefined);
    }
  });
  return (step) => {
    cleanups.push(step);
  };
}

/** A promise and the function that resolves it. */
export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
}

/** Makes a {@link Deferred}. */
export function deferred<T = void>(): Deferred<T> {
  let resolve: (value: T) => void = () => undefined;
  const promise = new Promise<T>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

/** Listens on 127.0.0.1:0 and, via `defer`, destroys every socket it accepted after the test. */
export async function startTracked(
  server: net.Server,
  defer: (step: () => unknown) => void,
): Promise<number> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  defer(() => {
    for (const socket of sockets) socket.destroy();
    if (server.listening) server.close();
  });
  return listen(server);
}

/** A server of {@link startSlowFastServer}, its origin, an agent for it and its connection count. */
export interface SlowFastServer {
  readonly origin: string;
  readonly agent: Agent;
  readonly server: http.Server;
  connections(): number;
}

/**
 * A server on 127.0.0.1:0 answering `/slow` with `slow` when `release` resolves and anything else
 * with `fast` at once, and a keep-alive agent for it; via `defer`, both are closed after the test.
 */
export async function startSlowFastServer(
  protocol: Protocol,
  defer: (step: () => unknown) => void,
  release: Promise<void> = Promise.resolve(),
): Promise<SlowFastServer> {
  const server = createServer(protocol, (incoming, response) => {
    if (incoming.url === '/slow') void release.then(() => response.end('slow'));
    else response.end('fast');
  });
  let connections = 0;
  server.on('connection', () => {
    connections += 1;
  });
  const port = await listen(server);
  defer(() => {
    server.closeAllConnections();
    server.close();
  });
  const agent = new Agent({ connect: { rejectUnauthorized: false } });
  defer(() => agent.close());
  return {
    origin: `${protocol}://127.0.0.1:${String(port)}`,
    agent,
    server,
    connections: () => connections,
  };
}

/** Calls `terminate()` and remembers when it resolved. */
export function timedTerminate(
  terminate: () => Promise<TerminationReport>,
): Promise<{ report: TerminationReport; resolvedAt: number }> {
  const settled = terminate().then((report) => ({ report, resolvedAt: performance.now() }));
  void settled.catch(() => undefined);
  return settled;
}
