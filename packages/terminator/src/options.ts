import { TerminatorError } from './errors';
import type { TerminatorErrorCode } from './errors';
import { describeValue } from './server-kind';
import type { TerminatorOptions } from './types';

/** Options with every default filled in. */
export interface ResolvedOptions {
  readonly timeout: number;
  readonly forceDelay: number;
  readonly keepListening: number;
  readonly drainDelay: number;
  readonly idleGrace: number;
  /** ms after which a socket with no request in flight is ended while serving; off when undefined. */
  readonly idleTimeout: number | undefined;
  /** Set on the server when the terminator is created; undefined leaves the server's own. */
  readonly keepAliveTimeout: number | undefined;
  readonly headersTimeout: number | undefined;
  readonly onUpgrade: TerminatorOptions['onUpgrade'];
  readonly onSocket: TerminatorOptions['onSocket'];
  readonly signal: AbortSignal | undefined;
}

/** The grace period when none is given, in milliseconds. */
export const DEFAULT_TIMEOUT = 10_000;

/** How long a keep-alive socket must have been quiet before the drain closes it, in ms. */
export const DEFAULT_IDLE_GRACE = 20;

const KNOWN_OPTIONS = new Set([
  'timeout',
  'forceDelay',
  'keepListening',
  'drainDelay',
  'idleGrace',
  'idleTimeout',
  'keepAliveTimeout',
  'headersTimeout',
  'onUpgrade',
  'onSocket',
  'signal',
]);

/**
 * Validates `options` and lays them over `base`. Throws a {@link TerminatorError} naming the
 * option, the value and what was expected.
 */
export function resolveOptions(
  where: string,
  options: unknown,
  base?: ResolvedOptions,
): ResolvedOptions {
  if (options === undefined) return base ?? resolveOptions(where, {});
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TerminatorError(
      'LASTCALL_ERR_TERMINATOR_INVALID_OPTIONS',
      `${where}: options must be an object, got ${describeValue(options)}`,
    );
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) {
      throw new TerminatorError(
        'LASTCALL_ERR_TERMINATOR_INVALID_OPTIONS',
        `${where}: unknown option "${key}"; expected one of ${[...KNOWN_OPTIONS].join(', ')}`,
      );
    }
  }
  const given = options as Record<string, unknown>;
  const duration = (name: keyof typeof DURATIONS): number | undefined => {
    const { code, allowInfinity } = DURATIONS[name];
    return readDuration(where, given, name, code, allowInfinity);
  };
  const keepListening = duration('keepListening') ?? base?.keepListening ?? 0;
  const drainDelay = duration('drainDelay') ?? base?.drainDelay ?? 0;
  if (keepListening > 0 && drainDelay > 0) {
    throw new TerminatorError(
      'LASTCALL_ERR_TERMINATOR_INVALID_OPTIONS',
      `${where}: keepListening (${String(keepListening)}) and drainDelay (${String(drainDelay)}) are opposites: one keeps accepting while the connections drain, the other stops accepting before they drain; give one of them`,
    );
  }
  return {
    timeout: duration('timeout') ?? base?.timeout ?? DEFAULT_TIMEOUT,
    forceDelay: duration('forceDelay') ?? base?.forceDelay ?? 0,
    keepListening,
    drainDelay,
    idleGrace: duration('idleGrace') ?? base?.idleGrace ?? DEFAULT_IDLE_GRACE,
    idleTimeout: readIdleTimeout(where, given, base?.idleTimeout),
    keepAliveTimeout: readServerTimeout(where, given, 'keepAliveTimeout') ?? base?.keepAliveTimeout,
    headersTimeout: readServerTimeout(where, given, 'headersTimeout') ?? base?.headersTimeout,
    onUpgrade: readHook(where, given, 'onUpgrade') ?? base?.onUpgrade,
    onSocket: readHook(where, given, 'onSocket') ?? base?.onSocket,
    signal: readSignal(where, given) ?? base?.signal,
  };
}

