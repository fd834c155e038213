/**
 * The Node internals the terminator reads (src/node-internals.ts), checked on the Node line that
 * runs this test: `npm test` runs it on every supported line (20, 22, 24, 26). When a Node
 * release moves one of them, this fails with a message naming the internal, the Node source that
 * defined it and the file to update, instead of the terminator silently losing what it brought.
 *
 * It loads the built module, as every integration test loads what users install.
 */
import { once } from 'node:events';
import * as http from 'node:http';
import * as https from 'node:https';
import type * as net from 'node:net';
import type { TLSSocket } from 'node:tls';
import {
  listExistingConnections,
  stopConnectionsChecking,
  tlsParentSocket,
} from '../dist/node-internals';
import { deferred, listen, tlsFixture, useCleanups, withTimeout } from './support';

const cleanup = useCleanups();

/** Fails with the message that tells a maintainer what moved, where, and what to change. */
function expectInternal(isThere: boolean, internal: string, source: string): void {
  if (!isThere) {
    throw new Error(
      `Node ${process.version} moved ${internal} (defined in Node's ${source}); ` +
        'update packages/terminator/src/node-internals.ts and its fallback',
    );
  }
}

function symbolValue(server: net.Server, description: string): unknown {
  const symbol = Object.getOwnPropertySymbols(server).find(
    (candidate) => candidate.description === description,
  );
  return symbol === undefined ? undefined : (server as unknown as Record<symbol, unknown>)[symbol];
}

/** Starts one request on a server whose handler holds it open; resolves with both ends. */
async function holdOneRequest(): Promise<{
  server: http.Server;
  request: http.IncomingMessage;
  response: http.ServerResponse;
}> {
  const arrived = deferred<{ request: http.IncomingMessage; response: http.ServerResponse }>();
  const server = http.createServer((request, response) => {
    arrived.resolve({ request, response });
  });
  const port = await listen(server);
  cleanup(() => {
    server.closeAllConnections();
    server.close();
  });
  const client = http.get({ host: '127.0.0.1', port, agent: false });
  client.on('error', () => undefined);
  cleanup(() => client.destroy());
  const held = await withTimeout(arrived.promise, 5000, 'the request to arrive');
  cleanup(() => held.response.end());
  return { server, ...held };
}

describe(`Node ${process.version}`, () => {
  it("keeps an http server's open connections in server[kConnections]", async () => {
    const { server, request, response } = await holdOneRequest();
    const list = symbolValue(server, 'http.server.connections') as
      { all?: () => readonly { socket?: unknown }[] } | undefined;
    expectInternal(
      typeof list?.all === 'function',
      "server[kConnections] (Symbol('http.server.connections')) with all()",
      'lib/_http_server.js',
    );
    const sockets = list?.all?.().map((parser) => parser.socket) ?? [];
    expectInternal(
      sockets.includes(request.socket),
      'the socket of each parser in server[kConnections].all()',
      'lib/_http_server.js',
    );
    expectInternal(
      (request.socket as { _httpMessage?: unknown })._httpMessage === response,
      'socket._httpMessage (the response being written)',
      'lib/_http_server.js, ServerResponse.prototype.assignSocket',
    );

    expect(listExistingConnections(server)).toEqual([
      { socket: request.socket, pendingResponse: response },
    ]);
  });

  it("clears the server's connections-checking interval", async () => {
    const { server } = await holdOneRequest();
    const interval = symbolValue(server, 'http.server.connectionsCheckingInterval');
    expectInternal(
      interval !== null &&
        typeof interval === 'object' &&
        typeof (interval as { refresh?: unknown }).refresh === 'function',
      "server[kConnectionsCheckingInterval] (Symbol('http.server.connectionsCheckingInterval'))",
      'lib/_http_server.js, setupConnectionsTracking()',
    );
    const clearInterval = jest.spyOn(globalThis, 'clearInterval');
    try {
      stopConnectionsChecking(server);
      expect(clearInterval).toHaveBeenCalledWith(interval);
    } finally {
      clearInterval.mockRestore();
    }
  });

  it('finds the raw TCP socket under a server-side TLS socket', async () => {
    const raw = deferred<net.Socket>();
    const secure = deferred<TLSSocket>();
    const server = https.createServer(tlsFixture, (_request, response) => response.end('ok'));
    server.on('connection', (socket: net.Socket) => raw.resolve(socket));
    server.on('secureConnection', (socket: TLSSocket) => secure.resolve(socket));
    const port = await listen(server);
    cleanup(() => {
      server.closeAllConnections();
      server.close();
    });
    const client = https.get({ host: '127.0.0.1', port, rejectUnauthorized: false, agent: false });
    client.on('error', () => undefined);
    cleanup(() => client.destroy());
    const [rawSocket, tlsSocket] = await withTimeout(
      Promise.all([raw.promise, secure.promise]),
      5000,
      'the TLS handshake',
    );
    expectInternal(
      (tlsSocket as { _parent?: unknown })._parent === rawSocket,
      'tlsSocket._parent (the raw socket a server-side TLSSocket wraps)',
      'lib/_tls_wrap.js (lib/internal/tls/wrap.js from Node 26), the TLSSocket constructor',
    );
    expect(tlsParentSocket(tlsSocket)).toBe(rawSocket);
    const [response] = (await once(client, 'response')) as [http.IncomingMessage];
    response.resume();
    expect(response.statusCode).toBe(200);
  });
});
