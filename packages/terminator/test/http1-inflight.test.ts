/**
 * Behaviours 5–8 of the terminator: work already under way on an HTTP/1 connection when
 * `terminate()` is called (streaming responses, pipelined requests, uploads, `100-continue`)
 * finishes byte-complete, and over HTTPS the TLS layer is never cut under it.
 */
import type * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { Client } from 'undici';
import { createTerminator } from '../src';
import {
  collect,
  connect,
  createServer,
  deferred,
  delay,
  protocols,
  startTracked,
  useCleanups,
  withTimeout,
  timedTerminate,
} from './support';
import type { Protocol, SocketOutcome } from './support';

const defer = useCleanups();

/** Starts `server` on 127.0.0.1:0 and destroys every socket it accepted after the test. */
function start(server: net.Server): Promise<number> {
  return startTracked(server, defer);
}

/** A raw client whose received bytes can be awaited while they arrive. */
interface RawClient {
  readonly socket: net.Socket;
  /** Everything received and how the socket ended, once it closes. */
  readonly outcome: Promise<SocketOutcome>;
  /** Everything received so far, as latin1 text. */
  text(): string;
  /** Resolves once the received text contains `part`. */
  waitFor(part: string, what: string, ms?: number): Promise<void>;
}

async function openRaw(protocol: Protocol, port: number): Promise<RawClient> {
  const socket = await connect(protocol, port);
  defer(() => socket.destroy());
  const chunks: Buffer[] = [];
  const watchers = new Set<() => void>();
  socket.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    for (const watcher of watchers) watcher();
  });
  const outcome = collect(socket, 10_000);
  void outcome.catch(() => undefined);
  const text = (): string => Buffer.concat(chunks).toString('latin1');
  const waitFor = (part: string, what: string, ms = 3000): Promise<void> =>
    withTimeout(
      new Promise<void>((resolve) => {
        const check = (): void => {
          if (!text().includes(part)) return;
          watchers.delete(check);
          resolve();
        };
        watchers.add(check);
        check();
      }),
      ms,
      what,
    );
  return { socket, outcome, text, waitFor };
}

/** One HTTP/1 response as parsed from the raw bytes. */
interface RawResponse {
  readonly status: number;
  readonly headers: ReadonlyMap<string, string>;
  readonly body: string;
  /** The body arrived whole: all of Content-Length, or the terminating chunk. */
  readonly isComplete: boolean;
}

