import { formatLine } from './console-sink';
import type { HostLogger, LogEvent, LogFields, LogLevel, LogSink } from './types';

/** The kinds of logger the shim recognises, by shape. */
export type LoggerKind =
  'winston' | 'pino' | 'bunyan' | 'debug' | 'debug-module' | 'console' | 'level-methods';

type Method = (...args: unknown[]) => unknown;
type Shape = Record<string, unknown>;

/** Method names tried, in order, for each level of a logger that only has some of them. */
const FALLBACKS: Record<LogLevel, readonly string[]> = {
  trace: ['trace', 'silly', 'verbose', 'debug', 'log', 'info'],
  debug: ['debug', 'verbose', 'log', 'info'],
  info: ['info', 'log', 'notice'],
  warn: ['warn', 'warning', 'error', 'log', 'info'],
  error: ['error', 'err', 'warn', 'log', 'info'],
  fatal: ['fatal', 'crit', 'critical', 'emerg', 'alert', 'error', 'err', 'log', 'info'],
};

/** The winston levels tried for each of ours, so `npm` and `syslog` level sets both work. */
const WINSTON_LEVELS: Record<LogLevel, readonly string[]> = {
  trace: ['trace', 'silly', 'debug'],
  debug: ['debug', 'verbose'],
  info: ['info', 'notice'],
  warn: ['warn', 'warning'],
  error: ['error', 'err'],
  fatal: ['fatal', 'crit', 'error', 'emerg'],
};

/** The npm levels of winston's default logger, used when given the `winston` module itself. */
const WINSTON_NPM_LEVELS = { error: 0, warn: 1, info: 2, http: 3, verbose: 4, debug: 5, silly: 6 };

const isFunction = (value: unknown): value is Method => typeof value === 'function';
const isObject = (value: unknown): value is Shape => typeof value === 'object' && value !== null;

/**
 * Tells which kind of logger `target` is from its shape alone, or `undefined` when it has no
 * method the shim could log through.
 */
export function detectLoggerKind(target: unknown): LoggerKind | undefined {
  if (isFunction(target)) {
    const shape = target as unknown as Shape;
    if (typeof shape['namespace'] === 'string') return 'debug';
    if (isFunction(shape['enable']) && isFunction(shape['enabled'])) return 'debug-module';
    return undefined;
  }
  if (!isObject(target)) return undefined;
  const { log, add, remove, levels, createLogger, streams, fields, addStream, child } = target;
  if (isFunction(log) && isFunction(add) && isFunction(remove)) {
    if (isObject(levels) || isFunction(createLogger)) return 'winston';
  }
  if (isObject(levels) && isObject(levels['values']) && isFunction(child)) return 'pino';
  if (Array.isArray(streams) && isObject(fields) && isFunction(addStream)) return 'bunyan';
  if (isFunction(log) && isFunction(target['table']) && isFunction(target['dir'])) return 'console';
  const hasMethod = Object.values(FALLBACKS).some((names) => findMethod(target, names));
  return hasMethod ? 'level-methods' : undefined;
}

/** Builds the sink that writes events into `target`, which {@link detectLoggerKind} accepted. */
export function createSink(target: HostLogger, kind: LoggerKind, name: string): LogSink {
  const shape = target as Shape;
  switch (kind) {
    case 'winston':
      return winstonSink(shape);
    case 'pino':
    case 'bunyan':
      return objectFirstSink(shape, kind);
    case 'debug':
      return debugSink(target as Method);
    case 'debug-module':
      return debugSink((target as Method)(name) as Method);
    case 'console':
      return consoleObjectSink(shape);
    case 'level-methods':
      return levelMethodsSink(shape);
  }
}

function findMethod(target: Shape, names: readonly string[]): Method | undefined {
  for (const name of names) {
    const method = target[name];
    if (isFunction(method)) return method;
  }
  return undefined;
}

function winstonSink(target: Shape): LogSink {
  const log = target['log'] as Method;
  return (event) => {
    const levels = isObject(target['levels']) ? target['levels'] : WINSTON_NPM_LEVELS;
    const level = WINSTON_LEVELS[event.level].find((name) => name in levels) ?? 'info';
    // One info object, not (level, msg, meta): winston drops meta when the message has a `%`.
    log.call(target, { ...event.fields, level, message: event.message });
  };
}

/** pino and bunyan take `(fields, message)` and have all six levels. */
function objectFirstSink(target: Shape, kind: 'pino' | 'bunyan'): LogSink {
  return (event) => {
    const method = findMethod(target, FALLBACKS[event.level]);
    // bunyan reserves `name` for the logger's own name, and a child may not override it.
    const fields = kind === 'bunyan' ? renameName(event.fields) : event.fields;
    method?.call(target, fields, event.message);
  };
}

function renameName(fields: LogFields): LogFields {
  if (!('name' in fields)) return fields;
  const { name, ...rest } = fields;
  return { module: name, ...rest };
}

function debugSink(debug: Method): LogSink {
  return (event) => {
    const label = event.level.toUpperCase();
    if (Object.keys(event.fields).length === 0) debug('%s %s', label, event.message);
    else debug('%s %s %O', label, event.message, event.fields);
  };
}

function consoleObjectSink(target: Shape): LogSink {
  // Every level goes to console.error, that is stderr: stdout often carries the app's own output
  // (a CLI's result, JSON lines to a parent process), and console.trace would print a stack.
  const method = findMethod(target, ['error', 'warn', 'log']);
  return (event: LogEvent) => {
    method?.call(target, formatLine(event).slice(0, -1));
  };
}

function levelMethodsSink(target: Shape): LogSink {
  return (event) => {
    const method = findMethod(target, FALLBACKS[event.level]);
    if (method === undefined) return;
    if (Object.keys(event.fields).length === 0) method.call(target, event.message);
    else method.call(target, event.message, event.fields);
  };
}
