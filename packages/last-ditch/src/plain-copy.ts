import * as util from 'node:util';
import { MAX_CAUSE_DEPTH } from '@lastcall/log-shim';
import { MAX_DEPTH } from './redact';

/**
 * Objects and arrays have at most this many entries: all of them up to this many, else the first
 * `MAX_ENTRIES - 1` and a last one that counts the rest (`'[more properties]': N`,
 * `'[N more items]'`), so that the redactor, which keeps 100, never cuts the count off.
 */
export const MAX_ENTRIES = 100;

/** How many of `count` entries are kept: see {@link MAX_ENTRIES}. */
export function keptEntries(count: number): number {
  return count <= MAX_ENTRIES ? count : MAX_ENTRIES - 1;
}

/**
 * The key that says how many properties an object lost. It must not look like a secret name
 * (`[more keys]` would: it contains `key`), or the redactor would hide the count.
 */
export const MORE_PROPERTIES = '[more properties]';

/** Object keys longer than this, in characters, are cut. */
export const MAX_KEY_LENGTH = 256;

/** At most this many values (strings, numbers, objects, …) are copied into one report. */
export const MAX_VALUES = 5000;

/**
 * At most this many characters of strings are read into one report before redaction; strings
 * past it keep only the marker. It bounds the time redaction takes.
 */
export const MAX_RAW_CHARACTERS = 2 * 1024 * 1024;

/**
 * A string is redacted on its first `maxStringLength` + this many characters before it is cut
 * to `maxStringLength`, so that a secret that straddles the cut (up to this long) is still
 * recognised and never leaves half of itself in the report.
 */
export const SECRET_MARGIN = 16 * 1024;

/** The marker that ends a cut string: `…[1234 more characters]`. */
export function cutMarker(count: number): string {
  return `…[${String(count)} more characters]`;
}

/**
 * `text` cut to `max` characters with a {@link cutMarker} that also counts `dropped`, the
 * characters already cut before `text` was redacted.
 */
export function cutText(text: string, max: number, dropped = 0): string {
  if (text.length <= max && dropped === 0) return text;
  const kept = sliceWhole(text, max);
  return `${kept}${cutMarker(text.length - kept.length + dropped)}`;
}