/** Parses every HTTP/1.1 response in `text` (1xx included), with bodies, in order. */
function parseRawResponses(text: string): RawResponse[] {
  const responses: RawResponse[] = [];
  let offset = 0;
  while (offset < text.length) {
    const headEnd = text.indexOf('\r\n\r\n', offset);
    if (headEnd === -1)
      throw new Error(`incomplete response head: ${JSON.stringify(text.slice(offset))}`);
    const [statusLine = '', ...headerLines] = text.slice(offset, headEnd).split('\r\n');
    const statusMatch = /^HTTP\/1\.1 (\d{3}) /.exec(statusLine);
    if (statusMatch === null) throw new Error(`not a status line: ${JSON.stringify(statusLine)}`);
    const status = Number(statusMatch[1]);
    const headers = new Map<string, string>();
    for (const line of headerLines) {
      const colon = line.indexOf(':');
      headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    offset = headEnd + 4;
    if (status < 200) {
      responses.push({ status, headers, body: '', isComplete: true });
      continue;
    }
    let body = '';
    let isComplete = false;
    const contentLength = headers.get('content-length');
    if (headers.get('transfer-encoding')?.toLowerCase() === 'chunked') {
      for (;;) {
        const sizeEnd = text.indexOf('\r\n', offset);
        if (sizeEnd === -1) {
          offset = text.length;
          break;
        }
        const size = Number.parseInt(text.slice(offset, sizeEnd), 16);
        if (Number.isNaN(size)) throw new Error(`bad chunk size at ${String(offset)}`);
        const dataStart = sizeEnd + 2;
        if (size === 0) {
          isComplete = text.startsWith('\r\n', dataStart);
          offset = isComplete ? dataStart + 2 : text.length;
          break;
        }
        body += text.slice(dataStart, dataStart + size);
        if (dataStart + size + 2 > text.length) {
          offset = text.length;
          break;
        }
        offset = dataStart + size + 2;
      }
    } else if (contentLength !== undefined) {
      body = text.slice(offset, offset + Number(contentLength));
      isComplete = body.length === Number(contentLength);
      offset += Number(contentLength);
    } else {
      body = text.slice(offset);
      isComplete = true;
      offset = text.length;
    }
    responses.push({ status, headers, body, isComplete });
  }
  return responses;
}

function get(path: string): string {
  return `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;
}

describe.each(protocols)('%s: in-flight work finishes during the drain', (protocol) => {
  it('completes a streaming response byte-complete, ends its socket after finish and resolves then', async () => {
    const chunkCount = 8;
    const expectedBody = Array.from({ length: chunkCount }, (_, i) => `chunk-${String(i)}\n`).join(
      '',
    );
    let finishedAt = Number.NaN;
    const server = createServer(protocol, (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.write('chunk-0\n');
      let written = 1;
      const timer = setInterval(() => {
        res.write(`chunk-${String(written)}\n`);
        written += 1;
        if (written === chunkCount) {
          clearInterval(timer);
          res.end();
        }
      }, 50);
      res.on('close', () => {
        clearInterval(timer);
      });
      res.on('finish', () => {
        finishedAt = performance.now();
      });
    });
    const terminator = createTerminator(server);
    const port = await start(server);
    const client = await openRaw(protocol, port);
    let closedAt = Number.NaN;
    client.socket.on('close', () => {
      closedAt = performance.now();
    });

    client.socket.write(get('/stream'));
    await client.waitFor('chunk-0', 'the headers and first chunk');
    const calledAt = performance.now();
    const termination = timedTerminate(() => terminator.terminate({ timeout: 10_000 }));

    const outcome = await client.outcome;
    const { report, resolvedAt } = await withTimeout(termination, 5000, 'terminate()');

    expect(outcome.ending).toBe('end');
    const responses = parseRawResponses(outcome.received);
    expect(responses).toHaveLength(1);
    expect(responses[0]?.status).toBe(200);
    expect(responses[0]?.headers.get('transfer-encoding')).toBe('chunked');
    expect(responses[0]?.body).toBe(expectedBody);
    expect(responses[0]?.isComplete).toBe(true);
    // The socket is ended because of the finished response, not the deadline 10 s away.
    expect(closedAt).toBeGreaterThanOrEqual(finishedAt);
    expect(closedAt - finishedAt).toBeLessThan(1000);
    expect(resolvedAt).toBeGreaterThanOrEqual(finishedAt);
    expect(resolvedAt - calledAt).toBeLessThan(1500);
    expect(report).toMatchObject({ graceful: true, forced: 0, completedInFlight: 1 });
    expect(terminator.state).toBe('closed');
  });

  it('answers every pipelined request already received, in order, and closes after the last', async () => {
    const paths = ['/p1', '/p2', '/p3', '/p4'];
    const allReceived = deferred();
    let received = 0;
    const server = createServer(protocol, (req, res) => {
      received += 1;
      if (received === paths.length) allReceived.resolve();
      setTimeout(() => res.end(`reply ${req.url ?? ''}`), 100);
    });
    const terminator = createTerminator(server);
    const port = await start(server);
    const client = await openRaw(protocol, port);

    client.socket.write(paths.map(get).join(''));
    await withTimeout(allReceived.promise, 3000, 'the server to receive every pipelined request');
    const termination = timedTerminate(() => terminator.terminate({ timeout: 10_000 }));

    const outcome = await client.outcome;
    const { report } = await withTimeout(termination, 5000, 'terminate()');

    expect(outcome.ending).toBe('end');
    const responses = parseRawResponses(outcome.received);
    expect(responses.map((response) => response.status)).toEqual([200, 200, 200, 200]);
    expect(responses.map((response) => response.body)).toEqual(
      paths.map((path) => `reply ${path}`),
    );
    expect(responses.map((response) => response.headers.get('connection'))).toEqual([
      'keep-alive',
      'keep-alive',
      'keep-alive',
      'close',
    ]);
    expect(report).toMatchObject({ graceful: true, forced: 0, completedInFlight: paths.length });
  });

  it('answers all five requests an undici Client pipelined on one connection', async () => {
    const requestCount = 5;
    const allReceived = deferred();
    let received = 0;
    let connections = 0;
    const server = createServer(protocol, (req, res) => {
      received += 1;
      if (received === requestCount) allReceived.resolve();
      setTimeout(() => res.end(`reply ${req.url ?? ''}`), 100);
    });
    server.on('connection', () => {
      connections += 1;
    });
    const terminator = createTerminator(server);
    const port = await start(server);
    const client = new Client(`${protocol}://127.0.0.1:${String(port)}`, {
      pipelining: requestCount,
      connect: { rejectUnauthorized: false },
    });
    defer(() => client.destroy());

    const responses = Array.from({ length: requestCount }, async (_, i) => {
      // `blocking: false` lets undici pipeline a GET before the previous response arrives.
      const response = await client.request({
        path: `/u${String(i + 1)}`,
        method: 'GET',
        blocking: false,
      });
      return {
        status: response.statusCode,
        connection: response.headers['connection'],
        body: await response.body.text(),
      };
    });
    const answered = Promise.all(responses);
    void answered.catch(() => undefined);
    await withTimeout(allReceived.promise, 3000, 'the server to receive every pipelined request');
    const termination = timedTerminate(() => terminator.terminate({ timeout: 10_000 }));

    const results = await withTimeout(answered, 5000, 'every pipelined response');
    const { report } = await withTimeout(termination, 5000, 'terminate()');

    expect(connections).toBe(1);
    expect(results.map((result) => result.status)).toEqual([200, 200, 200, 200, 200]);
    expect(results.map((result) => result.body)).toEqual([
      'reply /u1',
      'reply /u2',
      'reply /u3',
      'reply /u4',
      'reply /u5',
    ]);
    expect(results[requestCount - 1]?.connection).toBe('close');
    expect(report).toMatchObject({ graceful: true, forced: 0, completedInFlight: requestCount });
  });

  it('lets a request body that is still uploading finish and answers it with Connection: close', async () => {
    const half = 50_000;
    const halfReceived = deferred();
    const server = createServer(protocol, (req, res) => {
      let length = 0;
      req.on('data', (chunk: Buffer) => {
        length += chunk.length;
        if (length >= half) halfReceived.resolve();
      });
      req.on('end', () => res.end(String(length)));
    });
    const terminator = createTerminator(server);
    const port = await start(server);
    const client = await openRaw(protocol, port);

    client.socket.write(
      `POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${String(2 * half)}\r\n\r\n`,
    );
    client.socket.write(Buffer.alloc(half, 'a'));
    await withTimeout(halfReceived.promise, 3000, 'the first half of the body');
    const termination = timedTerminate(() => terminator.terminate({ timeout: 10_000 }));
    await delay(100);
    client.socket.write(Buffer.alloc(half, 'b'));

    const outcome = await client.outcome;
    const { report } = await withTimeout(termination, 5000, 'terminate()');

    expect(outcome.ending).toBe('end');
    const responses = parseRawResponses(outcome.received);
    expect(responses).toHaveLength(1);
    expect(responses[0]).toMatchObject({ status: 200, body: '100000', isComplete: true });
    expect(responses[0]?.headers.get('connection')).toBe('close');
    expect(report).toMatchObject({ graceful: true, forced: 0, completedInFlight: 1 });
  });

  it('gives an Expect: 100-continue request whose body is sent after terminate() its final response', async () => {
    const server = createServer(protocol, (req, res) => {
      let length = 0;
      req.on('data', (chunk: Buffer) => {
        length += chunk.length;
      });
      req.on('end', () => res.end(String(length)));
    });
    const terminator = createTerminator(server);
    const port = await start(server);
    const client = await openRaw(protocol, port);

    client.socket.write(
      'POST /continue HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n',
    );
    await client.waitFor('HTTP/1.1 100 Continue\r\n\r\n', '100 Continue');
    const termination = timedTerminate(() => terminator.terminate({ timeout: 10_000 }));
    await delay(100);
    client.socket.write(Buffer.alloc(5000, 'c'));

    const outcome = await client.outcome;
    const { report } = await withTimeout(termination, 5000, 'terminate()');

    expect(outcome.ending).toBe('end');
    const responses = parseRawResponses(outcome.received);
    expect(responses.map((response) => response.status)).toEqual([100, 200]);
    expect(responses[1]).toMatchObject({ body: '5000', isComplete: true });
    expect(responses[1]?.headers.get('connection')).toBe('close');
    expect(report).toMatchObject({ graceful: true, forced: 0, completedInFlight: 1 });
  });

  it('serves an Expect: 100-continue request still waiting in a checkContinue listener at terminate()', async () => {
    const checkSeen = deferred();
    const server = createServer(protocol);
    server.on('checkContinue', (req: http.IncomingMessage, res: http.ServerResponse) => {
      checkSeen.resolve();
      setTimeout(() => {
        res.writeContinue();
        let length = 0;
        req.on('data', (chunk: Buffer) => {
          length += chunk.length;
        });
        req.on('end', () => res.end(String(length)));
      }, 200);
    });
    const terminator = createTerminator(server);
    const port = await start(server);
    const client = await openRaw(protocol, port);

    client.socket.write(
      'POST /continue HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n',
    );
    await withTimeout(checkSeen.promise, 3000, 'the checkContinue event');
    const termination = timedTerminate(() => terminator.terminate({ timeout: 10_000 }));
    await client.waitFor('HTTP/1.1 100 Continue\r\n\r\n', '100 Continue');
    client.socket.write(Buffer.alloc(5000, 'c'));

    const outcome = await client.outcome;
    const { report } = await withTimeout(termination, 5000, 'terminate()');

    expect(outcome.ending).toBe('end');
    const responses = parseRawResponses(outcome.received);
    expect(responses.map((response) => response.status)).toEqual([100, 200]);
    expect(responses[1]).toMatchObject({ body: '5000', isComplete: true });
    expect(responses[1]?.headers.get('connection')).toBe('close');
    expect(report).toMatchObject({ graceful: true, forced: 0, completedInFlight: 1 });
  });
});

