import { EventEmitter } from 'node:events';
import { describeValue } from './describe-value';
import { LogShimError } from './errors';
import { envSecretsPattern, globalPattern, MAX_DEPTH, REDACTED, redactText } from './redact-text';
import type { TextRules } from './redact-text';
import { hidesNextItem, isSecretName } from './secret-name';
import { serializeError } from './serialize-error';
import type { LogFields } from './types';

/** Options of {@link setRedaction}. */
export interface RedactionOptions {
  /**
   * Extra patterns whose matches are replaced in every output, on top of the built-in rules.
   * They replace the ones given before; a pattern without the `g` flag is given it.
   */
  readonly patterns?: readonly RegExp[];
  /** The environment whose secret-looking values are replaced; read now. Default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** More objects and arrays than this in one event are not scanned but replaced by a marker. */
const MAX_NODES = 2000;

let extraPatterns: readonly RegExp[] = [];
/** Built at the first event, from `process.env`, or by {@link setRedaction}. */
let rules: TextRules | undefined;
let version = 0;

/**
 * Changes what every output is redacted against: `patterns` (extra patterns, replacing the ones
 * set before) and `env`, whose secret-looking values are read again now. Without `env`,
 * `process.env` is read again: call `setRedaction()` after the app has put a secret into its
 * environment. Loggers handed out already follow. Throws a `LogShimError`
 * (`LASTCALL_ERR_LOG_SHIM_INVALID_OPTIONS`) for options of the wrong shape.
 */
export function setRedaction(options?: RedactionOptions): void {
  const given: unknown = options;
  if (given !== undefined && (given === null || typeof given !== 'object')) {
    invalid('options', given, 'an object such as { patterns: [/sk_live_\\w+/] }');
  }
  const { patterns, env } = (given ?? {}) as Record<string, unknown>;
  if (
    patterns !== undefined &&
    (!Array.isArray(patterns) || !patterns.every((pattern) => pattern instanceof RegExp))
  ) {
    invalid('patterns', patterns, 'an array of RegExp');
  }
  if (env !== undefined && (env === null || typeof env !== 'object')) {
    invalid('env', env, 'an object of environment variables such as process.env');
  }
  if (patterns !== undefined) extraPatterns = patterns.map(globalPattern);
  rules = {
    envSecrets: envSecretsPattern((env ?? process.env) as Record<string, string | undefined>),
    patterns: extraPatterns,
  };
  version += 1;
}

function invalid(option: string, value: unknown, expected: string): never {
  throw new LogShimError(
    'LASTCALL_ERR_LOG_SHIM_INVALID_OPTIONS',
    `setRedaction: ${option} must be ${expected}, got ${describeValue(value)}`,
  );
}

/** Bumped by every {@link setRedaction}; what was redacted once (bindings) is redacted again. */
export function redactionVersion(): number {
  return version;
}

/** The extra patterns of {@link setRedaction}, with the `g` flag. */
export function extraRedactionPatterns(): readonly RegExp[] {
  return extraPatterns;
}

function currentRules(): TextRules {
  rules ??= { envSecrets: envSecretsPattern(process.env), patterns: extraPatterns };
  return rules;
}

/** The message of one event with every secret replaced; the message itself when it has none. */
export function redactMessage(message: string): string {
  return message === '' ? message : redactText(message, currentRules());
}

let nodesLeft = 0;
/** The objects being walked, from the event's fields down; a cycle ends at one of them. */
const ancestors: object[] = [];
/** Counts the getters that threw, so a walk can tell that a value stands for a failed read. */
let failedReads = 0;

/**
 * The fields of one event with every secret replaced and every Error serialised. Copy on write:
 * `fields` itself comes back when nothing in it needs to change, and otherwise only the objects
 * and arrays on the way to a change are copied. The caller's objects are never changed.
 */
export function redactFields(fields: LogFields): LogFields {
  const depthBefore = ancestors.length;
  nodesLeft = MAX_NODES;
  try {
    return redactObject(fields, 0, currentRules(), false) as LogFields;
  } catch {
    // A Proxy whose traps throw: nothing of it can be shown safely. (Only here is the stack of
    // ancestors cut back: setting an array's length costs more than the whole walk of `{ a: 1 }`.)
    ancestors.length = depthBefore;
    return { fields: '[unreadable]' };
  }
}

function redactValue(value: unknown, depth: number, textRules: TextRules, isInError: boolean) {
  if (typeof value === 'string') return redactText(value, textRules);
  if (typeof value !== 'object' || value === null) return value;
  if (value instanceof Error) {
    return redactObject(serializeError(value) as object, depth, textRules, true);
  }
  if (Array.isArray(value)) return redactArray(value, depth, textRules, isInError);
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype === Object.prototype || prototype === null) {
    return redactObject(value, depth, textRules, isInError);
  }
  // What an Error carries (an HTTP client's config with its headers object) is serialised with
  // the error, so it is ours to copy; other instances are the host logger's to serialise.
  return isInError && isPlainData(value) ? redactObject(value, depth, textRules, isInError) : value;
}

