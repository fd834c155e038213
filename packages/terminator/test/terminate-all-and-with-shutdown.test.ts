/**
 * terminateAll() (several servers, one deadline), the http-shutdown-compatible withShutdown(),
 * and the two ways a running drain can be forced early: a later terminate() with a shorter
 * timeout, and an AbortSignal.
 */
import { once } from 'node:events';
import type * as http from 'node:http';
import type * as net from 'node:net';
import { performance } from 'node:perf_hooks';
import { createTerminator, terminateAll, withShutdown } from '../src';
import type { Protocol, SocketOutcome } from './support';
import { openIdleSocket as openAnsweredSocket, tryConnect } from './fixture-process';
import {
  collect,
  connect,
  createServer,
  delay,
  listen,
  parseResponses,
  withTimeout,
} from './support';

interface TestServer {
  readonly server: http.Server;
  readonly port: number;
  /** Resolves once `count` requests in total have reached the handler. */
  readonly arrived: (count: number) => Promise<void>;
}

const servers: http.Server[] = [];
const sockets: net.Socket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  const closing = servers.splice(0).map(async (server) => {
    server.closeAllConnections();
    if (server.listening) await withTimeout(once(server.close(), 'close'), 2000, 'server close');
  });
  await Promise.all(closing);
});

/**
 * A server whose `/fast` answers at once and whose every other path runs `slow` (by default it
 * never answers: a hanging request).
 */
async function startServer(
  protocol: Protocol,
  slow: (response: http.ServerResponse) => void = () => undefined,
): Promise<TestServer> {
  let arrivals = 0;
  const waiters: { count: number; resolve: () => void }[] = [];
  const server = createServer(protocol, (request, response) => {
    if (request.url === '/fast') {
      response.end('fast');
      return;
    }
    arrivals += 1;
    for (const waiter of waiters) if (arrivals >= waiter.count) waiter.resolve();
    slow(response);
  });
  servers.push(server);
  const port = await listen(server);
  const arrived = (count: number): Promise<void> =>
    withTimeout(
      new Promise<void>((resolve) => {
        if (arrivals >= count) resolve();
        else waiters.push({ count, resolve });
      }),
      3000,
      `${String(count)} request(s) to reach the ${protocol} handler`,
    );
  return { server, port, arrived };
}

async function openSocket(protocol: Protocol, port: number): Promise<net.Socket> {
  const socket = await connect(protocol, port);
  sockets.push(socket);
  return socket;
}

/** Sends a GET on a new socket and starts collecting everything until the socket closes. */
async function sendRequest(
  protocol: Protocol,
  port: number,
  path = '/slow',
): Promise<{ socket: net.Socket; outcome: Promise<SocketOutcome> }> {
  const socket = await openSocket(protocol, port);
  const outcome = collect(socket, 8000);
  socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
  return { socket, outcome };
}

/** Makes a keep-alive socket that has been answered once and now sits idle. */
async function openIdleSocket(
  protocol: Protocol,
  port: number,
): Promise<{ socket: net.Socket; outcome: Promise<SocketOutcome> }> {
  const idle = await openAnsweredSocket(protocol, port);
  sockets.push(idle.socket);
  return idle;
}

