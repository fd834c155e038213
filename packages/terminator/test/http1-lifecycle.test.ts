/**
 * The life of an HTTP/1 terminator over plain and TLS sockets: the listener closes at once (or
 * after `keepListening`), idle sockets get a FIN, half-received heads and in-flight requests are
 * answered with `Connection: close`, the promise resolves when the last response is done or at
 * the deadline, nothing of ours is left behind, and `stats()` tracking does not leak.
 */
import { createHook } from 'node:async_hooks';
import { EventEmitter, getEventListeners, once } from 'node:events';
import type * as http from 'node:http';
import type * as net from 'node:net';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { runInThisContext } from 'node:vm';
import { Client } from 'undici';
import { createTerminator } from '../src';
import type { TerminationReport, TerminatorStats } from '../src';
import {
  collect,
  connect,
  createServer,
  delay,
  listen,
  parseResponses,
  protocols,
  withTimeout,
} from './support';
import type { Protocol, SocketOutcome } from './support';

/** How long the `/slow` route waits before answering. */
const SLOW_RESPONSE_MS = 200;

/**
 * Node timers run on libuv's clock, which has millisecond granularity, while the tests measure
 * with `performance.now()`; a timer can therefore look up to 1 ms early from here.
 */
const CLOCK_SLACK_MS = 2;

const ZERO_STATS: TerminatorStats = {
  idle: 0,
  active: 0,
  upgraded: 0,
  handshaking: 0,
  h2Sessions: 0,
  h2Streams: 0,
};

/**
 * Jest gives each test file a copy of `process` with its own listeners, while Node core emits
 * its warnings (MaxListenersExceededWarning, TimeoutOverflowWarning) on the real one.
 */
const hostProcess = runInThisContext('process') as NodeJS.Process;

const cleanups: (() => unknown)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface TestServer {
  readonly server: http.Server;
  readonly port: number;
  /** Resolves with the response of the next request for `route`, once its handler runs. */
  nextRequest(route: string): Promise<http.ServerResponse>;
  /** Resolves once `response` has closed on the server (every listener of its `close` ran). */
  responseClosed(response: http.ServerResponse): Promise<void>;
  /** Resolves once no response is open on the server. */
  allResponsesClosed(): Promise<void>;
}

/**
 * Starts a server with three routes: `/` answers `ok` synchronously, `/slow` answers `slow`
 * after {@link SLOW_RESPONSE_MS}, `/hang` never answers.
 */
async function startServer(protocol: Protocol): Promise<TestServer> {
  const arrivals = new EventEmitter();
  const slowTimers = new Set<NodeJS.Timeout>();
  const closedResponses = new WeakMap<http.ServerResponse, Promise<void>>();
  let openResponses = 0;
  const server = createServer(protocol, (request, response) => {
    openResponses += 1;
    // Attached in the handler, after the terminator's own request listener: when it runs, the
    // terminator has seen the response close too.
    closedResponses.set(
      response,
      new Promise((resolve) => {
        response.once('close', () => {
          openResponses -= 1;
          if (openResponses === 0) arrivals.emit('no response open');
          resolve();
        });
      }),
    );
    arrivals.emit(request.url ?? '', response);
    if (request.url === '/slow') {
      const timer = setTimeout(() => {
        slowTimers.delete(timer);
        response.end('slow');
      }, SLOW_RESPONSE_MS);
      slowTimers.add(timer);
    } else if (request.url !== '/hang') {
      response.end('ok');
    }
  });
  cleanups.push(() => {
    for (const timer of slowTimers) clearTimeout(timer);
    server.closeAllConnections();
    server.close();
  });
  const port = await listen(server);
  return {
    server,
    port,
    nextRequest: (route) =>
      withTimeout(
        once(arrivals, route).then(([response]) => response as http.ServerResponse),
        2000,
        `a request for ${route}`,
      ),
    responseClosed: (response) =>
      withTimeout(
        closedResponses.get(response) ?? Promise.reject(new Error('not a response of ours')),
        2000,
        'the response to close on the server',
      ),
    allResponsesClosed: async () => {
      if (openResponses === 0) return;
      await withTimeout(once(arrivals, 'no response open'), 2000, 'every response to close');
    },
  };
}