/** The first TLS record a real client sends: a ClientHello, captured from a plain TCP server. */
async function captureClientHello(): Promise<Buffer> {
  const capture = net.createServer();
  const hello = deferred<Buffer>();
  capture.on('connection', (socket: net.Socket) => {
    socket.once('data', (chunk: Buffer) => {
      hello.resolve(chunk);
      socket.destroy();
    });
  });
  const port = await start(capture);
  const client = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false });
  client.on('error', () => undefined);
  defer(() => client.destroy());
  return withTimeout(hello.promise, 3000, 'a ClientHello');
}

/** Connects over plain TCP and resolves when the server has accepted the socket. */
async function openTcp(server: net.Server, port: number): Promise<net.Socket> {
  const accepted = new Promise<void>((resolve) =>
    server.once('connection', () => {
      resolve();
    }),
  );
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.on('error', () => undefined);
  defer(() => socket.destroy());
  await withTimeout(accepted, 3000, 'the server to accept the TCP connection');
  return socket;
}

function waitForClose(socket: net.Socket, ms: number, what: string): Promise<number> {
  return withTimeout(
    new Promise<number>((resolve) => {
      if (socket.closed) resolve(performance.now());
      socket.once('close', () => {
        resolve(performance.now());
      });
    }),
    ms,
    what,
  );
}

