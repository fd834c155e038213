import type { Server as HttpServer } from 'node:http';
import type * as net from 'node:net';
import { performance } from 'node:perf_hooks';
import { ConnectionRegistry } from './connection-registry';
import type { DrainCounter, DrainObserver } from './connection-registry';
import type { TerminatorError } from './errors';
import { resolveOptions } from './options';
import type { ResolvedOptions } from './options';
import { stopConnectionsChecking } from './node-internals';
import { describeServer } from './server-kind';
import type {
  TerminateOptions,
  TerminationReport,
  Terminator,
  TerminatorOptions,
  TerminatorState,
  TerminatorStats,
} from './types';

/**
 * How long, after forcing, to wait for the server's `close` event before resolving anyway.
 * It only matters for sockets nobody can reach: accepted by a plain `net.Server` before any
 * terminator watched it.
 */
const UNREACHABLE_SOCKET_WAIT = 1000;

/**
 * Makes a {@link Terminator} for an `http`, `https`, `http2` (h2 and h2c) or `net` server.
 * It starts tracking connections at once, so create it right after the server; one created
 * later still drains, falling back on Node's own lists for the sockets it never saw.
 *
 * @throws TerminatorError `LASTCALL_ERR_TERMINATOR_INVALID_SERVER` or an `INVALID_*` option code.
 */
export function createTerminator(server: net.Server, options?: TerminatorOptions): Terminator {
  const kind = describeServer(server);
  const resolved = resolveOptions('createTerminator(server, options)', options);
  return new ServerTerminator(server, ConnectionRegistry.acquire(server, kind), resolved);
}

/** `keepAliveTimeout` and `headersTimeout` onto an HTTP/1 server (http, https). */
function applyServerTimeouts(server: net.Server, options: ResolvedOptions): void {
  const http = server as Partial<Pick<HttpServer, 'keepAliveTimeout' | 'headersTimeout'>>;
  if (typeof http.keepAliveTimeout !== 'number') return;
  if (options.keepAliveTimeout !== undefined) http.keepAliveTimeout = options.keepAliveTimeout;
  if (options.headersTimeout !== undefined) http.headersTimeout = options.headersTimeout;
}

