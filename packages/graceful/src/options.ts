import * as os from 'node:os';
import { adaptLogger, describeValue, detectLoggerKind, getLogger } from '@lastcall/log-shim';
import type { Logger } from '@lastcall/log-shim';
import type * as LastDitchModule from '@lastcall/last-ditch';
import { GracefulError } from './errors';
import { isInProcessTest } from './in-process-test';
import type { GracefulErrorCode } from './errors';
import type { Reporter } from './types';

/** Default of {@link GracefulOptions.timeout}, in ms. */
export const DEFAULT_TIMEOUT = 30_000;

/** Default of {@link GracefulOptions.signals}. */
export const DEFAULT_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

/** The options with every default filled in. */
export interface ResolvedOptions {
  readonly timeout: number;
  readonly shutdownDelay: number;
  readonly signals: readonly NodeJS.Signals[];
  readonly handleErrors: boolean;
  readonly inProcessTest: boolean;
  readonly reporter: Reporter;
  readonly logger: Logger;
  readonly exit: (code: number) => void;
}

const KNOWN = new Set([
  'timeout',
  'shutdownDelay',
  'signals',
  'handleErrors',
  'inProcessTest',
  'reporter',
  'logger',
  'exit',
]);

/** Signals a process may catch, from Node's own list. */
const CATCHABLE = new Set(
  Object.keys(os.constants.signals).filter((name) => name !== 'SIGKILL' && name !== 'SIGSTOP'),
);

function fail(code: GracefulErrorCode, name: string, value: unknown, expected: string): never {
  throw new GracefulError(
    code,
    `Graceful: option "${name}" must be ${expected}, got ${describeValue(value)}`,
  );
}

function readMs(value: unknown, name: string, code: GracefulErrorCode, mayBeZero: boolean): number {
  const isValid =
    typeof value === 'number' && Number.isFinite(value) && (mayBeZero ? value >= 0 : value > 0);
  if (isValid) return value;
  return fail(code, name, value, `a finite number of milliseconds ${mayBeZero ? '>= 0' : '> 0'}`);
}

function readDelay(given: Record<string, unknown>): number {
  if (given['shutdownDelay'] !== undefined) {
    return readMs(
      given['shutdownDelay'],
      'shutdownDelay',
      'LASTCALL_ERR_GRACEFUL_INVALID_DELAY',
      true,
    );
  }
  const fromEnv = process.env['LASTCALL_SHUTDOWN_DELAY'];
  if (fromEnv === undefined || fromEnv.trim() === '') return 0;
  const parsed = Number(fromEnv);
  if (!Number.isFinite(parsed) || parsed < 0) {
    throw new GracefulError(
      'LASTCALL_ERR_GRACEFUL_INVALID_DELAY',
      `Graceful: LASTCALL_SHUTDOWN_DELAY must be a number of milliseconds >= 0, got ${JSON.stringify(fromEnv)}`,
    );
  }
  return parsed;
}

function readSignals(value: unknown): readonly NodeJS.Signals[] {
  if (value === undefined) return DEFAULT_SIGNALS;
  if (!Array.isArray(value)) {
    return fail(
      'LASTCALL_ERR_GRACEFUL_INVALID_SIGNALS',
      'signals',
      value,
      'an array of signal names',
    );
  }
  value.forEach((signal: unknown, index) => {
    if (typeof signal !== 'string' || !CATCHABLE.has(signal)) {
      fail(
        'LASTCALL_ERR_GRACEFUL_INVALID_SIGNALS',
        `signals[${String(index)}]`,
        signal,
        'a signal name a process can catch, such as "SIGTERM" (not SIGKILL or SIGSTOP)',
      );
    }
  });
  return [...new Set(value as NodeJS.Signals[])];
}

function readFunction<T>(given: Record<string, unknown>, name: string, fallback: () => T): T {
  const value = given[name];
  if (value === undefined) return fallback();
  if (typeof value !== 'function') {
    return fail('LASTCALL_ERR_GRACEFUL_INVALID_OPTIONS', name, value, 'a function');
  }
  return value as T;
}

