import * as os from 'node:os';
import { adaptLogger, describeValue, detectLoggerKind, getLogger } from '@lastcall/log-shim';
import type { Logger } from '@lastcall/log-shim';
import type { Graceful } from '@lastcall/graceful';
import { MasterError } from '../errors';
import type { MasterErrorCode } from '../errors';
import type { HeartbeatSettings } from './heartbeat';
import type { MonitorSettings } from './heartbeat-monitor';
import { LineSink } from './line-sink';
import { masterPidFileIn, readPidDir } from './worker-pid-files';
import type { PidDir } from './worker-pid-files';
import type { MasterOptions, OutputLineHandler, ReadyOn, WorkerInfo } from '../types';

/** Defaults of {@link MasterOptions}, in ms where a time. */
export const MASTER_DEFAULTS = {
  readyTimeout: 30_000,
  drainTimeout: 30_000,
  killTimeout: 5000,
  maxSurge: 1,
  stableAfter: 5000,
  maxRestarts: 10,
  restartWindow: 60_000,
  restartSignal: 'SIGUSR2',
  backoff: { initial: 100, max: 30_000, factor: 2, jitter: 0.2 },
  recycleSpacing: 30_000,
  pingInterval: 5000,
  missedPings: 3,
  /**
   * The master's shutdownDelay when a heartbeat is configured and no delay is given: time for a
   * balancer polling the heartbeat to see its 503 and stop routing here (docs/deploying.md
   * recommends checks every 500 ms, down after 2 failures: about 1–1.5 s).
   */
  heartbeatShutdownDelay: 3000,
} as const;

/** The environment variables the master reads for options not given. */
export const SHUTDOWN_DELAY_ENV = 'LASTCALL_SHUTDOWN_DELAY';
export const HEARTBEAT_TOKEN_ENV = 'LASTCALL_HEARTBEAT_TOKEN';

/** The longest shutdownDelay, in ms: an hour. */
export const MAX_SHUTDOWN_DELAY = 3_600_000;

/** The longest keepAliveTimeout or headersTimeout, in ms: what a Node timer can hold. */
const MAX_SERVER_TIMEOUT = 2 ** 31 - 1;

/** The backoff with every default filled in. */
export interface ResolvedBackoff {
  readonly initial: number;
  readonly max: number;
  readonly factor: number;
  readonly jitter: number;
}

/** Recycling with its default spacing; limits left out are not checked. */
export interface ResolvedRecycle {
  readonly maxRequests: number | undefined;
  /** Connections accepted in total since the fork. */
  readonly maxConnectionsServed: number | undefined;
  /** Connections open at once (also from the deprecated `maxConnections`). */
  readonly maxOpenConnections: number | undefined;
  /** The name the open-connections limit was given under, for the log and the reason. */
  readonly openConnectionsName: 'maxOpenConnections' | 'maxConnections';
  /** Warnings the master logs once, at start (a deprecated option). */
  readonly deprecations: readonly string[];
  readonly maxRssMB: number | undefined;
  readonly maxAgeMs: number | undefined;
  readonly spacing: number;
}

/** Health checks with every default filled in. */
export interface ResolvedHealth {
  readonly pingInterval: number;
  readonly missedPings: number;
  readonly probe: ((worker: WorkerInfo) => boolean | Promise<boolean>) | undefined;
}

/** The heartbeat with every default filled in. */
export interface ResolvedHeartbeat extends HeartbeatSettings {
  readonly minReady: number;
}

