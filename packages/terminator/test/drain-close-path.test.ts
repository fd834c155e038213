/**
 * How the drain closes sockets and when it resolves: many idle sockets are closed in batches
 * that each get a FIN (never a reset) and together close every one of them; the drain resolves
 * in the turn of the server's own `close` event, once the last response finished, with no timer
 * of ours.
 */
import { createHook } from 'node:async_hooks';
import { once } from 'node:events';
import type * as http from 'node:http';
import type * as net from 'node:net';
import * as path from 'node:path';
import { createTerminator } from '../src';
import {
  collect,
  connect,
  createServer,
  delay,
  listen,
  parseResponses,
  useCleanups,
  withTimeout,
} from './support';
import type { SocketOutcome } from './support';

const cleanup = useCleanups();

/** Enough sockets that closing them takes more than one batch on any machine we run on. */
const MANY_IDLE_SOCKETS = 3000;

/** Longer than the quiet time after which the drain closes an idle socket outright. */
const LONG_QUIET_MS = 400;

const sourceFolder = path.resolve(__dirname, '../src');

const REQUEST = 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';

async function startServer(
  handler: http.RequestListener = (_request, response) => {
    response.end('ok');
  },
): Promise<{ server: http.Server; port: number }> {
  const server = createServer('http', handler);
  // Opening thousands of sockets on a loaded machine can take longer than Node's 5 s default.
  server.keepAliveTimeout = 0;
  const port = await listen(server);
  cleanup(() => {
    server.closeAllConnections();
    server.close();
  });
  return { server, port };
}

/** Opens `count` sockets that each made one keep-alive request and read its whole response. */
async function openIdleSockets(
  port: number,
  count: number,
): Promise<{ socket: net.Socket; outcome: Promise<SocketOutcome> }[]> {
  const opened: { socket: net.Socket; outcome: Promise<SocketOutcome> }[] = [];
  const openOne = async (): Promise<void> => {
    const socket = await connect('http', port);
    cleanup(() => socket.destroy());
    const outcome = collect(socket, 20_000);
    const answered = new Promise<void>((resolve) => {
      let received = '';
      const onData = (chunk: Buffer): void => {
        received += chunk.toString('latin1');
        if (received.endsWith('ok')) {
          socket.off('data', onData);
          resolve();
        }
      };
      socket.on('data', onData);
    });
    socket.write(REQUEST);
    await withTimeout(answered, 10_000, 'a warm-up response');
    opened.push({ socket, outcome });
  };
  let started = 0;
  const workers = Array.from({ length: 100 }, async () => {
    while (started < count) {
      started += 1;
      await openOne();
    }
  });
  await Promise.all(workers);
  return opened;
}

/** Counts the timers created by packages/terminator/src from now on. */
function watchSourceTimers(): { created(): number } {
  let created = 0;
  const hook = createHook({
    init(_asyncId, type) {
      if (type !== 'Timeout') return;
      const limit = Error.stackTraceLimit;
      Error.stackTraceLimit = 50;
      const stack = new Error().stack ?? '';
      Error.stackTraceLimit = limit;
      if (stack.includes(sourceFolder)) created += 1;
    },
  }).enable();
  cleanup(() => hook.disable());
  return { created: () => created };
}

describe('closing idle sockets', () => {
  test(`closes every one of ${String(MANY_IDLE_SOCKETS)} idle keep-alive sockets with a FIN, none with a reset`, async () => {
    const { server, port } = await startServer();
    const terminator = createTerminator(server, { timeout: 20_000 });
    const sockets = await openIdleSockets(port, MANY_IDLE_SOCKETS);
    expect(sockets).toHaveLength(MANY_IDLE_SOCKETS);

    const report = await withTimeout(terminator.terminate(), 15_000, 'terminate() to resolve');
    const outcomes = await withTimeout(
      Promise.all(sockets.map(({ outcome }) => outcome)),
      15_000,
      'every idle socket to close',
    );

    expect(report).toMatchObject({
      graceful: true,
      closedIdle: MANY_IDLE_SOCKETS,
      completedInFlight: 0,
      forced: 0,
    });
    expect(outcomes.filter((outcome) => outcome.ending !== 'end')).toEqual([]);
    expect(terminator.stats()).toMatchObject({ idle: 0, active: 0 });
  }, 60_000);

  test('lets the event loop run between the batches while it closes many idle sockets', async () => {
    const { server, port } = await startServer();
    const terminator = createTerminator(server, { timeout: 20_000 });
    await openIdleSockets(port, MANY_IDLE_SOCKETS);
    // Quiet long enough that each is closed outright, with no 'finish' turn of its own.
    await delay(LONG_QUIET_MS);
    let turns = 0;
    let isDraining = true;
    const countTurn = (): void => {
      turns += 1;
      if (isDraining) setImmediate(countTurn);
    };

    const done = terminator.terminate();
    setImmediate(countTurn);
    await withTimeout(done, 15_000, 'terminate() to resolve');
    isDraining = false;

    // The sweep's turn and the first poll phase's are counted; the first batch runs in the
    // third turn, before this counter's own callback. Closing every socket in that one batch
    // resolves the drain there, with two turns counted; a second batch means a third.
    expect(turns).toBeGreaterThanOrEqual(3);
  }, 60_000);
});

describe('when the drain resolves', () => {
  test('resolves in the turn of the server close event after the last Connection: close response, with no timer of ours', async () => {
    let release: (() => void) | undefined;
    const { server, port } = await startServer((_request, response) => {
      release = () => response.end('late');
    });
    const timers = watchSourceTimers();
    const terminator = createTerminator(server, { timeout: Infinity });
    const socket = await connect('http', port);
    cleanup(() => socket.destroy());
    const outcome = collect(socket);
    socket.write(REQUEST);
    await withTimeout(
      (async () => {
        while (release === undefined) await new Promise((resolve) => setImmediate(resolve));
      })(),
      2000,
      'the request to reach the handler',
    );

    const done = terminator.terminate();
    let hasLoopTurnedSinceClose = false;
    const serverClosed = once(server, 'close').then(() => {
      setImmediate(() => {
        hasLoopTurnedSinceClose = true;
      });
    });
    release?.();
    const report = await withTimeout(done, 2000, 'terminate() to resolve');

    await serverClosed;
    expect(hasLoopTurnedSinceClose).toBe(false);
    expect(report).toMatchObject({ graceful: true, completedInFlight: 1, forced: 0 });
    expect(timers.created()).toBe(0);
    const { received, ending } = await outcome;
    expect(parseResponses(received)).toEqual([{ status: 200, connection: 'close' }]);
    expect(ending).toBe('end');
  });
});
