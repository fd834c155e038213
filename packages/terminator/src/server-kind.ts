import * as http from 'node:http';
import type * as https from 'node:https';
import * as net from 'node:net';
import type * as tls from 'node:tls';
import { TerminatorError } from './errors';

/** What a server speaks, which decides how its connections are tracked and drained. */
export interface ServerKind {
  /** Connections start with a TLS handshake (`https`, `tls`, `http2.createSecureServer`). */
  readonly isTls: boolean;
  /** Requests are HTTP/1 (`http`, `https`). */
  readonly isHttp1: boolean;
  /** Sessions are HTTP/2 (`http2.createServer`, `http2.createSecureServer`). */
  readonly isHttp2: boolean;
}

/**
 * Tells what kind of server `server` is, or throws `LASTCALL_ERR_TERMINATOR_INVALID_SERVER`.
 * The http2 server classes are not exported by Node, so they are recognised by `updateSettings`,
 * a method only they have. `node:tls` and `node:https` are asked only about a server that has
 * `setSecureContext`, which every TLS server has: a server made by them means they are loaded
 * already, and an app that serves plain HTTP does not load them (crypto with them) for us.
 */
export function describeServer(server: unknown): ServerKind {
  if (!(server instanceof net.Server)) {
    throw new TerminatorError(
      'LASTCALL_ERR_TERMINATOR_INVALID_SERVER',
      `createTerminator(server): expected an http, https, http2 or net server, got ${describeValue(server)}`,
    );
  }
  const isHttp2 = typeof (server as { updateSettings?: unknown }).updateSettings === 'function';
  const isTls =
    typeof (server as { setSecureContext?: unknown }).setSecureContext === 'function' &&
    server instanceof loadTls().Server;
  return {
    isTls,
    isHttp1: !isHttp2 && (server instanceof http.Server || (isTls && isHttpsServer(server))),
    isHttp2,
  };
}

/* eslint-disable @typescript-eslint/no-require-imports -- loaded only for a TLS server */
function loadTls(): typeof tls {
  return require('node:tls') as typeof tls;
}

function isHttpsServer(server: net.Server): boolean {
  return server instanceof (require('node:https') as typeof https).Server;
}
/* eslint-enable @typescript-eslint/no-require-imports */

/** A short, safe description of any value for an error message. */
export function describeValue(value: unknown): string {
  switch (typeof value) {
    case 'number':
      return Number.isNaN(value) ? 'NaN' : String(value);
    case 'string':
      return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
    case 'function':
      return 'a function';
    case 'object': {
      if (value === null) return 'null';
      const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
      return typeof name === 'string' && name !== 'Object' ? `an instance of ${name}` : 'an object';
    }
    case 'symbol':
      return value.toString();
    case 'bigint':
      return `${value.toString()}n`;
    case 'boolean':
      return value ? 'true' : 'false';
    default:
      return 'undefined';
  }
}
