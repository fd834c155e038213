import { describeValue } from '@lastcall/log-shim';
import { appNameFromEnv } from './app-info';
import { LastDitchError } from './errors';
import type { LastDitchErrorCode } from './errors';
import type { EmailTarget, Messenger, SmsTarget, StatsdLike } from './types';

/** Deadline of the async targets when none is given, in milliseconds. */
export const DEFAULT_TIMEOUT = 2000;

/** Longest string kept in a report when none is given, in characters. */
export const DEFAULT_MAX_STRING_LENGTH = 32 * 1024;

/** Options with the environment and the defaults applied. */
export interface ResolvedOptions {
  readonly crashLog: string | false;
  readonly stderr: boolean;
  readonly appName: string | undefined;
  readonly timeout: number;
  readonly statsd: StatsdLike | string | false;
  readonly webhook: string | undefined;
  readonly email: EmailTarget | undefined;
  readonly sms: SmsTarget | undefined;
  readonly messenger: Messenger | undefined;
  readonly includeStack: boolean;
  readonly redact: readonly RegExp[];
  readonly maxStringLength: number;
}

const KNOWN_OPTIONS = new Set<string>([
  'crashLog',
  'stderr',
  'appName',
  'timeout',
  'statsd',
  'webhook',
  'email',
  'sms',
  'messenger',
  'includeStack',
  'redact',
  'maxStringLength',
]);

function fail(code: LastDitchErrorCode, name: string, value: unknown, expected: string): never {
  throw new LastDitchError(
    code,
    `new LastDitch(): option "${name}" must be ${expected}, got ${describeValue(value)}`,
  );
}

function env(...names: string[]): string | undefined {
  for (const name of names) {
    const value = process.env[name];
    if (value !== undefined && value !== '') return value;
  }
  return undefined;
}

/** A non-null object that is not an array. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readString(given: Record<string, unknown>, name: string): string | undefined {
  const value = given[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') {
    fail('LASTCALL_ERR_LAST_DITCH_INVALID_OPTIONS', name, value, 'a non-empty string');
  }
  return value;
}

function readBoolean(given: Record<string, unknown>, name: string): boolean | undefined {
  const value = given[name];
  if (value === undefined || typeof value === 'boolean') return value;
  return fail('LASTCALL_ERR_LAST_DITCH_INVALID_OPTIONS', name, value, 'a boolean');
}

function readPositive(given: Record<string, unknown>, name: string): number | undefined {
  const value = given[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    const code =
      name === 'timeout'
        ? 'LASTCALL_ERR_LAST_DITCH_INVALID_TIMEOUT'
        : 'LASTCALL_ERR_LAST_DITCH_INVALID_OPTIONS';
    fail(code, name, value, 'a finite number > 0 (milliseconds or characters)');
  }
  return value;
}

function readStatsd(given: Record<string, unknown>): StatsdLike | string | false | undefined {
  const value = given['statsd'];
  if (value === undefined || value === false) return value;
  if (typeof value === 'string' && /^[^:\s]+:\d+$/.test(value)) return value;
  if (isObject(value) && typeof value['increment'] === 'function')
    return value as unknown as StatsdLike;
  return fail(
    'LASTCALL_ERR_LAST_DITCH_INVALID_TARGET',
    'statsd',
    value,
    'a client with an increment() method, a "host:port" string or false',
  );
}

function readWebhook(given: Record<string, unknown>): string | undefined {
  const value = given['webhook'];
  if (value === undefined) return undefined;
  if (typeof value === 'string' && URL.canParse(value) && /^https?:/.test(value)) return value;
  return fail('LASTCALL_ERR_LAST_DITCH_INVALID_TARGET', 'webhook', value, 'an http(s) URL');
}

function readTarget(given: Record<string, unknown>, name: string, method: string): unknown {
  const value = given[name];
  if (value === undefined) return undefined;
  const holder = name === 'email' && isObject(value) ? value['transport'] : value;
  if (
    !isObject(value) ||
    !isObject(holder) ||
    typeof holder[method] !== 'function' ||
    typeof value['to'] !== 'string'
  ) {
    const shape = name === 'email' ? '{ transport: { sendMail }, to }' : '{ send, to }';
    fail('LASTCALL_ERR_LAST_DITCH_INVALID_TARGET', name, value, `an object ${shape}`);
  }
  const maxLength = value['maxLength'];
  if (
    name === 'sms' &&
    maxLength !== undefined &&
    !(Number.isInteger(maxLength) && (maxLength as number) >= MIN_SMS_LENGTH)
  ) {
    fail(
      'LASTCALL_ERR_LAST_DITCH_INVALID_TARGET',
      'sms.maxLength',
      maxLength,
      `an integer number of characters, at least ${String(MIN_SMS_LENGTH)}`,
    );
  }
  return value;
}

/** The shortest `sms.maxLength` accepted: room for the app, the host and a few words. */
export const MIN_SMS_LENGTH = 20;

