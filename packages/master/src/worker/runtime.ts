/**
 * The worker runtime: every worker the master forks loads this module before the app
 * (`node --require`). It changes nothing in the app. It finds the app's listening servers
 * through Node's diagnostics channels (no monkey-patching) and attaches a terminator to each,
 * counts requests, reports stats, and hands the drain to one {@link WorkerDrain}: when the
 * master says so, the worker stops accepting, marks every later response `Connection: close`,
 * closes sockets as they become idle, and exits when none is left or at the deadline. It drains
 * through the process's @lastcall/graceful coordinator, the app's own when it started one (its
 * hooks run too), else one it starts after the app's main module has loaded.
 */
import cluster from 'node:cluster';
import * as diagnostics from 'node:diagnostics_channel';
import type * as net from 'node:net';
import { appVersion } from './app-version';
import type * as GracefulModule from '@lastcall/graceful';
import type * as LogShimModule from '@lastcall/log-shim';
import type { Logger, LogMethod } from '@lastcall/log-shim';
import type * as TerminatorModule from '@lastcall/terminator';
import type { Terminator } from '@lastcall/terminator';
import { killRestOfOwnGroup } from '../process-group';
import {
  DRAIN_TIMEOUT_ENV,
  HEADERS_TIMEOUT_ENV,
  IDLE_TIMEOUT_ENV,
  KEEP_ALIVE_TIMEOUT_ENV,
  MASTER_ENV,
  STATS_INTERVAL,
  WORKER_STOP_SIGNALS,
  parseMasterMessage,
} from '../protocol';
import type { MasterMessage } from '../protocol';
import { tellMaster } from './api';
import { WorkerDrain } from './drain';

/**
 * ms a keep-alive socket must have been quiet before the drain closes it. A pooled client (undici,
 * an Agent) that got a response without `Connection: close` may send its next request on that
 * socket at any moment; one that crosses our FIN is lost. Busy sockets get a response with
 * `Connection: close` within this time and their clients move on; a socket quiet for a second
 * belongs to a client that is not sending.
 */
const IDLE_GRACE = 1000;

/** The share of the master's drainTimeout a worker's own shutdown deadline gets. */
const OWN_DEADLINE_SHARE = 0.9;

if (cluster.isWorker && process.env[MASTER_ENV] === '1') startRuntime();

/*
 * This module loads before the app, on the path of every worker to its first listen, so it loads
 * what it needs only when it needs it: @lastcall/terminator when the app's first server listens;
 * @lastcall/graceful (and log-shim, and the crash reporter its Graceful loads) after the app's
 * main module, when the Graceful is adopted, or at a signal or a log line before that.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
function loadTerminator(): typeof TerminatorModule {
  return require('@lastcall/terminator') as typeof TerminatorModule;
}

function loadGraceful(): typeof GracefulModule {
  return require('@lastcall/graceful') as typeof GracefulModule;
}

function loadLogShim(): typeof LogShimModule {
  return require('@lastcall/log-shim') as typeof LogShimModule;
}
/* eslint-enable @typescript-eslint/no-require-imports */

