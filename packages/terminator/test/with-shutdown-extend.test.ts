/**
 * `withShutdown.extend()`, http-shutdown's second form: `require('http-shutdown').extend()` then
 * `http.createServer(app).withShutdown()`. Opt-in: importing the package adds nothing.
 */
import * as http from 'node:http';
import * as net from 'node:net';
import { performance } from 'node:perf_hooks';
import { withShutdown } from '../src';
import type { Protocol } from './support';
import {
  collect,
  connect,
  createServer,
  deferred,
  parseResponses,
  protocols,
  startTracked,
  useCleanups,
  withTimeout,
} from './support';

const defer = useCleanups();

afterAll(() => {
  // Node's modules are shared by the test files of one jest worker: leave the prototype as found.
  delete (net.Server.prototype as Partial<net.Server>).withShutdown;
});

/** Resolves when `shutdown` or `forceShutdown` calls back, with `this` and the time. */
function callbackOf(
  start: (callback: (this: unknown, error?: Error) => void) => void,
): Promise<{ self: unknown; error: Error | undefined; at: number }> {
  return withTimeout(
    new Promise((resolve) => {
      start(function (this: unknown, error?: Error) {
        resolve({ self: this, error, at: performance.now() });
      });
    }),
    5000,
    'the shutdown callback',
  );
}

describe('withShutdown.extend()', () => {
  it('is opt-in: importing the package leaves net.Server.prototype untouched', () => {
    expect(Object.getOwnPropertyDescriptor(net.Server.prototype, 'withShutdown')).toBeUndefined();
    expect('withShutdown' in http.createServer()).toBe(false);
  });

  it('adds one non-enumerable method, and a second call changes nothing', () => {
    withShutdown.extend();
    const first = Object.getOwnPropertyDescriptor(net.Server.prototype, 'withShutdown');
    expect(first).toEqual(
      expect.objectContaining({ enumerable: false, writable: true, configurable: true }),
    );
    expect(typeof first?.value).toBe('function');
    withShutdown.extend();
    expect(Object.getOwnPropertyDescriptor(net.Server.prototype, 'withShutdown')).toEqual(first);
    const server = http.createServer();
    const keys: string[] = [];
    for (const key in server) keys.push(key);
    expect(keys).not.toContain('withShutdown');
  });

  it.each(protocols)(
    'decorates a %s server: shutdown finishes the requests in flight, then calls back',
    async (protocol: Protocol) => {
      withShutdown.extend();
      const release = deferred();
      let arrivals = 0;
      const arrived = deferred();
      const server = createServer(protocol, (_request, response) => {
        arrivals += 1;
        if (arrivals === 2) arrived.resolve();
        void release.promise.then(() => response.end('done'));
      });
      const decorated = server.withShutdown();
      expect(decorated).toBe(server);
      const port = await startTracked(server, defer);
      const outcomes = await Promise.all(
        [1, 2].map(async () => {
          const socket = await connect(protocol, port);
          defer(() => socket.destroy());
          socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
          // Wrapped: an async function returning the promise itself would wait for it.
          return { outcome: collect(socket, 5000) };
        }),
      );
      await withTimeout(arrived.promise, 3000, 'both requests');
      const called = callbackOf((callback) => {
        decorated.shutdown(callback);
      });
      expect(server.listening).toBe(false);
      const releasedAt = performance.now();
      setTimeout(() => {
        release.resolve();
      }, 100);
      const { self, error, at } = await called;
      expect({ self, error }).toEqual({ self: server, error: undefined });
      expect(at - releasedAt).toBeGreaterThanOrEqual(90);
      for (const outcome of await Promise.all(outcomes.map((socket) => socket.outcome))) {
        expect(outcome.ending).toBe('end');
        expect(parseResponses(outcome.received)).toEqual([{ status: 200, connection: 'close' }]);
        expect(outcome.received.endsWith('done')).toBe(true);
      }
    },
  );

  it('forceShutdown closes a hanging request at once and calls back', async () => {
    withShutdown.extend();
    const server = http.createServer(() => undefined).withShutdown({ timeout: 60_000 });
    const port = await startTracked(server, defer);
    const socket = await connect('http', port);
    defer(() => socket.destroy());
    const arrived = new Promise((resolve) => server.once('request', resolve));
    socket.write('GET /hang HTTP/1.1\r\nHost: x\r\n\r\n');
    const outcome = collect(socket, 5000);
    await withTimeout(arrived, 3000, 'the request');
    const startedAt = performance.now();
    const { self } = await callbackOf((callback) => {
      server.forceShutdown(callback);
    });
    expect(self).toBe(server);
    expect(performance.now() - startedAt).toBeLessThan(2000);
    expect((await outcome).received).toBe('');
    expect(server.listening).toBe(false);
  });

  it('decorates a plain net server too', async () => {
    withShutdown.extend();
    const server = net.createServer().withShutdown();
    const port = await startTracked(server, defer);
    const socket = await connect('http', port);
    defer(() => socket.destroy());
    const outcome = collect(socket, 5000);
    const { self } = await callbackOf((callback) => {
      server.shutdown(callback);
    });
    expect(self).toBe(server);
    expect(await outcome).toEqual({ received: '', ending: 'end' });
  });
});
