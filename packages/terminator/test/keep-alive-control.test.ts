/**
 * resumeKeepAlive() takes back stopKeepAlive() while serving (a node back in rotation), and the
 * options keepAliveTimeout and headersTimeout set the server's own when the terminator is created
 * (longer than a load balancer's idle timeout, against its 502s: node#20256).
 */
import * as net from 'node:net';
import { performance } from 'node:perf_hooks';
import { request } from 'undici';
import type { Agent } from 'undici';
import { TerminatorError, createTerminator } from '../src';
import type { Terminator } from '../src';
import {
  connect,
  createServer,
  deferred,
  delay,
  listen,
  protocols,
  startSlowFastServer,
  useCleanups,
  withTimeout,
} from './support';
import type { Protocol, SlowFastServer } from './support';

const defer = useCleanups();

/** The server of these tests: `/slow` answers when `release` resolves, anything else at once. */
function serve(protocol: Protocol, release?: Promise<void>): Promise<SlowFastServer> {
  return startSlowFastServer(protocol, defer, release);
}

/**
 * A terminator of a {@link serve} server, called stopKeepAlive() while a `/slow` request is in
 * flight: that request, and `release`, which lets it answer.
 */
async function stoppedWithSlowInFlight(protocol: Protocol): Promise<{
  origin: string;
  agent: Agent;
  terminator: Terminator;
  inFlight: ReturnType<typeof get>;
  release: () => void;
}> {
  const release = deferred();
  const { origin, agent, server } = await serve(protocol, release.promise);
  const terminator = createTerminator(server);
  const inFlight = get(`${origin}/slow`, agent);
  await delay(50);
  terminator.stopKeepAlive();
  return { origin, agent, terminator, inFlight, release: release.resolve };
}

/** GET `url` through `agent`: its Connection header and body. */
async function get(url: string, agent: Agent): Promise<{ connection: unknown; body: string }> {
  const response = await withTimeout(request(url, { dispatcher: agent }), 4000, `GET ${url}`);
  return { connection: response.headers['connection'], body: await response.body.text() };
}

/** The port `server` listens on. */
function portOf(server: net.Server): number {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return address.port;
}

/**
 * A raw keep-alive connection to 127.0.0.1:port; each call sends one GET on it and resolves with
 * the response's Connection header and body (every answer of {@link serve} has a Content-Length).
 */
async function rawExchanges(
  protocol: Protocol,
  port: number,
): Promise<(path: string) => Promise<{ connection: string | undefined; body: string }>> {
  const socket = await connect(protocol, port);
  defer(() => socket.destroy());
  socket.on('error', () => undefined);
  socket.setEncoding('latin1');
  let buffered = '';
  let wake: () => void = () => undefined;
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    wake();
  });
  socket.on('close', () => {
    wake();
  });
  const nextResponse = (): { connection: string | undefined; body: string } | undefined => {
    const headerEnd = buffered.indexOf('\r\n\r\n');
    if (headerEnd < 0) return undefined;
    const head = buffered.slice(0, headerEnd);
    const length = Number(/^content-length: *(\d+)$/im.exec(head)?.[1] ?? 0);
    if (buffered.length < headerEnd + 4 + length) return undefined;
    const body = buffered.slice(headerEnd + 4, headerEnd + 4 + length);
    buffered = buffered.slice(headerEnd + 4 + length);
    const connection = /^connection: *(.+)$/im.exec(head)?.[1]?.trim().toLowerCase();
    return { connection, body };
  };
  return (path) => {
    socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    return withTimeout(
      new Promise((resolve, reject) => {
        wake = () => {
          const response = nextResponse();
          if (response !== undefined) resolve(response);
          else if (socket.destroyed) reject(new Error(`the socket closed; got ${buffered}`));
        };
        wake();
      }),
      4000,
      `GET ${path} on the raw socket`,
    );
  };
}

