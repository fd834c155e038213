import { isSecretEnvName, isSecretName, SECRET_NAME } from './secret-name';

/** What every redacted value is replaced with. */
export const REDACTED = '[REDACTED]';

/** Objects and arrays deeper than this are replaced by a marker. */
export const MAX_DEPTH = 10;

/** Environment values shorter than this are too likely to be ordinary words to be replaced. */
const MIN_ENV_SECRET_LENGTH = 6;

/** Environment values that are never secrets, whatever their variable is called. */
const PUBLIC_ENV_VALUES = new Set(['true', 'false', 'null', 'undefined', 'disabled', 'enabled']);

/** What a string is redacted against besides the built-in rules. */
export interface TextRules {
  /** One pattern matching every secret environment value, longest first; `g` flag. */
  readonly envSecrets: RegExp | undefined;
  /** Extra patterns whose matches are replaced; each has the `g` flag. */
  readonly patterns: readonly RegExp[];
}

/**
 * A string that holds none of these cannot match any built-in rule, so it is returned after one
 * scan: the secret words of names, the schemes of the Authorization header, and the `@` of a URL
 * with credentials.
 */
const HINT = new RegExp(`${SECRET_NAME.source}|basic|@`, 'i');

const PRIVATE_KEY_BLOCK =
  /-----BEGIN ([A-Z\d ]*)PRIVATE KEY-----[\s\S]*?(?:-----END \1PRIVATE KEY-----|$)/g;

/**
 * `scheme://user:password@host`: the password may hold `@` and `:` (up to the last `@` before
 * the path), not `/`, quotes or white space.
 */
