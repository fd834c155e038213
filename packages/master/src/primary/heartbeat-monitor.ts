import type * as http from 'node:http';
import type * as https from 'node:https';
import type { Logger } from '@lastcall/log-shim';

/** What `heartbeat.monitor` may be: a function, an http(s) URL, or a path on the app's port. */
export type MonitorTarget = string | (() => boolean | Promise<boolean>);

/** The settings of a {@link HeartbeatMonitor}, validated by options.ts. */
export interface MonitorSettings {
  readonly target: MonitorTarget;
  /** ms a check may take before it counts as down. */
  readonly timeout: number;
  /** ms a result is reused before the next heartbeat request checks again. */
  readonly cacheMs: number;
}

/** One settled check. */
export interface MonitorResult {
  readonly isUp: boolean;
  /** Why it is down: the status code, the error, the function's throw; `null` when up. */
  readonly reason: string | null;
  /** `Date.now()` when it settled. */
  readonly settledAt: number;
}

/** The address the workers' app listens on, for a monitor given as a path. */
export interface AppAddress {
  readonly address: string;
  readonly port: number;
}

/**
 * The heartbeat's gate on a dependency (cluster2's `ecv.monitor`): checked on heartbeat
 * requests, its result reused for `cacheMs` so that a busy load balancer does not hammer the
 * dependency, and one check in flight at a time (concurrent requests share it). A check that
 * fails, throws, or does not settle within `timeout` counts as down. Each change between up and
 * down is logged once (warn, then info); nothing is logged per request.
 */
export class HeartbeatMonitor {
  readonly #settings: MonitorSettings;
  readonly #appAddress: () => AppAddress | undefined;
  readonly #log: Logger;
  readonly #closing = new AbortController();
  #last: MonitorResult | undefined;
  #inFlight: Promise<MonitorResult> | undefined;
  /** When the current down spell began, for the recovery's log line. */
  #downSince: number | undefined;

  constructor(settings: MonitorSettings, appAddress: () => AppAddress | undefined, log: Logger) {
    this.#settings = settings;
    this.#appAddress = appAddress;
    this.#log = log;
  }

  /** The last settled result; undefined before the first check. */
  get last(): MonitorResult | undefined {
    return this.#last;
  }

