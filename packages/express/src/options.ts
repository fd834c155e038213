import type { Graceful } from '@lastcall/graceful';
import { describeValue } from '@lastcall/log-shim';
import { ExpressError } from './errors';
import type { GracefulExpressOptions } from './types';

/** Default of {@link GracefulExpressOptions.retryAfter}, in seconds. */
export const DEFAULT_RETRY_AFTER = 5;

const KNOWN_OPTIONS = new Set([
  'graceful',
  'terminator',
  'retryAfter',
  'inProcessTest',
  'shedWhileClosing',
]);

/** Checks the options of {@link GracefulExpress}; throws an `ExpressError` at the first bad one. */
export function readOptions(options: unknown): GracefulExpressOptions {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new ExpressError(
      'LASTCALL_ERR_EXPRESS_INVALID_OPTIONS',
      `GracefulExpress: options must be an object, got ${describeValue(options)}`,
    );
  }
  const given = options as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!KNOWN_OPTIONS.has(key)) {
      throw new ExpressError(
        'LASTCALL_ERR_EXPRESS_INVALID_OPTIONS',
        `GracefulExpress: unknown option "${key}"; expected one of ${[...KNOWN_OPTIONS].join(', ')}`,
      );
    }
  }
  const { graceful, terminator, retryAfter, inProcessTest, shedWhileClosing } = given;
  if (shedWhileClosing !== undefined && typeof shedWhileClosing !== 'boolean') {
    invalid('shedWhileClosing', shedWhileClosing, 'a boolean');
  }
  if (graceful !== undefined && !isGracefulShaped(graceful)) {
    invalid('graceful', graceful, 'a Graceful of @lastcall/graceful (Graceful.start())');
  }
  if (terminator !== undefined && (terminator === null || typeof terminator !== 'object')) {
    invalid('terminator', terminator, 'an object of terminator options');
  }
  if (inProcessTest !== undefined && typeof inProcessTest !== 'boolean') {
    invalid('inProcessTest', inProcessTest, 'a boolean');
  }
  if (retryAfter !== undefined && !(Number.isInteger(retryAfter) && (retryAfter as number) >= 0)) {
    throw new ExpressError(
      'LASTCALL_ERR_EXPRESS_INVALID_RETRY_AFTER',
      `GracefulExpress: option "retryAfter" must be a whole number of seconds >= 0, got ${describeValue(retryAfter)}`,
    );
  }
  return given;
}

/** By shape, not `instanceof`: an app may end up with two copies of @lastcall/graceful. */
function isGracefulShaped(value: unknown): value is Graceful {
  const shape = value as Partial<Graceful> | null;
  return (
    typeof shape?.onShutdown === 'function' &&
    typeof shape.addErrorContext === 'function' &&
    typeof shape.isReady === 'boolean'
  );
}

function invalid(name: string, value: unknown, expected: string): never {
  throw new ExpressError(
    'LASTCALL_ERR_EXPRESS_INVALID_OPTIONS',
    `GracefulExpress: option "${name}" must be ${expected}, got ${describeValue(value)}`,
  );
}
