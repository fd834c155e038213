import { createSink, detectLoggerKind } from './adapters';
import { findConfiguredAppWinston } from './app-winston';
import { createConsoleSink, formatLine } from './console-sink';
import { describeValue } from './describe-value';
import { LogShimError } from './errors';
import { isLogLevel } from './levels';
import { normalizeArgs } from './normalize-args';
import { LOG_LEVELS } from './types';
import type {
  HostLogger,
  LogFields,
  Logger,
  LoggerFactory,
  LogLevel,
  LogMethod,
  LogSink,
} from './types';

/** The level of the console fallback when `LASTCALL_LOG_LEVEL` is not set. */
export const DEFAULT_LOG_LEVEL: LogLevel = 'info';

type Source =
  | { readonly kind: 'default' }
  | { readonly kind: 'logger'; readonly sink: LogSink }
  | { readonly kind: 'factory'; readonly factory: LoggerFactory };

let source: Source = { kind: 'default' };
const sinksByName = new Map<string, LogSink>();
let consoleFallback: LogSink | undefined;

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
      source = { kind: 'logger', sink: createSink(loggerOrFactory, kind, 'lastcall') };
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
  sinksByName.clear();
  consoleFallback = undefined;
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
  return createFacade(name, { name, ...checkBindings('getLogger: bindings', bindings) });
}

function checkBindings(where: string, bindings: unknown): LogFields {
  if (bindings === undefined) return {};
  if (bindings === null || typeof bindings !== 'object' || Array.isArray(bindings)) {
    throw new LogShimError(
      'LASTCALL_ERR_LOG_SHIM_INVALID_BINDINGS',
      `${where} must be a plain object such as { pid: 42 }, got ${describeValue(bindings)}`,
    );
  }
  return { ...(bindings as LogFields) };
}

function createFacade(name: string, bindings: LogFields): Logger {
  const method =
    (level: LogLevel): LogMethod =>
    (first: unknown, second?: unknown) => {
      const { message, fields } = normalizeArgs(first, second);
      sinkFor(name)({ level, message, fields: { ...bindings, ...fields } });
    };
  return Object.freeze({
    trace: method('trace'),
    debug: method('debug'),
    info: method('info'),
    warn: method('warn'),
    error: method('error'),
    fatal: method('fatal'),
    child: (extra: LogFields) =>
      createFacade(name, { ...bindings, ...checkBindings('child: bindings', extra) }),
  });
}

function sinkFor(name: string): LogSink {
  if (source.kind === 'logger') return source.sink;
  if (source.kind === 'default') return defaultSink(name);
  let sink = sinksByName.get(name);
  if (sink === undefined) {
    sink = sinkFromFactory(source.factory, name);
    sinksByName.set(name, sink);
  }
  return sink;
}

function sinkFromFactory(factory: LoggerFactory, name: string): LogSink {
  let reason: string;
  try {
    const logger: unknown = factory(name);
    const kind = detectLoggerKind(logger);
    if (kind !== undefined) return createSink(logger as HostLogger, kind, name);
    reason = `it returned ${describeValue(logger)}, not a logger`;
  } catch (error) {
    reason = `it threw ${error instanceof Error ? error.message : describeValue(error)}`;
  }
  // A log call must never throw, so the failure is reported once and the console takes over.
  const fallback = getConsoleFallback();
  fallback({
    level: 'warn',
    message: `the logger factory failed for "${name}" (${reason}); logging to stderr instead`,
    fields: { name: 'lastcall:log-shim', code: 'LASTCALL_ERR_LOG_SHIM_FACTORY_FAILED' },
  });
  return fallback;
}

function defaultSink(name: string): LogSink {
  // Checked on every call so that an app configuring winston after our first line is followed.
  const winston = findConfiguredAppWinston();
  if (winston === undefined) return getConsoleFallback();
  let sink = sinksByName.get(name);
  if (sink === undefined) {
    sink = createSink(winston, 'winston', name);
    sinksByName.set(name, sink);
  }
  return sink;
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
