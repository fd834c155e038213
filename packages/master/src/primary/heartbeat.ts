import type * as crypto from 'node:crypto';
import type * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { getLogger } from '@lastcall/log-shim';
import type { Logger } from '@lastcall/log-shim';
import { MasterError } from '../errors';
import { cluster2Answer } from './cluster2-ecv';
import { HeartbeatMonitor } from './heartbeat-monitor';
import type { AppAddress, MonitorSettings } from './heartbeat-monitor';

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
  /** Where the workers' app listens: cluster2's `port`, and the host of a monitor path. */
  readonly appAddress: AppAddress | undefined;
  /** The app version each ready worker reported (null: none; undefined: not yet said). */
  readonly servingVersions: readonly (string | null | undefined)[];
  /** Workers draining now, and the requests they still have in flight (as last reported). */
  readonly draining: { readonly workers: number; readonly inFlight: number };
}

/** A stall of the master's event loop this long (ms) makes `/livez` answer 503 ... */
export const LIVENESS_STALL = 5000;
/** ... for this long after it (ms). */
const LIVENESS_MEMORY = 30_000;
/** ms between two ticks of the stall watch. */
const LIVENESS_TICK = 500;

/** The `version` of the heartbeat while ready workers report different ones. */
export const MIXED_VERSION = 'mixed';

/** The heartbeat's wire format: lastcall's JSON, or cluster2's ECV text. */
export type HeartbeatFormat = 'json' | 'cluster2';

/** The heartbeat's settings, validated by options.ts. */
export interface HeartbeatSettings {
  readonly port: number;
  readonly host: string;
  readonly path: string;
  readonly token: string | undefined;
  /** `heartbeat.version` as given: reported whatever the workers say. */
  readonly version: string | undefined;
  /**
   * The version in the master's environment at its start (`LASTCALL_APP_VERSION`, else
   * `npm_package_version`): reported while no ready worker reported its own.
   */
  readonly startVersion?: string | undefined;
  readonly format: HeartbeatFormat;
  /** The gate on a dependency; undefined for none. */
  readonly monitor: MonitorSettings | undefined;
}

/** The body of `GET <path>`. */
export interface HeartbeatBody {
  readonly status:
    | 'ok'
    | 'degraded'
    | 'disabled'
    | 'shutting-down'
    | 'starting'
    | 'unavailable'
    | 'monitor-failed';
  readonly workers: {
    readonly ready: number;
    readonly total: number;
    readonly failedSlots: number;
  };
  readonly uptime: number;
  /**
   * `heartbeat.version` when given; else the app version the ready workers report, `'mixed'`
   * while they differ (a rolling restart); else the version in the master's environment at its
   * start; else null.
   */
  readonly version: string | null;
  /** How many ready workers run each version (`'unknown'`: a worker that reported none). */
  readonly versions: Readonly<Record<string, number>>;
  /** Workers draining, and their requests still in flight. */
  readonly draining: { readonly workers: number; readonly inFlight: number };
  /**
   * With a `heartbeat.monitor` only: its last result (`unchecked` before the first check), and
   * why it is down.
   */
  readonly monitor?: {
    readonly status: 'up' | 'down' | 'unchecked';
    readonly reason: string | null;
  };
}

/** The body of `GET /livez`. */
export interface LivenessBody {
  /** `'wedged'`: the master's event loop stalled for `LIVENESS_STALL` ms within 30 s. */
  readonly status: 'alive' | 'wedged';
  readonly pid: number;
  readonly uptime: number;
  /** The longest stall of the master's event loop of 5 s or more in the last 30 s, in ms; else 0. */
  readonly stall: number;
}

/**
 * cluster2's ECV, done safely: the master's own listener (loopback by default) that a load
 * balancer or a kubelet polls. `GET <path>` answers 200 with JSON while the node serves, 503 when
 * it was disabled, is starting or shutting down, has fewer than `minReady` ready workers, or its
 * monitor fails; with `format: 'cluster2'` it answers cluster2's text and codes instead.
 * `GET /readyz` answers as `<path>` in JSON, whatever the format; `GET /livez` answers 200 while
 * the master's event loop turns (also during a drain), 503 after a stall. `POST <path>/disable`
 * and `<path>/enable` take the node out of rotation and back; they need the token when one is
 * set, and are refused from a non-loopback address when none is. Any other method gets 405.
 */