/** The options with every default filled in. */
export interface ResolvedMasterOptions {
  readonly exec: string | undefined;
  readonly args: readonly string[] | undefined;
  readonly env: Readonly<Record<string, string>>;
  readonly execArgv: readonly string[];
  readonly workers: () => number;
  readonly beforeFork: ((slot: number) => unknown) | undefined;
  readonly readyOn: ReadyOn;
  readonly readyTimeout: number;
  readonly drainTimeout: number;
  /**
   * ms between the first moment of a shutdown (heartbeat 503, `Connection: close`) and the
   * drain: `shutdownDelay`, else `LASTCALL_SHUTDOWN_DELAY`, else 3000 with a heartbeat, else 0.
   */
  readonly shutdownDelay: number;
  /** Set on every HTTP server of the app by the worker runtime; undefined: Node's own. */
  readonly keepAliveTimeout: number | undefined;
  readonly headersTimeout: number | undefined;
  /** ms after which a worker ends a socket with no request in flight; undefined: off. */
  readonly idleTimeout: number | undefined;
  readonly killTimeout: number;
  readonly maxSurge: number;
  readonly stableAfter: number;
  readonly backoff: ResolvedBackoff;
  readonly maxRestarts: number;
  readonly restartWindow: number;
  readonly restartSignal: NodeJS.Signals | null;
  readonly graceful: Graceful | undefined;
  readonly logger: Logger;
  /** `'inherit'`, or the one sink of this master's `'log'` or `output` function. */
  readonly output: 'inherit' | LineSink;
  readonly recycle: ResolvedRecycle | undefined;
  readonly health: ResolvedHealth | undefined;
  readonly heartbeat: ResolvedHeartbeat | undefined;
  /** The master's pid file: `pidFile`, else `<pidDir>/<name>.pid` with `pidDir`. */
  readonly pidFile: string | undefined;
  /** Where the workers' pid files go, with their name. */
  readonly pidDir: PidDir | undefined;
  readonly ports: readonly number[] | undefined;
}

const KNOWN = new Set([
  'exec',
  'args',
  'execArgv',
  'env',
  'workers',
  'beforeFork',
  'readyOn',
  'readyTimeout',
  'drainTimeout',
  'shutdownDelay',
  'keepAliveTimeout',
  'headersTimeout',
  'idleTimeout',
  'killTimeout',
  'maxSurge',
  'stableAfter',
  'backoff',
  'maxRestarts',
  'restartWindow',
  'restartSignal',
  'graceful',
  'logger',
  'output',
  'recycle',
  'health',
  'heartbeat',
  'pidFile',
  'pidDir',
  'ports',
]);

const CATCHABLE = new Set(
  Object.keys(os.constants.signals).filter((name) => name !== 'SIGKILL' && name !== 'SIGSTOP'),
);

