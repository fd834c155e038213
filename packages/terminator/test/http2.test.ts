/**
 * Behaviour 9 of the terminator: HTTP/2 over TLS (h2) and cleartext (h2c). Every session gets a
 * GOAWAY at once, streams already open complete, new ones are refused, and whatever is still open
 * at the deadline is cancelled. An `allowHTTP1` server drains its HTTP/1 connections by the
 * HTTP/1 rules in the same call.
 */
import * as http2 from 'node:http2';
import * as https from 'node:https';
import type * as net from 'node:net';
import { createTerminator } from '../src';
import { deferred, listen, timedTerminate, tlsFixture, useCleanups, withTimeout } from './support';

const defer = useCleanups();

type H2Server = http2.Http2Server | http2.Http2SecureServer;

interface Flavour {
  readonly name: 'h2' | 'h2c';
  readonly scheme: 'https' | 'http';
  create(): H2Server;
}

const flavours: readonly Flavour[] = [
  { name: 'h2', scheme: 'https', create: () => http2.createSecureServer(tlsFixture) },
  { name: 'h2c', scheme: 'http', create: () => http2.createServer() },
];

/** Starts `server` on 127.0.0.1:0; after the test destroys every session and socket it saw. */
async function start(server: H2Server): Promise<number> {
  const sockets = new Set<net.Socket>();
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('session', (session: http2.ServerHttp2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
    session.on('error', () => undefined);
  });
  defer(() => {
    for (const session of sessions) session.destroy();
    for (const socket of sockets) socket.destroy();
    if (server.listening) server.close();
  });
  return listen(server);
}

/** A client session that records its GOAWAY frames and its close, destroyed after the test. */
interface TrackedSession {
  readonly session: http2.ClientHttp2Session;
  /** The first GOAWAY received: its error code, last stream id and when it arrived. */
  readonly goaway: Promise<{ errorCode: number; lastStreamId: number; at: number }>;
  readonly closed: Promise<number>;
}

async function openSession(
  flavour: Pick<Flavour, 'name' | 'scheme'>,
  port: number,
): Promise<TrackedSession> {
  const session = http2.connect(`${flavour.scheme}://127.0.0.1:${String(port)}`, {
    rejectUnauthorized: false,
  });
  session.on('error', () => undefined);
  defer(() => {
    session.destroy();
  });
  const goaway = new Promise<{ errorCode: number; lastStreamId: number; at: number }>((resolve) => {
    session.once('goaway', (errorCode: number, lastStreamId: number) => {
      resolve({ errorCode, lastStreamId, at: performance.now() });
    });
  });
  const closed = new Promise<number>((resolve) => {
    session.once('close', () => {
      resolve(performance.now());
    });
  });
  await withTimeout(
    new Promise<void>((resolve) =>
      session.once('connect', () => {
        resolve();
      }),
    ),
    3000,
    `the ${flavour.name} session to connect`,
  );
  return { session, goaway, closed };
}

/**
 * How one client stream ended, read at its `close`. Node's client emits `end` even for a stream
 * cut by a destroyed session, so only `rstCode` tells a complete response (0, NO_ERROR) from a
 * cancelled (8) or refused (7) one.
 */
type StreamOutcome =
  | {
      readonly kind: 'closed';
      readonly status: number;
      readonly body: string;
      readonly sawEnd: boolean;
      readonly errorCode: string | undefined;
      readonly rstCode: number | undefined;
      readonly endedAt: number;
      readonly closedAt: number;
    }
  | { readonly kind: 'thrown'; readonly errorCode: string };

interface TrackedStream {
  /** Resolves once the first DATA arrived. */
  readonly firstData: Promise<void>;
  readonly outcome: Promise<StreamOutcome>;
}

/** Opens a GET stream on `session` and records how it ends, whichever way that is. */
function request(session: http2.ClientHttp2Session, path: string): TrackedStream {
  let stream: http2.ClientHttp2Stream;
  try {
    stream = session.request({ ':path': path });
  } catch (error) {
    const errorCode = (error as NodeJS.ErrnoException).code ?? 'unknown';
    return {
      firstData: Promise.resolve(),
      outcome: Promise.resolve({ kind: 'thrown', errorCode }),
    };
  }
  let body = '';
  let status = 0;
  let sawEnd = false;
  let endedAt = Number.NaN;
  let errorCode: string | undefined;
  const firstData = deferred();
  stream.setEncoding('utf8');
  stream.on('response', (headers) => {
    status = Number(headers[':status']);
  });
  stream.on('data', (chunk: string) => {
    body += chunk;
    firstData.resolve();
  });
  stream.on('end', () => {
    sawEnd = true;
    endedAt = performance.now();
  });
  stream.on('error', (error: NodeJS.ErrnoException) => {
    errorCode = error.code ?? 'unknown';
  });
  const outcome = new Promise<StreamOutcome>((resolve) => {
    stream.on('close', () => {
      const closedAt = performance.now();
      const rstCode = stream.rstCode;
      resolve({ kind: 'closed', status, body, sawEnd, errorCode, rstCode, endedAt, closedAt });
    });
  });
  return { firstData: firstData.promise, outcome };
}

