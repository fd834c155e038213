/**
 * Every place where the terminator reads Node's internals, and nowhere else. Each is
 * feature-detected: when a Node release moves one, the terminator falls back on public APIs and
 * only loses the extra it brought. test/node-internals.integration.test.ts fails loudly, on every
 * Node line the test matrix runs (20, 22, 24, 26), when one of them has moved.
 *
 * What is read, and the Node source that defines it (same names on 20.19 through 26.12):
 * - `server[kConnections]`, `Symbol('http.server.connections')`: the ConnectionsList of an http
 *   server, lib/_http_server.js (since Node 18.0, nodejs/node#41263). Its `all()` returns the
 *   parsers of every open connection, each with its `socket`.
 * - `server[kConnectionsCheckingInterval]`, `Symbol('http.server.connectionsCheckingInterval')`:
 *   the Timeout of the same file's `setupConnectionsTracking()`.
 * - `socket._httpMessage`: the response being written on a socket, set by
 *   `ServerResponse.prototype.assignSocket` in lib/_http_server.js.
 * - `tlsSocket._parent`: the raw TCP socket a server-side TLSSocket wraps, set by the TLSSocket
 *   constructor in lib/_tls_wrap.js (lib/internal/tls/wrap.js from Node 26, nodejs/node DEP0192).
 */
import { ServerResponse } from 'node:http';
import * as net from 'node:net';
import type { TLSSocket } from 'node:tls';

function readInternal(server: net.Server, description: string): unknown {
  const symbol = Object.getOwnPropertySymbols(server).find(
    (candidate) => candidate.description === description,
  );
  return symbol === undefined ? undefined : (server as unknown as Record<symbol, unknown>)[symbol];
}

/** A socket an http server accepted, and the response it is writing, if any. */
export interface ExistingConnection {
  readonly socket: net.Socket;
  readonly pendingResponse: ServerResponse | undefined;
}

/**
 * The sockets an http/https server accepted before we watched it, from the list Node keeps for
 * its request timeouts (`server[kConnections]`), or `undefined` when that list is not there.
 */
export function listExistingConnections(server: net.Server): ExistingConnection[] | undefined {
  const list = readInternal(server, 'http.server.connections') as
    { all?: () => readonly { socket?: unknown }[] } | undefined;
  if (typeof list?.all !== 'function') return undefined;
  const connections: ExistingConnection[] = [];
  for (const parser of list.all()) {
    const socket = parser.socket as (net.Socket & { _httpMessage?: unknown }) | undefined;
    if (socket === undefined || socket.destroyed) continue;
    const message = socket._httpMessage;
    const pendingResponse =
      message instanceof ServerResponse && !message.writableFinished ? message : undefined;
    connections.push({ socket, pendingResponse });
  }
  return connections;
}

/**
 * Clears the unref'd interval with which an http server checks request timeouts. The server's
 * own `close()` clears it, but the terminator closes the listener with `net.Server#close`
 * (`http.Server#close` resets idle keep-alive sockets), and while the interval lives it keeps
 * the closed server from being garbage-collected.
 */
export function stopConnectionsChecking(server: net.Server): void {
  const interval = readInternal(server, 'http.server.connectionsCheckingInterval');
  if (interval !== undefined) clearInterval(interval as NodeJS.Timeout);
}

/**
 * The raw TCP socket that a server-side TLS socket carries, or `undefined` when Node no longer
 * keeps it where we look. No public API links the two.
 */
export function tlsParentSocket(socket: TLSSocket): net.Socket | undefined {
  const parent = (socket as { _parent?: unknown })._parent;
  return parent instanceof net.Socket && parent !== socket ? parent : undefined;
}
