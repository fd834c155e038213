/** How many `cause` (and `AggregateError` member) levels are followed before stopping. */
export const MAX_CAUSE_DEPTH = 8;

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

function readField(value: object, key: string): unknown {
  try {
    return (value as Record<string, unknown>)[key];
  } catch (error) {
    return `[getter threw: ${error instanceof Error ? error.message : 'unknown'}]`;
  }
}

/**
 * Turns anything that was thrown into plain data: name, message, code, stack, other own
 * enumerable properties, the `cause` chain (at most {@link MAX_CAUSE_DEPTH} levels, cycles shown
 * as `'[Circular]'`) and `AggregateError` members. A thrown non-Error (a string, `null`, a plain
 * object) is shown with its type. Never throws, even for hostile getters.
 */
export function serializeThrown(value: unknown): SerializedThrown {
  return serialize(value, 0, new Set()) as SerializedThrown;
}

function serialize(value: unknown, depth: number, seen: Set<object>): unknown {
  if (!(value instanceof Error)) {
    return {
      name: 'NonError',
      message: describeThrown(value),
      thrownType: typeOf(value),
      value:
        typeof value === 'object' || typeof value === 'function' ? value : describeThrown(value),
    };
  }
  if (seen.has(value)) return '[Circular]';
  if (depth > MAX_CAUSE_DEPTH) return '[cause chain truncated]';
  seen.add(value);
  const result: Record<string, unknown> = {
    name: String(readField(value, 'name')),
    message: String(readField(value, 'message')),
  };
  for (const key of Object.keys(value)) {
    if (key === 'cause' || key === 'errors') continue;
    const extra = readField(value, key);
    result[key] = extra instanceof Error ? serialize(extra, depth + 1, seen) : extra;
  }
  const code = readField(value, 'code');
  if (code !== undefined) result['code'] = code;
  const stack = readField(value, 'stack');
  if (typeof stack === 'string') result['stack'] = stack;
  const cause = readField(value, 'cause');
  if (cause !== undefined) result['cause'] = serialize(cause, depth + 1, seen);
  const errors = readField(value, 'errors');
  if (value instanceof AggregateError && Array.isArray(errors)) {
    result['errors'] = (errors as unknown[]).map((member) => serialize(member, depth + 1, seen));
  }
  seen.delete(value);
  return result;
}
