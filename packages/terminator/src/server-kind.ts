import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as tls from 'node:tls';
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
 * a method only they have.
 */
export function describeServer(server: unknown): ServerKind {
  if (!(server instanceof net.Server)) {
    throw new TerminatorError(
      'LASTCALL_ERR_TERMINATOR_INVALID_SERVER',
      `createTerminator(server): expected an http, https, http2 or net server, got ${describeValue(server)}`,
    );
  }
  const isHttp2 = typeof (server as { updateSettings?: unknown }).updateSettings === 'function';
  return {
    isTls: server instanceof tls.Server,
    isHttp1: !isHttp2 && (server instanceof http.Server || server instanceof https.Server),
    isHttp2,
  };
}

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