describe('https: the TLS layer during the drain', () => {
  it('completes an in-flight HTTPS request after terminate() without destroying its TCP socket', async () => {
    const requestSeen = deferred();
    const server = createServer('https', (_req, res) => {
      requestSeen.resolve();
      setTimeout(() => res.end('slow done'), 300);
    });
    let tcpClosedEarly = false;
    let responseFinished = false;
    server.on('connection', (tcp: net.Socket) => {
      tcp.once('close', () => {
        tcpClosedEarly = !responseFinished;
      });
    });
    server.on('request', (_req: http.IncomingMessage, res: http.ServerResponse) => {
      res.once('finish', () => {
        responseFinished = true;
      });
    });
    const terminator = createTerminator(server);
    const port = await start(server);
    const agent = new https.Agent({ keepAlive: true, rejectUnauthorized: false });
    defer(() => {
      agent.destroy();
    });

    const response = new Promise<{ status: number; connection: string | undefined; body: string }>(
      (resolve, reject) => {
        const request = https.get({ host: '127.0.0.1', port, path: '/slow', agent }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => {
            resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body });
          });
          res.on('error', reject);
        });
        request.on('error', reject);
      },
    );
    void response.catch(() => undefined);
    await withTimeout(requestSeen.promise, 3000, 'the request to reach the handler');
    const termination = timedTerminate(() => terminator.terminate({ timeout: 10_000 }));

    const result = await withTimeout(response, 5000, 'the HTTPS response');
    const { report } = await withTimeout(termination, 5000, 'terminate()');

    expect(result).toEqual({ status: 200, connection: 'close', body: 'slow done' });
    expect(tcpClosedEarly).toBe(false);
    expect(report).toMatchObject({ graceful: true, forced: 0, completedInFlight: 1 });
  });

  it('destroys a connection that never sends a ClientHello at once', async () => {
    const server = createServer('https', (_req, res) => res.end('unused'));
    const terminator = createTerminator(server);
    const port = await start(server);
    const silent = await openTcp(server, port);
    let received = '';
    silent.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    expect(terminator.stats().handshaking).toBe(1);

    const calledAt = performance.now();
    const termination = timedTerminate(() => terminator.terminate({ timeout: 10_000 }));

    const closedAt = await waitForClose(silent, 2500, 'the silent TLS connection to close');
    const { report, resolvedAt } = await withTimeout(termination, 2500, 'terminate()');

    expect(received).toBe('');
    expect(closedAt - calledAt).toBeLessThan(2500);
    expect(resolvedAt - calledAt).toBeLessThan(2500);
    expect(report).toMatchObject({ graceful: true, forced: 0 });
    expect(terminator.stats().handshaking).toBe(0);
  });

  it('destroys a connection that sent half a ClientHello at once', async () => {
    const clientHello = await captureClientHello();
    const server = createServer('https', (_req, res) => res.end('unused'));
    const terminator = createTerminator(server);
    const port = await start(server);
    const halfway = await openTcp(server, port);
    let received = '';
    halfway.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    halfway.write(clientHello.subarray(0, Math.floor(clientHello.length / 2)));
    // Give the server time to read the half record; the handshake cannot finish without the rest.
    await delay(100);
    expect(terminator.stats().handshaking).toBe(1);

    const calledAt = performance.now();
    const termination = timedTerminate(() => terminator.terminate({ timeout: 10_000 }));

    const closedAt = await waitForClose(halfway, 2500, 'the half-handshaken connection to close');
    const { report, resolvedAt } = await withTimeout(termination, 2500, 'terminate()');

    expect(received).toBe('');
    expect(closedAt - calledAt).toBeLessThan(2500);
    expect(resolvedAt - calledAt).toBeLessThan(2500);
    expect(report).toMatchObject({ graceful: true, forced: 0 });
  });

  it('destroys a mid-handshake connection at once while an in-flight request on another completes', async () => {
    const requestSeen = deferred();
    let finishedAt = Number.NaN;
    const server = createServer('https', (_req, res) => {
      requestSeen.resolve();
      res.on('finish', () => {
        finishedAt = performance.now();
      });
      setTimeout(() => res.end('slow done'), 300);
    });
    const terminator = createTerminator(server);
    const port = await start(server);
    const busy = await openRaw('https', port);
    busy.socket.write(get('/slow'));
    await withTimeout(requestSeen.promise, 3000, 'the request to reach the handler');
    const silent = await openTcp(server, port);

    const termination = timedTerminate(() => terminator.terminate({ timeout: 10_000 }));

    const silentClosedAt = await waitForClose(silent, 2500, 'the silent TLS connection to close');
    const outcome = await busy.outcome;
    const { report } = await withTimeout(termination, 5000, 'terminate()');

    expect(silentClosedAt).toBeLessThan(finishedAt);
    expect(outcome.ending).toBe('end');
    const responses = parseRawResponses(outcome.received);
    expect(responses).toHaveLength(1);
    expect(responses[0]).toMatchObject({ status: 200, body: 'slow done', isComplete: true });
    expect(responses[0]?.headers.get('connection')).toBe('close');
    expect(report).toMatchObject({ graceful: true, forced: 0, completedInFlight: 1 });
  });
});
