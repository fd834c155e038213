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

/**
 * Turns an Error into plain data that every logger can print: name, message, code, stack, the
 * `cause` chain (at most {@link MAX_CAUSE_DEPTH} levels, cycles cut), `AggregateError` members and
 * the error's other own enumerable properties. Winston and bunyan turn an Error into `{}` by
 * default because its fields are not enumerable. Non-Error values are returned as they are.
 */
export function serializeError(value: unknown): unknown {
  return serialize(value, 0, new Set());
}

function serialize(value: unknown, depth: number, seen: Set<object>): unknown {
  if (!(value instanceof Error)) return value;
  if (seen.has(value)) return '[Circular]';
  if (depth > MAX_CAUSE_DEPTH) return '[cause chain truncated]';
  seen.add(value);
  const result: Record<string, unknown> = { name: value.name, message: value.message };
  for (const [key, extra] of Object.entries(value)) {
    if (key === 'cause' || key === 'errors') continue;
    result[key] = extra instanceof Error ? serialize(extra, depth + 1, seen) : extra;
  }
  const code = (value as { code?: unknown }).code;
  if (code !== undefined) result['code'] = code;
  if (value.stack !== undefined) result['stack'] = value.stack;
  if ('cause' in value && value.cause !== undefined) {
    result['cause'] = serialize(value.cause, depth + 1, seen);
  }
  if (value instanceof AggregateError && Array.isArray(value.errors)) {
    result['errors'] = (value.errors as unknown[]).map((member) =>
      serialize(member, depth + 1, seen),
    );
  }
  seen.delete(value);
  return result;
}
