import * as net from 'node:net';
import * as path from 'node:path';
import { killApps, makeTempDir, readCrashLog, startApp } from '../../graceful/test/run-app';
import type { App } from '../../graceful/test/run-app';

afterEach(killApps);

const FIXTURE = path.join(__dirname, 'fixtures', 'app.js');

/** One raw HTTP/1.1 response as read off the socket. */
interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/**
 * A keep-alive client on a raw socket, so that every byte, FIN and RST is seen: sends requests,
 * reads the responses in order, and records how the socket ended.
 */
class RawClient {
  readonly socket: net.Socket;
  readonly responses: RawResponse[] = [];
  ended: 'fin' | 'reset' | undefined;
  #buffer = '';
  #waiters: (() => void)[] = [];

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      this.#buffer += chunk;
      this.#parse();
      this.#wake();
    });
    socket.on('end', () => {
      this.ended ??= 'fin';
      this.#wake();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      this.ended = error.code === 'ECONNRESET' ? 'reset' : this.ended;
      this.#wake();
    });
    socket.on('close', () => {
      this.ended ??= 'reset';
      this.#wake();
    });
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        resolve(new RawClient(socket));
      });
      socket.once('error', reject);
    });
  }

  send(urlPath: string): void {
    this.socket.write(`GET ${urlPath} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
  }

  /** Resolves once `count` responses arrived (or rejects after `ms`). */
  async responsesUntil(count: number, ms = 10_000): Promise<RawResponse[]> {
    await this.#until(() => this.responses.length >= count, ms, `${String(count)} responses`);
    return this.responses;
  }

  /** Resolves with how the socket ended (or rejects after `ms`). */
  async endedWith(ms = 10_000): Promise<'fin' | 'reset'> {
    await this.#until(() => this.ended !== undefined, ms, 'the socket to end');
    return this.ended ?? 'reset';
  }

  #until(isDone: () => boolean, ms: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!isDone()) return;
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        reject(
          new Error(`no ${what} within ${String(ms)} ms; got ${JSON.stringify(this.responses)}`),
        );
      }, ms);
      this.#waiters.push(check);
      check();
    });
  }

  #wake(): void {
    for (const waiter of this.#waiters) waiter();
  }

  #parse(): void {
    for (;;) {
      const headEnd = this.#buffer.indexOf('\r\n\r\n');
      if (headEnd === -1) return;
      const [statusLine = '', ...headerLines] = this.#buffer.slice(0, headEnd).split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of headerLines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      const length = Number(headers['content-length'] ?? 0);
      if (this.#buffer.length < headEnd + 4 + length) return;
      const body = this.#buffer.slice(headEnd + 4, headEnd + 4 + length);
      this.#buffer = this.#buffer.slice(headEnd + 4 + length);
      this.responses.push({ status: Number(statusLine.split(' ')[1]), headers, body });
    }
  }
}

async function startExpressApp(
  expressModule: string,
  scenario: object = {},
): Promise<{ app: App; port: number; crashLog: string }> {
  const crashLog = path.join(makeTempDir(), 'crash.log');
  const app = startApp(scenario, {
    fixture: FIXTURE,
    env: { EXPRESS_MODULE: expressModule, LASTCALL_CRASH_LOG: crashLog, LASTCALL_APP_NAME: 'shop' },
  });
  const listening = await app.waitFor('listening');
  return { app, port: listening['port'] as number, crashLog };
}

describe.each(['express', 'express5'])('%s', (expressModule) => {
  it.each([
    ['/crash/timer', 'crash in a timer'],
    ['/crash/fs', 'crash in an fs callback'],
    ['/crash/emitter', 'crash in a listener'],
  ])(
    'a throw in the callback of %s costs that request only: 500 with Connection: close, the others complete, idle sockets get a FIN, exit 1',
    async (crashPath, message) => {
      const { app, port, crashLog } = await startExpressApp(expressModule);
      const idle = await RawClient.connect(port);
      idle.send('/ok');
      await idle.responsesUntil(1);
      const busy = await RawClient.connect(port);
      busy.send('/slow?ms=800');
      const crashing = await RawClient.connect(port);
      crashing.send(crashPath);

      const [crashed] = await crashing.responsesUntil(1);
      expect(crashed).toMatchObject({ status: 500, headers: { connection: 'close' } });
      expect(JSON.parse(crashed?.body ?? '{}')).toEqual({ status: 500, error: 'internal error' });
      const [slow] = await busy.responsesUntil(1);
      expect(slow).toMatchObject({
        status: 200,
        body: 'slow done',
        headers: { connection: 'close' },
      });
      expect(await idle.endedWith()).toBe('fin');
      expect(await busy.endedWith()).toBe('fin');
      expect(await app.exited()).toEqual({ code: 1, signal: null });

      const entries = readCrashLog(crashLog);
      expect(entries).toHaveLength(1);
      expect(entries[0]).toMatchObject({
        origin: 'uncaughtException',
        error: { message },
        request: { method: 'GET', url: crashPath },
      });
    },
  );

  it('a throw in a timer started at boot shuts down gracefully and claims no request', async () => {
    const { app, port, crashLog } = await startExpressApp(expressModule, { bootCrash: true });
    const idle = await RawClient.connect(port);
    idle.send('/ok');
    await idle.responsesUntil(1);
    expect(await app.exited()).toEqual({ code: 1, signal: null });
    expect(await idle.endedWith()).toBe('fin');
    const entries = readCrashLog(crashLog);
    expect(entries).toHaveLength(1);
    expect(entries[0]?.['request']).toBeUndefined();
    expect(entries[0]).toMatchObject({ error: { message: 'crash in a boot timer' } });
  });

  it.each([
    [
      'serves a request that slips in on an old keep-alive socket during the drain, with Connection: close',
      false,
      { status: 200, body: 'ok', headers: { connection: 'close' } },
    ],
    [
      'with shedWhileClosing answers such a request with 503, Retry-After and Connection: close',
      true,
      { status: 503, headers: { 'retry-after': '7', connection: 'close' } },
    ],
  ])('%s', async (_title, shedWhileClosing, expected) => {
    const { app, port } = await startExpressApp(expressModule, { shedWhileClosing });
    const client = await RawClient.connect(port);
    client.send('/ok');
    await client.responsesUntil(1);
    // The next request is on the wire as the drain starts: half of its head before SIGTERM, the
    // rest once the server is closing.
    client.socket.write('GET /ok HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    await new Promise((resolve) => setTimeout(resolve, 100));
    app.child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 300));
    client.socket.write('\r\n');
    const [first, late] = await client.responsesUntil(2);
    expect(first).toMatchObject({ status: 200, body: 'ok', headers: { connection: 'keep-alive' } });
    expect(late).toMatchObject(expected);
    expect(await client.endedWith()).toBe('fin');
    await expect(RawClient.connect(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(await app.exited()).toEqual({ code: 0, signal: null });
  });

  it('on SIGTERM turns readiness 503 at once, serves with Connection: close for the delay, then closes and exits 0', async () => {
    const { app, port } = await startExpressApp(expressModule, { shutdownDelay: 600 });
    const probe = await RawClient.connect(port);
    probe.send('/ready');
    expect((await probe.responsesUntil(1))[0]).toMatchObject({ status: 200, body: 'ready\n' });
    app.child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 150));
    const during = await RawClient.connect(port);
    during.send('/ready');
    expect((await during.responsesUntil(1))[0]).toMatchObject({
      status: 503,
      headers: { connection: 'close', 'retry-after': '7' },
    });
    const served = await RawClient.connect(port);
    served.send('/ok');
    expect((await served.responsesUntil(1))[0]).toMatchObject({
      status: 200,
      body: 'ok',
      headers: { connection: 'close' },
    });
    const live = await RawClient.connect(port);
    live.send('/live');
    expect((await live.responsesUntil(1))[0]).toMatchObject({ status: 200, body: 'alive\n' });
    expect(await app.exited()).toEqual({ code: 0, signal: null });
  });
});

describe.each(['express', 'express5'])('%s with ge.errorHandler', (expressModule) => {
  it.each([
    ['/throw/sync', 'thrown in a handler'],
    ['/crash/async', 'crash in an async handler'],
  ])(
    'an error Express caught from %s gets one 500 with Connection: close, a report with the request and a graceful exit 1',
    async (crashPath, message) => {
      const { app, port, crashLog } = await startExpressApp(expressModule, { errorHandler: true });
      const busy = await RawClient.connect(port);
      busy.send('/slow?ms=600');
      const client = await RawClient.connect(port);
      client.send(crashPath);
      const [crashed] = await client.responsesUntil(1);
      expect(crashed).toMatchObject({ status: 500, headers: { connection: 'close' } });
      const [slow] = await busy.responsesUntil(1);
      expect(slow).toMatchObject({
        status: 200,
        body: 'slow done',
        headers: { connection: 'close' },
      });
      expect(await app.exited()).toEqual({ code: 1, signal: null });
      const entries = readCrashLog(crashLog);
      expect(entries).toHaveLength(1);
      expect(entries[0]).toMatchObject({
        origin:
          crashPath === '/crash/async' && expressModule === 'express'
            ? 'unhandledRejection'
            : 'request',
        error: { message },
        request: { method: 'GET', url: crashPath },
      });
    },
  );

  it('leaves an error with an HTTP status to the app: a 404, no report, no shutdown', async () => {
    const { app, port, crashLog } = await startExpressApp(expressModule, { errorHandler: true });
    const client = await RawClient.connect(port);
    client.send('/http-error');
    client.send('/ok');
    const [notFound, ok] = await client.responsesUntil(2);
    expect(notFound).toMatchObject({ status: 404, headers: { connection: 'keep-alive' } });
    expect(ok).toMatchObject({ status: 200, body: 'ok' });
    app.child.kill('SIGTERM');
    expect(await app.exited()).toEqual({ code: 0, signal: null });
    expect(() => readCrashLog(crashLog)).toThrow(/ENOENT/);
  });
});

describe('express (4)', () => {
  it('an unhandled rejection in an async handler gets one 500 and a graceful exit 1', async () => {
    const { app, port, crashLog } = await startExpressApp('express');
    const client = await RawClient.connect(port);
    client.send('/crash/async');
    const [crashed] = await client.responsesUntil(1);
    expect(crashed).toMatchObject({ status: 500, headers: { connection: 'close' } });
    expect(await app.exited()).toEqual({ code: 1, signal: null });
    expect(readCrashLog(crashLog)).toMatchObject([
      {
        origin: 'unhandledRejection',
        error: { message: 'crash in an async handler' },
        request: { method: 'GET', url: '/crash/async' },
      },
    ]);
  });
});
