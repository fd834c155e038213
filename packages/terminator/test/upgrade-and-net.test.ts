/**
 * Behaviours 10 and 11 of the terminator: sockets taken over by an `upgrade` or `connect` listener
 * (WebSockets through `ws`, CONNECT tunnels) are tracked and said goodbye to or forced at the
 * deadline; upgrades arriving during the drain are refused; plain `net` and `tls` servers end
 * their sockets at drain start (or hand them to `onSocket`) and destroy them at the deadline.
 */
import type { IncomingMessage } from 'node:http';
import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import * as tls from 'node:tls';
import { WebSocket, WebSocketServer } from 'ws';
import { createTerminator } from '../src';
import {
  collect,
  connect,
  createServer,
  delay,
  parseResponses,
  protocols,
  tlsFixture,
  withTimeout,
  useCleanups,
  deferred,
  startTracked,
  timedTerminate,
} from './support';
import type { Protocol } from './support';

const defer = useCleanups();

/** Starts `server` on 127.0.0.1:0 and destroys every socket it accepted after the test. */
function start(server: net.Server): Promise<number> {
  return startTracked(server, defer);
}

/** An HTTP(S) server whose `upgrade` listener hands WebSockets to `ws`; each one echoes. */
interface WebSocketSetup {
  readonly server: net.Server;
  readonly port: number;
  /** The server-side WebSocket of each upgraded socket, for an `onUpgrade` hook to close. */
  readonly socketsToWebSockets: Map<Duplex, WebSocket>;
  /** How many WebSocket handshakes `ws` completed. */
  accepted(): number;
}

async function startWebSocketServer(protocol: Protocol): Promise<WebSocketSetup> {
  const server = createServer(protocol, (_req, res) => {
    res.end('plain');
  });
  const wss = new WebSocketServer({ noServer: true });
  defer(() => {
    wss.close();
  });
  const socketsToWebSockets = new Map<Duplex, WebSocket>();
  let accepted = 0;
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    wss.handleUpgrade(req, socket, head, (ws) => {
      accepted += 1;
      socketsToWebSockets.set(socket, ws);
      ws.on('message', (data, isBinary) => {
        ws.send(data, { binary: isBinary });
      });
      ws.on('error', () => undefined);
    });
  });
  const port = await start(server);
  return { server, port, socketsToWebSockets, accepted: () => accepted };
}

/** A `ws` client that records the close code and when the close happened. */
interface TrackedWebSocket {
  readonly ws: WebSocket;
  readonly closed: Promise<{ code: number; at: number }>;
  /** Sends `text` and resolves with the next message received. */
  echo(text: string): Promise<string>;
}

async function openWebSocket(protocol: Protocol, port: number): Promise<TrackedWebSocket> {
  const scheme = protocol === 'https' ? 'wss' : 'ws';
  const ws = new WebSocket(`${scheme}://127.0.0.1:${String(port)}/chat`, {
    rejectUnauthorized: false,
  });
  ws.on('error', () => undefined);
  defer(() => {
    ws.terminate();
  });
  const closed = new Promise<{ code: number; at: number }>((resolve) => {
    ws.once('close', (code: number) => {
      resolve({ code, at: performance.now() });
    });
  });
  await withTimeout(
    new Promise<void>((resolve) =>
      ws.once('open', () => {
        resolve();
      }),
    ),
    3000,
    'the WebSocket to open',
  );
  const echo = (text: string): Promise<string> =>
    withTimeout(
      new Promise<string>((resolve) => {
        ws.once('message', (data: Buffer) => {
          resolve(data.toString('utf8'));
        });
        ws.send(text);
      }),
      2000,
      `the echo of ${text}`,
    );
  return { ws, closed, echo };
}

/** Resolves once `count` server-side WebSockets exist. */
async function waitForAccepted(setup: WebSocketSetup, count: number): Promise<void> {
  await withTimeout(
    (async () => {
      while (setup.accepted() < count) await delay(5);
    })(),
    3000,
    `${String(count)} server-side WebSocket(s)`,
  );
}

/** An HTTP(S) server whose `connect` listener tunnels to a local TCP echo server. */
async function startTunnelServer(
  protocol: Protocol,
): Promise<{ server: net.Server; echoPort: number; tunnelsOpened(): number }> {
  const echoServer = net.createServer((socket) => {
    socket.on('error', () => undefined);
    socket.pipe(socket);
  });
  const echoPort = await start(echoServer);
  let tunnelsOpened = 0;
  const server = createServer(protocol, (_req, res) => res.end('plain'));
  server.on('connect', (_req: IncomingMessage, clientSocket: Duplex, head: Buffer) => {
    clientSocket.on('error', () => undefined);
    const upstream = net.connect({ host: '127.0.0.1', port: echoPort }, () => {
      if (!clientSocket.writable) {
        upstream.destroy();
        return;
      }
      tunnelsOpened += 1;
      clientSocket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(clientSocket);
      clientSocket.pipe(upstream);
    });
    upstream.on('error', () => undefined);
    clientSocket.once('close', () => upstream.destroy());
    defer(() => upstream.destroy());
  });
  return { server, echoPort, tunnelsOpened: () => tunnelsOpened };
}