function fail(code: MasterErrorCode, name: string, value: unknown, expected: string): never {
  throw new MasterError(
    code,
    `Master: option "${name}" must be ${expected}, got ${describeValue(value)}`,
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readMs(given: Record<string, unknown>, name: string, fallback: number): number {
  const value = given[name];
  if (value === undefined) return fallback;
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return value;
  return fail('LASTCALL_ERR_MASTER_INVALID_TIMEOUT', name, value, 'a finite number of ms > 0');
}

/**
 * `shutdownDelay`: the option, else `LASTCALL_SHUTDOWN_DELAY` (ms), else the default of a master
 * with a heartbeat (a balancer polls it), else 0. 0 is allowed: no delay.
 */
function readShutdownDelay(given: Record<string, unknown>, hasHeartbeat: boolean): number {
  const value = given['shutdownDelay'];
  const expected = `a number of ms from 0 to ${String(MAX_SHUTDOWN_DELAY)}`;
  const isValid = (ms: unknown): ms is number =>
    typeof ms === 'number' && Number.isFinite(ms) && ms >= 0 && ms <= MAX_SHUTDOWN_DELAY;
  if (value !== undefined) {
    return isValid(value)
      ? value
      : fail('LASTCALL_ERR_MASTER_INVALID_TIMEOUT', 'shutdownDelay', value, expected);
  }
  const fromEnv = process.env[SHUTDOWN_DELAY_ENV];
  if (fromEnv !== undefined && fromEnv.trim() !== '') {
    const parsed = Number(fromEnv);
    // Digits only, as LASTCALL_WORKERS and the flag: `1e3` or `0x10` is a mistake, not a delay.
    if (!/^\s*\d+\s*$/.test(fromEnv) || !isValid(parsed)) {
      throw new MasterError(
        'LASTCALL_ERR_MASTER_INVALID_TIMEOUT',
        `Master: ${SHUTDOWN_DELAY_ENV} must be ${expected}, got ${JSON.stringify(fromEnv.slice(0, 100))}`,
      );
    }
    return parsed;
  }
  return hasHeartbeat ? MASTER_DEFAULTS.heartbeatShutdownDelay : 0;
}

/** `keepAliveTimeout`, `headersTimeout`: whole ms > 0; undefined leaves Node's own. */
function readServerTimeout(
  given: Record<string, unknown>,
  name: 'keepAliveTimeout' | 'headersTimeout',
): number | undefined {
  const value = given[name];
  if (value === undefined) return undefined;
  if (Number.isInteger(value) && (value as number) > 0 && (value as number) <= MAX_SERVER_TIMEOUT) {
    return value as number;
  }
  return fail(
    'LASTCALL_ERR_MASTER_INVALID_TIMEOUT',
    name,
    value,
    `a whole number of ms from 1 to ${String(MAX_SERVER_TIMEOUT)}`,
  );
}

/** `idleTimeout`: off when left out or `false`. */
function readIdleTimeout(given: Record<string, unknown>): number | undefined {
  const value = given['idleTimeout'];
  if (value === undefined || value === false) return undefined;
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return value;
  return fail(
    'LASTCALL_ERR_MASTER_INVALID_TIMEOUT',
    'idleTimeout',
    value,
    'a finite number of ms > 0, or false for none',
  );
}

function readCount(
  value: unknown,
  name: string,
  fallback: number,
  code: MasterErrorCode = 'LASTCALL_ERR_MASTER_INVALID_OPTIONS',
): number {
  if (value === undefined) return fallback;
  if (Number.isInteger(value) && (value as number) >= 1) return value as number;
  return fail(code, name, value, 'a whole number >= 1');
}

/**
 * The most workers one master forks. Past it a typo (`--workers 100000`, `LASTCALL_WORKERS=1e5`)
 * would fork until the machine's process limit, and every fork after that fails. The same bound
 * holds for the option, a `workers()` function, the environment and the CLI's flag; the default
 * (the machine's parallelism) is capped to it.
 */
export const MAX_WORKERS = 512;

function readWorkerCount(value: unknown, name: string): number {
  if (Number.isInteger(value) && (value as number) >= 1 && (value as number) <= MAX_WORKERS) {
    return value as number;
  }
  return fail(
    'LASTCALL_ERR_MASTER_INVALID_WORKERS',
    name,
    value,
    `a whole number from 1 to ${String(MAX_WORKERS)}`,
  );
}

/** The worker count from the environment, else the machine's parallelism (at most MAX_WORKERS). */
export function workersFromEnvironment(env: NodeJS.ProcessEnv = process.env): number {
  for (const name of ['LASTCALL_WORKERS', 'THEHELP_NUMBER_WORKERS']) {
    const text = env[name];
    if (text === undefined || text.trim() === '') continue;
    // Digits only, as the CLI's --workers: `1e5` and `0x10` are typos, not counts.
    const parsed = /^\s*\d+\s*$/.test(text) ? Number(text) : Number.NaN;
    if (!Number.isInteger(parsed) || parsed < 1 || parsed > MAX_WORKERS) {
      throw new MasterError(
        'LASTCALL_ERR_MASTER_INVALID_WORKERS',
        `Master: ${name} must be a whole number from 1 to ${String(MAX_WORKERS)}, got ${JSON.stringify(text)}`,
      );
    }
    return parsed;
  }
  return Math.min(os.availableParallelism(), MAX_WORKERS);
}

function readWorkers(value: unknown): () => number {
  if (value === undefined) return () => workersFromEnvironment();
  if (typeof value === 'function') {
    return () => readWorkerCount((value as () => unknown)(), 'workers()');
  }
  const count = readWorkerCount(value, 'workers');
  return () => count;
}

function readReadyOn(value: unknown): ReadyOn {
  if (value === undefined) return 'listening';
  if (value === 'listening' || value === 'message') return value;
  if (isRecord(value)) {
    const { port, address } = value;
    const isPort = Number.isInteger(port) && (port as number) > 0 && (port as number) < 65536;
    if (isPort && (address === undefined || typeof address === 'string')) {
      return address === undefined
        ? { port: port as number }
        : { port: port as number, address: address };
    }
  }
  return fail(
    'LASTCALL_ERR_MASTER_INVALID_OPTIONS',
    'readyOn',
    value,
    "'listening', 'message' or { port, address? }",
  );
}

function readBackoff(value: unknown): ResolvedBackoff {
  const defaults = MASTER_DEFAULTS.backoff;
  if (value === undefined) return defaults;
  if (!isRecord(value))
    return fail('LASTCALL_ERR_MASTER_INVALID_BACKOFF', 'backoff', value, 'an object');
  for (const key of Object.keys(value)) {
    if (!(key in defaults)) {
      fail('LASTCALL_ERR_MASTER_INVALID_BACKOFF', 'backoff', key, 'initial, max, factor or jitter');
    }
  }
  const read = (
    key: keyof ResolvedBackoff,
    isValid: (n: number) => boolean,
    expected: string,
  ): number => {
    const given = value[key];
    if (given === undefined) return defaults[key];
    if (typeof given === 'number' && Number.isFinite(given) && isValid(given)) return given;
    return fail('LASTCALL_ERR_MASTER_INVALID_BACKOFF', `backoff.${key}`, given, expected);
  };
  const initial = read('initial', (n) => n > 0, 'a number of ms > 0');
  const max = read(
    'max',
    (n) => n >= initial,
    `a number of ms >= backoff.initial (${String(initial)})`,
  );
  const factor = read('factor', (n) => n >= 1, 'a number >= 1');
  const jitter = read('jitter', (n) => n >= 0 && n <= 1, 'a number from 0 to 1');
  return { initial, max, factor, jitter };
}

function readSignal(value: unknown): NodeJS.Signals | null {
  if (value === undefined) return MASTER_DEFAULTS.restartSignal;
  if (value === null) return null;
  if (typeof value === 'string' && CATCHABLE.has(value)) return value as NodeJS.Signals;
  return fail(
    'LASTCALL_ERR_MASTER_INVALID_SIGNAL',
    'restartSignal',
    value,
    'a catchable signal name or null',
  );
}

function readEnv(value: unknown): Readonly<Record<string, string>> {
  if (value === undefined) return {};
  if (isRecord(value) && Object.values(value).every((entry) => typeof entry === 'string')) {
    return { ...(value as Record<string, string>) };
  }
  return fail('LASTCALL_ERR_MASTER_INVALID_OPTIONS', 'env', value, 'an object of strings');
}

function readBeforeFork(value: unknown): ((slot: number) => unknown) | undefined {
  const name = 'beforeFork';
  if (value === undefined) return undefined;
  if (typeof value === 'function') return value as (slot: number) => unknown;
  return fail('LASTCALL_ERR_MASTER_INVALID_OPTIONS', name, value, 'a function');
}

function isGracefulShaped(value: unknown): value is Graceful {
  const shape = value as Partial<Graceful> | null;
  return typeof shape?.onShutdown === 'function' && typeof shape.on === 'function';
}

/** The methods the master calls on a logger it is given as it is (the whole `Logger` shape). */
const LOGGER_METHODS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'child'] as const;

function isLoggerShaped(value: unknown): value is Logger {
  if (typeof value !== 'object' || value === null) return false;
  const shape = value as Record<string, unknown>;
  return LOGGER_METHODS.every((method) => typeof shape[method] === 'function');
}

function readGraceful(value: unknown): Graceful | undefined {
  if (value === undefined || isGracefulShaped(value)) return value;
  return fail('LASTCALL_ERR_MASTER_INVALID_OPTIONS', 'graceful', value, 'a Graceful');
}

function readLogger(value: unknown): Logger {
  if (value === undefined) return getLogger('lastcall:master');
  const kind = detectLoggerKind(value);
  // A winston, pino or bunyan logger given as it is (as dutch-master users pass theirs) goes
  // through log-shim's adapters and its redaction, as with setLogger, so fields stay fields.
  if (kind !== undefined && kind !== 'level-methods') {
    return adaptLogger(value as object, 'lastcall:master');
  }
  // Anything else is called as a Logger by every path of the master, a crash's exit handler
  // among them: an object that lacks one of the methods is refused here, not at the first crash.
  if (isLoggerShaped(value)) return value;
  return fail(
    'LASTCALL_ERR_MASTER_INVALID_OPTIONS',
    'logger',
    value,
    `a winston, pino or bunyan logger, or a Logger with ${LOGGER_METHODS.join(', ')} methods (getLogger() of @lastcall/log-shim)`,
  );
}

/**
 * The `output` option: `'inherit'`, or one sink for all the workers of this master that hands
 * each line to `logger` (`'log'`: info for stdout, warn for stderr, since what a worker prints
 * there is as often a deprecation notice or a debug line as an error) or to the function.
 */
function readOutput(value: unknown, logger: Logger): 'inherit' | LineSink {
  if (value === undefined || value === 'inherit') return 'inherit';
  if (value === 'log') {
    return new LineSink(
      (line, { slot, pid, stream }) => {
        if (stream === 'stderr') logger.warn(line, { slot, pid, stream });
        else logger.info(line, { slot, pid, stream });
      },
      { name: "the master's logger", skipEmpty: true },
    );
  }
  if (typeof value === 'function') {
    return new LineSink(value as OutputLineHandler, { name: 'the output function', logger });
  }
  return fail(
    'LASTCALL_ERR_MASTER_INVALID_OPTIONS',
    'output',
    value,
    "'inherit', 'log' or a function (line, { slot, id, pid, stream }) => void",
  );
}

function readSection(
  value: unknown,
  name: string,
  keys: readonly string[],
): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  if (!isRecord(value))
    return fail('LASTCALL_ERR_MASTER_INVALID_OPTIONS', name, value, 'an object');
  for (const key of Object.keys(value)) {
    if (!keys.includes(key)) {
      throw new MasterError(
        'LASTCALL_ERR_MASTER_INVALID_OPTIONS',
        `Master: unknown option "${name}.${key}"; known: ${keys.join(', ')}`,
      );
    }
  }
  return value;
}