function readLogger(value: unknown): Logger {
  if (value === undefined) return getLogger('lastcall:graceful');
  const kind = detectLoggerKind(value);
  // A winston, pino or bunyan logger given as it is goes through log-shim's adapters and its
  // redaction, as with setLogger: used as a plain object with level methods, bunyan and pino
  // would fold the fields into a multi-line message.
  if (kind !== undefined && kind !== 'level-methods') {
    return adaptLogger(value as object, 'lastcall:graceful');
  }
  const shape = value as Record<string, unknown> | null;
  const methods = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'child'];
  if (
    typeof value !== 'object' ||
    !methods.every((method) => typeof shape?.[method] === 'function')
  ) {
    return fail(
      'LASTCALL_ERR_GRACEFUL_INVALID_OPTIONS',
      'logger',
      value,
      `a logger with ${methods.join(', ')} methods (getLogger() of @lastcall/log-shim)`,
    );
  }
  return value as Logger;
}

/**
 * @lastcall/last-ditch, loaded when a Graceful without a `reporter` of its own is created, not
 * when graceful is imported: the lastcall worker runtime imports graceful before the app's main
 * module and creates its Graceful only after it, so the crash reporter loads off the path to the
 * app's first listen, and a process that passes its own reporter never loads it. Loaded with the
 * Graceful, never at the crash itself: a crash with no file descriptor left (EMFILE) or with the
 * app's files replaced on disk by a deploy must still find it in memory.
 */
function loadLastDitch(): typeof LastDitchModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('@lastcall/last-ditch') as typeof LastDitchModule;
}

/** Checks every option and fills in the defaults; throws a {@link GracefulError} at the first bad one. */
export function resolveOptions(options: unknown): ResolvedOptions {
  if (options === undefined) options = {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new GracefulError(
      'LASTCALL_ERR_GRACEFUL_INVALID_OPTIONS',
      `Graceful: options must be an object, got ${describeValue(options)}`,
    );
  }
  const given = options as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!KNOWN.has(key)) {
      throw new GracefulError(
        'LASTCALL_ERR_GRACEFUL_INVALID_OPTIONS',
        `Graceful: unknown option "${key}"; expected one of ${[...KNOWN].join(', ')}`,
      );
    }
  }
  const timeout =
    given['timeout'] === undefined
      ? DEFAULT_TIMEOUT
      : readMs(given['timeout'], 'timeout', 'LASTCALL_ERR_GRACEFUL_INVALID_TIMEOUT', false);
  const shutdownDelay = readDelay(given);
  if (shutdownDelay >= timeout) {
    throw new GracefulError(
      'LASTCALL_ERR_GRACEFUL_INVALID_DELAY',
      `Graceful: shutdownDelay (${String(shutdownDelay)} ms) must be shorter than timeout ` +
        `(${String(timeout)} ms), which counts from the first moment of shutdown and includes the delay`,
    );
  }
  const handleErrors = given['handleErrors'] === undefined ? true : given['handleErrors'];
  if (typeof handleErrors !== 'boolean') {
    fail('LASTCALL_ERR_GRACEFUL_INVALID_OPTIONS', 'handleErrors', handleErrors, 'a boolean');
  }
  const inProcessTest =
    given['inProcessTest'] === undefined ? isInProcessTest() : given['inProcessTest'];
  if (typeof inProcessTest !== 'boolean') {
    fail('LASTCALL_ERR_GRACEFUL_INVALID_OPTIONS', 'inProcessTest', inProcessTest, 'a boolean');
  }
  return {
    timeout,
    shutdownDelay,
    signals: readSignals(given['signals']),
    handleErrors,
    inProcessTest,
    reporter: readFunction<Reporter>(given, 'reporter', () => {
      const lastDitch = new (loadLastDitch().LastDitch)();
      return (error, info) => lastDitch.report(error, info);
    }),
    logger: readLogger(given['logger']),
    exit: readFunction(given, 'exit', () => (code: number) => process.exit(code)),
  };
}
