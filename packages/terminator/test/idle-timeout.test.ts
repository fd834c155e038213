/**
 * `idleTimeout` (cluster2's `timeout`): while the server serves, an HTTP/1 socket with no
 * request in flight and no byte received for that long is ended with a FIN; a request in
 * flight, however long or slow, never is, and upgraded sockets are left alone.
 */
import { once } from 'node:events';
import type * as http from 'node:http';
import * as net from 'node:net';
import { performance } from 'node:perf_hooks';
import { TerminatorError, createTerminator } from '../src';
import type { TerminatorOptions } from '../src';
import type { Protocol } from './support';
import {
  collect,
  connect,
  createServer,
  delay,
  parseResponses,
  protocols,
  startTracked,
  useCleanups,
  withTimeout,
} from './support';

const IDLE_TIMEOUT = 300;

const defer = useCleanups();

/** A server whose `/slow/<ms>` answers after that many ms and `/echo` echoes the body. */
async function startServer(
  protocol: Protocol,
  options: TerminatorOptions = { idleTimeout: IDLE_TIMEOUT },
): Promise<{ server: http.Server; port: number }> {
  const server = createServer(protocol, (request, response) => {
    const slow = /^\/slow\/(\d+)$/.exec(request.url ?? '');
    if (slow !== null) {
      setTimeout(() => response.end('slow done'), Number(slow[1]));
      return;
    }
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      response.end(`got ${Buffer.concat(chunks).toString('latin1')}`);
    });
  });
  createTerminator(server, options);
  const port = await startTracked(server, defer);
  return { server, port };
}

/** Resolves with the ms from now until `socket` receives a FIN (or closes). */
function timeToEnd(socket: net.Socket, ms = 5000): Promise<number> {
  const startedAt = performance.now();
  return withTimeout(
    new Promise<number>((resolve) => {
      const done = (): void => {
        resolve(performance.now() - startedAt);
      };
      socket.once('end', done);
      socket.once('close', done);
    }),
    ms,
    'the server to end the socket',
  );
}

/** Collects bytes on `socket` until `text` arrived. */
function receive(socket: net.Socket, text: string, ms = 5000): Promise<string> {
  let received = '';
  return withTimeout(
    new Promise<string>((resolve) => {
      const onData = (chunk: Buffer): void => {
        received += chunk.toString('latin1');
        if (!received.includes(text)) return;
        socket.removeListener('data', onData);
        resolve(received);
      };
      socket.on('data', onData);
    }),
    ms,
    `"${text}" from the server`,
  );
}

