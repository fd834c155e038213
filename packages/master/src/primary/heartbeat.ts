import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import { MasterError } from '../errors';

/** What the heartbeat reports, asked of the master on every request. */
export interface HeartbeatState {
  readonly ready: number;
  readonly total: number;
  /** The fewest ready workers for a 200. */
  readonly minReady: number;
  readonly isShuttingDown: boolean;
  readonly isStarted: boolean;
  /** A slot gave up (crash loop): still 200 while enough workers are ready, but said. */
  readonly failedSlots: number;
}

/** The heartbeat's settings, validated by options.ts. */
export interface HeartbeatSettings {
  readonly port: number;
  readonly host: string;
  readonly path: string;
  readonly token: string | undefined;
  readonly version: string | undefined;
}

/** The body of `GET <path>`. */
export interface HeartbeatBody {
  readonly status: 'ok' | 'degraded' | 'disabled' | 'shutting-down' | 'starting' | 'unavailable';
  readonly workers: {
    readonly ready: number;
    readonly total: number;
    readonly failedSlots: number;
  };
  readonly uptime: number;
  readonly version: string | null;
}

/**
 * cluster2's ECV, done safely: the master's own listener (loopback by default) that a load
 * balancer polls. `GET <path>` answers 200 with JSON while the node serves, 503 when it was
 * disabled, is starting or shutting down, or has fewer than `minReady` ready workers.
 * `POST <path>/disable` and `<path>/enable` take the node out of rotation and back; they need the
 * token when one is set, and are refused from a non-loopback address when none is. Any other
 * method gets 405.
 */
export class Heartbeat {
  readonly #settings: HeartbeatSettings;
  readonly #state: () => HeartbeatState;
  readonly #startedAt = Date.now();
  readonly #server: http.Server;
  #isDisabled = false;

  constructor(settings: HeartbeatSettings, state: () => HeartbeatState) {
    this.#settings = settings;
    this.#state = state;
    this.#server = http.createServer((request, response) => {
      this.#answer(request, response);
    });
    this.#server.keepAliveTimeout = 2000;
  }

  /**
   * Listens; rejects with `LASTCALL_ERR_MASTER_PORT_IN_USE` naming the address, or
   * `LASTCALL_ERR_MASTER_START_FAILED` for any other listen error (its `cause`).
   */
  listen(): Promise<AddressInfo> {
    const { host, port } = this.#settings;
    return new Promise((resolve, reject) => {
      const fail = (error: NodeJS.ErrnoException): void => {
        const isInUse = error.code === 'EADDRINUSE';
        reject(
          new MasterError(
            isInUse ? 'LASTCALL_ERR_MASTER_PORT_IN_USE' : 'LASTCALL_ERR_MASTER_START_FAILED',
            `the heartbeat could not listen on ${host}:${String(port)}: ${isInUse ? 'address already in use' : error.message}`,
            { cause: error },
          ),
        );
      };
      this.#server.once('error', fail);
      this.#server.listen(port, host, () => {
        this.#server.off('error', fail);
        resolve(this.#server.address() as AddressInfo);
      });
    });
  }

  /** The address it listens on, once listening. */
  address(): AddressInfo | undefined {
    const address = this.#server.address();
    return address === null || typeof address === 'string' ? undefined : address;
  }

  get isDisabled(): boolean {
    return this.#isDisabled;
  }

  /** Closes the listener and every connection to it. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.#server.listening) {
        resolve();
        return;
      }
      this.#server.close(() => {
        resolve();
      });
      this.#server.closeAllConnections();
    });
  }

  /** The body and status `GET <path>` would answer now. */
  report(): { statusCode: number; body: HeartbeatBody } {
    const state = this.#state();
    const status: HeartbeatBody['status'] = state.isShuttingDown
      ? 'shutting-down'
      : this.#isDisabled
        ? 'disabled'
        : !state.isStarted
          ? 'starting'
          : state.ready < state.minReady
            ? 'unavailable'
            : state.failedSlots > 0
              ? 'degraded'
              : 'ok';
    const body: HeartbeatBody = {
      status,
      workers: { ready: state.ready, total: state.total, failedSlots: state.failedSlots },
      uptime: Math.round((Date.now() - this.#startedAt) / 1000),
      version: this.#settings.version ?? null,
    };
    return { statusCode: status === 'ok' || status === 'degraded' ? 200 : 503, body };
  }

  #answer(request: http.IncomingMessage, response: http.ServerResponse): void {
    const { path } = this.#settings;
    const url = (request.url ?? '/').split('?')[0];
    response.setHeader('Cache-Control', 'no-store');
    if (url === path) {
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        this.#send(response, 405, { error: 'method not allowed' }, { Allow: 'GET, HEAD' });
        return;
      }
      const { statusCode, body } = this.report();
      this.#send(response, statusCode, body);
      return;
    }
    const action =
      url === `${path}/disable` ? 'disable' : url === `${path}/enable` ? 'enable' : undefined;
    if (action === undefined) {
      this.#send(response, 404, { error: 'not found' });
      return;
    }
    if (request.method !== 'POST') {
      this.#send(response, 405, { error: 'method not allowed' }, { Allow: 'POST' });
      return;
    }
    if (!this.#isAllowed(request)) {
      this.#send(response, 403, { error: 'forbidden' });
      return;
    }
    this.#isDisabled = action === 'disable';
    request.resume();
    const { statusCode, body } = this.report();
    this.#send(response, 200, { ...body, httpStatus: statusCode });
  }

  #isAllowed(request: http.IncomingMessage): boolean {
    const { token } = this.#settings;
    if (token === undefined) return isLoopback(request.socket.remoteAddress);
    const given = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1] ?? '';
    const expected = Buffer.from(token);
    const actual = Buffer.from(given);
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  }

  #send(
    response: http.ServerResponse,
    statusCode: number,
    body: object,
    headers: Record<string, string> = {},
  ): void {
    const text = `${JSON.stringify(body)}\n`;
    response.writeHead(statusCode, {
      ...headers,
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(text),
    });
    response.end(response.req.method === 'HEAD' ? undefined : text);
  }
}

/** True for an IPv4 or IPv6 loopback address (also IPv4-mapped). */
export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

/** The settings of a master without a heartbeat listener, whose health() still answers. */
export const NO_LISTENER: HeartbeatSettings & { readonly minReady: number } = {
  port: 0,
  host: '127.0.0.1',
  path: '/ecv',
  token: undefined,
  version: undefined,
  minReady: 1,
};