/** What a stream that completed normally looks like. */
function completed(body: string): Partial<StreamOutcome> {
  return {
    kind: 'closed',
    status: 200,
    body,
    sawEnd: true,
    errorCode: undefined,
    rstCode: http2.constants.NGHTTP2_NO_ERROR,
  };
}

describe.each(flavours)('$name: sessions drain with GOAWAY', (flavour) => {
  it('sends every open session a GOAWAY with NO_ERROR at once and resolves when they close', async () => {
    const server = flavour.create();
    server.on('stream', (stream) => {
      stream.respond({ ':status': 200 });
      stream.end('hello');
    });
    const terminator = createTerminator(server);
    const port = await start(server);
    const first = await openSession(flavour, port);
    const second = await openSession(flavour, port);
    for (const { session } of [first, second]) {
      const warmUp = await withTimeout(
        request(session, '/warm-up').outcome,
        3000,
        'a warm-up stream',
      );
      expect(warmUp).toMatchObject(completed('hello'));
    }
    expect(terminator.stats().h2Sessions).toBe(2);

    const calledAt = performance.now();
    const termination = timedTerminate(() => terminator.terminate({ timeout: 10_000 }));

    const goaways = await withTimeout(
      Promise.all([first.goaway, second.goaway]),
      2000,
      'a GOAWAY on both sessions',
    );
    await withTimeout(
      Promise.all([first.closed, second.closed]),
      3000,
      'both client sessions to close',
    );
    const { report, resolvedAt } = await withTimeout(termination, 3000, 'terminate()');

    for (const goaway of goaways) {
      expect(goaway.errorCode).toBe(http2.constants.NGHTTP2_NO_ERROR);
    }
    expect(resolvedAt - calledAt).toBeLessThan(3000);
    expect(report).toMatchObject({ graceful: true, forced: 0, h2Sessions: 2 });
    expect(terminator.stats().h2Sessions).toBe(0);
  });

  it('lets an in-flight stream complete with its full body after the GOAWAY', async () => {
    const server = flavour.create();
    server.on('stream', (stream) => {
      stream.respond({ ':status': 200 });
      stream.write('first-');
      const timer = setTimeout(() => stream.end('last'), 1000);
      stream.on('close', () => {
        clearTimeout(timer);
      });
    });
    const terminator = createTerminator(server);
    const port = await start(server);
    const client = await openSession(flavour, port);
    const slow = request(client.session, '/slow');
    await withTimeout(slow.firstData, 3000, 'the first DATA frame');
    expect(terminator.stats()).toMatchObject({ h2Sessions: 1, h2Streams: 1 });

    const termination = timedTerminate(() => terminator.terminate({ timeout: 10_000 }));

    const goaway = await withTimeout(client.goaway, 2000, 'the GOAWAY');
    const outcome = await withTimeout(slow.outcome, 5000, 'the in-flight stream');
    const { report } = await withTimeout(termination, 5000, 'terminate()');

    expect(goaway.errorCode).toBe(http2.constants.NGHTTP2_NO_ERROR);
    expect(goaway.lastStreamId).toBe(1);
    expect(outcome).toMatchObject(completed('first-last'));
    if (outcome.kind === 'closed') expect(goaway.at).toBeLessThan(outcome.endedAt);
    expect(report).toMatchObject({
      graceful: true,
      forced: 0,
      completedInFlight: 1,
      h2Sessions: 1,
    });
  });

  it('refuses with REFUSED_STREAM a stream the client opens after terminate()', async () => {
    const paths: string[] = [];
    const server = flavour.create();
    server.on('stream', (stream, headers) => {
      paths.push(String(headers[':path']));
      stream.respond({ ':status': 200 });
      stream.write('first-');
      const timer = setTimeout(() => stream.end('last'), 1000);
      stream.on('close', () => {
        clearTimeout(timer);
      });
    });
    const terminator = createTerminator(server);
    const port = await start(server);
    const client = await openSession(flavour, port);
    const slow = request(client.session, '/slow');
    await withTimeout(slow.firstData, 3000, 'the first DATA frame');

    const termination = timedTerminate(() => terminator.terminate({ timeout: 10_000 }));
    // Opened in the same tick: the server has already sent its GOAWAY when this stream arrives.
    const racing = request(client.session, '/racing');
    await withTimeout(client.goaway, 2000, 'the GOAWAY');
    const afterGoaway = request(client.session, '/after-goaway');

    const racingOutcome = await withTimeout(racing.outcome, 3000, 'the racing stream to end');
    const afterOutcome = await withTimeout(afterGoaway.outcome, 3000, 'the late stream to end');
    const slowOutcome = await withTimeout(slow.outcome, 5000, 'the in-flight stream');
    const { report } = await withTimeout(termination, 5000, 'terminate()');

    // The server ignores a stream above the GOAWAY's last stream id; the client's nghttp2 then
    // closes it with REFUSED_STREAM (7), which Node surfaces as a stream error.
    expect(racingOutcome).toMatchObject({
      kind: 'closed',
      sawEnd: false,
      errorCode: 'ERR_HTTP2_STREAM_ERROR',
      rstCode: http2.constants.NGHTTP2_REFUSED_STREAM,
    });
    // Once the client has processed the GOAWAY, Node refuses a new stream before sending it.
    expect(afterOutcome).toEqual({ kind: 'thrown', errorCode: 'ERR_HTTP2_GOAWAY_SESSION' });
    expect(paths).toEqual(['/slow']);
    expect(slowOutcome).toMatchObject(completed('first-last'));
    expect(report).toMatchObject({
      graceful: true,
      forced: 0,
      completedInFlight: 1,
      h2Sessions: 1,
    });
  });

  it('cancels a stream that never ends and destroys its session at the deadline', async () => {
    const server = flavour.create();
    server.on('stream', (stream) => {
      stream.respond({ ':status': 200 });
      stream.write('never-ending');
      stream.on('error', () => undefined);
    });
    const terminator = createTerminator(server);
    const port = await start(server);
    const client = await openSession(flavour, port);
    const hanging = request(client.session, '/hang');
    await withTimeout(hanging.firstData, 3000, 'the first DATA frame');
    expect(terminator.stats()).toMatchObject({ h2Sessions: 1, h2Streams: 1 });

    const calledAt = performance.now();
    const termination = timedTerminate(() => terminator.terminate({ timeout: 300 }));

    const goaway = await withTimeout(client.goaway, 2000, 'the GOAWAY');
    const outcome = await withTimeout(hanging.outcome, 3000, 'the hanging stream to be cancelled');
    const sessionClosedAt = await withTimeout(client.closed, 3000, 'the client session to close');
    const { report, resolvedAt } = await withTimeout(termination, 3000, 'terminate()');

    // Cancelled, not completed: a stream closed with NO_ERROR would pass a truncated body off
    // as the whole response.
    expect(outcome).toMatchObject({
      kind: 'closed',
      status: 200,
      body: 'never-ending',
      rstCode: http2.constants.NGHTTP2_CANCEL,
    });
    if (outcome.kind === 'closed') {
      expect(goaway.at).toBeLessThan(outcome.closedAt);
      expect(outcome.closedAt - calledAt).toBeGreaterThanOrEqual(280);
    }
    expect(sessionClosedAt - calledAt).toBeGreaterThanOrEqual(280);
    expect(resolvedAt - calledAt).toBeGreaterThanOrEqual(280);
    expect(resolvedAt - calledAt).toBeLessThan(2000);
    expect(report.graceful).toBe(false);
    expect(report.forced).toBeGreaterThanOrEqual(1);
    expect(report.h2Sessions).toBe(1);
    expect(terminator.stats()).toMatchObject({ h2Sessions: 0, h2Streams: 0 });
  });
});

