/**
 * The two places where the terminator reads Node's http internals. Both are feature-detected:
 * when a future Node renames them, the terminator falls back on public APIs and only loses the
 * extra they bring. Checked against Node 20.19 and later (lib/_http_server.js).
 */
import { ServerResponse } from 'node:http';
import type * as net from 'node:net';

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
