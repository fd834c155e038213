import { inspect } from 'node:util';

import { serializeError } from './serialize-error';
import type { LogFields } from './types';

/** The message and the fields of one call, whatever order its arguments came in. */
export interface NormalizedArgs {
  readonly message: string;
  readonly fields: LogFields;
}

/**
 * Reads `(message, meta)`, `(meta, message)`, `(error)`, `(message, error)` and
 * `(error, message)` into one shape. Errors land under `err`, serialised; the caller's objects are
 * copied, never changed.
 */
export function normalizeArgs(first: unknown, second: unknown): NormalizedArgs {
  if (typeof first === 'string') return { message: first, fields: toFields(second) };
  if (first instanceof Error) {
    return {
      message: typeof second === 'string' ? second : first.message,
      fields: { err: serializeError(first) },
    };
  }
  if (first !== null && typeof first === 'object' && !Array.isArray(first)) {
    const fields = toFields(first);
    if (typeof second === 'string') return { message: second, fields };
    const message = fields['msg'] ?? fields['message'];
    return { message: typeof message === 'string' ? message : '', fields: merge(fields, second) };
  }
  return { message: first === undefined ? '' : inspect(first), fields: toFields(second) };
}

function merge(fields: LogFields, extra: unknown): LogFields {
  return extra === undefined ? fields : { ...fields, ...toFields(extra) };
}

function toFields(meta: unknown): LogFields {
  if (meta === undefined || meta === null) return {};
  if (meta instanceof Error) return { err: serializeError(meta) };
  if (typeof meta !== 'object' || Array.isArray(meta)) return { meta };
  const fields: LogFields = {};
  for (const [key, value] of Object.entries(meta)) fields[key] = serializeError(value);
  return fields;
}
