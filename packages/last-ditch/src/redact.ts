/** What every redacted value is replaced with. */
export const REDACTED = '[REDACTED]';

/** Objects and arrays deeper than this are replaced by a marker. */
export const MAX_DEPTH = 10;

/** Arrays and objects with more entries than this keep only their first ones. */
const MAX_ARRAY_LENGTH = 100;

/** A key, query parameter, header, flag or environment variable name that holds a secret. */
export const SECRET_NAME =
  /pass|secret|token|key|auth|session|cookie|credential|private|signature/i;

/** Options of {@link createRedactor}. */
export interface RedactorOptions {
  /** Extra patterns whose matches are replaced; each must have the `g` flag. */
  readonly patterns?: readonly RegExp[];
  /** Longest string kept, in characters. */
  readonly maxStringLength: number;
  /** The environment whose secret-looking values are redacted; default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
}

/** Turns any value into a JSON-safe copy with every secret replaced by {@link REDACTED}. */
export type Redactor = (value: unknown) => unknown;

const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@:]*(?::[^\s/@]*)?@/gi;
const SECRET_PAIR = /([?&;\s"'{,]|^)([^\s=&?;:"'{},]+)(["']?\s*[=:]\s*["']?)([^\s&;"',}]+)/g;
const SECRET_FLAG = /^(--?[\w-]+)=(.*)$/s;
const BEARER = /\b(bearer|basic|token)\s+[a-z0-9._~+/=-]{8,}/gi;

/**
 * Builds the one redaction choke point every report passes through. The values of environment
 * variables whose name looks secret (at least 4 characters long) are read once, here; the
 * environment itself is never copied into a report.
 */
export function createRedactor(options: RedactorOptions): Redactor {
  const envSecrets = Object.entries(options.env ?? process.env)
    .filter(([name, value]) => SECRET_NAME.test(name) && value !== undefined && value.length >= 4)
    .map(([, value]) => value as string)
    .sort((a, b) => b.length - a.length);
  const patterns = options.patterns ?? [];

  const redactString = (input: string): string => {
    let text = input;
    for (const secret of envSecrets) {
      if (text.includes(secret)) text = text.split(secret).join(REDACTED);
    }
    for (const pattern of patterns) text = text.replace(pattern, REDACTED);
    text = text.replace(URL_CREDENTIALS, `$1${REDACTED}@`);
    text = text.replace(BEARER, `$1 ${REDACTED}`);
    text = text.replace(SECRET_PAIR, (match, lead: string, name: string, sep: string) =>
      SECRET_NAME.test(name) ? `${lead}${name}${sep}${REDACTED}` : match,
    );
    if (text.length > options.maxStringLength) {
      const cut = text.length - options.maxStringLength;
      text = `${text.slice(0, options.maxStringLength)}…[${String(cut)} more characters]`;
    }
    return text;
  };

  const walk = (value: unknown, depth: number, seen: Set<object>): unknown => {
    if (typeof value === 'string') return redactString(value);
    if (typeof value === 'bigint') return `${value.toString()}n`;
    if (typeof value === 'symbol') return value.toString();
    if (typeof value === 'function') return `[function ${value.name || 'anonymous'}]`;
    if (typeof value !== 'object' || value === null) return value;
    if (seen.has(value)) return '[Circular]';
    if (depth >= MAX_DEPTH) return '[too deep]';
    seen.add(value);
    let result: unknown;
    if (Array.isArray(value)) {
      const kept = value
        .slice(0, MAX_ARRAY_LENGTH)
        .map((item: unknown) => walk(item, depth + 1, seen));
      if (value.length > MAX_ARRAY_LENGTH) {
        kept.push(`[${String(value.length - MAX_ARRAY_LENGTH)} more items]`);
      }
      result = kept;
    } else if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) {
      result = `[${value.constructor.name} of ${String(value.byteLength)} bytes]`;
    } else if (value instanceof Date) {
      result = Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
    } else {
      const copy: Record<string, unknown> = {};
      const entries = Object.entries(value);
      if (entries.length > MAX_ARRAY_LENGTH) {
        copy['[more keys]'] = entries.length - MAX_ARRAY_LENGTH;
      }
      for (const [key, item] of entries.slice(0, MAX_ARRAY_LENGTH)) {
        copy[key] =
          SECRET_NAME.test(key) && item !== undefined && item !== null && item !== ''
            ? REDACTED
            : walk(item, depth + 1, seen);
      }
      result = copy;
    }
    seen.delete(value);
    return result;
  };

  return (value) => walk(value, 0, new Set());
}

/**
 * Redacts a command line: `--password=x` keeps the flag, `--token x` hides the next argument,
 * and every argument then goes through `redact`.
 */
export function redactArgv(argv: readonly string[], redact: Redactor): string[] {
  const result: string[] = [];
  let hideNext = false;
  for (const argument of argv) {
    if (hideNext) {
      result.push(REDACTED);
      hideNext = false;
      continue;
    }
    const flag = SECRET_FLAG.exec(argument);
    if (flag !== null && SECRET_NAME.test(flag[1] ?? '')) {
      result.push(`${flag[1] ?? ''}=${REDACTED}`);
      continue;
    }
    if (/^--?[\w-]+$/.test(argument) && SECRET_NAME.test(argument)) hideNext = true;
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
