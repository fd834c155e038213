import cluster from 'node:cluster';
import { describeValue, getLogger } from '@lastcall/log-shim';
import { Master, MasterError, isMasterWorker, requestMaster } from '@lastcall/master';
import type { MasterOptions, RestartReport } from '@lastcall/master';
import type { StatsdLike } from '@lastcall/last-ditch';
import { LastcallError } from './errors';
import { countLaunch } from './launch-metrics';

/** The request type a worker's `handle.restart()` sends to the master. */
export const RESTART_REQUEST = 'lastcall:restart';
/** The request type a worker's `handle.stop()` sends to the master. */
export const STOP_REQUEST = 'lastcall:stop';

/** Options of {@link lastcall}: the master's, plus what runs where. */
export interface LastcallOptions extends MasterOptions {
  /** Runs in every worker: start your server here. Required unless `master` replaces the master. */
  readonly worker?: () => unknown;
  /** Runs in the primary instead of a {@link Master} (a master of your own). */
  readonly master?: () => unknown;
  /** Launch metrics: a statsd client or `'host:port'`; default `LASTCALL_STATSD`; `false` for none. */
  readonly statsd?: StatsdLike | string | false;
  /** The app name of the metrics; default `LASTCALL_APP_NAME`, `THEHELP_APP_NAME`, package.json. */
  readonly appName?: string;
}

/** What {@link lastcall} returns, in every process. */
export interface LastcallHandle {
  /** `'master'` in the cluster primary, `'worker'` in a worker. */
  readonly role: 'master' | 'worker';
  /** The master, in the primary when lastcall created one. */
  readonly master: Master | undefined;
  /**
   * Settles when the process is up: the master's `start()` in the primary (its rejection is also
   * logged and sets `process.exitCode = 1`, so an unawaited failure is not silent), `worker()`'s
   * result in a worker.
   */
  readonly started: Promise<void>;
  /**
   * A rolling restart. In the primary it resolves with the report when the restart is done; from
   * a worker it is asked of the master (`requestMaster`) and resolves, with `undefined`, once the
   * restart is under way: the asking worker is one of those it replaces. Its outcome is in the
   * master's log and events.
   */
  restart(): Promise<RestartReport | undefined>;
  /** Drains every worker and stops; from a worker, asked of the master. */
  stop(): Promise<void>;
}

const noop = (): void => undefined;

const OWN_OPTIONS = ['worker', 'master', 'statsd', 'appName'] as const;

/**
 * thehelp-cluster's front door: `lastcall({ worker() { require('./server') } })`. In the cluster
 * primary it creates and starts a {@link Master} (which re-runs this script in each worker), or
 * runs `options.master` when given; in a worker it runs `options.worker`. Code outside the
 * callbacks runs in every process. Throws a coded error for bad options: its own in every process,
 * the master's in the primary.
 */
export function lastcall(options: LastcallOptions): LastcallHandle {
  const { worker, master, statsd, appName, masterOptions } = readOptions(options);
  const role = cluster.isPrimary ? 'master' : 'worker';
  const log = getLogger('lastcall');
  void countLaunch(role, { statsd, appName, logger: log });
  if (role === 'worker') return workerHandle(worker);
  if (master !== undefined) {
    return {
      role,
      master: undefined,
      started: Promise.resolve()
        .then(() => master())
        .then(() => undefined),
      restart: () => Promise.reject(noMaster('restart')),
      stop: () => Promise.reject(noMaster('stop')),
    };
  }
  const created = new Master(masterOptions);
  // Answered as soon as the restart is under way: the asking worker is one of those it replaces,
  // so it could not wait for the end (its own drain would wait for this very request).
  created.handle(RESTART_REQUEST, () => {
    created.restart().catch(noop);
    return true;
  });
  created.handle(STOP_REQUEST, () => {
    // Answered first: the asking worker is one of those the stop drains.
    setImmediate(() => void created.stop());
    return true;
  });
  const started = created.start();
  started.catch((error: unknown) => {
    log.error(error instanceof Error ? error.message : String(error), {
      code: error instanceof MasterError ? error.code : undefined,
    });
    process.exitCode = 1;
  });
  return {
    role,
    master: created,
    started,
    restart: () => created.restart(),
    stop: () => created.stop(),
  };
}

function workerHandle(worker: (() => unknown) | undefined): LastcallHandle {
  const started =
    worker === undefined
      ? Promise.resolve()
      : Promise.resolve()
          .then(() => worker())
          .then(() => undefined);
  return {
    role: 'worker',
    master: undefined,
    started,
    restart: async () => {
      if (!isMasterWorker()) throw noMaster('restart');
      await requestMaster(RESTART_REQUEST);
      return undefined;
    },
    stop: async () => {
      if (!isMasterWorker()) throw noMaster('stop');
      await requestMaster(STOP_REQUEST);
    },
  };
}

function noMaster(action: string): LastcallError {
  return new LastcallError(
    'LASTCALL_ERR_LASTCALL_NO_MASTER',
    `handle.${action}(): there is no lastcall master to ${action} (options.master replaced it, or this worker was not forked by one)`,
  );
}

function readOptions(options: unknown): {
  worker: (() => unknown) | undefined;
  master: (() => unknown) | undefined;
  statsd: StatsdLike | string | false | undefined;
  appName: string | undefined;
  masterOptions: MasterOptions;
} {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw invalid(`lastcall(options): expected an object, got ${describeValue(options)}`);
  }
  const given = options as Record<string, unknown>;
  for (const name of ['worker', 'master'] as const) {
    if (given[name] !== undefined && typeof given[name] !== 'function') {
      throw invalid(`lastcall(): "${name}" must be a function, got ${describeValue(given[name])}`);
    }
  }
  if (given['worker'] === undefined && given['master'] === undefined) {
    throw invalid('lastcall(): give "worker", the function that starts your server in each worker');
  }
  const masterOptions = Object.fromEntries(
    Object.entries(given).filter(([name]) => !(OWN_OPTIONS as readonly string[]).includes(name)),
  ) as MasterOptions;
  return {
    worker: given['worker'] as (() => unknown) | undefined,
    master: given['master'] as (() => unknown) | undefined,
    // Checked by countLaunch, which throws the same coded error.
    statsd: given['statsd'] as StatsdLike | string | false | undefined,
    appName: given['appName'] as string | undefined,
    masterOptions,
  };
}

function invalid(message: string): LastcallError {
  return new LastcallError('LASTCALL_ERR_LASTCALL_INVALID_OPTIONS', message);
}