function requestHead(route: string): string {
  return `GET ${route} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;
}

/** Counts the complete (head and Content-Length body) final responses at the start of `text`. */
function countCompleteResponses(text: string): number {
  let count = 0;
  let offset = 0;
  for (;;) {
    const headEnd = text.indexOf('\r\n\r\n', offset);
    if (headEnd === -1) return count;
    const head = text.slice(offset, headEnd);
    const end = headEnd + 4 + Number(/^content-length: *(\d+)$/im.exec(head)?.[1] ?? '0');
    if (text.length < end) return count;
    if (!head.startsWith('HTTP/1.1 100')) count += 1;
    offset = end;
  }
}

interface RawClient {
  readonly socket: net.Socket;
  /** What the socket received and how it ended, once it closed, with the `performance.now()`. */
  readonly outcome: Promise<SocketOutcome & { readonly closedAt: number }>;
  isClosed(): boolean;
  /** Resolves with the `performance.now()` at which `count` complete responses had arrived. */
  responses(count: number): Promise<number>;
}

/** A raw client that starts recording at once, without waiting for the server to accept it. */
async function openRawClient(protocol: Protocol, port: number): Promise<RawClient> {
  const socket = await connect(protocol, port);
  cleanups.push(() => socket.destroy());
  let text = '';
  let isClosed = false;
  const waiters = new Set<{ readonly count: number; readonly resolve: (at: number) => void }>();
  socket.on('data', (chunk: Buffer) => {
    text += chunk.toString('latin1');
    const complete = countCompleteResponses(text);
    const now = performance.now();
    for (const waiter of waiters) {
      if (complete < waiter.count) continue;
      waiters.delete(waiter);
      waiter.resolve(now);
    }
  });
  socket.once('close', () => {
    isClosed = true;
  });
  const outcome = collect(socket, 15_000).then((result) => ({
    ...result,
    closedAt: performance.now(),
  }));
  outcome.catch(() => undefined);
  return {
    socket,
    outcome,
    isClosed: () => isClosed,
    responses: (count) =>
      withTimeout(
        new Promise<number>((resolve) => {
          if (countCompleteResponses(text) >= count) resolve(performance.now());
          else waiters.add({ count, resolve });
        }),
        2000,
        `${String(count)} complete responses`,
      ),
  };
}

/** A raw client, returned once the server has accepted it (after the handshake, for TLS). */
async function openClient(protocol: Protocol, { server, port }: TestServer): Promise<RawClient> {
  const accepted = once(server, protocol === 'https' ? 'secureConnection' : 'connection');
  const client = await openRawClient(protocol, port);
  await withTimeout(accepted, 2000, 'the server to accept the connection');
  return client;
}

/** A client that made one keep-alive request, got its answer and now sits idle. */
async function openIdleClient(protocol: Protocol, testServer: TestServer): Promise<RawClient> {
  const client = await openClient(protocol, testServer);
  const arrived = testServer.nextRequest('/');
  client.socket.write(requestHead('/'));
  const response = await arrived;
  await client.responses(1);
  // The client can see the whole response before the server has closed it (TLS especially);
  // only then is the socket idle rather than finishing a request.
  await testServer.responseClosed(response);
  return client;
}

/** A client whose request for `route` has reached the handler. */
async function openClientInFlight(
  protocol: Protocol,
  testServer: TestServer,
  route: '/slow' | '/hang',
): Promise<{ readonly client: RawClient; readonly response: http.ServerResponse }> {
  const client = await openClient(protocol, testServer);
  const arrived = testServer.nextRequest(route);
  client.socket.write(requestHead(route));
  return { client, response: await arrived };
}

/** The error code of a fresh connection attempt, or `'connected'`. */
async function connectionAttempt(protocol: Protocol, port: number): Promise<string | undefined> {
  try {
    const socket = await connect(protocol, port);
    socket.destroy();
    return 'connected';
  } catch (error) {
    return (error as NodeJS.ErrnoException).code;
  }
}

/** Every listener count of `server`, by event name, including the events a terminator may use. */
function listenerCounts(server: net.Server): Record<string, number> {
  const watched = [
    'connection',
    'secureConnection',
    'request',
    'upgrade',
    'connect',
    'close',
    'listening',
    'error',
    'checkContinue',
    'checkExpectation',
    'clientError',
    'tlsClientError',
    'dropRequest',
    'newListener',
    'removeListener',
  ];
  const counts: Record<string, number> = {};
  for (const event of new Set([...watched, ...server.eventNames()])) {
    counts[String(event)] = server.listenerCount(event);
  }
  return counts;
}

/** Records every warning Node emits until the test ends. */
function watchWarnings(): { names(): string[] } {
  const warnings: Error[] = [];
  const onWarning = (warning: Error): void => {
    warnings.push(warning);
  };
  hostProcess.on('warning', onWarning);
  cleanups.push(() => hostProcess.off('warning', onWarning));
  return { names: () => warnings.map((warning) => warning.name) };
}

const sourceFolder = `${path.sep}terminator${path.sep}src${path.sep}`;

/**
 * Records the timers that code in packages/terminator/src creates from now on (told apart by
 * the stack at creation), and which of them have since fired or been cleared.
 */
function watchSourceTimers(): { created(): number; pending(): number } {
  const created = new Set<number>();
  const finished = new Set<number>();
  const hook = createHook({
    init(asyncId, type) {
      if (type !== 'Timeout') return;
      const limit = Error.stackTraceLimit;
      Error.stackTraceLimit = 50;
      const stack = new Error().stack ?? '';
      Error.stackTraceLimit = limit;
      if (stack.includes(sourceFolder)) created.add(asyncId);
    },
    destroy(asyncId) {
      finished.add(asyncId);
    },
  }).enable();
  cleanups.push(() => hook.disable());
  return {
    created: () => created.size,
    pending: () => [...created].filter((asyncId) => !finished.has(asyncId)).length,
  };
}

function terminated<T extends TerminationReport | TerminationReport[]>(
  promise: Promise<T>,
  ms: number,
): Promise<T> {
  return withTimeout(promise, ms, 'terminate() to resolve');
}

describe.each(protocols)('createTerminator over %s/1.1', (protocol) => {
  describe('the listener', () => {
    test('closes the listener in the same tick: connections attempted right after terminate() are refused', async () => {
      const testServer = await startServer(protocol);
      const terminator = createTerminator(testServer.server);

      const done = terminator.terminate();
      const isListeningAfterCall = testServer.server.listening;
      const attemptInSameTick = connectionAttempt(protocol, testServer.port);
      await new Promise((resolve) => setImmediate(resolve));
      const attemptNextTurn = connectionAttempt(protocol, testServer.port);

      expect(isListeningAfterCall).toBe(false);
      expect(await attemptInSameTick).toBe('ECONNREFUSED');
      expect(await attemptNextTurn).toBe('ECONNREFUSED');
      expect(await terminated(done, 2000)).toMatchObject({
        graceful: true,
        closedIdle: 0,
        completedInFlight: 0,
        forced: 0,
      });
    });

    test.each(['after the first one resolved', 'while the first one drains'])(
      'a second terminator of the same server resolves too, asked %s',
      async (when) => {
        const testServer = await startServer(protocol);
        const first = createTerminator(testServer.server);
        const second = createTerminator(testServer.server);
        const inFlight = testServer.nextRequest('/slow');
        const client = await openRawClient(protocol, testServer.port);
        client.socket.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n');
        await inFlight;
        const firstDone = first.terminate();
        if (when === 'after the first one resolved') {
          expect(await terminated(firstDone, 2000)).toMatchObject({ graceful: true });
        }
        // An app's own terminator and the master's worker runtime both drain one server.
        expect(await terminated(second.terminate(), 2000)).toMatchObject({ graceful: true });
        expect(await terminated(firstDone, 2000)).toMatchObject({ graceful: true });
      },
    );

    test('with keepListening 300 accepts a new connection in the window, answers it (sync handler) with Connection: close, then refuses', async () => {
      const testServer = await startServer(protocol);
      const terminator = createTerminator(testServer.server, {
        keepListening: 300,
        timeout: 10_000,
      });

      const startedAt = performance.now();
      const done = terminator.terminate();
      const client = await openRawClient(protocol, testServer.port);
      client.socket.write(requestHead('/'));
      const outcome = await withTimeout(client.outcome, 2000, 'the in-window socket to close');

      expect(parseResponses(outcome.received)).toEqual([{ status: 200, connection: 'close' }]);
      expect(outcome.received.endsWith('\r\n\r\nok')).toBe(true);
      expect(outcome.ending).toBe('end');
      expect(terminator.state).toBe('draining');

      await delay(Math.max(0, startedAt + 4 * 300 - performance.now()));
      expect(await connectionAttempt(protocol, testServer.port)).toBe('ECONNREFUSED');
      const report = await terminated(done, 2000);
      expect(report).toMatchObject({ graceful: true, completedInFlight: 1, forced: 0 });
      expect(report.durationMs).toBeGreaterThanOrEqual(300 - CLOCK_SLACK_MS);
    });
  });

  describe('idle sockets', () => {
    test('closes idle keep-alive sockets at once with a FIN, not a reset, long before the timeout', async () => {
      const testServer = await startServer(protocol);
      const terminator = createTerminator(testServer.server, { timeout: 10_000 });
      const first = await openIdleClient(protocol, testServer);
      const second = await openIdleClient(protocol, testServer);

      const done = terminator.terminate();
      const outcomes = await withTimeout(
        Promise.all([first.outcome, second.outcome]),
        1000,
        'both idle sockets to close',
      );

      for (const outcome of outcomes) {
        expect(outcome.ending).toBe('end');
        expect(parseResponses(outcome.received)).toEqual([
          { status: 200, connection: 'keep-alive' },
        ]);
      }
      expect(await terminated(done, 1000)).toMatchObject({
        graceful: true,
        closedIdle: 2,
        completedInFlight: 0,
        forced: 0,
      });
    });

    test('closes a socket that connected and sent nothing at once with a FIN', async () => {
      const testServer = await startServer(protocol);
      const terminator = createTerminator(testServer.server, { timeout: 10_000 });
      const silent = await openClient(protocol, testServer);

      const done = terminator.terminate();
      const outcome = await withTimeout(silent.outcome, 1000, 'the silent socket to close');

      expect(outcome).toMatchObject({ received: '', ending: 'end' });
      expect(await terminated(done, 1000)).toMatchObject({
        graceful: true,
        closedIdle: 1,
        forced: 0,
      });
    });
  });

  describe('requests in progress', () => {
    test('serves a request whose head was half received at terminate() with Connection: close, then closes the socket', async () => {
      const testServer = await startServer(protocol);
      const terminator = createTerminator(testServer.server, { timeout: 10_000 });
      const client = await openClient(protocol, testServer);
      client.socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n');
      await delay(100);

      const done = terminator.terminate();
      // A drain that wrongly closed the half-received socket would have done it by now.
      await delay(100);
      expect(client.isClosed()).toBe(false);
      client.socket.write('\r\n');
      const outcome = await withTimeout(client.outcome, 2000, 'the socket to close');

      expect(parseResponses(outcome.received)).toEqual([{ status: 200, connection: 'close' }]);
      expect(outcome.received.endsWith('\r\n\r\nok')).toBe(true);
      expect(outcome.ending).toBe('end');
      expect(await terminated(done, 2000)).toMatchObject({
        graceful: true,
        closedIdle: 0,
        forced: 0,
      });
    });

    test('answers an in-flight request (async handler) with Connection: close and closes the socket right after it', async () => {
      const testServer = await startServer(protocol);
      const terminator = createTerminator(testServer.server, { timeout: 10_000 });
      const client = await openIdleClient(protocol, testServer);
      const arrived = testServer.nextRequest('/slow');
      client.socket.write(requestHead('/slow'));
      await arrived;

      const done = terminator.terminate();
      const answeredAt = await client.responses(2);
      const outcome = await withTimeout(client.outcome, 2000, 'the socket to close');

      expect(parseResponses(outcome.received)).toEqual([
        { status: 200, connection: 'keep-alive' },
        { status: 200, connection: 'close' },
      ]);
      expect(outcome.received.endsWith('\r\n\r\nslow')).toBe(true);
      expect(outcome.ending).toBe('end');
      expect(outcome.closedAt - answeredAt).toBeLessThan(1000);
      expect(await terminated(done, 2000)).toMatchObject({
        graceful: true,
        closedIdle: 0,
        completedInFlight: 1,
        forced: 0,
      });
    });

    test('moves a real keep-alive client (undici) off: its in-flight response says Connection: close and the connection closes', async () => {
      const testServer = await startServer(protocol);
      const terminator = createTerminator(testServer.server, { timeout: 10_000 });
      const client = new Client(`${protocol}://127.0.0.1:${String(testServer.port)}`, {
        connect: { rejectUnauthorized: false },
      });
      cleanups.push(() => client.destroy());
      const warmUp = await client.request({ path: '/', method: 'GET' });
      expect(warmUp.headers['connection']).toBe('keep-alive');
      expect(await warmUp.body.text()).toBe('ok');

      const disconnected = once(client, 'disconnect');
      const arrived = testServer.nextRequest('/slow');
      const pending = client.request({ path: '/slow', method: 'GET' });
      await arrived;
      const done = terminator.terminate();
      const response = await withTimeout(pending, 2000, 'the in-flight response');

      expect(response.statusCode).toBe(200);
      expect(response.headers['connection']).toBe('close');
      expect(await response.body.text()).toBe('slow');
      await withTimeout(disconnected, 2000, 'undici to lose its connection');
      expect(await terminated(done, 2000)).toMatchObject({
        graceful: true,
        completedInFlight: 1,
        forced: 0,
      });
    });
  });

  describe('resolving terminate()', () => {
    test('resolves within a few ms of the last in-flight response finishing, not at the timeout', async () => {
      const testServer = await startServer(protocol);
      const terminator = createTerminator(testServer.server, { timeout: 10_000 });
      const idle = await openIdleClient(protocol, testServer);
      const first = await openClientInFlight(protocol, testServer, '/slow');
      const second = await openClientInFlight(protocol, testServer, '/slow');

      const done = terminator.terminate();
      const answeredAt = Promise.all([first.client.responses(1), second.client.responses(1)]);
      const report = await terminated(done, 2000);
      const resolvedAt = performance.now();
      const lastAnsweredAt = Math.max(...(await answeredAt));

      expect(resolvedAt - lastAnsweredAt).toBeLessThan(150);
      expect(report).toMatchObject({
        graceful: true,
        closedIdle: 1,
        completedInFlight: 2,
        forced: 0,
      });
      for (const { client } of [first, second]) {
        expect(parseResponses((await client.outcome).received)).toEqual([
          { status: 200, connection: 'close' },
        ]);
      }
      expect((await idle.outcome).ending).toBe('end');
    });

    test('forces a hanging request at timeout 300: resolves after 300 ms and within a bounded margin, graceful false', async () => {
      const testServer = await startServer(protocol);
      const terminator = createTerminator(testServer.server);
      const { client } = await openClientInFlight(protocol, testServer, '/hang');

      const startedAt = performance.now();
      const report = await terminated(terminator.terminate({ timeout: 300 }), 3000);
      const elapsed = performance.now() - startedAt;

      expect(elapsed).toBeGreaterThanOrEqual(300 - CLOCK_SLACK_MS);
      expect(elapsed).toBeLessThan(300 + 1200);
      expect(report.durationMs).toBeGreaterThanOrEqual(300 - CLOCK_SLACK_MS);
      expect(report.graceful).toBe(false);
      expect(report.forced).toBeGreaterThanOrEqual(1);
      expect(report.completedInFlight).toBe(0);
      const outcome = await withTimeout(client.outcome, 2000, 'the forced socket to close');
      expect(parseResponses(outcome.received)).toEqual([]);
      expect(terminator.state).toBe('closed');
    });

    test('with timeout Infinity starts no timer and never forces: waits for the hanging request', async () => {
      const testServer = await startServer(protocol);
      const warnings = watchWarnings();
      const timers = watchSourceTimers();
      const terminator = createTerminator(testServer.server, { timeout: Infinity });
      const { client, response } = await openClientInFlight(protocol, testServer, '/hang');

      const done = terminator.terminate();
      // A deadline timer of Infinity ms would fire after 1 ms (Node clamps it, with a warning).
      await delay(500);
      expect(client.isClosed()).toBe(false);
      expect(terminator.state).toBe('draining');
      response.end('late');
      const report = await terminated(done, 2000);

      expect(timers.created()).toBe(0);
      expect(warnings.names()).not.toContain('TimeoutOverflowWarning');
      expect(report).toMatchObject({ graceful: true, completedInFlight: 1, forced: 0 });
      const outcome = await withTimeout(client.outcome, 2000, 'the socket to close');
      expect(parseResponses(outcome.received)).toEqual([{ status: 200, connection: 'close' }]);
      expect(outcome.ending).toBe('end');
    });

    test('leaves no listener on the server or the signal, and no timer, once a graceful drain resolves', async () => {
      const testServer = await startServer(protocol);
      const before = listenerCounts(testServer.server);
      const timers = watchSourceTimers();
      const controller = new AbortController();
      const terminator = createTerminator(testServer.server, { timeout: 10_000 });
      await openIdleClient(protocol, testServer);
      const { client } = await openClientInFlight(protocol, testServer, '/slow');

      const report = await terminated(terminator.terminate({ signal: controller.signal }), 2000);

      expect(report).toMatchObject({ graceful: true, closedIdle: 1, completedInFlight: 1 });
      expect(listenerCounts(testServer.server)).toEqual(before);
      expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
      expect(parseResponses((await client.outcome).received)).toEqual([
        { status: 200, connection: 'close' },
      ]);
      // async_hooks reports a cleared timer's destroy a little later.
      await delay(50);
      expect(timers.created()).toBeGreaterThanOrEqual(1);
      expect(timers.pending()).toBe(0);
    });

    test('leaves no listener on the server or the signal, and no timer, once a forced drain resolves', async () => {
      const testServer = await startServer(protocol);
      const before = listenerCounts(testServer.server);
      const timers = watchSourceTimers();
      const controller = new AbortController();
      const terminator = createTerminator(testServer.server, { timeout: 300 });
      await openIdleClient(protocol, testServer);
      await openClientInFlight(protocol, testServer, '/hang');

      const report = await terminated(terminator.terminate({ signal: controller.signal }), 3000);

      expect(report.graceful).toBe(false);
      expect(listenerCounts(testServer.server)).toEqual(before);
      expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
      await delay(50);
      expect(timers.created()).toBeGreaterThanOrEqual(1);
      expect(timers.pending()).toBe(0);
    });

    test('creating 100 terminators on one server triggers no MaxListenersExceededWarning, and all of them drain it', async () => {
      const testServer = await startServer(protocol);
      const warnings = watchWarnings();
      const terminators = Array.from({ length: 100 }, () =>
        createTerminator(testServer.server, { timeout: 5000 }),
      );
      const busy = await openIdleClient(protocol, testServer);
      const arrived = testServer.nextRequest('/');
      busy.socket.write(requestHead('/'));
      await testServer.responseClosed(await arrived);
      await busy.responses(2);
      const silent = await openClient(protocol, testServer);

      const reports = await terminated(
        Promise.all(terminators.map((terminator) => terminator.terminate())),
        3000,
      );
      await withTimeout(Promise.all([busy.outcome, silent.outcome]), 2000, 'the sockets to close');
      // process.emitWarning delivers on a later tick.
      await delay(50);

      expect(warnings.names()).not.toContain('MaxListenersExceededWarning');
      expect(reports).toHaveLength(100);
      for (const report of reports) {
        expect(report).toMatchObject({ graceful: true, closedIdle: 2, forced: 0 });
      }
    });

    test('returns the same promise from concurrent and later terminate() calls and goes serving → draining → closed', async () => {
      const testServer = await startServer(protocol);
      const terminator = createTerminator(testServer.server, { timeout: 10_000 });
      expect(terminator.state).toBe('serving');
      const { response } = await openClientInFlight(protocol, testServer, '/hang');

      const first = terminator.terminate();
      const second = terminator.terminate();
      expect(second).toBe(first);
      expect(terminator.state).toBe('draining');
      await delay(50);
      expect(terminator.state).toBe('draining');
      response.end('late');
      const report = await terminated(first, 2000);

      expect(terminator.state).toBe('closed');
      expect(terminator.terminate()).toBe(first);
      expect(report).toMatchObject({ graceful: true, completedInFlight: 1, forced: 0 });
    });

    test('resolves, does not reject, on a server that never listened', async () => {
      const server = createServer(protocol);
      const terminator = createTerminator(server);

      const report = await terminated(terminator.terminate(), 2000);

      expect(report).toMatchObject({ graceful: true, closedIdle: 0, forced: 0 });
      expect(terminator.state).toBe('closed');
    });

    test('resolves, does not reject, on a server that was already closed', async () => {
      const testServer = await startServer(protocol);
      const terminator = createTerminator(testServer.server);
      testServer.server.close();
      await withTimeout(once(testServer.server, 'close'), 2000, 'the server to close');

      const report = await terminated(terminator.terminate(), 2000);

      expect(report).toMatchObject({ graceful: true, forced: 0 });
      expect(terminator.state).toBe('closed');
    });

    test('forces at once when the signal aborts mid-drain', async () => {
      const testServer = await startServer(protocol);
      const terminator = createTerminator(testServer.server);
      const { client } = await openClientInFlight(protocol, testServer, '/hang');
      const controller = new AbortController();

      const done = terminator.terminate({ timeout: 10_000, signal: controller.signal });
      await delay(100);
      expect(client.isClosed()).toBe(false);
      controller.abort();
      const report = await terminated(done, 1000);

      expect(report.graceful).toBe(false);
      expect(report.forced).toBeGreaterThanOrEqual(1);
      const outcome = await withTimeout(client.outcome, 1000, 'the forced socket to close');
      expect(parseResponses(outcome.received)).toEqual([]);
    });

    test('forces at once when given a signal that is already aborted', async () => {
      const testServer = await startServer(protocol);
      const terminator = createTerminator(testServer.server);
      const { client } = await openClientInFlight(protocol, testServer, '/hang');

      const done = terminator.terminate({ timeout: 10_000, signal: AbortSignal.abort() });
      const report = await terminated(done, 1000);

      expect(report.graceful).toBe(false);
      expect(report.forced).toBeGreaterThanOrEqual(1);
      const outcome = await withTimeout(client.outcome, 1000, 'the forced socket to close');
      expect(parseResponses(outcome.received)).toEqual([]);
      expect(await connectionAttempt(protocol, testServer.port)).toBe('ECONNREFUSED');
    });
  });

  describe('created after connections exist', () => {
    test('closes an idle socket it never saw at once and forces a hanging request it never saw at the timeout', async () => {
      const testServer = await startServer(protocol);
      const idle = await openIdleClient(protocol, testServer);
      const { client: hanging } = await openClientInFlight(protocol, testServer, '/hang');
      const terminator = createTerminator(testServer.server, { timeout: 2000 });

      const startedAt = performance.now();
      const done = terminator.terminate();
      const idleOutcome = await withTimeout(idle.outcome, 500, 'the idle socket to close');

      expect(idleOutcome.ending).toBe('end');
      expect(parseResponses(idleOutcome.received)).toEqual([
        { status: 200, connection: 'keep-alive' },
      ]);
      expect(hanging.isClosed()).toBe(false);
      const report = await terminated(done, 2000 + 1200 + 1000);
      const elapsed = performance.now() - startedAt;
      expect(elapsed).toBeGreaterThanOrEqual(2000 - CLOCK_SLACK_MS);
      expect(elapsed).toBeLessThan(2000 + 1200);
      expect(report.graceful).toBe(false);
      const hangingOutcome = await withTimeout(hanging.outcome, 1000, 'the forced socket to close');
      expect(parseResponses(hangingOutcome.received)).toEqual([]);
    });
  });

  describe('created after a request is already in flight', () => {
    test('closes the socket of a request it never saw soon after its response, not at the keep-alive timeout', async () => {
      const testServer = await startServer(protocol);
      const { client } = await openClientInFlight(protocol, testServer, '/slow');
      const terminator = createTerminator(testServer.server, { timeout: 10_000 });

      const done = terminator.terminate();
      const answeredAt = await client.responses(1);
      const outcome = await withTimeout(client.outcome, 2000, 'the socket to close');

      expect(parseResponses(outcome.received)).toHaveLength(1);
      expect(parseResponses(outcome.received)[0]?.status).toBe(200);
      expect(outcome.received.endsWith('\r\n\r\nslow')).toBe(true);
      expect(outcome.ending).toBe('end');
      // Node's own keep-alive timeout (5 s) would close it otherwise.
      expect(outcome.closedAt - answeredAt).toBeLessThan(1000);
      expect((await terminated(done, 2000)).graceful).toBe(true);
    });
  });

  describe('stats()', () => {
    test('counts idle and active sockets while serving and returns to all zeros after 200 keep-alive requests, an aborted request and a silent socket', async () => {
      const testServer = await startServer(protocol);
      const terminator = createTerminator(testServer.server);
      const serverSockets: net.Socket[] = [];
      const remember = (socket: net.Socket): void => {
        serverSockets.push(socket);
      };
      testServer.server.on('connection', remember);
      testServer.server.on('secureConnection', remember);

      const clients = await Promise.all(
        Array.from({ length: 4 }, () => openClient(protocol, testServer)),
      );
      await Promise.all(
        clients.map(async (client) => {
          for (let sent = 1; sent <= 50; sent += 1) {
            client.socket.write(requestHead('/'));
            await client.responses(sent);
          }
        }),
      );
      await testServer.allResponsesClosed();
      expect(terminator.stats()).toEqual({ ...ZERO_STATS, idle: 4 });

      const { client: aborted } = await openClientInFlight(protocol, testServer, '/hang');
      const silent = await openClient(protocol, testServer);
      expect(terminator.stats()).toEqual({ ...ZERO_STATS, idle: 5, active: 1 });

      const closed = serverSockets.map((socket) =>
        socket.destroyed ? Promise.resolve() : once(socket, 'close'),
      );
      for (const client of [...clients, silent]) client.socket.end();
      aborted.socket.destroy();
      await withTimeout(Promise.all(closed), 2000, 'every server-side socket to close');
      await new Promise((resolve) => setImmediate(resolve));

      expect(terminator.stats()).toEqual(ZERO_STATS);
      for (const client of clients) {
        const outcome = await client.outcome;
        expect(parseResponses(outcome.received)).toHaveLength(50);
      }
    });
  });
});
