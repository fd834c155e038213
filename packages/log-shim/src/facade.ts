import { describeValue } from './describe-value';
import { LogShimError } from './errors';
import { mergeFields } from './normalize-args';
import { redactFields, redactionVersion } from './redaction';
import type { LogFields, Logger, LogLevel, LogMethod, LogWriter } from './types';

const NO_BINDINGS: LogFields = Object.freeze({});

/** Where the calls of a facade go. */
export interface FacadeTarget {
  /** Changes whenever the writers built so far are stale (a new `setLogger`). */
  readonly version: () => number;
  /** The writer of one facade, with its bindings, already redacted, on every record. */
  readonly build: (name: string, bindings: LogFields) => LogWriter;
  /** Writes a call whose writer threw somewhere else; never throws. */
  readonly recover: (
    name: string,
    bindings: LogFields,
    error: unknown,
    level: LogLevel,
    first: unknown,
    second: unknown,
  ) => void;
}

/** `bindings` when they are a plain object or `undefined`; a `LogShimError` otherwise. */
export function checkBindings(where: string, bindings: unknown): LogFields {
  if (bindings === undefined) return NO_BINDINGS;
  if (bindings === null || typeof bindings !== 'object' || Array.isArray(bindings)) {
    throw new LogShimError(
      'LASTCALL_ERR_LOG_SHIM_INVALID_BINDINGS',
      `${where} must be a plain object such as { pid: 42 }, got ${describeValue(bindings)}`,
    );
  }
  return bindings as LogFields;
}

/**
 * A {@link Logger} whose calls go to `target`. Its writer, and its bindings redacted once, are
 * built at the first call and again after `target` or the redaction rules change; every call's
 * own arguments are redacted by the writer's `normalizeArgs`.
 */
export function createFacade(name: string, bindings: LogFields, target: FacadeTarget): Logger {
  let writer: LogWriter | undefined;
  let redactedBindings: LogFields = { name };
  let builtFor = -1;
  let builtForRules = -1;
  const write = (level: LogLevel, first: unknown, second: unknown): void => {
    try {
      if (
        writer === undefined ||
        builtFor !== target.version() ||
        builtForRules !== redactionVersion()
      ) {
        builtFor = target.version();
        builtForRules = redactionVersion();
        redactedBindings = redactFields(bindings);
        writer = target.build(name, redactedBindings);
      }
      writer(level, first, second);
    } catch (error) {
      // A log call never throws: what the app's logger refused goes to stderr instead.
      target.recover(name, redactedBindings, error, level, first, second);
    }
  };
  const method =
    (level: LogLevel): LogMethod =>
    (first: unknown, second?: unknown) => {
      write(level, first, second);
    };
  return Object.freeze({
    trace: method('trace'),
    debug: method('debug'),
    info: method('info'),
    warn: method('warn'),
    error: method('error'),
    fatal: method('fatal'),
    child: (extra: LogFields) =>
      createFacade(name, mergeFields(bindings, checkBindings('child: bindings', extra)), target),
  });
}
