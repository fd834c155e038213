import { createWriter, detectLoggerKind, sinkWriter } from './adapters';
import type { LoggerKind } from './adapters';
import { findConfiguredAppWinston } from './app-winston';
import { createConsoleSink, formatLine } from './console-sink';
import { describeValue } from './describe-value';
import { LogShimError } from './errors';
import { checkBindings, createFacade } from './facade';
import type { FacadeTarget } from './facade';
import { isLogLevel } from './levels';
import { mergeFields } from './normalize-args';
import { redactMessage } from './redaction';
import { LOG_LEVELS } from './types';
import type {
  HostLogger,
  LogFields,
  Logger,
  LoggerFactory,
  LogLevel,
  LogSink,
  LogWriter,
} from './types';

/** The level of the console fallback when `LASTCALL_LOG_LEVEL` is not set. */
export const DEFAULT_LOG_LEVEL: LogLevel = 'info';

type Source =
  | { readonly kind: 'default' }
  | { readonly kind: 'logger'; readonly logger: HostLogger; readonly loggerKind: LoggerKind }
  | { readonly kind: 'factory'; readonly factory: LoggerFactory };

/** A factory's logger for one module name, or `undefined` when the factory failed for it. */
type FactoryHost = { readonly logger: HostLogger; readonly kind: LoggerKind } | undefined;

let source: Source = { kind: 'default' };
/** Bumped by every {@link setLogger}; a facade rebuilds its writer when it sees a new value. */
let generation = 0;
const factoryHosts = new Map<string, FactoryHost>();
let consoleFallback: LogSink | undefined;
let isHostFailureReported = false;

/**
 * Hands the app's logger to every package. Takes a logger (winston 3, pino, bunyan, a `debug`
 * instance or module, the `console`, any object with level methods) or a factory
 * `(name) => logger`; `undefined` restores the default. Loggers already handed out by
 * {@link getLogger} follow the change. The given logger is never changed.
 */
export function setLogger(loggerOrFactory: HostLogger | LoggerFactory | undefined): void {
  if (loggerOrFactory === undefined) {
    source = { kind: 'default' };
  } else {
    const kind = detectLoggerKind(loggerOrFactory);
    if (kind === 'debug-module') {
      // One debug instance per module name, so DEBUG=lastcall:* picks them as usual.
      const createDebug = loggerOrFactory as LoggerFactory;
      source = { kind: 'factory', factory: (name) => createDebug(name) };
    } else if (kind !== undefined) {
      source = { kind: 'logger', logger: loggerOrFactory, loggerKind: kind };
    } else if (typeof loggerOrFactory === 'function') {
      source = { kind: 'factory', factory: loggerOrFactory as LoggerFactory };
    } else {
      throw new LogShimError(
        'LASTCALL_ERR_LOG_SHIM_INVALID_LOGGER',
        `setLogger: expected a logger (winston, pino, bunyan, debug, console or an object with ` +
          `level methods such as info and error) or a factory (name) => logger, got ` +
          describeValue(loggerOrFactory),
      );
    }
  }
  generation += 1;
  factoryHosts.clear();
  consoleFallback = undefined;
  isHostFailureReported = false;
}

/**
 * Returns the logger of one module, such as `getLogger('lastcall:master')`. Its events carry
 * `name` and `bindings`, and go to whatever logger {@link setLogger} set at the time of each call.
 */
export function getLogger(name: string, bindings?: LogFields): Logger {
  if (typeof name !== 'string' || name === '') {
    throw new LogShimError(
      'LASTCALL_ERR_LOG_SHIM_INVALID_NAME',
      `getLogger: name must be a non-empty string such as 'lastcall:master', got ${describeValue(name)}`,
    );
  }
  return createFacade(
    name,
    mergeFields({ name }, checkBindings('getLogger: bindings', bindings)),
    settableTarget,
  );
}

/** The target of every {@link getLogger} facade: whatever {@link setLogger} set. */
const settableTarget: FacadeTarget = {
  version: () => generation,
  build: (name, bindings) => writerFor(name, bindings),
  recover: writeToFallback,
};

const LOGGER_METHODS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'child'] as const;

/**
 * A {@link Logger} that writes into `hostLogger`, whatever {@link setLogger} says, through the same
 * adapters and the same redaction as {@link getLogger}: for options that take a logger, so that a
 * winston, pino or bunyan logger given as it is keeps its fields as fields. `name` is added to
 * every event as for `getLogger(name)`. A `Logger` already (a facade of `getLogger`, or any
 * object other than a host logger with the six level methods and `child`) is returned as it is.
 * Throws a `LogShimError` when `hostLogger` is no logger (`LASTCALL_ERR_LOG_SHIM_INVALID_LOGGER`)
 * or `name` is not a non-empty string (`LASTCALL_ERR_LOG_SHIM_INVALID_NAME`).
 */