describe.each(protocols)('%s: upgraded sockets', (protocol) => {
  it('tracks a WebSocket and, with onUpgrade sending 1001, resolves as soon as it closes', async () => {
    const setup = await startWebSocketServer(protocol);
    const terminator = createTerminator(setup.server);
    const client = await openWebSocket(protocol, setup.port);
    await waitForAccepted(setup, 1);
    expect(await client.echo('before')).toBe('before');
    expect(terminator.stats().upgraded).toBe(1);

    const hooked: { socket: Duplex; url: string | undefined }[] = [];
    const calledAt = performance.now();
    const termination = timedTerminate(() =>
      terminator.terminate({
        timeout: 10_000,
        onUpgrade: (socket, request) => {
          hooked.push({ socket, url: request.url });
          setup.socketsToWebSockets.get(socket)?.close(1001, 'server shutting down');
        },
      }),
    );

    const closed = await withTimeout(client.closed, 3000, 'the WebSocket to close');
    const { report, resolvedAt } = await withTimeout(termination, 3000, 'terminate()');

    expect(closed.code).toBe(1001);
    expect(hooked).toHaveLength(1);
    expect(setup.socketsToWebSockets.has(hooked[0]!.socket)).toBe(true);
    expect(hooked[0]?.url).toBe('/chat');
    expect(resolvedAt - calledAt).toBeLessThan(3000);
    expect(report).toMatchObject({ graceful: true, forced: 0, upgraded: 1 });
    expect(terminator.stats().upgraded).toBe(0);
  });

  it('leaves a WebSocket open without onUpgrade until the deadline, then destroys it (1006)', async () => {
    const setup = await startWebSocketServer(protocol);
    const terminator = createTerminator(setup.server);
    const client = await openWebSocket(protocol, setup.port);
    await waitForAccepted(setup, 1);
    expect(terminator.stats().upgraded).toBe(1);

    const calledAt = performance.now();
    const termination = timedTerminate(() => terminator.terminate({ timeout: 300 }));
    const echoedDuringDrain = await client.echo('during drain');

    const closed = await withTimeout(client.closed, 3000, 'the WebSocket to close');
    const { report, resolvedAt } = await withTimeout(termination, 3000, 'terminate()');

    expect(echoedDuringDrain).toBe('during drain');
    expect(closed.code).toBe(1006);
    expect(closed.at - calledAt).toBeGreaterThanOrEqual(280);
    expect(resolvedAt - calledAt).toBeGreaterThanOrEqual(280);
    expect(resolvedAt - calledAt).toBeLessThan(2000);
    expect(report.graceful).toBe(false);
    expect(report.forced).toBeGreaterThanOrEqual(1);
    expect(report.upgraded).toBe(1);
  });

  it('refuses with 503 a WebSocket upgrade whose head completes during the drain', async () => {
    const setup = await startWebSocketServer(protocol);
    const terminator = createTerminator(setup.server);
    const socket = await connect(protocol, setup.port);
    defer(() => socket.destroy());
    const outcome = collect(socket, 5000);
    void outcome.catch(() => undefined);
    socket.write('GET /chat HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    // Let the server read the first half of the head before the drain starts.
    await delay(200);

    const termination = timedTerminate(() => terminator.terminate({ timeout: 10_000 }));
    socket.write(
      'Upgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );

    const { received, ending } = await outcome;
    const { report } = await withTimeout(termination, 5000, 'terminate()');

    expect(received).not.toContain('101 Switching Protocols');
    expect(parseResponses(received).map((response) => response.status)).toEqual([503]);
    expect(ending).toBe('end');
    expect(setup.accepted()).toBe(0);
    expect(report.forced).toBe(0);
  });

  it('tracks a CONNECT tunnel, keeps it open during the drain and tears it down at the deadline', async () => {
    const { server, echoPort } = await startTunnelServer(protocol);
    const terminator = createTerminator(server);
    const port = await start(server);
    const tunnel = await connect(protocol, port);
    defer(() => tunnel.destroy());
    const outcome = collect(tunnel, 5000);
    void outcome.catch(() => undefined);
    let received = '';
    tunnel.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    const waitFor = (part: string, what: string): Promise<void> =>
      withTimeout(
        (async () => {
          while (!received.includes(part)) await delay(5);
        })(),
        2000,
        what,
      );

    tunnel.write(
      `CONNECT 127.0.0.1:${String(echoPort)} HTTP/1.1\r\nHost: 127.0.0.1:${String(echoPort)}\r\n\r\n`,
    );
    await waitFor('200 Connection Established\r\n\r\n', 'the tunnel to open');
    tunnel.write('through-the-tunnel');
    await waitFor('through-the-tunnel', 'the echo through the tunnel');
    expect(terminator.stats().upgraded).toBe(1);

    const calledAt = performance.now();
    const termination = timedTerminate(() => terminator.terminate({ timeout: 300 }));
    tunnel.write('during-drain');
    await waitFor('during-drain', 'the echo through the tunnel during the drain');
    const echoedDuringDrainAt = performance.now();

    await outcome;
    const closedAt = performance.now();
    const { report, resolvedAt } = await withTimeout(termination, 3000, 'terminate()');

    expect(echoedDuringDrainAt - calledAt).toBeLessThan(300);
    expect(closedAt - calledAt).toBeGreaterThanOrEqual(280);
    expect(resolvedAt - calledAt).toBeGreaterThanOrEqual(280);
    expect(resolvedAt - calledAt).toBeLessThan(2000);
    expect(report.graceful).toBe(false);
    expect(report.forced).toBeGreaterThanOrEqual(1);
    expect(report.upgraded).toBe(1);
  });

  it('refuses with 503 a CONNECT request whose head completes during the drain', async () => {
    const { server, echoPort, tunnelsOpened } = await startTunnelServer(protocol);
    const terminator = createTerminator(server);
    const port = await start(server);
    const socket = await connect(protocol, port);
    defer(() => socket.destroy());
    const outcome = collect(socket, 5000);
    void outcome.catch(() => undefined);
    socket.write(`CONNECT 127.0.0.1:${String(echoPort)} HTTP/1.1\r\n`);
    // Let the server read the first half of the head before the drain starts.
    await delay(200);

    const termination = timedTerminate(() => terminator.terminate({ timeout: 10_000 }));
    socket.write(`Host: 127.0.0.1:${String(echoPort)}\r\n\r\n`);

    const { received, ending } = await outcome;
    const { report } = await withTimeout(termination, 5000, 'terminate()');

    expect(received).not.toContain('200 Connection Established');
    expect(parseResponses(received).map((response) => response.status)).toEqual([503]);
    expect(ending).toBe('end');
    expect(tunnelsOpened()).toBe(0);
    expect(report.forced).toBe(0);
  });
});

/** A plain TCP echo server whose echo never writes to a socket that was ended. */
function createEchoServer(): net.Server {
  return net.createServer((socket) => {
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      if (socket.writable) socket.write(chunk);
    });
  });
}

