import { serializeError } from '@lastcall/log-shim';

export { MAX_CAUSE_DEPTH } from '@lastcall/log-shim';

/** A thrown value turned into plain data for the crash log. */
export interface SerializedThrown {
  readonly name: string;
  readonly message: string;
  readonly code?: unknown;
  readonly stack?: string;
  readonly cause?: unknown;
  readonly errors?: readonly unknown[];
  /** For a thrown non-Error: its type, such as `string`, `null` or `object`. */
  readonly thrownType?: string;
  /** For a thrown non-Error: the value itself. */
  readonly value?: unknown;
  readonly [extra: string]: unknown;
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'object') {
    const constructorName = (value as { constructor?: { name?: unknown } }).constructor?.name;
    return typeof constructorName === 'string' && constructorName !== 'Object'
      ? `object (${constructorName})`
      : 'object';
  }
  return typeof value;
}

function describeThrown(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null) {
    try {
      return JSON.stringify(value);
    } catch {
      return Object.prototype.toString.call(value);
    }
  }
  return typeof value === 'symbol' ? value.toString() : String(value);
}

/** A thrown non-Error (a string, `null`, a plain object) as an error-shaped record with its type. */
function describeNonError(value: unknown): SerializedThrown {
  return {
    name: 'NonError',
    message: describeThrown(value),
    thrownType: typeOf(value),
    value: typeof value === 'object' || typeof value === 'function' ? value : describeThrown(value),
  };
}

/**
 * Turns anything that was thrown into plain data: an Error as log-shim's `serializeError` does
 * (name, message, code, stack, other own properties, the `cause` chain, `AggregateError`
 * members; never throws, even for hostile getters), and a thrown non-Error, at the top or inside
 * the chain, with its type.
 */
export function serializeThrown(value: unknown): SerializedThrown {
  return serializeError(value, { mapNonError: describeNonError }) as SerializedThrown;
}
