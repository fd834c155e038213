/**
 * A quick test of a key, query parameter, header, flag or environment variable name: every name
 * that {@link isSecretName} accepts matches it, but not every name that matches is a secret
 * (`monkey`, `keyCount`); {@link isSecretName} decides.
 */
export const SECRET_NAME =
  /pw|pass|secret|token|key|auth|session|sid|sig|jwt|bearer|cred|cookie|csrf|xsrf|otp/i;

/**
 * One word of a name that makes it secret: a whole word (`key`, `auth`, `session`, `sid`) or a
 * word that ends in a secret one (`dbpassword`, `accesstoken`, `apikey`), plural or numbered.
 */
const SECRET_WORD =
  /^(?:pass|pw|pwd|key|auth|oauth|authorization|authentication|session|sessionid|sid|sig|signature|jwt|bearer|creds|otp|csrf|xsrf|[a-z]*(?:password|passwd|passphrase|secret|token|apikey|accesskey|secretkey|privatekey|cookie|credential))s?\d*$/;

/**
 * A last word that names something about a secret rather than the secret itself:
 * `tokenExpiresAt`, `keyCount`, `PRIVATE_KEY_PATH`, `authMethod`, `SSH_AUTH_SOCK`.
 */
const NOT_SECRET_LAST_WORDS = new Set([
  'age',
  'cjs',
  'cts',
  'algorithm',
  'at',
  'class',
  'count',
  'dir',
  'duration',
  'enabled',
  'endpoint',
  'expires',
  'expiry',
  'field',
  'file',
  'format',
  'js',
  'json',
  'jsx',
  'host',
  'kind',
  'length',
  'method',
  'mjs',
  'mode',
  'name',
  'path',
  'port',
  'prefix',
  'required',
  'scheme',
  'size',
  'sock',
  'socket',
  'timeout',
  'ts',
  'tsx',
  'ttl',
  'type',
  'uri',
  'url',
  'user',
  'username',
  'version',
]);

/** Environment variables whose names look secret but hold the system's own, public values. */
const PUBLIC_ENV_NAMES = /^(?:PWD|OLDPWD|XDG_\w*|DBUS_\w*)$/;

/** Log lines repeat their keys, so the decision is kept per name; bounded, as keys can be data. */
const MAX_CACHED_NAMES = 2000;
const decided = new Map<string, boolean>();

/**
 * The words of a name, lower case: `apiKey`, `API_KEY`, `x-api-key` and `APIKey` all give
 * `['api', 'key']`.
 */
function nameWords(name: string): string[] {
  return name
    .replace(/([a-z\d])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z\d]+/)
    .filter((word) => word !== '');
}

function decide(name: string): boolean {
  if (!SECRET_NAME.test(name)) return false;
  const words = nameWords(name);
  const last = words[words.length - 1];
  if (last === undefined || NOT_SECRET_LAST_WORDS.has(last)) return false;
  return words.some((word) => SECRET_WORD.test(word));
}

/**
 * Whether a key, query parameter, header, flag or environment variable name holds a secret: one
 * of its words (split at `_`, `-`, `.`, spaces and camelCase humps) is a secret word such as
 * `password`, `token`, `secret`, `key`, `auth`, `authorization`, `cookie`, `session`, `sid`,
 * `signature` or `credentials`, or ends in one (`dbpassword`, `accesstoken`), and its last word
 * does not name an attribute of the secret (`…Path`, `…File`, `…Type`, `…Count`, `…ExpiresAt`,
 * `…Url`, `…User`, a file extension as in `auth.js`).
 */
export function isSecretName(name: string): boolean {
  let isSecret = decided.get(name);
  if (isSecret === undefined) {
    isSecret = decide(name);
    if (decided.size >= MAX_CACHED_NAMES) decided.clear();
    decided.set(name, isSecret);
  }
  return isSecret;
}

/**
 * Whether an environment variable holds a secret: {@link isSecretName}, except for the system's
 * `PWD`, `OLDPWD`, `XDG_*` and `DBUS_*` variables.
 */
export function isSecretEnvName(name: string): boolean {
  return !PUBLIC_ENV_NAMES.test(name) && isSecretName(name);
}

/** A flag (`--token`) or a header name (`X-Api-Key`, `Authorization`, `Cookie`), alone. */
const LABEL = /^(?:--?[A-Za-z][\w.-]*|[A-Za-z][A-Za-z\d]*(?:-[A-Za-z\d]+)+|authorization|cookie)$/i;

/**
 * Whether an item of an array hides the item after it: a secret flag (`['--token', 'x']`, as in
 * argv) or a secret header name (`['X-Api-Key', 'x']`, as in Node's `rawHeaders`). A bare word
 * (`['auth', 'db']`, a list of tags) hides nothing.
 */
export function hidesNextItem(item: unknown): boolean {
  return typeof item === 'string' && LABEL.test(item) && isSecretName(item);
}