describe('terminateAll', () => {
  it('drains an http server and a pre-made https terminator under one deadline, reports in order', async () => {
    const plain = await startServer('http');
    const secure = await startServer('https');
    const secureTerminator = createTerminator(secure.server);

    const idle = await openIdleSocket('http', plain.port);
    const plainHanging = await sendRequest('http', plain.port);
    const secureHanging = [
      await sendRequest('https', secure.port),
      await sendRequest('https', secure.port),
    ];
    await plain.arrived(1);
    await secure.arrived(2);

    const startedAt = performance.now();
    const all = terminateAll([plain.server, secureTerminator], { timeout: 300 });
    expect(secureTerminator.state).toBe('draining');
    expect(await tryConnect(plain.port)).toBe('ECONNREFUSED');
    expect(await tryConnect(secure.port)).toBe('ECONNREFUSED');

    const reports = await withTimeout(all, 300 + 1200, 'terminateAll');
    const elapsed = performance.now() - startedAt;

    expect(elapsed).toBeGreaterThanOrEqual(295);
    expect(elapsed).toBeLessThan(300 + 1200);
    expect(secureTerminator.state).toBe('closed');
    expect(await idle.outcome).toEqual({ received: '', ending: 'end' });
    for (const hanging of [plainHanging, ...secureHanging]) {
      expect((await hanging.outcome).received).toBe('');
    }
    // The bare http server's terminator is made by terminateAll itself, after its sockets were
    // accepted: its report must still count the idle socket it closed and the request it forced.
    expect(reports).toHaveLength(2);
    expect(reports[0]).toMatchObject({ graceful: false, closedIdle: 1, forced: 1 });
    expect(reports[1]).toMatchObject({ graceful: false, closedIdle: 0, forced: 2 });
    for (const report of reports) {
      expect(report.durationMs).toBeGreaterThanOrEqual(295);
      expect(report.durationMs).toBeLessThan(300 + 1200);
      expect(report.completedInFlight).toBe(0);
    }
  });

  it('resolves with the reports in the order of the entries', async () => {
    const idleOnly = await startServer('http');
    const hanging = await startServer('http');
    const idleOnlyTerminator = createTerminator(idleOnly.server);
    const hangingTerminator = createTerminator(hanging.server);
    await openIdleSocket('http', idleOnly.port);
    await openIdleSocket('http', idleOnly.port);
    await sendRequest('http', hanging.port);
    await hanging.arrived(1);

    const reports = await withTimeout(
      terminateAll([hangingTerminator, idleOnlyTerminator], { timeout: 100 }),
      100 + 1200,
      'terminateAll',
    );

    const summaries = reports.map(({ graceful, closedIdle, forced }) => ({
      graceful,
      closedIdle,
      forced,
    }));
    expect(summaries).toEqual([
      { graceful: false, closedIdle: 0, forced: 1 },
      { graceful: true, closedIdle: 2, forced: 0 },
    ]);
  });

  it('with timeout 0 closes at once a hanging request accepted before the call', async () => {
    const { server, port, arrived } = await startServer('http');
    const { outcome } = await sendRequest('http', port);
    await arrived(1);

    const startedAt = performance.now();
    const all = terminateAll([server], { timeout: 0 });
    const { received } = await withTimeout(outcome, 1000, 'the hanging socket to close');
    expect(performance.now() - startedAt).toBeLessThan(1000);
    expect(received).toBe('');
    const reports = await withTimeout(all, 1000, 'terminateAll');
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ graceful: false, forced: 1 });
    expect(server.listening).toBe(false);
  });

  it('resolves at once with no report for an empty array', async () => {
    await expect(withTimeout(terminateAll([]), 1000, 'terminateAll')).resolves.toEqual([]);
  });
});

describe('withShutdown', () => {
  it('returns the same server instance, with shutdown and forceShutdown', async () => {
    const { server } = await startServer('http');
    const decorated = withShutdown(server);
    expect(decorated).toBe(server);
    expect(typeof decorated.shutdown).toBe('function');
    expect(typeof decorated.forceShutdown).toBe('function');
    await new Promise<void>((resolve) => {
      decorated.shutdown(() => {
        resolve();
      });
    });
    expect(server.listening).toBe(false);
  });

  it('shutdown(cb) finishes an in-flight HTTPS response byte-complete before calling cb once with no error', async () => {
    const events: string[] = [];
    const { server, port, arrived } = await startServer('https', (response) => {
      response.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': '22' });
      response.write('first half|');
      response.once('finish', () => events.push('response finished'));
      setTimeout(() => {
        events.push('response ending');
        response.end('second half');
      }, 250);
    });
    const decorated = withShutdown(server);
    const { outcome } = await sendRequest('https', port);
    await arrived(1);

    const callbackArgs: unknown[][] = [];
    const called = new Promise<void>((resolve) => {
      decorated.shutdown((...args: unknown[]) => {
        events.push('callback');
        callbackArgs.push(args);
        resolve();
      });
    });
    expect(await tryConnect(port)).toBe('ECONNREFUSED');

    const { received, ending } = await outcome;
    await withTimeout(called, 2000, 'the shutdown callback');
    await delay(100);

    const [head, body] = received.split('\r\n\r\n');
    expect(parseResponses(received).map(({ status }) => status)).toEqual([200]);
    expect(head).toContain('Content-Length: 22');
    expect(body).toBe('first half|second half');
    expect(ending).toBe('end');
    expect(events).toEqual(['response ending', 'response finished', 'callback']);
    expect(callbackArgs).toEqual([[]]);
  });

  it('forceShutdown(cb) refuses new connections and closes an in-flight request at once', async () => {
    const { server, port, arrived } = await startServer('http');
    const decorated = withShutdown(server);
    const { outcome } = await sendRequest('http', port);
    await arrived(1);

    const startedAt = performance.now();
    const callbackArgs: unknown[][] = [];
    const called = new Promise<void>((resolve) => {
      decorated.forceShutdown((...args: unknown[]) => {
        callbackArgs.push(args);
        resolve();
      });
    });
    expect(await tryConnect(port)).toBe('ECONNREFUSED');

    const { received } = await withTimeout(outcome, 1000, 'the in-flight socket to close');
    const closedAfter = performance.now() - startedAt;
    await withTimeout(called, 1000, 'the forceShutdown callback');
    await delay(100);

    // The default timeout is 10 s; forcing must not wait for any of it.
    expect(closedAfter).toBeLessThan(1000);
    expect(received).toBe('');
    expect(callbackArgs).toEqual([[]]);
    expect(server.listening).toBe(false);
  });
});

