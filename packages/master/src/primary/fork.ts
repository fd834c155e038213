import cluster from 'node:cluster';
import type { ClusterSettings, Worker } from 'node:cluster';
import { accessSync, constants, statSync } from 'node:fs';
import * as path from 'node:path';
import type { ResolvedMasterOptions } from './options';
import {
  DRAIN_TIMEOUT_ENV,
  HEADERS_TIMEOUT_ENV,
  IDLE_TIMEOUT_ENV,
  KEEP_ALIVE_TIMEOUT_ENV,
  MASTER_ENV,
  SLOT_ENV,
} from '../protocol';
import { WorkerHandle } from './worker-handle';
import type { WorkerObserver } from './worker-handle';

/** The worker runtime every worker loads before the app (`--require`). */
const RUNTIME = require.resolve('../worker/runtime');

/**
 * The switch to turn setsid off: with `LASTCALL_WORKER_SETSID=0` in the master's environment,
 * workers are forked in the master's process group, where the processes a worker starts outlive
 * a worker that is killed and a master that dies.
 */
export const WORKER_SETSID_ENV = 'LASTCALL_WORKER_SETSID';

/** What the master logs, once, when its workers cannot lead their own process group. */
export const NO_WORKER_GROUP_WARNING =
  "setsid (util-linux) was not found in /usr/bin, /bin or on PATH: workers stay in the master's " +
  'process group, so the processes a worker starts outlive a worker that is killed and a ' +
  `master that dies. Install util-linux, or set ${WORKER_SETSID_ENV}=0 to keep them there ` +
  'without this warning.';

/** Where setsid was found, once looked up (the path is undefined when there is none). */
let setsidLookup: { readonly path: string | undefined } | undefined;

/**
 * True when the workers this master forks lead their own process group and session (through
 * setsid), so that signalling the group reaches everything a worker started.
 */
export function workersLeadOwnGroup(): boolean {
  return setsidForWorkers() !== undefined;
}

/**
 * {@link NO_WORKER_GROUP_WARNING} when workers cannot lead their own process group because
 * setsid is missing; undefined when they do, or when {@link WORKER_SETSID_ENV} turned it off.
 */
export function workerGroupWarning(): string | undefined {
  return isSetsidTurnedOff() || workersLeadOwnGroup() ? undefined : NO_WORKER_GROUP_WARNING;
}

/**
 * Forks one worker of `slot` with the worker runtime preloaded, and wraps it. In fixed-port
 * mode the worker is told its port in `PORT` and is ready when it listens there. The worker
 * leads its own process group and session when setsid is there (see {@link workersLeadOwnGroup}).
 */
export function forkWorker(
  options: ResolvedMasterOptions,
  slot: number,
  observer: WorkerObserver,
): WorkerHandle {
  const { exec, args, execArgv, env, readyOn, readyTimeout, drainTimeout, killTimeout } = options;
  // Only what is given: cluster keeps its own defaults (the current script and its arguments).
  const settings: ClusterSettings = {
    ...(exec === undefined ? {} : { exec }),
    ...(args === undefined ? {} : { args: [...args] }),
    silent: true,
    execArgv: [...process.execArgv, ...execArgv, '--require', RUNTIME],
  };
  const port = options.ports?.[slot];
  const worker = forkInOwnGroup(settings, {
    ...env,
    ...(port === undefined ? {} : { PORT: String(port) }),
    [MASTER_ENV]: '1',
    [SLOT_ENV]: String(slot),
    [DRAIN_TIMEOUT_ENV]: String(drainTimeout),
    // Always set, so that a value in the master's own environment cannot turn it on.
    [IDLE_TIMEOUT_ENV]: String(options.idleTimeout ?? 0),
    [KEEP_ALIVE_TIMEOUT_ENV]: String(options.keepAliveTimeout ?? 0),
    [HEADERS_TIMEOUT_ENV]: String(options.headersTimeout ?? 0),
  });
  const times = {
    readyOn: port !== undefined && readyOn === 'listening' ? { port } : readyOn,
    readyTimeout,
    drainTimeout,
    killTimeout,
    output: options.output,
  };
  return new WorkerHandle(slot, worker, times, observer);
}

/**
 * `cluster.fork(env)` with `settings`, through setsid when there is one. node:cluster has no
 * `detached` option and spawns `process.execPath` (lib/internal/cluster/primary.js calls
 * child_process.fork, which spawns `execPath [...execArgv, script, ...args]`), so for the
 * synchronous span of the fork setsid stands in for process.execPath and node leads execArgv.
 * A freshly forked child does not lead a process group, so setsid calls setsid() and execs node
 * in place: the same pid, the IPC fd inherited, node's own argv and execArgv as without it.
 */
function forkInOwnGroup(settings: ClusterSettings, env: NodeJS.ProcessEnv): Worker {
  const setsid = setsidForWorkers();
  if (setsid === undefined) {
    cluster.setupPrimary(settings);
    return cluster.fork(env);
  }
  const node = process.execPath;
  try {
    cluster.setupPrimary({ ...settings, execArgv: [node, ...(settings.execArgv ?? [])] });
    process.execPath = setsid;
    return cluster.fork(env);
  } finally {
    process.execPath = node;
    // cluster.settings is read by whoever forks next: it must not name node as an argument.
    cluster.setupPrimary(settings);
  }
}

function isSetsidTurnedOff(): boolean {
  return process.env[WORKER_SETSID_ENV] === '0';
}

function setsidForWorkers(): string | undefined {
  if (isSetsidTurnedOff()) return undefined;
  setsidLookup ??= { path: findSetsid() };
  return setsidLookup.path;
}

/**
 * The system's setsid (/usr/bin, /bin) first, whatever PATH says; else the first executable one
 * on PATH (absolute entries only: the worker may start in another cwd).
 */
function findSetsid(): string | undefined {
  const onPath = (process.env['PATH'] ?? '')
    .split(path.delimiter)
    .filter((dir) => path.isAbsolute(dir))
    .map((dir) => path.join(dir, 'setsid'));
  return ['/usr/bin/setsid', '/bin/setsid', ...onPath].find(isExecutableFile);
}

function isExecutableFile(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}
