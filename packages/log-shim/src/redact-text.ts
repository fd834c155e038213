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

/** `name=value`, `name: value`, `"name":"value"`, `\"name\":\"value\"`, `--name=value`. */
const PAIR = /(?<![\w.-])(\\*["']?)(-{0,2}[A-Za-z_][\w.-]*)(\\*["']?[ \t]*[=:][ \t]*)/g;
const PAIR_VALUE =
  /"(?:[^"\\\r\n]|\\.)*"|'[^'\r\n]*'|\\+"(?:[^"\\\r\n]|\\[^"])*\\+"|["'][^\r\n]*|[^\s&;,"'=<>{}[\]()]+/y;

/** A value with its quotes kept: `"a b"` → `"[REDACTED]"`, `\"x\"` → `\"[REDACTED]\"`. */
function replaceValue(value: string): string {
  const open = /^\\*["']/.exec(value)?.[0];
  if (open === undefined) return REDACTED;
  const isClosed = value.length >= 2 * open.length && value.endsWith(open);
  return isClosed ? `${open}${REDACTED}${open}` : `${open}${REDACTED}`;
}

/**
 * Replaces the value that `valuePattern` (sticky) finds after each match of `namePattern`
 * (global) whose name, group `nameGroup`, is secret. A name that is not secret leaves its value
 * to be scanned again, so `note: token=x` still hides `x`.
 */
function redactAfterNames(
  text: string,
  namePattern: RegExp,
  nameGroup: number,
  valuePattern: RegExp,
): string {
  let result: string | undefined;
  let copiedUpTo = 0;
  namePattern.lastIndex = 0;
  for (let match = namePattern.exec(text); match !== null; match = namePattern.exec(text)) {
    if (!isSecretName(match[nameGroup] ?? '')) continue;
    const valueStart = namePattern.lastIndex;
    valuePattern.lastIndex = valueStart;
    const value = valuePattern.exec(text)?.[0];
    if (value === undefined) continue;
    result = `${result ?? ''}${text.slice(copiedUpTo, valueStart)}${replaceValue(value)}`;
    copiedUpTo = valueStart + value.length;
    namePattern.lastIndex = copiedUpTo;
  }
  return result === undefined ? text : `${result}${text.slice(copiedUpTo)}`;
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
  if (rules.envSecrets !== undefined) result = result.replace(rules.envSecrets, REDACTED);
  for (const pattern of rules.patterns) result = result.replace(pattern, REDACTED);
  if (!HINT.test(result)) return result;
  result = result
    .replace(PRIVATE_KEY_BLOCK, REDACTED)
    .replace(URL_CREDENTIALS, `$1${REDACTED}@`)
    .replace(WHOLE_LINE_HEADER, `$1$2${REDACTED}`)
    .replace(AUTH_SCHEME, redactAuthScheme)
    .replace(TOKEN_SCHEME, `$1$2${REDACTED}`);
  result = redactAfterNames(result, FLAG, 1, FLAG_VALUE);
  return redactAfterNames(result, PAIR, 2, PAIR_VALUE);
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