describe('forcing a running drain early', () => {
  it('forces at once when a later terminate({ timeout: 0 }) tightens the deadline', async () => {
    const { server, port, arrived } = await startServer('http');
    const terminator = createTerminator(server);
    const { outcome } = await sendRequest('http', port);
    await arrived(1);

    const first = terminator.terminate();
    await delay(100);
    expect(terminator.state).toBe('draining');
    const tightenedAt = performance.now();
    const second = terminator.terminate({ timeout: 0 });
    expect(second).toBe(first);

    const report = await withTimeout(second, 1000, 'the tightened terminate');
    expect(performance.now() - tightenedAt).toBeLessThan(1000);
    expect(report).toMatchObject({ graceful: false, forced: 1, completedInFlight: 0 });
    expect(report.durationMs).toBeGreaterThanOrEqual(95);
    expect(report.durationMs).toBeLessThan(100 + 1000);
    expect((await outcome).received).toBe('');
  });

  it('never relaxes the deadline when a later terminate() asks for more time', async () => {
    const { server, port, arrived } = await startServer('http');
    const terminator = createTerminator(server);
    await sendRequest('http', port);
    await arrived(1);

    const startedAt = performance.now();
    const first = terminator.terminate({ timeout: 200 });
    const second = terminator.terminate({ timeout: 60_000 });
    expect(second).toBe(first);

    const report = await withTimeout(second, 200 + 800, 'terminate');
    expect(performance.now() - startedAt).toBeLessThan(200 + 800);
    expect(report).toMatchObject({ graceful: false, forced: 1 });
  });

  it('forces at once when the AbortSignal is aborted mid-drain', async () => {
    const { server, port, arrived } = await startServer('https');
    const controller = new AbortController();
    const terminator = createTerminator(server, { signal: controller.signal });
    const { outcome } = await sendRequest('https', port);
    await arrived(1);

    const pending = terminator.terminate();
    await delay(100);
    expect(terminator.state).toBe('draining');
    const abortedAt = performance.now();
    controller.abort();

    const report = await withTimeout(pending, 1000, 'terminate after abort');
    expect(performance.now() - abortedAt).toBeLessThan(1000);
    expect(report).toMatchObject({ graceful: false, forced: 1, completedInFlight: 0 });
    expect(terminator.state).toBe('closed');
    expect((await outcome).received).toBe('');
  });

  it('forces at once when a signal given to a later terminate() is aborted', async () => {
    const { server, port, arrived } = await startServer('http');
    const terminator = createTerminator(server);
    await sendRequest('http', port);
    await arrived(1);

    const pending = terminator.terminate();
    const controller = new AbortController();
    expect(terminator.terminate({ signal: controller.signal })).toBe(pending);
    await delay(100);
    const abortedAt = performance.now();
    controller.abort();

    const report = await withTimeout(pending, 1000, 'terminate after abort');
    expect(performance.now() - abortedAt).toBeLessThan(1000);
    expect(report).toMatchObject({ graceful: false, forced: 1 });
  });

  it('forces at once when the signal is already aborted at terminate()', async () => {
    const { server, port, arrived } = await startServer('http');
    const terminator = createTerminator(server);
    await sendRequest('http', port);
    await arrived(1);

    const startedAt = performance.now();
    const report = await withTimeout(
      terminator.terminate({ signal: AbortSignal.abort() }),
      1000,
      'terminate with an aborted signal',
    );
    expect(performance.now() - startedAt).toBeLessThan(1000);
    expect(report).toMatchObject({ graceful: false, forced: 1 });
    expect(server.listening).toBe(false);
  });
});