describe.each(protocols)('resumeKeepAlive() over %s', (protocol: Protocol) => {
  it('says Connection: close after stopKeepAlive(), then keep-alive again after resumeKeepAlive()', async () => {
    const { server, connections } = await serve(protocol);
    const terminator = createTerminator(server);
    const port = portOf(server);
    const first = await rawExchanges(protocol, port);
    expect(await first('/fast')).toStrictEqual({ connection: 'keep-alive', body: 'fast' });
    terminator.stopKeepAlive();
    expect(await first('/fast')).toStrictEqual({ connection: 'close', body: 'fast' });
    terminator.resumeKeepAlive();
    terminator.resumeKeepAlive();
    // A new connection, kept for a second request.
    const second = await rawExchanges(protocol, port);
    expect(await second('/fast')).toStrictEqual({ connection: 'keep-alive', body: 'fast' });
    expect(await second('/fast')).toStrictEqual({ connection: 'keep-alive', body: 'fast' });
    expect(connections()).toBe(2);
    expect(terminator.state).toBe('serving');
  });

  it('lets a response already asked to close still close', async () => {
    const { origin, agent, terminator, inFlight, release } =
      await stoppedWithSlowInFlight(protocol);
    terminator.resumeKeepAlive();
    release();
    expect(await inFlight).toStrictEqual({ connection: 'close', body: 'slow' });
    expect(await get(`${origin}/fast`, agent)).toStrictEqual({
      connection: 'keep-alive',
      body: 'fast',
    });
  });

  it('changes nothing once terminate() began: the drain says Connection: close', async () => {
    const { terminator, inFlight, release } = await stoppedWithSlowInFlight(protocol);
    const terminated = terminator.terminate({ timeout: 4000 });
    terminator.resumeKeepAlive();
    expect(terminator.state).toBe('draining');
    release();
    expect(await inFlight).toStrictEqual({ connection: 'close', body: 'slow' });
    await expect(withTimeout(terminated, 5000, 'terminate()')).resolves.toMatchObject({
      graceful: true,
    });
  });

  it("keeps keep-alive on through terminate()'s drainDelay, also after stopKeepAlive(), and then drains", async () => {
    const { server } = await serve(protocol);
    const terminator = createTerminator(server);
    // One raw socket: the listener closes when the delay begins, so every request must reuse it.
    const exchange = await rawExchanges(protocol, portOf(server));
    expect(await exchange('/fast')).toMatchObject({ connection: 'keep-alive' });
    terminator.stopKeepAlive();
    const terminated = terminator.terminate({ drainDelay: 1500, timeout: 5000 });
    expect(await exchange('/fast')).toStrictEqual({ connection: 'keep-alive', body: 'fast' });
    terminator.stopKeepAlive();
    terminator.resumeKeepAlive();
    expect(await exchange('/fast')).toStrictEqual({ connection: 'keep-alive', body: 'fast' });
    expect(terminator.state).toBe('draining');
    await expect(withTimeout(terminated, 6000, 'terminate()')).resolves.toMatchObject({
      graceful: true,
    });
  });

  it("cannot take back another terminator's stopKeepAlive() once its own terminate() ran", async () => {
    const { agent, server } = await serve(protocol);
    const finished = createTerminator(server);
    const serving = createTerminator(server);
    await withTimeout(finished.terminate({ timeout: 2000 }), 3000, 'terminate()');
    expect(finished.state).toBe('closed');
    // The same server, listening again, still has the serving terminator's registry.
    const port = await listen(server);
    const origin = `${protocol}://127.0.0.1:${String(port)}`;
    serving.stopKeepAlive();
    finished.resumeKeepAlive();
    expect(await get(`${origin}/fast`, agent)).toStrictEqual({ connection: 'close', body: 'fast' });
    serving.resumeKeepAlive();
    expect(await get(`${origin}/fast`, agent)).toStrictEqual({
      connection: 'keep-alive',
      body: 'fast',
    });
  });
});