/** A raw client that records when it saw `end` and `close`, and what it received. */
interface TrackedClient {
  readonly socket: net.Socket;
  readonly ended: Promise<number>;
  readonly closed: Promise<number>;
  text(): string;
}

async function openClient(
  port: number,
  options: { allowHalfOpen?: boolean; secure?: boolean } = {},
): Promise<TrackedClient> {
  const socket = options.secure
    ? tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false })
    : net.connect({ host: '127.0.0.1', port, allowHalfOpen: options.allowHalfOpen ?? false });
  socket.on('error', () => undefined);
  defer(() => socket.destroy());
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  const ended = new Promise<number>((resolve) =>
    socket.once('end', () => {
      resolve(performance.now());
    }),
  );
  const closed = new Promise<number>((resolve) =>
    socket.once('close', () => {
      resolve(performance.now());
    }),
  );
  await withTimeout(
    new Promise<void>((resolve) =>
      socket.once(options.secure ? 'secureConnect' : 'connect', () => {
        resolve();
      }),
    ),
    3000,
    'the client to connect',
  );
  return { socket, ended, closed, text: () => text };
}

/** Sends `text` and waits until the echo server sent it back. */
async function roundTrip(client: TrackedClient, text: string): Promise<void> {
  const before = client.text().length;
  client.socket.write(text);
  await withTimeout(
    (async () => {
      while (!client.text().slice(before).includes(text)) await delay(5);
    })(),
    2000,
    `the echo of ${text}`,
  );
}