describe.each(protocols)('idleTimeout over %s', (protocol) => {
  it('ends a connection that never sent a request with a FIN after idleTimeout', async () => {
    const { port } = await startServer(protocol);
    const socket = await connect(protocol, port);
    defer(() => socket.destroy());
    const outcome = collect(socket);
    const elapsed = await timeToEnd(socket);
    expect(elapsed).toBeGreaterThanOrEqual(IDLE_TIMEOUT - 20);
    expect(elapsed).toBeLessThan(IDLE_TIMEOUT * 4 + 1000);
    expect(await outcome).toEqual({ received: '', ending: 'end' });
  });

  it('ends a keep-alive connection idleTimeout after its last response', async () => {
    const { port } = await startServer(protocol);
    const socket = await connect(protocol, port);
    defer(() => socket.destroy());
    const outcome = collect(socket);
    socket.write('GET /slow/0 HTTP/1.1\r\nHost: x\r\n\r\n');
    await receive(socket, 'slow done');
    const elapsed = await timeToEnd(socket);
    expect(elapsed).toBeGreaterThanOrEqual(IDLE_TIMEOUT - 20);
    expect(elapsed).toBeLessThan(IDLE_TIMEOUT * 4 + 1000);
    const { received, ending } = await outcome;
    expect(ending).toBe('end');
    expect(parseResponses(received)).toEqual([{ status: 200, connection: 'keep-alive' }]);
  });

  it('completes a request that takes three times idleTimeout without a byte of I/O', async () => {
    const { port } = await startServer(protocol);
    const socket = await connect(protocol, port);
    defer(() => socket.destroy());
    socket.write(`GET /slow/${String(IDLE_TIMEOUT * 3)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    const received = await receive(socket, 'slow done');
    expect(parseResponses(received)).toEqual([{ status: 200, connection: 'keep-alive' }]);
  });
});

describe('idleTimeout', () => {
  it('does not cut a slow upload whose body pauses longer than idleTimeout', async () => {
    const { port } = await startServer('http');
    const socket = await connect('http', port);
    defer(() => socket.destroy());
    socket.write('POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\nab');
    await delay(IDLE_TIMEOUT * 2);
    socket.write('cd');
    await delay(IDLE_TIMEOUT * 2);
    socket.write('ef');
    const received = await receive(socket, 'got abcdef');
    expect(parseResponses(received)).toEqual([{ status: 200, connection: 'keep-alive' }]);
    expect(socket.readableEnded).toBe(false);
  });

  it('counts bytes of a request head that has not arrived whole as activity', async () => {
    const { port } = await startServer('http');
    const socket = await connect('http', port);
    defer(() => socket.destroy());
    const ended = timeToEnd(socket);
    await delay(IDLE_TIMEOUT * 0.7);
    socket.write('GET / HTTP/1.1\r\n');
    // Idle since the partial head arrived (at 0.7 × idleTimeout), not since the connection.
    expect(await ended).toBeGreaterThanOrEqual(IDLE_TIMEOUT * 1.7 - 20);
  });

  it('leaves an upgraded socket alone', async () => {
    const { server, port } = await startServer('http');
    server.on('upgrade', (_request: http.IncomingMessage, upgraded: net.Socket) => {
      upgraded.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n',
      );
      upgraded.on('data', (chunk: Buffer) => upgraded.write(chunk));
    });
    const socket = await connect('http', port);
    defer(() => socket.destroy());
    socket.write('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n');
    await receive(socket, '101 Switching Protocols');
    await delay(IDLE_TIMEOUT * 3);
    socket.write('still there?');
    await receive(socket, 'still there?');
    expect(socket.readableEnded).toBe(false);
  });

  it('destroys an ended socket whose client keeps its side open', async () => {
    const { server, port } = await startServer('http');
    const accepted = once(server, 'connection') as Promise<[net.Socket]>;
    const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    defer(() => socket.destroy());
    const [serverSide] = await withTimeout(accepted, 2000, 'the connection');
    const serverClosed = once(serverSide, 'close');
    await timeToEnd(socket);
    const endedAt = performance.now();
    await withTimeout(serverClosed, 5000, 'the server to destroy its socket');
    // The client is given IDLE_END_GRACE (1 s) to close its side before the server destroys.
    expect(performance.now() - endedAt).toBeGreaterThanOrEqual(900);
    expect(socket.writable).toBe(true);
  });

  it('ends nothing when idleTimeout is not given or false', async () => {
    for (const options of [{}, { idleTimeout: false as const }]) {
      const { server, port } = await startServer('http', options);
      const socket = await connect('http', port);
      defer(() => socket.destroy());
      await delay(IDLE_TIMEOUT * 3);
      expect(socket.readableEnded).toBe(false);
      expect(await new Promise((resolve) => server.getConnections((_, n) => resolve(n)))).toBe(1);
    }
  });

  it('stops when the drain starts, which closes idle sockets itself', async () => {
    const server = createServer('http', (_request, response) => response.end('ok'));
    const terminator = createTerminator(server, { idleTimeout: 60_000 });
    const port = await startTracked(server, defer);
    const socket = await connect('http', port);
    defer(() => socket.destroy());
    const outcome = collect(socket);
    const report = await withTimeout(terminator.terminate(), 2000, 'terminate');
    expect(report.closedIdle).toBe(1);
    expect(await outcome).toEqual({ received: '', ending: 'end' });
  });

  it.each([0, -1, Number.NaN, Infinity, '30000', true, null])(
    'refuses idleTimeout %p with LASTCALL_ERR_TERMINATOR_INVALID_IDLE_TIMEOUT',
    (idleTimeout) => {
      const server = createServer('http');
      const create = (): unknown =>
        createTerminator(server, { idleTimeout } as unknown as TerminatorOptions);
      expect(create).toThrow(TerminatorError);
      expect(create).toThrow(
        expect.objectContaining({ code: 'LASTCALL_ERR_TERMINATOR_INVALID_IDLE_TIMEOUT' }) as Error,
      );
      expect(create).toThrow(/idleTimeout must be a finite number of milliseconds > 0/);
    },
  );
});
