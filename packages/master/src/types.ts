import type { Graceful } from '@lastcall/graceful';
import type { Logger } from '@lastcall/log-shim';

/** Exponential backoff between re-forks of a slot whose workers keep dying young. */
export interface BackoffOptions {
  /** ms before the first re-fork; default 100. */
  readonly initial?: number;
  /** ms, the longest delay; default 30000. */
  readonly max?: number;
  /** Each further quick death multiplies the delay by this; default 2. */
  readonly factor?: number;
  /** The delay varies by up to ± this fraction (0 to 1); default 0.2. */
  readonly jitter?: number;
}

/** When to replace a worker that has done enough (through the rolling path, one at a time). */
export interface RecycleOptions {
  /** Replace a worker once it has received this many requests. */
  readonly maxRequests?: number;
  /** … once it holds this many open connections. */
  readonly maxConnections?: number;
  /** … once its resident memory passes this many MiB. */
  readonly maxRssMB?: number;
  /** … once it is this many ms old. */
  readonly maxAgeMs?: number;
  /** ms between two recycles (± 20 %); default 30000. */
  readonly spacing?: number;
}

/** Health checks of the workers; `false` turns them off. */
export interface HealthOptions {
  /** ms between two pings of each worker; default 5000. */
  readonly pingInterval?: number;
  /** Pings in a row a worker may miss (a blocked event loop) before it is replaced; default 3. */
  readonly missedPings?: number;
  /**
   * Your own check, called every `pingInterval` for each ready worker: `false`, a rejection or a
   * throw replaces it. Default: none.
   */
  readonly probe?: (worker: WorkerInfo) => boolean | Promise<boolean>;
}

/** The master's heartbeat listener for a load balancer (cluster2's ECV). */
export interface HeartbeatOptions {
  /** The port; `0` picks a free one (see `master.heartbeatAddress()`). */
  readonly port: number;
  /** Default `'127.0.0.1'`. */
  readonly host?: string;
  /** Default `'/ecv'`. */
  readonly path?: string;
  /** When set, `POST <path>/disable` and `/enable` need `Authorization: Bearer <token>`. */
  readonly token?: string;
  /** The fewest ready workers for a 200; default 1. */
  readonly minReady?: number;
  /** Reported as `version`; default `LASTCALL_APP_VERSION`, else `npm_package_version`. */
  readonly version?: string;
}

/** When a forked worker counts as ready. */
export type ReadyOn =
  /** Its first `listening` event (any server, any address). */
  | 'listening'
  /** The worker calls `ready()` from `@lastcall/master`. */
  | 'message'
  /** It listens on this port (and address, when given). */
  | { readonly port: number; readonly address?: string };

/** Options of {@link Master}; every one is optional and validated. */
export interface MasterOptions {
  /** The worker script; default: the current script, as with `cluster`. */
  readonly exec?: string;
  /** Arguments of the worker script. */
  readonly args?: readonly string[];
  /**
   * Node options for every worker, after the master's own (`process.execArgv`) and before the
   * worker runtime's `--require`: `['--max-old-space-size=512']`, or a `--require` of yours.
   */
  readonly execArgv?: readonly string[];
  /** Extra environment of every worker. */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * How many workers: a whole number ≥ 1 or a function returning one; default
   * `LASTCALL_WORKERS`, `THEHELP_NUMBER_WORKERS`, else `os.availableParallelism()`.
   */
  readonly workers?: number | (() => number);
  /** Awaited before every fork (e.g. to chdir to a new release). A throw fails that fork. */
  readonly beforeFork?: (slot: number) => unknown;
  /** When a new worker counts as ready; default `'listening'`. */
  readonly readyOn?: ReadyOn;
  /** ms a new worker has to become ready; default 30000. */
  readonly readyTimeout?: number;
  /** ms a draining worker has before it gets SIGTERM; default 30000. */
  readonly drainTimeout?: number;
  /** ms after SIGTERM before SIGKILL; default 5000. */
  readonly killTimeout?: number;
  /** How many replacements a rolling restart runs at once; default 1. */
  readonly maxSurge?: number;
  /** ms a worker must live for its death not to count as a quick one; default 5000. */
  readonly stableAfter?: number;
  /** Backoff between re-forks of a slot whose workers die young. */
  readonly backoff?: BackoffOptions;
  /** Re-forks of one slot allowed within `restartWindow` before the slot is failed; default 10. */
  readonly maxRestarts?: number;
  /** ms; default 60000. */
  readonly restartWindow?: number;
  /** The signal that starts a rolling restart; default `'SIGUSR2'`; `null` for none. */
  readonly restartSignal?: NodeJS.Signals | null;
  /**
   * The master's shutdown coordinator; default `Graceful.start()`. SIGTERM drains every worker,
   * then exits 0.
   */
  readonly graceful?: Graceful;
  /** Where the master logs; default `getLogger('lastcall:master')`. */
  readonly logger?: Logger;
  /** Recycling; default none. */
  readonly recycle?: RecycleOptions;
  /** Health pings and probe; default pings every 5000 ms, 3 may be missed; `false` for none. */
  readonly health?: HealthOptions | false;
  /** A heartbeat listener for a load balancer; default none. */
  readonly heartbeat?: HeartbeatOptions;
  /** Written at start with the master's pid, refused when it names a live process, removed at exit. */
  readonly pidFile?: string;
  /**
   * Fixed-port mode, for servers that must not be load-balanced: one worker per port, told its
   * port in `PORT`, ready when it listens on it. `workers` is the number of ports.
   */
  readonly ports?: readonly number[];
}