function readLimit(
  section: Record<string, unknown>,
  name: string,
  key: string,
): number | undefined {
  const value = section[key];
  if (value === undefined) return undefined;
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return value;
  return fail(
    'LASTCALL_ERR_MASTER_INVALID_OPTIONS',
    `${name}.${key}`,
    value,
    'a finite number > 0',
  );
}

function readRecycle(value: unknown): ResolvedRecycle | undefined {
  const keys = [
    'maxRequests',
    'maxConnectionsServed',
    'maxOpenConnections',
    'maxConnections',
    'maxRssMB',
    'maxAgeMs',
    'spacing',
  ];
  const section = readSection(value, 'recycle', keys);
  if (section === undefined) return undefined;
  const deprecatedOpen = readLimit(section, 'recycle', 'maxConnections');
  const open = readLimit(section, 'recycle', 'maxOpenConnections');
  if (deprecatedOpen !== undefined && open !== undefined) {
    throw new MasterError(
      'LASTCALL_ERR_MASTER_INVALID_OPTIONS',
      'Master: options "recycle.maxConnections" (deprecated) and "recycle.maxOpenConnections" name the same limit; keep only "recycle.maxOpenConnections" (or "recycle.maxConnectionsServed" for connections served in total)',
    );
  }
  const isDeprecatedName = deprecatedOpen !== undefined;
  return {
    maxRequests: readLimit(section, 'recycle', 'maxRequests'),
    maxConnectionsServed: readLimit(section, 'recycle', 'maxConnectionsServed'),
    maxOpenConnections: open ?? deprecatedOpen,
    openConnectionsName: isDeprecatedName ? 'maxConnections' : 'maxOpenConnections',
    deprecations: isDeprecatedName
      ? [
          `recycle.maxConnections is deprecated: it counts connections open at the same moment; rename it recycle.maxOpenConnections, or use recycle.maxConnectionsServed to count connections served in total since the fork (cluster2's connThreshold)`,
        ]
      : [],
    maxRssMB: readLimit(section, 'recycle', 'maxRssMB'),
    maxAgeMs: readLimit(section, 'recycle', 'maxAgeMs'),
    spacing: readLimit(section, 'recycle', 'spacing') ?? MASTER_DEFAULTS.recycleSpacing,
  };
}

