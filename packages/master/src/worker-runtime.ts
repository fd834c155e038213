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
import { Graceful } from '@lastcall/graceful';
import { getLogger, reopenLogs } from '@lastcall/log-shim';
import { createTerminator } from '@lastcall/terminator';
import type { Terminator } from '@lastcall/terminator';
import { DRAIN_TIMEOUT_ENV, MASTER_ENV, STATS_INTERVAL, readLastcallMessage } from './protocol';
import { tellMaster } from './worker';

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
      terminators.set(server, createTerminator(server));
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
    const stopKeepAlive = (): void => {
      for (const terminator of terminators.values()) terminator.stopKeepAlive();
    };
    if (adopted.state === 'running') adopted.once('draining', stopKeepAlive);
    else stopKeepAlive();
    adopted.onShutdown(
      () => Promise.all([...terminators.values()].map((terminator) => terminator.terminate())),
      { name: 'lastcall worker servers' },
    );
    return adopted;
  };
  // After the app's main module: a Graceful it starts there is the one adopted.
  setImmediate(adopt);

  process.on('message', (value: unknown) => {
    const message = readLastcallMessage(value);
    if (message?.type === 'drain') void adopt().shutdown();
    else if (message?.type === 'ping' && typeof message['seq'] === 'number') {
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