/**
 * The life of one worker, as the master sees it (the transition table is in the README):
 * `forking` until its process is up, `starting` until it is ready, `ready` while it serves,
 * `draining` once the master ordered its drain or it began to shut down by itself, `killing`
 * once it was sent SIGKILL, `exited` at the end.
 */
export type WorkerState = 'forking' | 'starting' | 'ready' | 'draining' | 'killing' | 'exited';

/** How a worker ended. */
export interface WorkerExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** ms it lived. */
  readonly uptime: number;
  /** It crashed, was drained by the master, or was killed after its drain timed out. */
  readonly reason: 'crash' | 'drained' | 'killed' | 'failed-start';
}

/** One row of {@link Master.status}. */
export interface WorkerInfo {
  readonly slot: number;
  /** Its port, in fixed-port mode. */
  readonly port: number | undefined;
  /** cluster's worker id. */
  readonly id: number;
  readonly pid: number | undefined;
  readonly state: WorkerState;
  /** ms since it was forked. */
  readonly uptime: number;
  /** Re-forks of its slot so far. */
  readonly restarts: number;
  /** Bytes, as last reported by the worker; undefined before its first report. */
  readonly rss: number | undefined;
  /** Requests it has received so far, as last reported. */
  readonly requests: number;
  /** Open connections of its servers, as last reported. */
  readonly connections: number;
  /**
   * Lines (and their bytes) of its stdout and stderr the master dropped because its own stdout or
   * stderr did not keep up; a piece of a split long line counts as one line. Always set by
   * `status()`; optional because a master of an earlier version (asked by a newer CLI) has none.
   */
  readonly droppedOutput?: { readonly lines: number; readonly bytes: number };
  /** How the previous worker of the slot ended. */
  readonly lastExit: WorkerExit | undefined;
}

/** What {@link Master.restart} resolves with. */
export interface RestartReport {
  /** Slots replaced, in order. */
  readonly replaced: readonly {
    readonly slot: number;
    readonly oldPid: number | undefined;
    readonly newPid: number | undefined;
  }[];
  /** ms from the start of the restart to the exit of the last old worker. */
  readonly duration: number;
}

/** The fields every worker event carries. */
export interface WorkerEventInfo {
  readonly slot: number;
  readonly id: number;
  readonly pid: number | undefined;
}

/** The events of a {@link Master}, with their arguments. */
export interface MasterEvents {
  fork: [info: WorkerEventInfo];
  listening: [info: WorkerEventInfo & { readonly address: string; readonly port: number }];
  ready: [info: WorkerEventInfo & { readonly startup: number }];
  drain: [info: WorkerEventInfo & { readonly reason: string }];
  exit: [info: WorkerEventInfo & WorkerExit];
  respawn: [info: { readonly slot: number; readonly delay: number; readonly restarts: number }];
  failed: [info: { readonly slot: number; readonly restarts: number; readonly window: number }];
  restart: [info: { readonly workers: number }];
  restartStep: [
    info: {
      readonly slot: number;
      readonly oldPid: number | undefined;
      readonly newPid: number | undefined;
    },
  ];
  restartDone: [report: RestartReport];
  restartAborted: [info: { readonly slot: number; readonly error: Error }];
  recycle: [info: WorkerEventInfo & { readonly reason: string }];
}