  /** The cached result while fresh, else the check in flight, else a new check. Never rejects. */
  check(): Promise<MonitorResult> {
    const last = this.#last;
    if (last !== undefined && Date.now() - last.settledAt < this.#settings.cacheMs) {
      return Promise.resolve(last);
    }
    this.#inFlight ??= this.#run().then((result) => {
      this.#inFlight = undefined;
      this.#record(result);
      return result;
    });
    return this.#inFlight;
  }

  /** Aborts a check in flight (it settles as down, unlogged); later checks settle down at once. */
  close(): void {
    this.#closing.abort();
  }

  #record(result: MonitorResult): void {
    const wasUp = this.#last?.isUp ?? true;
    this.#last = result;
    if (this.#closing.signal.aborted) return;
    const target = this.#describeTarget();
    if (wasUp && !result.isUp) {
      this.#downSince = result.settledAt;
      this.#log.warn(
        `heartbeat monitor failed: ${result.reason ?? 'down'}; the heartbeat answers as down until it passes again, the workers are left alone`,
        { monitor: target, reason: result.reason },
      );
    } else if (!wasUp && result.isUp) {
      const downFor = this.#downSince === undefined ? 0 : result.settledAt - this.#downSince;
      this.#downSince = undefined;
      this.#log.info(
        `heartbeat monitor passes again after ${String(downFor)} ms; the heartbeat answers as up`,
        { monitor: target, downFor },
      );
    }
  }

  async #run(): Promise<MonitorResult> {
    const { target, timeout } = this.#settings;
    let reason: string | null;
    if (this.#closing.signal.aborted) {
      reason = 'the heartbeat is closed';
    } else if (typeof target === 'function') {
      reason = await this.#callFunction(target, timeout);
    } else {
      reason = await this.#get(target, timeout);
    }
    return { isUp: reason === null, reason, settledAt: Date.now() };
  }

  /** `null` when the function resolved `true`; else why not. */
  #callFunction(target: () => boolean | Promise<boolean>, timeout: number): Promise<string | null> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        resolve(`the monitor function did not settle within ${String(timeout)} ms`);
      }, timeout);
      timer.unref();
      const onClose = (): void => {
        settle('the heartbeat is closed');
      };
      const settle = (reason: string | null): void => {
        clearTimeout(timer);
        this.#closing.signal.removeEventListener('abort', onClose);
        resolve(reason);
      };
      // A synchronous throw, a rejection and a non-true answer all count as down.
      new Promise<unknown>((answer) => {
        answer(target());
      }).then(
        (answer) => {
          settle(answer === true ? null : `the monitor function returned ${describe(answer)}`);
        },
        (error: unknown) => {
          settle(`the monitor function threw: ${errorText(error)}`);
        },
      );
      this.#closing.signal.addEventListener('abort', onClose, { once: true });
    });
  }

  /** `null` when a GET of the URL (or the app's path) answered 2xx within `timeout`. */
  #get(target: string, timeout: number): Promise<string | null> {
    const url = this.#urlOf(target);
    if (typeof url === 'string') return Promise.resolve(url);
    const shown = `${url.origin}${url.pathname}`;
    return new Promise((resolve) => {
      let isSettled = false;
      const settle = (reason: string | null): void => {
        if (isSettled) return;
        isSettled = true;
        resolve(reason);
      };
      const signal = AbortSignal.any([AbortSignal.timeout(timeout), this.#closing.signal]);
      // Loaded at the first check: a master without a monitor loads neither.
      const get =
        url.protocol === 'https:'
          ? // eslint-disable-next-line @typescript-eslint/no-require-imports
            (require('node:https') as typeof https).get
          : // eslint-disable-next-line @typescript-eslint/no-require-imports
            (require('node:http') as typeof http).get;
      // agent: false, one connection per check: checks are at most one per cacheMs, and no
      // idle keep-alive socket to the dependency outlives the heartbeat.
      const request = get(
        url,
        { agent: false, signal, headers: { 'user-agent': 'lastcall-heartbeat' } },
        (response) => {
          const status = response.statusCode ?? 0;
          // The body is not read: a dependency that stalls after its headers must not hold
          // the check; aborting it later destroys the response, whose error is expected.
          response.on('error', () => undefined);
          response.resume();
          settle(status >= 200 && status < 300 ? null : `GET ${shown} answered ${String(status)}`);
        },
      );
      request.on('error', (error: NodeJS.ErrnoException) => {
        if (this.#closing.signal.aborted) settle('the heartbeat is closed');
        else if (signal.aborted) {
          settle(`GET ${shown} did not answer within ${String(timeout)} ms`);
        } else settle(`GET ${shown} failed: ${error.code ?? error.message}`);
      });
    });
  }

  /** The URL to check, or why there is none yet (a path before any worker listens). */
  #urlOf(target: string): URL | string {
    if (!target.startsWith('/')) return new URL(target);
    const app = this.#appAddress();
    if (app === undefined) return `no worker listens yet, so ${target} cannot be checked`;
    return new URL(target, `http://${hostOf(app.address)}:${String(app.port)}`);
  }

  #describeTarget(): string {
    const { target } = this.#settings;
    if (typeof target === 'function') return 'a function';
    if (target.startsWith('/')) return `${target} on the app's port`;
    const url = new URL(target);
    return `${url.origin}${url.pathname}`;
  }
}

/**
 * The host to connect to for a server listening on `address`: a wildcard address is reached on
 * loopback (IPv4, which an IPv6 wildcard socket also accepts unless it is `ipv6Only`).
 */
export function hostOf(address: string): string {
  if (address === '0.0.0.0' || address === '::' || address === '') return '127.0.0.1';
  return address.includes(':') ? `[${address}]` : address;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.slice(0, 100));
  if (typeof value === 'object' && value !== null) return 'an object';
  return String(value);
}

function errorText(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.length > 500 ? `${text.slice(0, 500)}…` : text;
}