function readPatterns(given: Record<string, unknown>): RegExp[] {
  const value = given['redact'];
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    fail(
      'LASTCALL_ERR_LAST_DITCH_INVALID_PATTERN',
      'redact',
      value,
      'an array of RegExp or string',
    );
  }
  return (value as unknown[]).map((pattern, index) => {
    if (pattern instanceof RegExp) {
      return new RegExp(
        pattern.source,
        pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`,
      );
    }
    if (typeof pattern === 'string' && pattern !== '') {
      return new RegExp(pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'g');
    }
    return fail(
      'LASTCALL_ERR_LAST_DITCH_INVALID_PATTERN',
      `redact[${String(index)}]`,
      pattern,
      'a RegExp or a non-empty string',
    );
  });
}

/**
 * Validates `options` and applies the environment and the defaults. Throws a
 * {@link LastDitchError} naming the option, the value and what was expected.
 */
export function resolveOptions(options: unknown): ResolvedOptions {
  const given: Record<string, unknown> = options === undefined ? {} : (options as never);
  if (!isObject(given)) {
    throw new LastDitchError(
      'LASTCALL_ERR_LAST_DITCH_INVALID_OPTIONS',
      `new LastDitch(): options must be an object, got ${describeValue(options)}`,
    );
  }
  for (const key of Object.keys(given)) {
    if (!KNOWN_OPTIONS.has(key)) {
      throw new LastDitchError(
        'LASTCALL_ERR_LAST_DITCH_INVALID_OPTIONS',
        `new LastDitch(): unknown option "${key}"; expected one of ${[...KNOWN_OPTIONS].join(', ')}`,
      );
    }
  }
  const crashLog = given['crashLog'] === false ? false : readString(given, 'crashLog');
  const messenger = given['messenger'];
  if (messenger !== undefined && typeof messenger !== 'function') {
    fail('LASTCALL_ERR_LAST_DITCH_INVALID_TARGET', 'messenger', messenger, 'a function');
  }
  return {
    crashLog: crashLog ?? env('LASTCALL_CRASH_LOG', 'THEHELP_CRASH_LOG') ?? './crash.log',
    stderr: readBoolean(given, 'stderr') ?? true,
    appName: readString(given, 'appName') ?? appNameFromEnv(),
    timeout: readPositive(given, 'timeout') ?? DEFAULT_TIMEOUT,
    statsd: readStatsd(given) ?? env('LASTCALL_STATSD') ?? false,
    webhook: readWebhook(given),
    email: readTarget(given, 'email', 'sendMail') as EmailTarget | undefined,
    sms: readTarget(given, 'sms', 'send') as SmsTarget | undefined,
    messenger: messenger as Messenger | undefined,
    includeStack: readBoolean(given, 'includeStack') ?? false,
    redact: readPatterns(given),
    maxStringLength: readPositive(given, 'maxStringLength') ?? DEFAULT_MAX_STRING_LENGTH,
  };
}