function isPlainData(value: object): boolean {
  return !(
    ArrayBuffer.isView(value) ||
    value instanceof ArrayBuffer ||
    value instanceof Date ||
    value instanceof RegExp ||
    value instanceof Map ||
    value instanceof Set ||
    value instanceof Promise ||
    value instanceof EventEmitter
  );
}

/** The marker that replaces `value`, or `undefined` when it is to be walked. */
function enter(value: object, depth: number): string | undefined {
  if (depth >= MAX_DEPTH) return '[too deep]';
  if (ancestors.includes(value)) return '[Circular]';
  if (nodesLeft <= 0) return '[too large to redact]';
  nodesLeft -= 1;
  ancestors.push(value);
  return undefined;
}

function holdsSecret(value: unknown): boolean {
  return value !== undefined && value !== null && value !== '' && typeof value !== 'boolean';
}

function readProperty(source: Record<string, unknown>, key: string): unknown {
  try {
    return source[key];
  } catch (error) {
    failedReads += 1;
    return `[getter threw: ${error instanceof Error ? redactMessage(error.message) : 'unknown'}]`;
  }
}

function setProperty(target: Record<string, unknown>, key: string, value: unknown): void {
  // A `__proto__` of the caller's (from JSON.parse) is data; assigned, it would set the prototype.
  if (key === '__proto__') {
    Object.defineProperty(target, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else {
    target[key] = value;
  }
}

/**
 * The stack of a serialised Error: its head (`Name: message`, every line of the message) is
 * redacted, its frames (`    at fn (file:line:column)`), which are code locations, are kept as
 * they are. The frames are most of a stack's text, so this halves what an Error costs to log.
 */
function redactStack(stack: string, textRules: TextRules): string {
  const framesStart = stack.indexOf('\n    at ');
  if (framesStart === -1) return redactText(stack, textRules);
  const head = stack.slice(0, framesStart);
  const redactedHead = redactText(head, textRules);
  return redactedHead === head ? stack : `${redactedHead}${stack.slice(framesStart)}`;
}

function redactObject(value: object, depth: number, textRules: TextRules, isInError: boolean) {
  const marker = enter(value, depth);
  if (marker !== undefined) return marker;
  const source = value as Record<string, unknown>;
  let copy: Record<string, unknown> | undefined;
  for (const key in source) {
    if (!Object.hasOwn(source, key)) continue;
    const failedBefore = failedReads;
    const item = readProperty(source, key);
    const didReadFail = failedReads !== failedBefore;
    const redacted = isSecretName(key)
      ? holdsSecret(item)
        ? REDACTED
        : item
      : isInError && key === 'stack' && typeof item === 'string'
        ? redactStack(item, textRules)
        : redactValue(item, depth + 1, textRules, isInError);
    if (copy === undefined) {
      if (redacted === item && !didReadFail) continue;
      copy = {};
      for (const earlier in source) {
        if (earlier === key) break;
        if (Object.hasOwn(source, earlier))
          setProperty(copy, earlier, readProperty(source, earlier));
      }
    }
    setProperty(copy, key, redacted);
  }
  ancestors.pop();
  return copy ?? value;
}

function redactArray(value: unknown[], depth: number, textRules: TextRules, isInError: boolean) {
  const marker = enter(value, depth);
  if (marker !== undefined) return marker;
  let copy: unknown[] | undefined;
  let isHidden = false;
  for (let index = 0; index < value.length; index += 1) {
    const item = value[index];
    const redacted =
      isHidden && holdsSecret(item) ? REDACTED : redactValue(item, depth + 1, textRules, isInError);
    isHidden = hidesNextItem(item);
    if (copy === undefined) {
      if (redacted === item) continue;
      copy = value.slice(0, index);
    }
    copy.push(redacted);
  }
  ancestors.pop();
  return copy ?? value;
}