/** The options measured in milliseconds, with their error code. Only `timeout` may be Infinity. */
const DURATIONS = {
  timeout: { code: 'LASTCALL_ERR_TERMINATOR_INVALID_TIMEOUT', allowInfinity: true },
  forceDelay: { code: 'LASTCALL_ERR_TERMINATOR_INVALID_FORCE_DELAY', allowInfinity: false },
  keepListening: { code: 'LASTCALL_ERR_TERMINATOR_INVALID_KEEP_LISTENING', allowInfinity: false },
  drainDelay: { code: 'LASTCALL_ERR_TERMINATOR_INVALID_DRAIN_DELAY', allowInfinity: false },
  idleGrace: { code: 'LASTCALL_ERR_TERMINATOR_INVALID_IDLE_GRACE', allowInfinity: false },
} as const satisfies Record<string, { code: TerminatorErrorCode; allowInfinity: boolean }>;

function readDuration(
  where: string,
  options: Record<string, unknown>,
  name: string,
  code: TerminatorErrorCode,
  allowInfinity: boolean,
): number | undefined {
  const value = options[name];
  if (value === undefined) return undefined;
  const isValid =
    typeof value === 'number' &&
    value >= 0 &&
    (Number.isFinite(value) || (allowInfinity && value === Infinity));
  if (!isValid) {
    const expected = allowInfinity
      ? 'a number of milliseconds >= 0, or Infinity'
      : 'a finite number of milliseconds >= 0';
    throw new TerminatorError(
      code,
      `${where}: ${name} must be ${expected}, got ${describeValue(value)}`,
    );
  }
  return value;
}

/** `idleTimeout`: a finite number of ms > 0, or `false` (and `undefined`) for off. */
function readIdleTimeout(
  where: string,
  options: Record<string, unknown>,
  fallback: number | undefined,
): number | undefined {
  const value = options['idleTimeout'];
  if (value === undefined) return fallback;
  if (value === false) return undefined;
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return value;
  throw new TerminatorError(
    'LASTCALL_ERR_TERMINATOR_INVALID_IDLE_TIMEOUT',
    `${where}: idleTimeout must be a finite number of milliseconds > 0, or false for none, got ${describeValue(value)}`,
  );
}

/** The longest server timeout: what a Node timer can hold (about 24.8 days). */
export const MAX_SERVER_TIMEOUT = 2 ** 31 - 1;

/** `keepAliveTimeout`, `headersTimeout`: a whole number of ms > 0 that a timer can hold. */
function readServerTimeout(
  where: string,
  options: Record<string, unknown>,
  name: 'keepAliveTimeout' | 'headersTimeout',
): number | undefined {
  const value = options[name];
  if (value === undefined) return undefined;
  if (Number.isInteger(value) && (value as number) > 0 && (value as number) <= MAX_SERVER_TIMEOUT) {
    return value as number;
  }
  throw new TerminatorError(
    'LASTCALL_ERR_TERMINATOR_INVALID_SERVER_TIMEOUT',
    `${where}: ${name} must be a whole number of milliseconds from 1 to ${String(MAX_SERVER_TIMEOUT)}, got ${describeValue(value)}`,
  );
}

function readHook<T extends keyof TerminatorOptions>(
  where: string,
  options: Record<string, unknown>,
  name: T,
): TerminatorOptions[T] | undefined {
  const value = options[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'function') {
    throw new TerminatorError(
      'LASTCALL_ERR_TERMINATOR_INVALID_HOOK',
      `${where}: ${name} must be a function, got ${describeValue(value)}`,
    );
  }
  return value as TerminatorOptions[T];
}

function readSignal(where: string, options: Record<string, unknown>): AbortSignal | undefined {
  const value = options['signal'];
  if (value === undefined) return undefined;
  if (!(value instanceof AbortSignal)) {
    throw new TerminatorError(
      'LASTCALL_ERR_TERMINATOR_INVALID_SIGNAL',
      `${where}: signal must be an AbortSignal, got ${describeValue(value)}`,
    );
  }
  return value;
}
