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
  /**
   * … once its servers have accepted this many connections in total since its fork (cluster2's
   * `connThreshold`; keep-alive clients open few, so `maxRequests` is often what you want).
   */
  readonly maxConnectionsServed?: number;
  /** … once it holds this many connections open at the same moment. */
  readonly maxOpenConnections?: number;
  /**
   * Deprecated: the former name of `maxOpenConnections` (connections open now, not served in
   * total); still read, with one warning at start. Not together with `maxOpenConnections`.
   */
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
   * Your own check, called every `pingInterval` for each ready worker (never twice at once for
   * one worker) with its {@link WorkerInfo}: `slot`, `pid`, `port` (in fixed-port mode: the port
   * to probe, as child_monitor's `info.port`), `uptime`, `requests`, `connections`,
   * `connectionsServed`, `rss`, ... Anything but `true` (`false`, a rejection, a throw) replaces
   * the worker through the rolling path, with the slot's crash backoff (see `stableAfter`,
   * `backoff`, `maxRestarts`). Default: none.
   */
  readonly probe?: (worker: WorkerInfo) => boolean | Promise<boolean>;
}

/** The master's heartbeat listener for a load balancer (cluster2's ECV). */
export interface HeartbeatOptions {
  /** The port; `0` picks a free one (see `master.heartbeatAddress()`). */
  readonly port: number;
  /**
   * Default `'127.0.0.1'`. Any address a balancer or a kubelet reaches (`'0.0.0.0'`, `'::'`, a
   * host's own address) needs a `token`.
   */
  readonly host?: string;
  /** Default `'/ecv'`. */
  readonly path?: string;
  /**
   * When set, `POST <path>/disable` and `/enable` need `Authorization: Bearer <token>`. Default
   * `LASTCALL_HEARTBEAT_TOKEN`. Required when `host` is not a loopback address
   * (`LASTCALL_ERR_MASTER_TOKEN_REQUIRED`); never logged or reported. `GET` routes need none.
   */
  readonly token?: string;
  /** The fewest ready workers for a 200; default 1. */
  readonly minReady?: number;
  /**
   * Reported as `version`, whatever the workers run: leave it out to have the heartbeat report
   * the version the ready workers report (`LASTCALL_APP_VERSION` in their environment, else
   * their app's package.json `version`, read at each fork, so a reload with new code shows),
   * `'mixed'` while they differ. Without it and without a worker's version: the master's
   * `LASTCALL_APP_VERSION`, else `npm_package_version`, at its start.
   */
  readonly version?: string;
  /**
   * The wire format of `GET <path>`: `'json'` (default), or `'cluster2'` for cluster2's ECV text
   * (`status=AVAILABLE&ServeTraffic=true&ip=…&hostname=…&port=…&time=…`) with its codes 200,
   * 400 (disabled, starting, shutting down) and 500 (monitor failed, too few workers), so that
   * existing load-balancer checks keep matching.
   */
  readonly format?: 'json' | 'cluster2';
  /**
   * A dependency gate (cluster2's `ecv.monitor`): while it fails, the heartbeat answers as down
   * (`monitor-failed`, 503; cluster2's 500 WARNING) and the workers are left alone. An
   * `http:`/`https:` URL is up on a 2xx; a path (`'/healthcheck'`) is a GET of the workers' app
   * on the address they listen on; a function is up when it returns or resolves `true`. A throw,
   * a rejection, an error or no answer within `monitorTimeout` counts as down. Default: none.
   */
  readonly monitor?: string | (() => boolean | Promise<boolean>);
  /** ms a monitor check may take before it counts as down; default 2000, at most 60000. */
  readonly monitorTimeout?: number;
  /**
   * ms a monitor result is reused by later heartbeat requests; default 1000, at most 60000; `0`
   * checks on every request. Concurrent requests always share the one check in flight.
   */
  readonly monitorCacheMs?: number;
}

/** Which output of a worker a line comes from. */
export type OutputStreamName = 'stdout' | 'stderr';

/** Whose line it is: the second argument of an `output` function. */
export interface OutputLineInfo {
  readonly slot: number;
  /** cluster's worker id. */
  readonly id: number;
  readonly pid: number | undefined;
  readonly stream: OutputStreamName;
}

/**
 * An `output` function: called synchronously once per whole line of a worker, without its
 * newline (nor a `\r` before it). A throw loses that line only; throws are counted and logged.
 */
