/** How many `cause` levels {@link serializeError} follows before it stops. */
export const MAX_CAUSE_DEPTH = 8;

/** An Error turned into plain, JSON-safe data. */
export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly code?: unknown;
  readonly stack?: string;
  readonly cause?: unknown;
  readonly errors?: readonly unknown[];
  readonly [extra: string]: unknown;
}

/** Options of {@link serializeError}. */
export interface SerializeErrorOptions {
  /**
   * How a value that is not an Error is shown: the value itself, a `cause` that is not an Error,
   * and non-Error `AggregateError` members. Default: unchanged.
   */
  readonly mapNonError?: (value: unknown) => unknown;
}

/**
 * Turns an Error into plain data that every logger can print: name, message, code, stack, the
 * `cause` chain (at most {@link MAX_CAUSE_DEPTH} levels, cycles shown as `'[Circular]'`),
 * `AggregateError` members and the error's other own enumerable properties. Winston and bunyan
 * turn an Error into `{}` by default because its fields are not enumerable. Never throws: a
 * getter that throws is shown as `'[getter threw: …]'`. Non-Error values are returned as they
 * are unless `options.mapNonError` says otherwise.
 */
export function serializeError(value: unknown, options?: SerializeErrorOptions): unknown {
  return serialize(value, 0, new Set(), options?.mapNonError);
}

function readField(value: object, key: string): unknown {
  try {
    return (value as Record<string, unknown>)[key];
  } catch (error) {
    return `[getter threw: ${error instanceof Error ? error.message : 'unknown'}]`;
  }
}

function serialize(
  value: unknown,
  depth: number,
  seen: Set<object>,
  mapNonError: ((value: unknown) => unknown) | undefined,
): unknown {
  if (!(value instanceof Error)) return mapNonError === undefined ? value : mapNonError(value);
  if (seen.has(value)) return '[Circular]';
  if (depth > MAX_CAUSE_DEPTH) return '[cause chain truncated]';
  seen.add(value);
  const inner = (child: unknown): unknown => serialize(child, depth + 1, seen, mapNonError);
  const result: Record<string, unknown> = {
    name: String(readField(value, 'name')),
    message: String(readField(value, 'message')),
  };
  for (const key of Object.keys(value)) {
    if (key === 'cause' || key === 'errors') continue;
    const extra = readField(value, key);
    result[key] = extra instanceof Error ? inner(extra) : extra;
  }
  const code = readField(value, 'code');
  if (code !== undefined) result['code'] = code;
  const stack = readField(value, 'stack');
  if (typeof stack === 'string') result['stack'] = stack;
  const cause = readField(value, 'cause');
  if (cause !== undefined) result['cause'] = inner(cause);
  const errors = readField(value, 'errors');
  if (value instanceof AggregateError && Array.isArray(errors)) {
    result['errors'] = (errors as unknown[]).map(inner);
  }
  seen.delete(value);
  return result;
}
