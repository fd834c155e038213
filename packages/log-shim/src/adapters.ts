import { formatLine } from './console-sink';
import { mergeFields, NO_FIELDS, normalizeArgs } from './normalize-args';
import type { HostLogger, LogFields, LogLevel, LogSink, LogWriter } from './types';

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

/** bunyan's fixed level numbers. */
const BUNYAN_LEVELS: Record<LogLevel, number> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
};

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

/**
 * Builds the writer of one facade: it turns each call into the call shape of `target`, which
 * {@link detectLoggerKind} accepted, with `bindings` (the facade's `name` included) on every
 * record. Built once per facade and logger, so per call only the caller's arguments are handled.
 */
export function createWriter(
  target: HostLogger,
  kind: LoggerKind,
  name: string,
  bindings: LogFields,
): LogWriter {
  const shape = target as Shape;
  switch (kind) {
    case 'winston':
      return winstonWriter(shape, bindings);
    case 'pino':
      return pinoWriter(shape, bindings);
    case 'bunyan':
      return bunyanWriter(shape, bindings);
    case 'debug':
      return sinkWriter(debugSink(target as Method), bindings);
    case 'debug-module':
      return sinkWriter(debugSink((target as Method)(name) as Method), bindings);
    case 'console':
      return sinkWriter(consoleObjectSink(shape), bindings);
    case 'level-methods':
      return sinkWriter(levelMethodsSink(shape), bindings);
  }
}

/** A writer for loggers that take one finished event: the caller's fields merged over bindings. */
export function sinkWriter(sink: LogSink, bindings: LogFields): LogWriter {
  return (level, first, second) => {
    const { message, fields } = normalizeArgs(first, second);
    sink({
      level,
      message,
      fields: fields === NO_FIELDS ? bindings : mergeFields(bindings, fields),
    });
  };
}

function findMethod(target: Shape, names: readonly string[]): Method | undefined {
  for (const name of names) {
    const method = target[name];
    if (isFunction(method)) return method;
  }
  return undefined;
}

function winstonWriter(target: Shape, bindings: LogFields): LogWriter {
  const log = target['log'] as Method;
  const isLevelEnabled = target['isLevelEnabled'];
  // winston's levels can be replaced (`configure`), so the mapping follows the levels object.
  let levels: object | undefined;
  let hostLevels = mapLevels(WINSTON_LEVELS, () => false);
  return (level, first, second) => {
    const currentLevels = isObject(target['levels']) ? target['levels'] : WINSTON_NPM_LEVELS;
    if (currentLevels !== levels) {
      levels = currentLevels;
      hostLevels = mapLevels(WINSTON_LEVELS, (name) => name in currentLevels);
    }
    const hostLevel = hostLevels[level] ?? 'info';
    if (isFunction(isLevelEnabled) && isLevelEnabled.call(target, hostLevel) === false) return;
    const { message, fields } = normalizeArgs(first, second);
    // One info object, not (level, msg, meta): winston drops meta when the message has a `%`.
    // winston writes its own properties into the object, so it is always a fresh one.
    const info = mergeFields(bindings, fields);
    info['level'] = hostLevel;
    info['message'] = message;
    log.call(target, info);
  };
}

/**
 * pino and bunyan get the bindings once, through a child of their own (which serialises them
 * once); per call they receive the caller's fields as they are. A logger that cannot make a
 * child (a frozen pino, whose child cannot set its own bindings) gets the bindings per call.
 */
function pinoWriter(parent: Shape, bindings: LogFields): LogWriter {
  const values = (parent['levels'] as { values: Record<string, unknown> }).values;
  const hostLevels = mapLevels(FALLBACKS, (name) => name in values);
  // A pino (7 and later) child made with bindings only has no level of its own: its level
  // methods are the parent's, through the prototype, so it follows every level change, and a
  // disabled level is pino's own no-op.
  const child = tryChild(() => (parent['child'] as Method).call(parent, bindings));
  return (level, first, second) => {
    const hostLevel = hostLevels[level];
    if (hostLevel === undefined) return;
    const { message, fields } = normalizeArgs(first, second);
    callFieldsFirst(child, parent, hostLevel, bindings, fields, message);
  };
}

function bunyanWriter(parent: Shape, bindings: LogFields): LogWriter {
  // bunyan reserves `name` for the logger's own name, and a child may not override it.
  const renamed = renameName(bindings);
  const parentLevel = (): unknown => (parent['level'] as Method).call(parent);
  const makeChild = (): Shape | undefined =>
    tryChild(() => (parent['child'] as Method).call(parent, renamed, true));
  let child = makeChild();
  let childLevel = parentLevel();
  return (level, first, second) => {
    // A bunyan child keeps the level of its parent at the time it was made.
    const currentLevel = parentLevel();
    if (child !== undefined && childLevel !== currentLevel) {
      child = makeChild();
      childLevel = currentLevel;
    }
    if (typeof currentLevel === 'number' && currentLevel > BUNYAN_LEVELS[level]) return;
    const { message, fields } = normalizeArgs(first, second);
    callFieldsFirst(child, parent, level, renamed, renameName(fields), message);
  };
}

/**
 * Calls `(fields, message)` on the child that holds the bindings, or, when the logger could make
 * none, on the parent with the bindings merged into the fields.
 */
function callFieldsFirst(
  child: Shape | undefined,
  parent: Shape,
  method: string,
  bindings: LogFields,
  fields: LogFields,
  message: string,
): void {
  if (child === undefined) {
    (parent[method] as Method).call(parent, mergeFields(bindings, fields), message);
  } else if (fields === NO_FIELDS) {
    (child[method] as Method).call(child, message);
  } else {
    (child[method] as Method).call(child, fields, message);
  }
}

function tryChild(make: () => unknown): Shape | undefined {
  try {
    const child = make();
    return isObject(child) ? child : undefined;
  } catch {
    return undefined;
  }
}

/** For each of our levels, the first of its candidate names in `table` that `isKnown` accepts. */
function mapLevels(
  table: Record<LogLevel, readonly string[]>,
  isKnown: (name: string) => boolean,
): Record<LogLevel, string | undefined> {
  const pick = (level: LogLevel): string | undefined => table[level].find(isKnown);
  return {
    trace: pick('trace'),
    debug: pick('debug'),
    info: pick('info'),
    warn: pick('warn'),
    error: pick('error'),
    fatal: pick('fatal'),
  };
}

function renameName(fields: LogFields): LogFields {
  if (!Object.hasOwn(fields, 'name')) return fields;
  const { name, ...rest } = fields;
  return mergeFields({ module: name }, rest);
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
  return (event) => {
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
