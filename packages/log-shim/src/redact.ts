import { envSecretsPattern, globalPattern, MAX_DEPTH, REDACTED, redactText } from './redact-text';
import type { TextRules } from './redact-text';
import { extraRedactionPatterns } from './redaction';
import { hidesNextItem, isSecretName } from './secret-name';
import { serializeError } from './serialize-error';

/** Arrays and objects with more entries than this keep only their first ones. */
const MAX_ARRAY_LENGTH = 100;

/** Options of {@link createRedactor}. */
export interface RedactorOptions {
  /** Extra patterns whose matches are replaced; a pattern without the `g` flag is given it. */
  readonly patterns?: readonly RegExp[];
  /** Longest string kept, in characters. */
  readonly maxStringLength: number;
  /** The environment whose secret-looking values are redacted; default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** Turns any value into a JSON-safe copy with every secret replaced by {@link REDACTED}. */
export type Redactor = (value: unknown) => unknown;

/**
 * Builds the redactor of a crash report: a JSON-safe copy of any value (Errors serialised,
 * strings capped at `maxStringLength`, arrays and objects at 100 entries and {@link MAX_DEPTH}
 * levels, cycles marked) in which every secret is replaced, by the same rules as every log line
 * (see {@link isSecretName} and the package README). The values of the environment variables of
 * `options.env` whose names look secret are read once, here; the environment itself is never
 * copied. The patterns of `setRedaction()` apply too, before `options.patterns`.
 */
export function createRedactor(options: RedactorOptions): Redactor {
  const textRules: TextRules = {
    envSecrets: envSecretsPattern(options.env ?? process.env),
    patterns: [...extraRedactionPatterns(), ...(options.patterns ?? []).map(globalPattern)],
  };

  const redactString = (input: string): string => {
    const text = redactText(input, textRules);
    if (text.length <= options.maxStringLength) return text;
    const cut = text.length - options.maxStringLength;
    return `${text.slice(0, options.maxStringLength)}…[${String(cut)} more characters]`;
  };

  const walkArray = (value: readonly unknown[], depth: number, seen: Set<object>): unknown[] => {
    const kept: unknown[] = [];
    let isHidden = false;
    for (const item of value.slice(0, MAX_ARRAY_LENGTH)) {
      kept.push(isHidden && typeof item === 'string' ? REDACTED : walk(item, depth + 1, seen));
      isHidden = hidesNextItem(item);
    }
    if (value.length > MAX_ARRAY_LENGTH) {
      kept.push(`[${String(value.length - MAX_ARRAY_LENGTH)} more items]`);
    }
    return kept;
  };

  const walkObject = (value: object, depth: number, seen: Set<object>): unknown => {
    const copy: Record<string, unknown> = {};
    const entries = Object.entries(value);
    if (entries.length > MAX_ARRAY_LENGTH) {
      copy['[more keys]'] = entries.length - MAX_ARRAY_LENGTH;
    }
    for (const [key, item] of entries.slice(0, MAX_ARRAY_LENGTH)) {
      const isSecret = isSecretName(key) && item !== undefined && item !== null && item !== '';
      Object.defineProperty(copy, key, {
        value: isSecret && typeof item !== 'boolean' ? REDACTED : walk(item, depth + 1, seen),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return copy;
  };

  const walk = (value: unknown, depth: number, seen: Set<object>): unknown => {
    if (typeof value === 'string') return redactString(value);
    if (typeof value === 'bigint') return `${value.toString()}n`;
    if (typeof value === 'symbol') return value.toString();
    if (typeof value === 'function') return `[function ${value.name || 'anonymous'}]`;
    if (typeof value !== 'object' || value === null) return value;
    if (value instanceof Error) return walk(serializeError(value), depth, seen);
    if (seen.has(value)) return '[Circular]';
    if (depth >= MAX_DEPTH) return '[too deep]';
    seen.add(value);
    let result: unknown;
    if (Array.isArray(value)) {
      result = walkArray(value, depth, seen);
    } else if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) {
      result = `[${value.constructor.name} of ${String(value.byteLength)} bytes]`;
    } else if (value instanceof Date) {
      result = Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
    } else {
      result = walkObject(value, depth, seen);
    }
    seen.delete(value);
    return result;
  };

  return (value) => walk(value, 0, new Set());
}

const FLAG_WITH_VALUE = /^(--?[\w.-]+)=(.*)$/s;

/**
 * Redacts a command line: `--password=x` keeps the flag, `--token x` hides the next argument,
 * and every argument then goes through `redact`.
 */
export function redactArgv(argv: readonly string[], redact: Redactor): string[] {
  const result: string[] = [];
  let isHidden = false;
  for (const argument of argv) {
    if (isHidden) {
      result.push(REDACTED);
      isHidden = false;
      continue;
    }
    const flag = FLAG_WITH_VALUE.exec(argument);
    if (flag !== null && isSecretName(flag[1] ?? '')) {
      result.push(`${flag[1] ?? ''}=${REDACTED}`);
      continue;
    }
    isHidden = /^--?[\w.-]+$/.test(argument) && isSecretName(argument);
    result.push(String(redact(argument)));
  }
  return result;
}

/** A request path with every query value redacted: `/a?token=x&q=y` → `/a?token=…&q=…`. */
export function redactPath(url: string, redact: Redactor): string {
  const index = url.indexOf('?');
  const pathname = String(redact(index === -1 ? url : url.slice(0, index)));
  if (index === -1) return pathname;
  const query = url
    .slice(index + 1)
    .split('&')
    .map((pair) => {
      const equals = pair.indexOf('=');
      return equals === -1
        ? String(redact(pair))
        : `${String(redact(pair.slice(0, equals)))}=${REDACTED}`;
    });
  return `${pathname}?${query.join('&')}`;
}