export function adaptLogger(hostLogger: HostLogger | Logger, name: string): Logger {
  const kind = detectLoggerKind(hostLogger);
  if (kind === undefined) {
    throw new LogShimError(
      'LASTCALL_ERR_LOG_SHIM_INVALID_LOGGER',
      `adaptLogger: expected a logger (winston, pino, bunyan, debug, console or an object with ` +
        `level methods such as info and error), got ${describeValue(hostLogger)}`,
    );
  }
  if (kind === 'level-methods' && isLoggerShaped(hostLogger)) return hostLogger;
  if (typeof name !== 'string' || name === '') {
    throw new LogShimError(
      'LASTCALL_ERR_LOG_SHIM_INVALID_NAME',
      `adaptLogger: name must be a non-empty string such as 'lastcall:graceful', got ${describeValue(name)}`,
    );
  }
  return createFacade(
    name,
    { name },
    {
      version: () => 0,
      build: (moduleName, bindings) => createWriter(hostLogger, kind, moduleName, bindings),
      recover: writeToFallback,
    },
  );
}

function isLoggerShaped(value: object): value is Logger {
  const shape = value as Record<string, unknown>;
  return LOGGER_METHODS.every((method) => typeof shape[method] === 'function');
}

function writerFor(name: string, bindings: LogFields): LogWriter {
  switch (source.kind) {
    case 'logger':
      return createWriter(source.logger, source.loggerKind, name, bindings);
    case 'factory': {
      const host = factoryHost(source.factory, name);
      if (host === undefined) return sinkWriter(getConsoleFallback(), bindings);
      return createWriter(host.logger, host.kind, name, bindings);
    }
    case 'default':
      return defaultWriter(name, bindings);
  }
}

function factoryHost(factory: LoggerFactory, name: string): FactoryHost {
  if (factoryHosts.has(name)) return factoryHosts.get(name);
  let host: FactoryHost;
  let reason = '';
  try {
    const logger: unknown = factory(name);
    const kind = detectLoggerKind(logger);
    if (kind !== undefined) host = { logger: logger as HostLogger, kind };
    else reason = `it returned ${describeValue(logger)}, not a logger`;
  } catch (error) {
    reason = `it threw ${error instanceof Error ? redactMessage(error.message) : describeValue(error)}`;
  }
  factoryHosts.set(name, host);
  if (host === undefined) {
    // A log call must never throw, so the failure is reported once and the console takes over.
    getConsoleFallback()({
      level: 'warn',
      message: `the logger factory failed for "${name}" (${reason}); logging to stderr instead`,
      fields: { name: 'lastcall:log-shim', code: 'LASTCALL_ERR_LOG_SHIM_FACTORY_FAILED' },
    });
  }
  return host;
}

function defaultWriter(name: string, bindings: LogFields): LogWriter {
  const toConsole = sinkWriter(getConsoleFallback(), bindings);
  let winston: object | undefined;
  let toWinston: LogWriter | undefined;
  return (level, first, second) => {
    // Checked on every call so that an app configuring winston after our first line is followed.
    const found = findConfiguredAppWinston();
    if (found === undefined) {
      toConsole(level, first, second);
      return;
    }
    if (toWinston === undefined || found !== winston) {
      winston = found;
      toWinston = createWriter(found, 'winston', name, bindings);
    }
    toWinston(level, first, second);
  };
}

function writeToFallback(
  name: string,
  bindings: LogFields,
  error: unknown,
  level: LogLevel,
  first: unknown,
  second: unknown,
): void {
  try {
    const fallback = getConsoleFallback();
    if (!isHostFailureReported) {
      isHostFailureReported = true;
      fallback({
        level: 'warn',
        message:
          `the app's logger threw while logging for "${name}" ` +
          `(${error instanceof Error ? redactMessage(error.message) : describeValue(error)}); ` +
          `events it refuses go to stderr instead`,
        fields: { name: 'lastcall:log-shim', code: 'LASTCALL_ERR_LOG_SHIM_LOGGER_THREW' },
      });
    }
    sinkWriter(fallback, bindings)(level, first, second);
  } catch {
    // stderr itself failed; there is nowhere left to write to.
  }
}

function getConsoleFallback(): LogSink {
  if (consoleFallback !== undefined) return consoleFallback;
  const write = (line: string): void => {
    process.stderr.write(line);
  };
  const requested = process.env['LASTCALL_LOG_LEVEL'];
  const level = requested === undefined || requested === '' ? DEFAULT_LOG_LEVEL : requested;
  if (!isLogLevel(level)) {
    write(
      formatLine({
        level: 'warn',
        message:
          `LASTCALL_LOG_LEVEL=${JSON.stringify(level)} is not a level; expected one of ` +
          `${LOG_LEVELS.join(', ')}; using ${DEFAULT_LOG_LEVEL}`,
        fields: { name: 'lastcall:log-shim', code: 'LASTCALL_ERR_LOG_SHIM_INVALID_LEVEL' },
      }),
    );
  }
  consoleFallback = createConsoleSink({
    level: isLogLevel(level) ? level : DEFAULT_LOG_LEVEL,
    write,
  });
  return consoleFallback;
}