describe('h2 with allowHTTP1', () => {
  it('drains an HTTP/1.1 connection by the HTTP/1 rules and sends the h2 session a GOAWAY in one call', async () => {
    const seen = new Set<string>();
    const bothSeen = deferred();
    const server = http2.createSecureServer({ ...tlsFixture, allowHTTP1: true }, (req, res) => {
      const label = `${req.httpVersion} ${req.url}`;
      seen.add(label);
      if (seen.size === 2) bothSeen.resolve();
      setTimeout(() => res.end(`slow ${req.url}`), 500);
    });
    const terminator = createTerminator(server);
    const port = await start(server);

    const agent = new https.Agent({ keepAlive: true, rejectUnauthorized: false });
    defer(() => {
      agent.destroy();
    });
    const http1Response = new Promise<{
      status: number;
      connection: string | undefined;
      body: string;
    }>((resolve, reject) => {
      const req = https.get({ host: '127.0.0.1', port, path: '/h1', agent }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
    });
    void http1Response.catch(() => undefined);
    const client = await openSession({ name: 'h2', scheme: 'https' }, port);
    const h2Stream = request(client.session, '/h2');
    await withTimeout(bothSeen.promise, 3000, 'both requests to reach the handler');
    expect([...seen].sort()).toEqual(['1.1 /h1', '2.0 /h2']);

    const termination = timedTerminate(() => terminator.terminate({ timeout: 10_000 }));

    const goaway = await withTimeout(client.goaway, 2000, 'the GOAWAY');
    const h1 = await withTimeout(http1Response, 5000, 'the HTTP/1.1 response');
    const h2 = await withTimeout(h2Stream.outcome, 5000, 'the h2 stream');
    const { report } = await withTimeout(termination, 5000, 'terminate()');

    expect(goaway.errorCode).toBe(http2.constants.NGHTTP2_NO_ERROR);
    expect(h1).toEqual({ status: 200, connection: 'close', body: 'slow /h1' });
    expect(h2).toMatchObject(completed('slow /h2'));
    if (h2.kind === 'closed') expect(goaway.at).toBeLessThan(h2.endedAt);
    expect(report).toMatchObject({
      graceful: true,
      forced: 0,
      completedInFlight: 2,
      h2Sessions: 1,
    });
  });
});