/** `text` cut to at most `end` UTF-16 units, never splitting a surrogate pair. */
export function sliceWhole(text: string, end: number): string {
  if (text.length <= end) return text;
  let cut = Math.max(0, end);
  const last = text.charCodeAt(cut - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut -= 1;
  return text.slice(0, cut);
}

/** What {@link createCopier} needs: the string cap and how to redact one string. */
export interface CopyLimits {
  /** Longest string kept, in characters. */
  readonly maxStringLength: number;
  /** Redacts one string; it is given at most `maxStringLength` + {@link SECRET_MARGIN} characters. */
  readonly redactText: (text: string) => string;
}

/** Turns values into plain, bounded, redacted-string data; one copier per report. */
export interface Copier {
  /** A plain JSON-safe copy of any value; never throws, never calls the value's own code twice. */
  readonly copy: (value: unknown) => unknown;
  /** The copy of a thrown value: an Error as name/message/stack/…, anything else as NonError. */
  readonly copyThrown: (value: unknown) => Record<string, unknown>;
  /** One string, redacted and cut with a {@link cutMarker}. */
  readonly text: (value: string) => string;
}

/**
 * Builds the copier of one report. Everything it reads from a value (a getter, a Proxy trap,
 * `toString`, `constructor`) is read once inside `try`, so a hostile value (a Proxy whose traps
 * throw, a revoked Proxy, a getter or `toString` that throws, a null-prototype object) still
 * gives a copy; what could not be read is shown as `'[getter threw: …]'` and the like. The copy
 * is bounded: strings by `maxStringLength`, objects by {@link MAX_ENTRIES} keys and
 * {@link MAX_DEPTH} levels, the cause chain by `MAX_CAUSE_DEPTH`, the whole by
 * {@link MAX_VALUES} values and {@link MAX_RAW_CHARACTERS} characters.
 */
export function createCopier(limits: CopyLimits): Copier {
  let valuesLeft = MAX_VALUES;
  let charactersLeft = MAX_RAW_CHARACTERS;

  const text = (value: string, max = limits.maxStringLength): string => {
    const head = Math.min(value.length, max + SECRET_MARGIN, charactersLeft);
    charactersLeft -= head;
    const keep = Math.min(max, head - (head < value.length ? SECRET_MARGIN : 0));
    if (keep <= 0) return cutMarker(value.length);
    return cutText(limits.redactText(value.slice(0, head)), keep, value.length - head);
  };

  const copy = (value: unknown, depth: number, errorDepth: number, seen: Set<object>): unknown => {
    if (typeof value === 'string') return text(value);
    if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
    if (typeof value === 'boolean' || value === undefined || value === null) return value;
    if (typeof value === 'bigint') return `${value.toString()}n`;
    if (typeof value === 'symbol') return text(value.toString());
    if (typeof value === 'function') return `[function ${functionName(value, text)}]`;
    if (typeof value !== 'object') return `[${typeof value}]`;
    if (valuesLeft <= 0) return '[cut: too many values]';
    valuesLeft -= 1;
    if (seen.has(value)) return '[Circular]';
    if (depth >= MAX_DEPTH) return '[too deep]';
    const special = describeSpecial(value, text);
    if (special !== undefined) return special;
    seen.add(value);
    try {
      if (isError(value)) return copyError(value, depth, errorDepth, seen);
      if (isArray(value)) return copyArray(value, depth, errorDepth, seen);
      return copyObject(value, depth, errorDepth, seen);
    } finally {
      seen.delete(value);
    }
  };

  const copyArray = (
    value: readonly unknown[],
    depth: number,
    errorDepth: number,
    seen: Set<object>,
  ): unknown => {
    const length = read(value, 'length', text);
    if (typeof length !== 'number') return `[array: ${String(length)}]`;
    const result: unknown[] = [];
    const kept = keptEntries(length);
    for (let index = 0; index < kept; index += 1) {
      if (valuesLeft <= 0) break;
      result.push(copy(read(value, String(index), text), depth + 1, errorDepth, seen));
    }
    if (result.length < length) result.push(`[${String(length - result.length)} more items]`);
    return result;
  };

  const copyObject = (
    value: object,
    depth: number,
    errorDepth: number,
    seen: Set<object>,
    skip?: ReadonlySet<string>,
  ): Record<string, unknown> => {
    const result: Record<string, unknown> = {};
    let keys: string[];
    try {
      keys = Object.keys(value);
    } catch (error) {
      result['[properties threw]'] = text(describeFailure(error));
      return result;
    }
    const own = skip === undefined ? keys : keys.filter((key) => !skip.has(key));
    const kept = keptEntries(own.length);
    let index = 0;
    for (; index < kept && valuesLeft > 0; index += 1) {
      const key = own[index] ?? '';
      const name = key === '__proto__' ? '[__proto__]' : text(key, MAX_KEY_LENGTH);
      result[name] = copy(read(value, key, text), depth + 1, errorDepth, seen);
    }
    const left = own.length - index;
    if (left > 0) result[MORE_PROPERTIES] = left;
    return result;
  };

  const copyThrownAt = (
    value: unknown,
    depth: number,
    errorDepth: number,
    seen: Set<object>,
  ): unknown => {
    if (typeof value === 'object' && value !== null && isError(value)) {
      return copy(value, depth, errorDepth, seen);
    }
    return describeNonError(value, (inner) => copy(inner, depth, errorDepth, seen), text);
  };

  const copyError = (
    value: object,
    depth: number,
    errorDepth: number,
    seen: Set<object>,
  ): unknown => {
    if (errorDepth > MAX_CAUSE_DEPTH) return '[cause chain truncated]';
    const result: Record<string, unknown> = {
      name: printable(read(value, 'name', text), text),
      message: printable(read(value, 'message', text), text),
      ...copyObject(value, depth, errorDepth + 1, seen, ERROR_FIELDS),
    };
    const code = read(value, 'code', text);
    if (code !== undefined) result['code'] = copy(code, depth + 1, errorDepth, seen);
    const stack = read(value, 'stack', text);
    if (typeof stack === 'string') result['stack'] = text(stack);
    const cause = read(value, 'cause', text);
    if (cause !== undefined) result['cause'] = copyThrownAt(cause, depth + 1, errorDepth + 1, seen);
    const errors = read(value, 'errors', text);
    if (isAggregate(value) && isArray(errors)) {
      const length = read(errors, 'length', text);
      const count = typeof length === 'number' ? length : 0;
      const members: unknown[] = [];
      for (let index = 0; index < keptEntries(count) && valuesLeft > 0; index += 1) {
        const member = read(errors, String(index), text);
        members.push(copyThrownAt(member, depth + 2, errorDepth + 1, seen));
      }
      if (members.length < count) members.push(`[${String(count - members.length)} more items]`);
      result['errors'] = members;
    }
    return result;
  };

  const copyThrown = (value: unknown): Record<string, unknown> => {
    const copied = copyThrownAt(value, 0, 0, new Set());
    if (typeof copied === 'object' && copied !== null && !Array.isArray(copied)) {
      return copied as Record<string, unknown>;
    }
    return { name: 'Error', message: text(String(copied)) };
  };

  return {
    copy: (value) => copy(value, 0, 0, new Set()),
    copyThrown,
    text: (value) => text(value),
  };
}

/** Fields of an Error read on their own, not among its other own properties. */
const ERROR_FIELDS: ReadonlySet<string> = new Set([
  'name',
  'message',
  'stack',
  'code',
  'cause',
  'errors',
]);

/** `value[key]`, or `'[getter threw: …]'` when reading it throws. */
function read(value: object, key: string, text: (value: string) => string): unknown {
  try {
    return (value as Record<string, unknown>)[key];
  } catch (error) {
    return `[getter threw: ${text(describeFailure(error))}]`;
  }
}

/**
 * What a caught value says about itself without running any of its code: the message of a
 * native Error (when it is a plain string), else only its type.
 */
export function describeFailure(error: unknown): string {
  if (util.types.isNativeError(error)) {
    try {
      const message = Object.getOwnPropertyDescriptor(error, 'message')?.value as unknown;
      if (typeof message === 'string') return message;
    } catch {
      // A native Error wrapped in nothing cannot throw here; a subclass with traps could.
    }
    return 'an Error';
  }
  return `a thrown ${typeof error}`;
}

/** A name or message as a string: `String(value)` in `try`, for a value that is not one. */
function printable(value: unknown, text: (value: string) => string): string {
  if (typeof value === 'string') return text(value);
  if (typeof value === 'symbol') return text(value.toString());
  try {
    return text(String(value));
  } catch (error) {
    return `[unprintable ${typeof value}: ${text(describeFailure(error))}]`;
  }
}

function functionName(value: object, text: (value: string) => string): string {
  const name = read(value, 'name', text);
  return typeof name === 'string' && name !== ''
    ? text(sliceWhole(name, MAX_KEY_LENGTH))
    : 'anonymous';
}

function isError(value: object): boolean {
  if (util.types.isNativeError(value)) return true;
  try {
    return value instanceof Error;
  } catch {
    return false;
  }
}

function isAggregate(value: object): boolean {
  try {
    return value instanceof AggregateError;
  } catch {
    return false;
  }
}

function isArray(value: unknown): value is readonly unknown[] {
  try {
    return Array.isArray(value);
  } catch {
    return false;
  }
}

/**
 * The one-string description of objects whose content is not their own keys (dates, buffers,
 * maps, promises, boxed primitives), read through the intrinsic methods so that no trap or
 * getter of the value runs; `undefined` for an ordinary object.
 */
function describeSpecial(value: object, text: (value: string) => string): unknown {
  const types = util.types;
  try {
    if (types.isProxy(value)) return undefined;
    if (types.isDate(value)) {
      const time = Date.prototype.getTime.call(value);
      return Number.isNaN(time) ? 'Invalid Date' : Date.prototype.toISOString.call(value);
    }
    if (types.isRegExp(value)) return text(RegExp.prototype.toString.call(value));
    if (types.isAnyArrayBuffer(value) || ArrayBuffer.isView(value)) {
      return `[${intrinsicTag(value)} of ${String(byteLength(value))} bytes]`;
    }
    if (types.isMap(value)) return `[Map of ${String(sizeOf(value))} entries]`;
    if (types.isSet(value)) return `[Set of ${String(sizeOf(value))} entries]`;
    if (types.isPromise(value)) return '[Promise]';
    if (types.isWeakMap(value) || types.isWeakSet(value)) return `[${intrinsicTag(value)}]`;
    if (types.isStringObject(value)) return text(String.prototype.valueOf.call(value));
    if (types.isNumberObject(value)) return Number.prototype.valueOf.call(value);
    if (types.isBooleanObject(value)) return Boolean.prototype.valueOf.call(value);
    if (types.isBigIntObject(value)) return `${BigInt.prototype.valueOf.call(value).toString()}n`;
    if (types.isSymbolObject(value)) return text(Symbol.prototype.toString.call(value));
  } catch (error) {
    return `[unreadable object: ${text(describeFailure(error))}]`;
  }
  return undefined;
}

function intrinsicTag(value: object): string {
  const tag = Object.prototype.toString.call(value);
  return tag.slice(8, -1);
}

function byteLength(value: object): number {
  const length = (value as { byteLength?: unknown }).byteLength;
  return typeof length === 'number' ? length : 0;
}

/** The size of a real Map or Set (never a Proxy: those are copied as objects). */
function sizeOf(value: Map<unknown, unknown> | Set<unknown>): number {
  return value.size;
}

/** The type of a thrown non-Error: `string`, `null`, `array`, `object (Foo)`, `object (Proxy)`. */
export function thrownTypeOf(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  if (util.types.isProxy(value)) return 'object (Proxy)';
  if (isArray(value)) return 'array';
  try {
    const constructorName = (value as { constructor?: { name?: unknown } }).constructor?.name;
    return typeof constructorName === 'string' && constructorName !== 'Object'
      ? `object (${constructorName.slice(0, MAX_KEY_LENGTH)})`
      : 'object';
  } catch {
    return 'object';
  }
}

/** A thrown non-Error as an error-shaped record: `{ name: 'NonError', message, thrownType, value }`. */
function describeNonError(
  value: unknown,
  copy: (value: unknown) => unknown,
  text: (value: string) => string,
): Record<string, unknown> {
  const thrownType = thrownTypeOf(value);
  if (typeof value === 'object' || typeof value === 'function') {
    const copied = value === null ? null : copy(value);
    const message = typeof copied === 'string' ? copied : JSON.stringify(copied);
    return { name: 'NonError', message: text(message), thrownType, value: copied };
  }
  const printed = typeof value === 'string' ? text(value) : copy(value);
  const message = typeof printed === 'string' ? printed : String(printed);
  return { name: 'NonError', message, thrownType, value: message };
}