function readHealth(value: unknown): ResolvedHealth | undefined {
  if (value === false) return undefined;
  const section = readSection(value, 'health', ['pingInterval', 'missedPings', 'probe']) ?? {};
  const { probe } = section;
  if (probe !== undefined && typeof probe !== 'function') {
    fail('LASTCALL_ERR_MASTER_INVALID_OPTIONS', 'health.probe', probe, 'a function');
  }
  return {
    pingInterval: readLimit(section, 'health', 'pingInterval') ?? MASTER_DEFAULTS.pingInterval,
    missedPings: readCount(
      section['missedPings'],
      'health.missedPings',
      MASTER_DEFAULTS.missedPings,
    ),
    probe: probe as ResolvedHealth['probe'],
  };
}

/** Defaults of the heartbeat's monitor, in ms, and the longest either may be. */
const MONITOR_DEFAULTS = { timeout: 2000, cacheMs: 1000, max: 60_000 } as const;

function readMonitor(section: Record<string, unknown>): MonitorSettings | undefined {
  const { monitor, monitorTimeout, monitorCacheMs } = section;
  const readTime = (
    value: unknown,
    key: string,
    isZeroAllowed: boolean,
    fallback: number,
  ): number => {
    if (value === undefined) return fallback;
    const isNumber = typeof value === 'number' && Number.isFinite(value);
    const isAboveMin = isNumber && (isZeroAllowed ? value >= 0 : value > 0);
    if (isAboveMin && value <= MONITOR_DEFAULTS.max) return value;
    const least = isZeroAllowed ? '>= 0' : '> 0';
    const expected = `a number of ms ${least} and <= ${String(MONITOR_DEFAULTS.max)}`;
    return fail('LASTCALL_ERR_MASTER_INVALID_OPTIONS', `heartbeat.${key}`, value, expected);
  };
  const timeout = readTime(monitorTimeout, 'monitorTimeout', false, MONITOR_DEFAULTS.timeout);
  const cacheMs = readTime(monitorCacheMs, 'monitorCacheMs', true, MONITOR_DEFAULTS.cacheMs);
  if (monitor === undefined) {
    const given = monitorTimeout === undefined ? 'monitorCacheMs' : 'monitorTimeout';
    if (monitorTimeout !== undefined || monitorCacheMs !== undefined) {
      throw new MasterError(
        'LASTCALL_ERR_MASTER_INVALID_OPTIONS',
        `Master: option "heartbeat.${given}" needs "heartbeat.monitor"`,
      );
    }
    return undefined;
  }
  if (typeof monitor === 'function') {
    return { target: monitor as MonitorSettings['target'], timeout, cacheMs };
  }
  if (typeof monitor === 'string' && monitor.startsWith('/') && !monitor.startsWith('//')) {
    return { target: monitor, timeout, cacheMs };
  }
  const url = typeof monitor === 'string' && URL.canParse(monitor) ? new URL(monitor) : undefined;
  if (url?.protocol === 'http:' || url?.protocol === 'https:') {
    return { target: url.href, timeout, cacheMs };
  }
  return fail(
    'LASTCALL_ERR_MASTER_INVALID_OPTIONS',
    'heartbeat.monitor',
    monitor,
    "a function, an http(s) URL, or a path starting with '/' on the app's port",
  );
}

