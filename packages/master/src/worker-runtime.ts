/**
 * The worker runtime: every worker the master forks loads this module before the app
 * (`node --require`). It changes nothing in the app. It finds the app's listening servers
 * through Node's diagnostics channels (no monkey-patching) and attaches a terminator to each,
 * counts requests, reports stats, and drains when the master says so: it stops accepting, marks
 * every later response `Connection: close`, closes sockets as they become idle, and exits when
 * none is left or at the deadline. It drains through the process's @lastcall/graceful
 * coordinator, the app's own when it started one (its hooks run too), else one it starts after
 * the app's main module has loaded.
 */
import cluster from 'node:cluster';
import * as diagnostics from 'node:diagnostics_channel';
import type * as net from 'node:net';
import { Graceful, deferSignals } from '@lastcall/graceful';
import { getLogger, reopenLogs } from '@lastcall/log-shim';
import { createTerminator } from '@lastcall/terminator';
import type { Terminator } from '@lastcall/terminator';
import {
  DRAIN_TIMEOUT_ENV,
  MASTER_ENV,
  STATS_INTERVAL,
  WORKER_STOP_SIGNALS,
  readLastcallMessage,
} from './protocol';
import { tellMaster } from './worker';

/**
 * ms a keep-alive socket must have been quiet before the drain closes it. A pooled client (undici,
 * an Agent) that got a response without `Connection: close` may send its next request on that
 * socket at any moment; one that crosses our FIN is lost. Busy sockets get a response with
 * `Connection: close` within this time and their clients move on; a socket quiet for a second
 * belongs to a client that is not sending.
 */
const IDLE_GRACE = 1000;

/** ms a worker that shuts down by itself waits for the master's `hold` or `go`. */
const VERDICT_WAIT = 1000;

/**
 * The share of drainTimeout a held worker waits for its replacement: the rest of its deadline
 * is left to close its listener and leave the cluster, so that no connection is stranded.
 */
const HOLD_SHARE = 0.5;

/** ms a worker the master drains keeps serving keep-alive after closing its listener. */
const DRAIN_DELAY = 100;

/** The share of the master's drainTimeout a worker's own shutdown deadline gets. */
const OWN_DEADLINE_SHARE = 0.9;

if (cluster.isWorker && process.env[MASTER_ENV] === '1') startRuntime();

