import cluster from 'node:cluster';
import type { ResolvedMasterOptions } from './options';
import { DRAIN_TIMEOUT_ENV, MASTER_ENV, SLOT_ENV } from './protocol';
import { WorkerHandle } from './worker-handle';
import type { WorkerObserver } from './worker-handle';

/** The worker runtime every worker loads before the app (`--require`). */
const RUNTIME = require.resolve('./worker-runtime');

/**
 * Forks one worker of `slot` with the worker runtime preloaded, and wraps it. In fixed-port
 * mode the worker is told its port in `PORT` and is ready when it listens there.
 */
export function forkWorker(
  options: ResolvedMasterOptions,
  slot: number,
  observer: WorkerObserver,
): WorkerHandle {
  const { exec, args, execArgv, env, readyOn, readyTimeout, drainTimeout, killTimeout } = options;
  // Only what is given: cluster keeps its own defaults (the current script and its arguments).
  cluster.setupPrimary({
    ...(exec === undefined ? {} : { exec }),
    ...(args === undefined ? {} : { args: [...args] }),
    silent: true,
    execArgv: [...process.execArgv, ...execArgv, '--require', RUNTIME],
  });
  const port = options.ports?.[slot];
  const worker = cluster.fork({
    ...env,
    ...(port === undefined ? {} : { PORT: String(port) }),
    [MASTER_ENV]: '1',
    [SLOT_ENV]: String(slot),
    [DRAIN_TIMEOUT_ENV]: String(drainTimeout),
  });
  const times = {
    readyOn: port !== undefined && readyOn === 'listening' ? { port } : readyOn,
    readyTimeout,
    drainTimeout,
    killTimeout,
  };
  return new WorkerHandle(slot, worker, times, observer);
}