function readHeartbeat(value: unknown): ResolvedHeartbeat | undefined {
  const keys = [
    'port',
    'host',
    'path',
    'token',
    'minReady',
    'version',
    'format',
    'monitor',
    'monitorTimeout',
    'monitorCacheMs',
  ];
  const section = readSection(value, 'heartbeat', keys);
  if (section === undefined) return undefined;
  const { port, host, path, token, version, format } = section;
  if (format !== undefined && format !== 'json' && format !== 'cluster2') {
    fail('LASTCALL_ERR_MASTER_INVALID_OPTIONS', 'heartbeat.format', format, "'json' or 'cluster2'");
  }
  if (!(Number.isInteger(port) && (port as number) >= 0 && (port as number) < 65536)) {
    fail('LASTCALL_ERR_MASTER_INVALID_OPTIONS', 'heartbeat.port', port, 'a port from 0 to 65535');
  }
  const readText = (
    text: unknown,
    key: string,
    fallback: string | undefined,
  ): string | undefined => {
    if (text === undefined) return fallback;
    if (typeof text === 'string' && text !== '') return text;
    if (key === 'token') {
      // Never the value: a token given as a number is still a secret.
      throw new MasterError(
        'LASTCALL_ERR_MASTER_INVALID_OPTIONS',
        `Master: option "heartbeat.token" must be a non-empty string, got ${text === null ? 'null' : `a ${typeof text}`}`,
      );
    }
    return fail(
      'LASTCALL_ERR_MASTER_INVALID_OPTIONS',
      `heartbeat.${key}`,
      text,
      'a non-empty string',
    );
  };
  const heartbeatPath = readText(path, 'path', '/ecv') ?? '/ecv';
  if (!heartbeatPath.startsWith('/')) {
    fail('LASTCALL_ERR_MASTER_INVALID_OPTIONS', 'heartbeat.path', path, "a path starting with '/'");
  }
  if (['/readyz', '/livez'].includes(heartbeatPath)) {
    fail('LASTCALL_ERR_MASTER_INVALID_OPTIONS', 'heartbeat.path', path, 'not /readyz or /livez');
  }
  const envToken = process.env[HEARTBEAT_TOKEN_ENV];
  const givenToken = readText(
    token,
    'token',
    envToken === undefined || envToken === '' ? undefined : envToken,
  );
  const heartbeatHost = readText(host, 'host', '127.0.0.1') ?? '127.0.0.1';
  // Off loopback, anyone on the network could take the host out of rotation: the control
  // routes need a token there. (Never the token itself in a message.)
  if (givenToken === undefined && !isLoopbackHost(heartbeatHost)) {
    throw new MasterError(
      'LASTCALL_ERR_MASTER_TOKEN_REQUIRED',
      `Master: the heartbeat listens on ${heartbeatHost}, beyond this machine, so its disable and enable routes need a token: set heartbeat.token, LASTCALL_HEARTBEAT_TOKEN or --heartbeat-token`,
    );
  }
  return {
    port: port as number,
    host: heartbeatHost,
    path: heartbeatPath,
    token: givenToken,
    minReady: readCount(section['minReady'], 'heartbeat.minReady', 1),
    version: readText(version, 'version', undefined),
    startVersion: process.env['LASTCALL_APP_VERSION'] ?? process.env['npm_package_version'],
    format: format ?? 'json',
    monitor: readMonitor(section),
  };
}