function startRuntime(): void {
  const log = getLogger('lastcall:master');
  // The worker's stdout and stderr are pipes to the master. When the master dies they break,
  // and a write to them fails with EPIPE as an 'error' event: without a listener that is an
  // uncaught exception, whose crash report writes to stderr again, and so on, while the worker
  // should simply drain (its IPC channel closed too) and exit.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
  const terminators = new Map<net.Server, Terminator>();
  let requests = 0;
  diagnostics.subscribe('tracing:net.server.listen:asyncEnd', (message) => {
    const { server } = message as { server: net.Server };
    if (terminators.has(server)) return;
    try {
      terminators.set(server, createTerminator(server, { idleGrace: IDLE_GRACE }));
    } catch (error) {
      log.warn('a listening server cannot be drained by the worker runtime', { err: error });
    }
  });
  diagnostics.subscribe('http.server.request.start', () => {
    requests += 1;
  });

  let graceful: Graceful | undefined;
  const adopt = (): Graceful => {
    if (graceful !== undefined) return graceful;
    // The worker's own deadline passes before the master's SIGTERM (at drainTimeout), so that
    // a worker whose event loop still turns exits by itself, with its own exit code.
    const drainTimeout = Number(process.env[DRAIN_TIMEOUT_ENV]);
    const adopted =
      Graceful.instance === undefined
        ? Graceful.start(
            Number.isFinite(drainTimeout) && drainTimeout > 0
              ? { timeout: Math.round(drainTimeout * OWN_DEADLINE_SHARE) }
              : {},
          )
        : Graceful.start();
    graceful = adopted;
    // After a drain order, the terminators are in their drain delay (below), which holds this off.
    const stopKeepAlive = (): void => {
      for (const terminator of terminators.values()) terminator.stopKeepAlive();
    };
    if (adopted.state === 'running') adopted.once('draining', stopKeepAlive);
    else stopKeepAlive();
    adopted.onShutdown(
      async (_reason, signal) => {
        // A worker that shuts down by itself (a crash, its own SIGTERM) keeps listening, with
        // Connection: close on every response, until the master says its replacement is ready:
        // the only worker on a port that closed its listener first would refuse connections.
        await untilDrainOrdered(signal);
        // A drain the master ordered began at its order (below); this call joins it.
        await Promise.all([...terminators.values()].map((terminator) => terminator.terminate()));
      },
      { name: 'lastcall worker servers' },
    );
    return adopted;
  };
  // After the app's main module: a Graceful it starts there is the one adopted.
  setImmediate(adopt);

  // A signal sent to the whole process group (systemd's control-group kill, Ctrl-C in a terminal,
  // `kill -- -PGID`) reaches this worker beside its master. While the master is there it decides:
  // it drains this worker in its own order, or, when the signal was this worker's alone, forks
  // the replacement first. A Graceful here leaves these signals alone meanwhile; without a master
  // the worker drains by itself.
  deferSignals(() => process.connected);
  for (const signal of WORKER_STOP_SIGNALS) {
    process.on(signal, () => {
      if (process.connected) {
        log.info(`${signal} received; the master decides`, { signal });
        tellMaster({ lastcall: 1, type: 'signal', signal });
      } else {
        void adopt().shutdown();
      }
    });
  }

  // The master answers a worker that shuts down by itself with `go` (others serve its port:
  // close the listener now) or `hold` (it is the only one: keep listening until the drain order
  // says the replacement is ready).
  let verdict: 'go' | 'hold' | undefined;
  let isDrainOrdered = false;
  const wakers = new Set<() => void>();
  const wake = (): void => {
    for (const waker of [...wakers]) waker();
  };
  const waitUntil = (isDone: () => boolean, ms: number, signal: AbortSignal): Promise<void> => {
    if (isDone() || !process.connected || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      let isTimedOut = false;
      const done = (): void => {
        if (!isDone() && !signal.aborted && process.connected && !isTimedOut) return;
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        process.off('disconnect', done);
        wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(() => {
        isTimedOut = true;
        done();
      }, ms);
      signal.addEventListener('abort', done, { once: true });
      process.once('disconnect', done);
      wakers.add(done);
    });
  };
  const untilDrainOrdered = async (signal: AbortSignal): Promise<void> => {
    await waitUntil(() => isDrainOrdered || verdict !== undefined, VERDICT_WAIT, signal);
    if (verdict !== 'hold') return;
    const drainTimeout = Number(process.env[DRAIN_TIMEOUT_ENV]);
    const holdFor =
      Number.isFinite(drainTimeout) && drainTimeout > 0 ? drainTimeout * HOLD_SHARE : 0;
    await waitUntil(() => isDrainOrdered, holdFor, signal);
  };

  process.on('message', (value: unknown) => {
    const message = readLastcallMessage(value);
    if (message?.type === 'drain') {
      isDrainOrdered = true;
      wake();
      // The worker closes its listener, then keeps serving keep-alive as before for DRAIN_DELAY:
      // time for the primary to take it out of the rotation and, when it was the last one on its
      // port, to stop accepting. Clients told `Connection: close` afterwards reconnect to another
      // worker or into a refused port, never into a connection the primary accepted and can no
      // longer hand to anyone. Begun before the shutdown, whose 'draining' an app's own adapter
      // (@lastcall/express) answers with stopKeepAlive(): the drain delay holds that off too.
      if (verdict === undefined) {
        for (const terminator of terminators.values()) {
          void terminator.terminate({ drainDelay: DRAIN_DELAY });
        }
      }
      void adopt().shutdown();
    } else if (message?.type === 'hold' || message?.type === 'go') {
      verdict = message.type;
      wake();
    } else if (message?.type === 'ping' && typeof message['seq'] === 'number') {
      tellMaster({ lastcall: 1, type: 'pong', seq: message['seq'] });
    } else if (message?.type === 'reopen-logs') reopenLogs();
  });

  const report = (): void => {
    let connections = 0;
    for (const terminator of terminators.values()) {
      const stats = terminator.stats();
      connections += stats.idle + stats.active + stats.upgraded + stats.h2Sessions;
    }
    tellMaster({
      lastcall: 1,
      type: 'stats',
      requests,
      connections,
      rss: process.memoryUsage.rss(),
    });
  };
  setInterval(report, STATS_INTERVAL).unref();
}
