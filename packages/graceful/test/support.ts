/** Helpers shared by the in-process tests of graceful. */
import type { Graceful } from '../src';
import type { LogFields, LogLevel, LogMethod, Logger } from '@lastcall/log-shim';

/** One call of a {@link RecordingLogger}: level, message, fields. */
export type LogEntry = [level: LogLevel, message: unknown, fields: unknown];

/** A log-shim Logger that records every call, and the bindings of every child() asked for. */
export interface RecordingLogger extends Logger {
  readonly entries: LogEntry[];
  readonly bindings: LogFields[];
}

export function recordingLogger(): RecordingLogger {
  const entries: LogEntry[] = [];
  const bindings: LogFields[] = [];
  const record =
    (level: LogLevel): LogMethod =>
    (message: unknown, fields?: unknown) => {
      entries.push([level, message, fields]);
    };
  const logger: RecordingLogger = {
    entries,
    bindings,
    trace: record('trace'),
    debug: record('debug'),
    info: record('info'),
    warn: record('warn'),
    error: record('error'),
    fatal: record('fatal'),
    child: (fields: LogFields) => {
      bindings.push(fields);
      return logger;
    },
  };
  return logger;
}

export interface Deferred<T> {
  readonly promise: Promise<T>;
  readonly resolve: (value: T) => void;
}

export function deferred<T = undefined>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((settle) => {
    resolve = settle;
  });
  return { promise, resolve };
}

/** Rejects when `promise` has not settled within `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`${what} did not happen within ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves after the current macrotask and everything queued behind it in this turn. */
export const nextMacrotask = (): Promise<void> =>
  new Promise((resolve) => {
    setImmediate(resolve);
  });

// libuv schedules a timer from its cached loop time, which lags performance.now() by the time
// already spent in the current tick, so a timer can fire a few ms early by performance.now().
export const TIMER_SLACK = 10;

const created: Graceful[] = [];
const savedDelay = process.env['LASTCALL_SHUTDOWN_DELAY'];

/** Remembers `graceful`, which {@link cleanUpGracefuls} or {@link uninstallAll} uninstalls. */
export function remember(graceful: Graceful): Graceful {
  created.push(graceful);
  return graceful;
}

/** Uninstalls every remembered Graceful. */
export function uninstallAll(): void {
  for (const graceful of created.splice(0)) graceful.uninstall();
}

/**
 * Installs the beforeEach/afterEach pair every in-process test file needs: no
 * LASTCALL_SHUTDOWN_DELAY from the outside, and every tracked Graceful uninstalled after the test.
 */
export function cleanUpGracefuls(): void {
  beforeEach(() => {
    delete process.env['LASTCALL_SHUTDOWN_DELAY'];
  });
  afterEach(() => {
    uninstallAll();
    if (savedDelay === undefined) delete process.env['LASTCALL_SHUTDOWN_DELAY'];
    else process.env['LASTCALL_SHUTDOWN_DELAY'] = savedDelay;
  });
}