export type OutputLineHandler = (line: string, info: OutputLineInfo) => void;

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
  /**
   * ms after which every worker ends (FIN) an HTTP/1 socket of the app's servers that has had
   * no request in flight and received no byte that long, counted from the end of the last
   * response or from the connection: cluster2's `timeout` (which was 30000). A request in
   * flight is never cut; upgraded sockets and HTTP/2 sessions are left alone. Off by default
   * (`undefined` or `false`): Node's `server.keepAliveTimeout` (5 s) already ends keep-alive
   * sockets idle between requests. Needs no code in the app: the worker runtime applies it.
   */
  readonly idleTimeout?: number | false;
  /** ms after SIGTERM before SIGKILL; default 5000. */
  readonly killTimeout?: number;
  /**
   * ms between the first moment of the master's shutdown (SIGTERM, `lastcall stop`) and the
   * drain. Meanwhile the heartbeat answers 503 and every worker says `Connection: close` while
   * it serves on, so that a balancer stops routing here and clients move their connections
   * before any listener closes; `drainTimeout` counts from its end. Default
   * `LASTCALL_SHUTDOWN_DELAY`, else 3000 when a `heartbeat` is configured, else 0. It is the
   * master's alone: workers do not inherit it (a reload is not slowed by it).
   */
  readonly shutdownDelay?: number;
  /**
   * ms, set as `keepAliveTimeout` on every HTTP server the app creates (by the worker runtime,
   * when the server listens; it overrides a value the app set before). Behind a balancer that
   * keeps idle connections to the app (nginx `keepalive`, HAProxy `http-reuse`, AWS ALB), make
   * it LONGER than the balancer's idle timeout, or the balancer reuses a connection the app is
   * closing and answers 502. Default: the app's own (Node's 5000).
   */
  readonly keepAliveTimeout?: number;
  /** ms, set as `headersTimeout` on every HTTP server the app creates; default: the app's own. */
  readonly headersTimeout?: number;
  /** How many replacements a rolling restart runs at once; default 1. */
  readonly maxSurge?: number;
  /**
   * ms a worker must live (from its fork) for its death not to count as a quick one; default
   * 5000. Quick deaths in a row back off (see `backoff`); the first quick crash of a worker that
   * had become ready is re-forked at once, and each further one in a row waits one step less
   * than a worker that never became ready would.
   */
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
  /**
   * Where each worker's stdout and stderr go, one whole line at a time (a line longer than 64 KiB
   * in pieces): `'inherit'` (default) to the master's stdout and stderr as they are; `'log'` one
   * record per line through `logger`, at info for stdout and warn for stderr, with the fields
   * `{ slot, pid, stream }` (empty lines left out); or a function called once per line. With
   * `'log'` or a function a line is not also printed on the master's own stdout or stderr.
   */
  readonly output?: 'inherit' | 'log' | OutputLineHandler;
  /** Recycling; default none. */
  readonly recycle?: RecycleOptions;
  /** Health pings and probe; default pings every 5000 ms, 3 may be missed; `false` for none. */
  readonly health?: HealthOptions | false;
  /** A heartbeat listener for a load balancer; default none. */
  readonly heartbeat?: HeartbeatOptions;
  /** Written at start with the master's pid, refused when it names a live process, removed at exit. */
  readonly pidFile?: string;
  /**
   * A folder for pid files, as cluster2's `pids`: the master's `<name>.pid` (unless `pidFile` is
   * given) and each worker's `<name>-worker-<slot>.pid`, written when the worker is ready,
   * replaced when a replacement of its slot is ready, removed when it exits and at the master's
   * end. `name` is `pidFile`'s basename without `.pid`, else `LASTCALL_APP_NAME`, else
   * `THEHELP_APP_NAME`, else `'lastcall'`. Made (0755) when missing; refused at start with
   * `LASTCALL_ERR_MASTER_PID_DIR_FAILED` when it is not a real folder of this user that only
   * this user can write into.
   */
  readonly pidDir?: string;
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

/**
 * One row of {@link Master.status}, and what `health.probe` is called with. Counters are the
 * worker's own, reported every second: a probe may see values up to a second old.
 */
export interface WorkerInfo {
  /** Its place in the cluster, 0 to workers − 1; a replacement takes its predecessor's slot. */
  readonly slot: number;
  /** Its port in fixed-port mode (`ports[slot]`, also in its `PORT`); else undefined. */
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
   * Connections its servers accepted in total since its fork, as last reported (0 from a
   * worker of an earlier version). Optional because a master of an earlier version has none.
   */
  readonly connectionsServed?: number;
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
