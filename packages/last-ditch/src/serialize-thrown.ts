import { DEFAULT_MAX_STRING_LENGTH } from './options';
import { createCopier } from './plain-copy';
import type { Copier } from './plain-copy';

export { MAX_CAUSE_DEPTH } from '@lastcall/log-shim';

/** A thrown value turned into plain data for the crash log. */
export interface SerializedThrown {
  readonly name: string;
  readonly message: string;
  readonly code?: unknown;
  readonly stack?: string;
  readonly cause?: unknown;
  readonly errors?: readonly unknown[];
  /** For a thrown non-Error: its type, such as `string`, `null`, `object` or `object (Proxy)`. */
  readonly thrownType?: string;
  /** For a thrown non-Error: the value itself, as plain data. */
  readonly value?: unknown;
  readonly [extra: string]: unknown;
}

/**
 * Turns anything that was thrown into plain, bounded, JSON-safe data: an Error as `name`,
 * `message`, other own properties, `code`, `stack`, the `cause` chain (at most
 * `MAX_CAUSE_DEPTH` levels, cycles shown as `'[Circular]'`) and `AggregateError` members; a
 * thrown non-Error, at the top or inside the chain, as `{ name: 'NonError', message,
 * thrownType, value }`. Never throws, even for a Proxy whose traps throw, a revoked Proxy, a
 * getter or `toString` that throws or a null-prototype object: what could not be read is shown
 * as `'[getter threw: …]'`, `'[unprintable …]'` or `'[keys threw]'`. Strings are cut at
 * `DEFAULT_MAX_STRING_LENGTH` characters unless `copier` says otherwise; nothing is redacted
 * unless the copier redacts.
 */
export function serializeThrown(value: unknown, copier?: Copier): SerializedThrown {
  const using =
    copier ??
    createCopier({ maxStringLength: DEFAULT_MAX_STRING_LENGTH, redactText: (text) => text });
  try {
    return using.copyThrown(value) as SerializedThrown;
  } catch {
    // Only an engine failure (out of memory, stack overflow) gets here: keep the type only.
    return {
      name: 'Unserializable',
      message: `a thrown ${typeof value}`,
      thrownType: typeof value,
    };
  }
}