/** True for a host name or address that only this machine reaches. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  return (
    bare === 'localhost' ||
    bare === '::1' ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare) ||
    /^::ffff:127\./.test(bare)
  );
}

function readPorts(value: unknown, workers: unknown): readonly number[] | undefined {
  if (value === undefined) return undefined;
  const isPort = (port: unknown): boolean =>
    Number.isInteger(port) && (port as number) > 0 && (port as number) < 65536;
  if (!Array.isArray(value) || value.length === 0 || !value.every(isPort)) {
    return fail(
      'LASTCALL_ERR_MASTER_INVALID_OPTIONS',
      'ports',
      value,
      'a non-empty array of ports',
    );
  }
  const ports = value as number[];
  if (new Set(ports).size !== ports.length) {
    return fail('LASTCALL_ERR_MASTER_INVALID_OPTIONS', 'ports', value, 'ports without repeats');
  }
  if (workers !== undefined && workers !== ports.length) {
    throw new MasterError(
      'LASTCALL_ERR_MASTER_INVALID_WORKERS',
      `Master: option "workers" (${describeValue(workers)}) must be left out or equal the number of ports (${String(ports.length)})`,
    );
  }
  return [...ports];
}

function readPidFile(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && value !== '') return value;
  return fail('LASTCALL_ERR_MASTER_INVALID_OPTIONS', 'pidFile', value, 'a path');
}

/** Validates `options` and fills in the defaults. Throws a {@link MasterError}. */
export function readOptions(options: MasterOptions | undefined): ResolvedMasterOptions {
  if (options !== undefined && !isRecord(options)) {
    return fail('LASTCALL_ERR_MASTER_INVALID_OPTIONS', 'options', options, 'an object');
  }
  const given = options ?? {};
  for (const key of Object.keys(given)) {
    if (!KNOWN.has(key)) {
      throw new MasterError(
        'LASTCALL_ERR_MASTER_INVALID_OPTIONS',
        `Master: unknown option "${key}"; known: ${[...KNOWN].join(', ')}`,
      );
    }
  }
  const { exec, args, execArgv } = given;
  if (exec !== undefined && (typeof exec !== 'string' || exec === '')) {
    fail('LASTCALL_ERR_MASTER_INVALID_OPTIONS', 'exec', exec, 'a path to a script');
  }
  if (
    args !== undefined &&
    !(Array.isArray(args) && args.every((arg) => typeof arg === 'string'))
  ) {
    fail('LASTCALL_ERR_MASTER_INVALID_OPTIONS', 'args', args, 'an array of strings');
  }
  if (
    execArgv !== undefined &&
    !(Array.isArray(execArgv) && execArgv.every((arg) => typeof arg === 'string'))
  ) {
    fail('LASTCALL_ERR_MASTER_INVALID_OPTIONS', 'execArgv', execArgv, 'an array of strings');
  }
  const ports = readPorts(given['ports'], given['workers']);
  const logger = readLogger(given['logger']);
  const pidFile = readPidFile(given['pidFile']);
  const pidDir = readPidDir(given['pidDir'], pidFile);
  const heartbeat = readHeartbeat(given['heartbeat']);
  return {
    exec: exec,
    args: args === undefined ? undefined : [...args],
    execArgv: execArgv === undefined ? [] : [...execArgv],
    env: readEnv(given['env']),
    workers: ports === undefined ? readWorkers(given['workers']) : () => ports.length,
    beforeFork: readBeforeFork(given['beforeFork']),
    readyOn: readReadyOn(given['readyOn']),
    readyTimeout: readMs(given, 'readyTimeout', MASTER_DEFAULTS.readyTimeout),
    drainTimeout: readMs(given, 'drainTimeout', MASTER_DEFAULTS.drainTimeout),
    shutdownDelay: readShutdownDelay(given, heartbeat !== undefined),
    keepAliveTimeout: readServerTimeout(given, 'keepAliveTimeout'),
    headersTimeout: readServerTimeout(given, 'headersTimeout'),
    idleTimeout: readIdleTimeout(given),
    killTimeout: readMs(given, 'killTimeout', MASTER_DEFAULTS.killTimeout),
    maxSurge: readCount(given['maxSurge'], 'maxSurge', MASTER_DEFAULTS.maxSurge),
    stableAfter: readMs(given, 'stableAfter', MASTER_DEFAULTS.stableAfter),
    backoff: readBackoff(given['backoff']),
    maxRestarts: readCount(given['maxRestarts'], 'maxRestarts', MASTER_DEFAULTS.maxRestarts),
    restartWindow: readMs(given, 'restartWindow', MASTER_DEFAULTS.restartWindow),
    restartSignal: readSignal(given['restartSignal']),
    graceful: readGraceful(given['graceful']),
    logger,
    output: readOutput(given['output'], logger),
    recycle: readRecycle(given['recycle']),
    health: readHealth(given['health']),
    heartbeat,
    pidFile: pidFile ?? (pidDir === undefined ? undefined : masterPidFileIn(pidDir)),
    pidDir,
    ports,
  };
}