describe.each(protocols)('keepAliveTimeout and headersTimeout on an %s server', (protocol) => {
  it('sets both on the server when the terminator is created', () => {
    const server = createServer(protocol);
    createTerminator(server, { keepAliveTimeout: 65_000, headersTimeout: 66_000 });
    expect(server.keepAliveTimeout).toBe(65_000);
    expect(server.headersTimeout).toBe(66_000);
  });

  it("leaves the server's own values without the options", () => {
    const server = createServer(protocol);
    server.keepAliveTimeout = 12_345;
    server.headersTimeout = 23_456;
    createTerminator(server);
    createTerminator(server, { idleGrace: 100 });
    expect(server.keepAliveTimeout).toBe(12_345);
    expect(server.headersTimeout).toBe(23_456);
  });

  it('sets each one alone, and the largest a timer holds', () => {
    const server = createServer(protocol);
    const headersBefore = server.headersTimeout;
    createTerminator(server, { keepAliveTimeout: 2 ** 31 - 1 });
    expect(server.keepAliveTimeout).toBe(2 ** 31 - 1);
    expect(server.headersTimeout).toBe(headersBefore);
    const other = createServer(protocol);
    const keepAliveBefore = other.keepAliveTimeout;
    createTerminator(other, { headersTimeout: 1 });
    expect(other.headersTimeout).toBe(1);
    expect(other.keepAliveTimeout).toBe(keepAliveBefore);
  });

  it('changes nothing when given to terminate()', async () => {
    const server = createServer(protocol);
    await listen(server);
    const terminator = createTerminator(server, { keepAliveTimeout: 61_000 });
    const terminated = terminator.terminate({ keepAliveTimeout: 99_000, headersTimeout: 98_000 });
    expect(server.keepAliveTimeout).toBe(61_000);
    expect(server.headersTimeout).not.toBe(98_000);
    await withTimeout(terminated, 3000, 'terminate()');
  });

  it('ends a kept-alive socket idle for keepAliveTimeout ms', async () => {
    const server = createServer(protocol, (_incoming, response) => response.end('ok'));
    createTerminator(server, { keepAliveTimeout: 300 });
    const port = await listen(server);
    defer(() => {
      server.closeAllConnections();
      server.close();
    });
    const socket = await connect(protocol, port);
    defer(() => socket.destroy());
    socket.on('error', () => undefined);
    let received = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      received += chunk;
    });
    socket.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
    const answeredAt = await withTimeout(
      new Promise<number>((resolve) => {
        const check = (): void => {
          if (received.endsWith('ok')) resolve(performance.now());
          else socket.once('data', check);
        };
        socket.once('data', check);
      }),
      3000,
      'the response',
    );
    expect(received).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(received.toLowerCase()).toContain('keep-alive: timeout=');
    await withTimeout(
      new Promise((resolve) => socket.once('close', resolve)),
      3000,
      'the server to end the idle socket',
    );
    // Well before Node's default of 5000 ms (Node 20.20 ends it about 1 s after the timeout).
    expect(performance.now() - answeredAt).toBeGreaterThanOrEqual(250);
    expect(performance.now() - answeredAt).toBeLessThan(2500);
  });
});

describe('keepAliveTimeout and headersTimeout elsewhere', () => {
  it('are ignored on a plain net.Server, without a throw', () => {
    const server = net.createServer();
    const terminator: Terminator = createTerminator(server, {
      keepAliveTimeout: 65_000,
      headersTimeout: 66_000,
    });
    expect(terminator.state).toBe('serving');
    expect('keepAliveTimeout' in server).toBe(false);
    expect('headersTimeout' in server).toBe(false);
  });

  it.each<[string, unknown]>([
    ['0', 0],
    ['-1', -1],
    ['1.5', 1.5],
    ['2 ** 31', 2 ** 31],
    ['NaN', Number.NaN],
    ['Infinity', Infinity],
    ['a string', '65000'],
    ['null', null],
    ['false', false],
  ])(
    'refuses %s with LASTCALL_ERR_TERMINATOR_INVALID_SERVER_TIMEOUT, naming the option',
    (_what, value) => {
      for (const name of ['keepAliveTimeout', 'headersTimeout']) {
        const server = createServer('http');
        const before = server.listenerCount('request');
        let thrown: unknown;
        try {
          createTerminator(server, { [name]: value });
        } catch (error) {
          thrown = error;
        }
        expect(thrown).toBeInstanceOf(TerminatorError);
        expect(thrown).toMatchObject({ code: 'LASTCALL_ERR_TERMINATOR_INVALID_SERVER_TIMEOUT' });
        expect((thrown as Error).message).toMatch(
          new RegExp(
            `^createTerminator\\(server, options\\): ${name} must be a whole number of milliseconds from 1 to 2147483647, got `,
          ),
        );
        expect(server.listenerCount('request')).toBe(before);
        expect(server.keepAliveTimeout).toBe(5000);
      }
    },
  );

  it('refuses a bad value given to terminate() with the same code', async () => {
    const server = createServer('http');
    await listen(server);
    const terminator = createTerminator(server);
    let thrown: unknown;
    try {
      void terminator.terminate({ headersTimeout: -5 });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({
      code: 'LASTCALL_ERR_TERMINATOR_INVALID_SERVER_TIMEOUT',
      message: expect.stringMatching(
        /^terminator\.terminate\(options\): headersTimeout /,
      ) as string,
    });
    expect(terminator.state).toBe('serving');
    await withTimeout(terminator.terminate(), 3000, 'terminate()');
  });
});