const URL_CREDENTIALS = /\b([a-z][a-z\d+.-]*:\/\/)[^\s/?#@:"'<>]*(?::[^\s/"'<>]*)?@/gi;

/** Headers whose values hold spaces and `;` by design: the rest of the line is theirs. */
const WHOLE_LINE_HEADER =
  /(?<![\w-])((?:proxy-)?authorization|cookie|set-cookie)([ \t]*:[ \t]*)(?!["'\\])[^\r\n]+/gi;

/**
 * The credentials after an HTTP authentication scheme, whatever their length: any token after
 * `Bearer`; after `Basic` (not `basic`, an ordinary word), base64 that is padded or holds a digit,
 * `+`, `/` or `=`, so `Basic checks passed` stays.
 */
const AUTH_SCHEME = /\b(Bearer|bearer|BEARER|Basic|BASIC)([ \t]+)(?!\[REDACTED\])([\w.~+/=-]+)/g;
const BASE64_CREDENTIALS = /^[A-Za-z\d+/]+={0,2}$/;

function redactAuthScheme(
  match: string,
  scheme: string,
  space: string,
  credentials: string,
): string {
  const isCredentials =
    scheme.toLowerCase() === 'bearer' ||
    (BASE64_CREDENTIALS.test(credentials) &&
      (credentials.length % 4 === 0 || /[\d+/=]/.test(credentials)));
  return isCredentials ? `${scheme}${space}${REDACTED}` : match;
}

/** `token abc123…`: 8 characters or more with a digit or a symbol, so `token expired` stays. */
const TOKEN_SCHEME = /\b(token)([ \t]+)(?=[\w.~+/=-]*[\d.~+/=_-])[\w.~+/=-]{8,}/gi;

/** `--token value`: a flag followed by a separate value. */
const FLAG = /(?<![^\s"'([,])(--?[A-Za-z][\w.-]*)[ \t]+(?=[^\s-])/g;
const FLAG_VALUE = /"[^"\r\n]*"|'[^'\r\n]*'|[^\s"',)\]]+/y;

/**
 * The separator of `name=value`, `name: value`, `"name":"value"`, `\\"name\\":\\"value\\"` and
 * `--name=value`; the name is read backwards from it, which costs one scan of the text where a
 * pattern that starts at every word would backtrack at each.
 */
const PAIR_SEPARATOR = /\\*["']?[ \t]*[=:][ \t]*/g;
const PAIR_VALUE =
  /"(?:[^"\\\r\n]|\\.)*"|'[^'\r\n]*'|\\+"(?:[^"\\\r\n]|\\[^"])*\\+"|["'][^\r\n]*|[^\s&;,"'=<>{}[\]()]+/y;

/** A value with its quotes kept: `"a b"` → `"[REDACTED]"`, `\"x\"` → `\"[REDACTED]\"`. */
function replaceValue(value: string): string {
  const open = /^\\*["']/.exec(value)?.[0];
  if (open === undefined) return REDACTED;
  const isClosed = value.length >= 2 * open.length && value.endsWith(open);
  return isClosed ? `${open}${REDACTED}${open}` : `${open}${REDACTED}`;
}

/** Whether a character (its code) can be part of a name: a letter, a digit, `_`, `.` or `-`. */
function isNameCode(code: number): boolean {
  return (
    (code >= 97 && code <= 122) ||
    (code >= 65 && code <= 90) ||
    (code >= 48 && code <= 57) ||
    code === 95 ||
    code === 46 ||
    code === 45
  );
}

/** A string being rewritten: what was written so far, and up to where the input is in it. */
interface Rewrite {
  result: string | undefined;
  copiedUpTo: number;
}

/**
 * Replaces the value that `valuePattern` (sticky) finds at `valueStart`, recording it in
 * `rewrite`; returns where the value ends, or `undefined` when there is none.
 */
function replaceAt(
  text: string,
  valueStart: number,
  valuePattern: RegExp,
  rewrite: Rewrite,
): number | undefined {
  valuePattern.lastIndex = valueStart;
  const value = valuePattern.exec(text)?.[0];
  if (value === undefined) return undefined;
  const before = text.slice(rewrite.copiedUpTo, valueStart);
  rewrite.result = `${rewrite.result ?? ''}${before}${replaceValue(value)}`;
  rewrite.copiedUpTo = valueStart + value.length;
  return rewrite.copiedUpTo;
}

/** `--token value`: the value after a secret flag. */
function redactFlags(text: string): string {
  if (!text.includes('-')) return text;
  const rewrite: Rewrite = { result: undefined, copiedUpTo: 0 };
  FLAG.lastIndex = 0;
  for (let match = FLAG.exec(text); match !== null; match = FLAG.exec(text)) {
    if (!isSecretName(match[1] ?? '')) continue;
    const end = replaceAt(text, FLAG.lastIndex, FLAG_VALUE, rewrite);
    if (end !== undefined) FLAG.lastIndex = end;
  }
  return rewrite.result === undefined ? text : `${rewrite.result}${text.slice(rewrite.copiedUpTo)}`;
}

/**
 * `name=value` and its kin: the value after a separator whose name is secret. A name that is
 * not secret leaves its value to be scanned again, so `note: token=x` still hides `x`.
 */
function redactPairs(text: string): string {
  const rewrite: Rewrite = { result: undefined, copiedUpTo: 0 };
  PAIR_SEPARATOR.lastIndex = 0;
  for (let match = PAIR_SEPARATOR.exec(text); match !== null; match = PAIR_SEPARATOR.exec(text)) {
    const nameEnd = match.index;
    let nameStart = nameEnd;
    while (nameStart > rewrite.copiedUpTo && isNameCode(text.charCodeAt(nameStart - 1))) {
      nameStart -= 1;
    }
    if (nameStart === nameEnd || !isSecretName(text.slice(nameStart, nameEnd))) continue;
    const end = replaceAt(text, PAIR_SEPARATOR.lastIndex, PAIR_VALUE, rewrite);
    if (end !== undefined) PAIR_SEPARATOR.lastIndex = end;
  }
  return rewrite.result === undefined ? text : `${rewrite.result}${text.slice(rewrite.copiedUpTo)}`;
}

/**
 * Replaces every secret in one string with {@link REDACTED}; returns `text` itself when there is
 * none. In order: the values of secret environment variables, the extra patterns, private key
 * blocks, URL credentials, `Authorization`/`Cookie`/`Set-Cookie` header values, credentials after
 * `Bearer`/`Basic` and `token`, then the values after secret names (`--token x`, `password=x`,
 * `"secret": "a b"`).
 */
export function redactText(text: string, rules: TextRules): string {
  let result = text;
  if (rules.envSecrets !== undefined) result = replaceAll(result, rules.envSecrets, REDACTED);
  for (const pattern of rules.patterns) result = replaceAll(result, pattern, REDACTED);
  if (!HINT.test(result)) return result;
  if (result.includes('-----BEGIN')) result = replaceAll(result, PRIVATE_KEY_BLOCK, REDACTED);
  if (result.includes('://')) result = replaceAll(result, URL_CREDENTIALS, `$1${REDACTED}@`);
  if (result.includes(':')) result = replaceAll(result, WHOLE_LINE_HEADER, `$1$2${REDACTED}`);
  result = replaceAll(result, AUTH_SCHEME, redactAuthScheme);
  result = replaceAll(result, TOKEN_SCHEME, `$1$2${REDACTED}`);
  return redactPairs(redactFlags(result));
}

/**
 * `text.replace(pattern, replacement)` for a global pattern, searched first: on Node 20 a
 * `replace` that finds nothing costs about four times a `search`, and most strings hold no secret.
 */
function replaceAll(
  text: string,
  pattern: RegExp,
  replacement: string | ((match: string, ...groups: string[]) => string),
): string {
  if (text.search(pattern) === -1) return text;
  return typeof replacement === 'string'
    ? text.replace(pattern, replacement)
    : text.replace(pattern, replacement);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * One pattern for the values of the environment variables of `env` whose names look secret
 * ({@link isSecretName}, minus `PWD`, `XDG_*` and `DBUS_*`), 6 characters or longer and not
 * `true`, `false` or the like; `undefined` when there are none.
 */
export function envSecretsPattern(
  env: Readonly<Record<string, string | undefined>>,
): RegExp | undefined {
  const values = new Set<string>();
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || value.length < MIN_ENV_SECRET_LENGTH) continue;
    if (PUBLIC_ENV_VALUES.has(value.toLowerCase()) || !isSecretEnvName(name)) continue;
    values.add(value);
  }
  if (values.size === 0) return undefined;
  const longestFirst = [...values].sort((a, b) => b.length - a.length);
  return new RegExp(longestFirst.map(escapeRegExp).join('|'), 'g');
}

/** `pattern` with the `g` flag, which `String#replace` needs to replace every match. */
export function globalPattern(pattern: RegExp): RegExp {
  return pattern.global ? pattern : new RegExp(pattern.source, `${pattern.flags}g`);
}