/** `getLogger(name)` of log-shim, called at the first line logged. */
function lazyLogger(name: string): Logger {
  let logger: Logger | undefined;
  const get = (): Logger => (logger ??= loadLogShim().getLogger(name));
  const method =
    (level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'): LogMethod =>
    (...args: unknown[]) => {
      (get()[level] as (...given: unknown[]) => void)(...args);
    };
  return {
    trace: method('trace'),
    debug: method('debug'),
    info: method('info'),
    warn: method('warn'),
    error: method('error'),
    fatal: method('fatal'),
    child: (bindings) => get().child(bindings),
  };
}

/** A whole number of ms > 0 from the environment variable `name`; undefined otherwise. */
function msFromEnv(name: string): number | undefined {
  const value = Number(process.env[name]);
  return Number.isInteger(value) && value > 0 ? value : undefined;
}

function startRuntime(): void {
  const log = lazyLogger('lastcall:master');
  // The master's shutdownDelay is the master's: the time a balancer needs to stop routing to
  // the host. A worker that waited it too would make every drain, and so every reload step,
  // that much longer.
  delete process.env['LASTCALL_SHUTDOWN_DELAY'];
  // The app's version, for the heartbeat of a master that may have started with older code.
  tellMaster({ lastcall: 1, type: 'hello', version: appVersion(process.argv[1], process.env) });
  // A worker leads its own process group. One whose master died (SIGKILL) drains when its IPC
  // channel closes and exits; what it started (a child process, a shell pipeline) must not
  // outlive it, orphaned, with nobody left to signal it: it goes along. A no-op when this
  // worker does not lead its group (that group is the master's).
  process.once('exit', () => {
    killRestOfOwnGroup();
  });
  // The worker's stdout and stderr are pipes to the master. When the master dies they break,
  // and a write to them fails with EPIPE as an 'error' event: without a listener that is an
  // uncaught exception, whose crash report writes to stderr again, and so on, while the worker
  // should simply drain (its IPC channel closed too) and exit.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
  const terminators = new Map<net.Server, Terminator>();
  const givenIdleTimeout = Number(process.env[IDLE_TIMEOUT_ENV]);
  const idleTimeout =
    Number.isFinite(givenIdleTimeout) && givenIdleTimeout > 0 ? givenIdleTimeout : false;
  const keepAliveTimeout = msFromEnv(KEEP_ALIVE_TIMEOUT_ENV);
  const headersTimeout = msFromEnv(HEADERS_TIMEOUT_ENV);
  // Off while the master is shutting down or the host is disabled: see the 'keep-alive' message.
  let isKeepAliveOn = true;
  let requests = 0;
  // Connections accepted in total by the servers found here (for recycle.maxConnectionsServed).
  // Counted on each server's own 'connection' event: it fires for every accepted socket, also
  // for one the cluster primary hands over (round-robin), and for TLS before the handshake.
  let connectionsServed = 0;
  const counted = new WeakSet<net.Server>();
  const countConnection = (): void => {
    connectionsServed += 1;
  };
  diagnostics.subscribe('tracing:net.server.listen:asyncEnd', (message) => {
    const { server } = message as { server: net.Server };
    if (!counted.has(server)) {
      counted.add(server);
      server.on('connection', countConnection);
    }
    if (terminators.has(server)) return;
    try {
      const terminator = loadTerminator().createTerminator(server, {
        idleGrace: IDLE_GRACE,
        idleTimeout,
        ...(keepAliveTimeout === undefined ? {} : { keepAliveTimeout }),
        ...(headersTimeout === undefined ? {} : { headersTimeout }),
      });
      if (!isKeepAliveOn) terminator.stopKeepAlive();
      terminators.set(server, terminator);
    } catch (error) {
      log.warn('a listening server cannot be drained by the worker runtime', { err: error });
    }
  });
  diagnostics.subscribe('http.server.request.start', () => {
    requests += 1;
  });

  const givenDrainTimeout = Number(process.env[DRAIN_TIMEOUT_ENV]);
  const drainTimeout =
    Number.isFinite(givenDrainTimeout) && givenDrainTimeout > 0 ? givenDrainTimeout : undefined;
  const drain = new WorkerDrain({
    servers: () => terminators.values(),
    // The worker's own deadline passes before the master's SIGTERM (at drainTimeout), so that
    // a worker whose event loop still turns exits by itself, with its own exit code.
    startGraceful: () => {
      const { Graceful } = loadGraceful();
      return Graceful.instance === undefined
        ? Graceful.start(
            drainTimeout === undefined
              ? {}
              : { timeout: Math.round(drainTimeout * OWN_DEADLINE_SHARE) },
          )
        : Graceful.start();
    },
    drainTimeout,
    channel: process,
    log,
  });
  // A signal sent to the whole process group (systemd's control-group kill, Ctrl-C in a terminal,
  // `kill -- -PGID`) reaches this worker beside its master. While the master is there it decides:
  // it drains this worker in its own order, or, when the signal was this worker's alone, forks
  // the replacement first. A Graceful here leaves these signals alone meanwhile; without a master
  // the worker drains by itself. Deferred once graceful is loaded here: after the app's main
  // module, or at a signal before that, in the handler below, which was added before the app
  // could add a Graceful's, so it runs first.
  let isDeferring = false;
  const deferSignalsToMaster = (): void => {
    if (isDeferring) return;
    isDeferring = true;
    loadGraceful().deferSignals(() => process.connected);
  };
  // After the app's main module: a Graceful it starts there is the one adopted.
  setImmediate(() => {
    deferSignalsToMaster();
    drain.adoptGraceful();
  });
  for (const signal of WORKER_STOP_SIGNALS) {
    process.on(signal, () => {
      deferSignalsToMaster();
      if (process.connected) {
        log.info(`${signal} received; the master decides`, { signal });
        tellMaster({ lastcall: 1, type: 'signal', signal });
      } else {
        void drain.adoptGraceful().shutdown();
      }
    });
  }

  const handlers: {
    readonly [T in MasterMessage['type']]: (message: MasterMessage & { type: T }) => void;
  } = {
    drain: () => {
      drain.order();
    },
    hold: () => {
      drain.verdict('hold');
    },
    go: () => {
      drain.verdict('go');
    },
    ping: ({ seq }) => {
      tellMaster({ lastcall: 1, type: 'pong', seq });
    },
    'reopen-logs': () => {
      loadLogShim().reopenLogs();
    },
    'keep-alive': ({ on }) => {
      isKeepAliveOn = on;
      // A worker that began to drain keeps saying `Connection: close`, whatever the rotation.
      if (on && drain.phase !== 'serving') return;
      for (const terminator of terminators.values()) {
        if (on) terminator.resumeKeepAlive();
        else terminator.stopKeepAlive();
      }
    },
    // requestMaster() (./api) listens for its answers itself, while it waits for them.
    response: () => undefined,
  };
  process.on('message', (value: unknown) => {
    // The app's own messages are the app's; a lastcall message this runtime cannot read (of a
    // wrong shape or unknown type) changes nothing here.
    const parsed = parseMasterMessage(value);
    if (parsed.kind !== 'message') return;
    // The table's type ties each handler to its message; TypeScript cannot follow the
    // correlation through the union, hence the one cast.
    (handlers[parsed.message.type] as (message: MasterMessage) => void)(parsed.message);
  });

  const report = (): void => {
    let connections = 0;
    let inFlight = 0;
    for (const terminator of terminators.values()) {
      const stats = terminator.stats();
      connections += stats.idle + stats.active + stats.upgraded + stats.h2Sessions;
      inFlight += stats.active;
    }
    tellMaster({
      lastcall: 1,
      type: 'stats',
      requests,
      connections,
      connectionsServed,
      rss: process.memoryUsage.rss(),
      inFlight,
    });
  };
  setInterval(report, STATS_INTERVAL).unref();
}