export class Heartbeat {
  readonly #settings: HeartbeatSettings;
  readonly #state: () => HeartbeatState;
  readonly #startedAt = Date.now();
  /** Created by the first {@link Heartbeat.listen}: a master without a heartbeat loads no http. */
  #server: http.Server | undefined;
  readonly #log: Logger;
  readonly #monitor: HeartbeatMonitor | undefined;
  readonly #onDisabledChange: (isDisabled: boolean) => void;
  #isDisabled = false;
  /** The stall watch: when it last ticked, and the recent stalls it saw. */
  #lastTick = Date.now();
  #stalls: { readonly at: number; readonly ms: number }[] = [];
  #tickTimer: NodeJS.Timeout | undefined;

  constructor(
    settings: HeartbeatSettings,
    state: () => HeartbeatState,
    log: Logger = getLogger('lastcall:master'),
    onDisabledChange: (isDisabled: boolean) => void = () => undefined,
  ) {
    this.#settings = settings;
    this.#state = state;
    this.#onDisabledChange = onDisabledChange;
    this.#log = log;
    this.#monitor =
      settings.monitor === undefined
        ? undefined
        : new HeartbeatMonitor(settings.monitor, () => this.#state().appAddress, log);
  }

  #createServer(): http.Server {
    // Loaded here, not at module load: the master builds a Heartbeat for health() and the
    // control socket even when none listens, and node:http with its parser is about 1 MiB of RSS.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { createServer } = require('node:http') as typeof http;
    // One guard for every request: a throw of the state or of the disable callback is logged and
    // answered 500, never an unhandled rejection of the master.
    const server = createServer((request, response) => {
      this.#answer(request, response).catch((error: unknown) => {
        this.#log.error('the heartbeat could not answer a request', { err: error });
        if (response.headersSent) response.destroy();
        else response.writeHead(500).end();
      });
    });
    server.keepAliveTimeout = 2000;
    return server;
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
      const server = (this.#server ??= this.#createServer());
      server.once('error', fail);
      server.listen(port, host, () => {
        server.off('error', fail);
        this.#watchStalls();
        resolve(server.address() as AddressInfo);
      });
    });
  }

  /** The address it listens on, once listening. */
  address(): AddressInfo | undefined {
    const address = this.#server?.address();
    return address === undefined || address === null || typeof address === 'string'
      ? undefined
      : address;
  }

  get isDisabled(): boolean {
    return this.#isDisabled;
  }

  /** Takes the node out of rotation (true) or back; tells the master when it changes. */
  setDisabled(isDisabled: boolean): void {
    if (this.#isDisabled === isDisabled) return;
    this.#isDisabled = isDisabled;
    this.#onDisabledChange(isDisabled);
  }

  /** What `GET /livez` answers now. */
  liveness(): { statusCode: number; body: LivenessBody } {
    const now = Date.now();
    this.#noteStall(now);
    const stall = Math.max(0, ...this.#stalls.map((entry) => entry.ms));
    const isWedged = stall >= LIVENESS_STALL;
    return {
      statusCode: isWedged ? 503 : 200,
      body: {
        status: isWedged ? 'wedged' : 'alive',
        pid: process.pid,
        uptime: Math.round((now - this.#startedAt) / 1000),
        stall,
      },
    };
  }

  /** Ticks while listening; a tick that comes late is a stall of the master's event loop. */
  #watchStalls(): void {
    this.#lastTick = Date.now();
    this.#tickTimer = setInterval(() => {
      this.#noteStall(Date.now());
    }, LIVENESS_TICK);
    this.#tickTimer.unref();
  }

  #noteStall(now: number): void {
    const late = now - this.#lastTick - LIVENESS_TICK;
    this.#lastTick = now;
    // Pruned here, not only when /livez is asked: a master that stalls often and is never
    // probed keeps at most the stalls of the last LIVENESS_MEMORY ms.
    if (this.#stalls.length > 0) {
      this.#stalls = this.#stalls.filter((stall) => now - stall.at < LIVENESS_MEMORY);
    }
    if (late >= LIVENESS_STALL) this.#stalls.push({ at: now, ms: late });
  }

  /** Closes the listener and every connection to it, and aborts a monitor check in flight. */
  close(): Promise<void> {
    clearInterval(this.#tickTimer);
    this.#monitor?.close();
    const server = this.#server;
    return new Promise((resolve) => {
      if (server?.listening !== true) {
        resolve();
        return;
      }
      server.close(() => {
        resolve();
      });
      server.closeAllConnections();
    });
  }

  /**
   * The body and status `GET <path>` would answer now (in JSON), with the monitor's last
   * result: a request checks the monitor first when its result is stale.
   */
  report(): { statusCode: number; body: HeartbeatBody } {
    const state = this.#state();
    const last = this.#monitor?.last;
    const status: HeartbeatBody['status'] = state.isShuttingDown
      ? 'shutting-down'
      : this.#isDisabled
        ? 'disabled'
        : !state.isStarted
          ? 'starting'
          : state.ready < state.minReady
            ? 'unavailable'
            : last?.isUp === false
              ? 'monitor-failed'
              : state.failedSlots > 0
                ? 'degraded'
                : 'ok';
    const versions: Record<string, number> = {};
    for (const version of state.servingVersions) {
      const key = version ?? 'unknown';
      versions[key] = (versions[key] ?? 0) + 1;
    }
    const reported = Object.keys(versions).filter((version) => version !== 'unknown');
    const body: HeartbeatBody = {
      status,
      workers: { ready: state.ready, total: state.total, failedSlots: state.failedSlots },
      uptime: Math.round((Date.now() - this.#startedAt) / 1000),
      version:
        this.#settings.version ??
        (reported.length > 1
          ? MIXED_VERSION
          : (reported[0] ?? this.#settings.startVersion ?? null)),
      versions,
      draining: state.draining,
      ...(this.#monitor === undefined
        ? {}
        : {
            monitor: {
              status: last === undefined ? 'unchecked' : last.isUp ? 'up' : 'down',
              reason: last?.reason ?? null,
            },
          }),
    };
    return { statusCode: status === 'ok' || status === 'degraded' ? 200 : 503, body };
  }

  async #answer(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const { path } = this.#settings;
    const url = (request.url ?? '/').split('?')[0];
    response.setHeader('Cache-Control', 'no-store');
    if (url === '/livez' || url === '/readyz') {
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        this.#send(response, 405, { error: 'method not allowed' }, { Allow: 'GET, HEAD' });
        return;
      }
      const answer = url === '/livez' ? this.liveness() : await this.#readiness();
      this.#send(response, answer.statusCode, answer.body);
      return;
    }
    if (url === path) {
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        this.#send(response, 405, { error: 'method not allowed' }, { Allow: 'GET, HEAD' });
        return;
      }
      const { statusCode, body } = await this.#readiness();
      if (this.#settings.format === 'cluster2') this.#sendCluster2(request, response, body);
      else this.#send(response, statusCode, body);
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
    this.setDisabled(action === 'disable');
    request.resume();
    if (this.#settings.format === 'cluster2') {
      // cluster2 answered its disable and enable with 204 and no body.
      response.writeHead(204).end();
      return;
    }
    const { statusCode, body } = this.report();
    this.#send(response, 200, { ...body, httpStatus: statusCode });
  }

  /** {@link report}, after asking the monitor when its last result is stale. */
  async #readiness(): Promise<{ statusCode: number; body: HeartbeatBody }> {
    // The monitor only decides between up and down: a node out of rotation for another
    // reason does not ask the dependency.
    const { status } = this.report().body;
    const isGated = status === 'ok' || status === 'degraded' || status === 'monitor-failed';
    if (this.#monitor !== undefined && isGated) await this.#monitor.check();
    return this.report();
  }

  #sendCluster2(
    request: http.IncomingMessage,
    response: http.ServerResponse,
    body: HeartbeatBody,
  ): void {
    const { statusCode, text } = cluster2Answer(body.status, {
      ip: request.socket.localAddress ?? '',
      port: this.#state().appAddress?.port,
    });
    response.writeHead(statusCode, {
      'Content-Type': 'text/plain',
      'Content-Length': Buffer.byteLength(text),
    });
    response.end(request.method === 'HEAD' ? undefined : text);
  }

  #isAllowed(request: http.IncomingMessage): boolean {
    const { token } = this.#settings;
    if (token === undefined) return isLoopback(request.socket.remoteAddress);
    const given = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1] ?? '';
    const expected = Buffer.from(token);
    const actual = Buffer.from(given);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { timingSafeEqual } = require('node:crypto') as typeof crypto;
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
  format: 'json',
  monitor: undefined,
  minReady: 1,
};