class ServerTerminator implements Terminator, DrainObserver {
  readonly #server: net.Server;
  readonly #registry: ConnectionRegistry;
  #options: ResolvedOptions;
  readonly #idleTimeout: number | undefined;
  #state: TerminatorState = 'serving';
  #promise: Promise<TerminationReport> | undefined;
  #resolve: ((report: TerminationReport) => void) | undefined;
  #startedAt = 0;
  #deadline = Infinity;
  #deadlineTimer: NodeJS.Timeout | undefined;
  #keepListeningTimer: NodeJS.Timeout | undefined;
  #drainDelayTimer: NodeJS.Timeout | undefined;
  #unreachableTimer: NodeJS.Timeout | undefined;
  #isForced = false;
  readonly #signals = new Set<AbortSignal>();
  readonly #counters: Record<DrainCounter | 'forced', number> = {
    closedIdle: 0,
    completedInFlight: 0,
    upgraded: 0,
    h2Sessions: 0,
    forced: 0,
  };
  readonly #hookErrors: TerminatorError[] = [];

  constructor(server: net.Server, registry: ConnectionRegistry, options: ResolvedOptions) {
    this.#server = server;
    this.#registry = registry;
    this.#options = options;
    this.#idleTimeout = options.idleTimeout;
    if (options.idleTimeout !== undefined) registry.watchIdle(options.idleTimeout);
    applyServerTimeouts(server, options);
  }

  get state(): TerminatorState {
    return this.#state;
  }

  get options(): ResolvedOptions {
    return this.#options;
  }

  stats(): TerminatorStats {
    return this.#registry.stats();
  }

  stopKeepAlive(): void {
    this.#registry.stopKeepAlive();
  }

  resumeKeepAlive(): void {
    if (this.#state === 'serving') this.#registry.resumeKeepAlive();
  }

  terminate(options?: TerminateOptions): Promise<TerminationReport> {
    const resolved = resolveOptions('terminator.terminate(options)', options, this.#options);
    if (this.#promise !== undefined) {
      if (this.#state === 'draining') this.#tighten(resolved);
      return this.#promise;
    }
    this.#options = resolved;
    this.#state = 'draining';
    this.#startedAt = performance.now();
    this.#promise = new Promise((resolve) => {
      this.#resolve = resolve;
    });
    if (resolved.drainDelay > 0) {
      this.#registry.beginDrainDelay();
      this.#registry.closeListener();
      this.#drainDelayTimer = setTimeout(() => {
        this.#drainDelayTimer = undefined;
        this.#registry.beginDrain(this);
      }, resolved.drainDelay).unref();
    } else {
      this.#registry.beginDrain(this);
      if (resolved.keepListening > 0) {
        this.#keepListeningTimer = setTimeout(() => {
          this.#registry.closeListener();
        }, resolved.keepListening).unref();
      } else {
        this.#registry.closeListener();
      }
    }
    this.#tighten(resolved);
    return this.#promise;
  }

  count(counter: DrainCounter): void {
    this.#counters[counter] += 1;
  }

  hookFailed(error: TerminatorError): void {
    this.#hookErrors.push(error);
  }

  serverClosed(): void {
    this.#finish();
  }

  /** A later `terminate()` may bring the deadline closer or add a signal, never relax them. */
  #tighten(options: ResolvedOptions): void {
    const { signal } = options;
    if (signal !== undefined && !this.#signals.has(signal)) {
      this.#signals.add(signal);
      if (signal.aborted) {
        this.#force();
        return;
      }
      signal.addEventListener('abort', this.#onAbort, { once: true });
    }
    const deadline = this.#startedAt + options.timeout;
    if (deadline >= this.#deadline) return;
    this.#deadline = deadline;
    clearTimeout(this.#deadlineTimer);
    const remaining = deadline - performance.now();
    if (remaining <= 0) this.#force();
    else this.#deadlineTimer = setTimeout(this.#onDeadline, remaining).unref();
  }

  #onAbort = (): void => {
    this.#force();
  };

  #onDeadline = (): void => {
    this.#force();
  };

  #force(): void {
    if (this.#isForced || this.#state !== 'draining') return;
    this.#isForced = true;
    clearTimeout(this.#keepListeningTimer);
    clearTimeout(this.#deadlineTimer);
    if (this.#drainDelayTimer !== undefined) {
      // Still in the drain delay: drain now, so that this terminator hears the server close.
      clearTimeout(this.#drainDelayTimer);
      this.#drainDelayTimer = undefined;
      this.#registry.beginDrain(this);
    }
    this.#counters.forced += this.#registry.force(this.#options.forceDelay);
    this.#unreachableTimer = setTimeout(() => {
      this.#finish();
    }, this.#options.forceDelay + UNREACHABLE_SOCKET_WAIT).unref();
  }

  #finish(): void {
    if (this.#state !== 'draining') return;
    this.#state = 'closed';
    clearTimeout(this.#keepListeningTimer);
    clearTimeout(this.#drainDelayTimer);
    clearTimeout(this.#deadlineTimer);
    clearTimeout(this.#unreachableTimer);
    for (const signal of this.#signals) signal.removeEventListener('abort', this.#onAbort);
    this.#signals.clear();
    this.#registry.endDrain(this);
    // Read at creation only: the options of terminate() may have changed it since.
    if (this.#idleTimeout !== undefined) this.#registry.unwatchIdle(this.#idleTimeout);
    this.#registry.release();
    if (!this.#server.listening) stopConnectionsChecking(this.#server);
    this.#resolve?.({
      durationMs: performance.now() - this.#startedAt,
      graceful: this.#counters.forced === 0,
      closedIdle: this.#counters.closedIdle,
      completedInFlight: this.#counters.completedInFlight,
      forced: this.#counters.forced,
      upgraded: this.#counters.upgraded,
      h2Sessions: this.#counters.h2Sessions,
      hookErrors: [...this.#hookErrors],
    });
  }
}