describe('net.Server', () => {
  it('ends every socket at drain start and resolves once the clients close', async () => {
    const server = createEchoServer();
    const terminator = createTerminator(server);
    const port = await start(server);
    const first = await openClient(port);
    const second = await openClient(port);
    await roundTrip(first, 'one');
    await roundTrip(second, 'two');
    expect(terminator.stats().active).toBe(2);

    const calledAt = performance.now();
    const termination = timedTerminate(() => terminator.terminate({ timeout: 10_000 }));

    const endedAt = await withTimeout(
      Promise.all([first.ended, second.ended]),
      2000,
      "both clients' end",
    );
    await withTimeout(Promise.all([first.closed, second.closed]), 2000, 'both clients to close');
    const { report, resolvedAt } = await withTimeout(termination, 3000, 'terminate()');

    for (const at of endedAt) expect(at - calledAt).toBeLessThan(2000);
    expect(resolvedAt - calledAt).toBeLessThan(3000);
    expect(report).toMatchObject({ graceful: true, forced: 0 });
    expect(terminator.stats().active).toBe(0);
  });

  it('destroys at the deadline a socket whose client ignores the end and keeps writing', async () => {
    const server = createEchoServer();
    const terminator = createTerminator(server);
    const port = await start(server);
    const stubborn = await openClient(port, { allowHalfOpen: true });
    await roundTrip(stubborn, 'hello');
    const writer = setInterval(() => {
      if (stubborn.socket.writable) stubborn.socket.write('still here');
    }, 50);
    defer(() => {
      clearInterval(writer);
    });

    const calledAt = performance.now();
    const termination = timedTerminate(() => terminator.terminate({ timeout: 1000 }));

    const endedAt = await withTimeout(stubborn.ended, 2000, "the client's end");
    const closedAt = await withTimeout(stubborn.closed, 3000, 'the client to be closed');
    const { report, resolvedAt } = await withTimeout(termination, 3000, 'terminate()');

    expect(endedAt - calledAt).toBeLessThan(1000);
    expect(closedAt - calledAt).toBeGreaterThanOrEqual(950);
    expect(resolvedAt - calledAt).toBeGreaterThanOrEqual(950);
    expect(resolvedAt - calledAt).toBeLessThan(3000);
    expect(report.graceful).toBe(false);
    expect(report.forced).toBe(1);
  });

  it('hands each socket to onSocket at drain start instead of ending it', async () => {
    const server = createEchoServer();
    const serverSockets: net.Socket[] = [];
    server.on('connection', (socket: net.Socket) => serverSockets.push(socket));
    const terminator = createTerminator(server);
    const port = await start(server);
    const first = await openClient(port);
    const second = await openClient(port);
    await roundTrip(first, 'one');
    await roundTrip(second, 'two');

    const hooked: net.Socket[] = [];
    const allHooked = deferred();
    const termination = timedTerminate(() =>
      terminator.terminate({
        timeout: 10_000,
        onSocket: (socket) => {
          hooked.push(socket);
          if (hooked.length === 2) allHooked.resolve();
          socket.write('goodbye\n');
          setTimeout(() => socket.end(), 100);
        },
      }),
    );
    await withTimeout(allHooked.promise, 2000, 'onSocket for both sockets');
    await delay(20);
    const endedBeforeHookEnded = hooked.map((socket) => socket.writableEnded);

    await withTimeout(Promise.all([first.ended, second.ended]), 2000, "both clients' end");
    const { report } = await withTimeout(termination, 3000, 'terminate()');

    expect(new Set(hooked)).toEqual(new Set(serverSockets));
    expect(hooked).toHaveLength(2);
    expect(endedBeforeHookEnded).toEqual([false, false]);
    expect(first.text()).toBe('onegoodbye\n');
    expect(second.text()).toBe('twogoodbye\n');
    expect(report).toMatchObject({ graceful: true, forced: 0 });
  });
});

describe('tls.Server', () => {
  it('ends every TLS socket at drain start and resolves once the client closes', async () => {
    const server = tls.createServer(tlsFixture, (socket) => {
      socket.on('error', () => undefined);
      socket.on('data', (chunk: Buffer) => {
        if (socket.writable) socket.write(chunk);
      });
    });
    const terminator = createTerminator(server);
    const port = await start(server);
    const client = await openClient(port, { secure: true });
    await roundTrip(client, 'secret');

    const calledAt = performance.now();
    const termination = timedTerminate(() => terminator.terminate({ timeout: 10_000 }));

    const endedAt = await withTimeout(client.ended, 2000, "the client's end");
    await withTimeout(client.closed, 2000, 'the client to close');
    const { report, resolvedAt } = await withTimeout(termination, 3000, 'terminate()');

    expect(endedAt - calledAt).toBeLessThan(2000);
    expect(resolvedAt - calledAt).toBeLessThan(3000);
    expect(report).toMatchObject({ graceful: true, forced: 0 });
  });
});
