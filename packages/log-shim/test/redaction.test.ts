import { createRedactor, getLogger, isSecretName, REDACTED, setLogger, setRedaction } from '../src';
import { redactFields, redactMessage } from '../src/redaction';
import { codeOf, recordingPino, spyOnStderr } from './support';

const R = REDACTED;
const ENV = { DB_PASSWORD: 'Pw-env-value', XDG_SESSION_CLASS: 'desktop', PWD: '/srv/app' };

beforeEach(() => {
  setRedaction({ patterns: [], env: ENV });
});

afterAll(() => {
  setRedaction({ patterns: [], env: process.env });
  setLogger(undefined);
});

describe('the rules for text', () => {
  it.each([
    ['a URL password that holds @', 'postgres://u:p@ss@db/app', `postgres://${R}@db/app`],
    ['a URL password that holds : and @', 'amqp://u:a:b@c@mq:5672', `amqp://${R}@mq:5672`],
    ['a token as URL user', 'https://ghp_x1@github.com/o/r', `https://${R}@github.com/o/r`],
    ['a double-quoted value with spaces', 'password = "a b" kept', `password = "${R}" kept`],
    ['a single-quoted value with spaces', "secret: 'a b c'", `secret: '${R}'`],
    ['a short Bearer token', 'sent Bearer abc to api', `sent Bearer ${R} to api`],
    ['a short Basic credential', 'sent Basic dTpw', `sent Basic ${R}`],
    ['a lower-case bearer', 'with bearer x1', `with bearer ${R}`],
    [
      'the rest of an Authorization line',
      'Authorization: Digest a="b", c=d\nnext',
      `Authorization: ${R}\nnext`,
    ],
    ['every cookie of a Cookie line', 'Cookie: theme=dark; _ga=xyz', `Cookie: ${R}`],
    ['a JSON value', '{"user":"bob","token":"t 1"}', `{"user":"bob","token":"${R}"}`],
    ['an escaped JSON value', '{\\"apiKey\\":\\"k1\\"}', `{\\"apiKey\\":\\"${R}\\"}`],
    ['a query value', '/cb?state=1&access_token=abc&x=2', `/cb?state=1&access_token=${R}&x=2`],
    ['a flag and its value', 'node a.js --token abc --port 80', `node a.js --token ${R} --port 80`],
    ['a flag=value', 'node a.js --db-password=abc', `node a.js --db-password=${R}`],
    ['a pair after a pair that is not secret', 'note: token=abc', `note: token=${R}`],
    ['a secret environment value', 'login with Pw-env-value failed', `login with ${R} failed`],
    [
      'a private key block',
      '-----BEGIN PRIVATE KEY-----\nMII\n-----END PRIVATE KEY-----!',
      `${R}!`,
    ],
  ])('redacts %s', (_shape, input, expected) => {
    expect(redactMessage(input)).toBe(expected);
  });

  it.each([
    'status: ok',
    'http://host/path',
    'listening on http://127.0.0.1:3000/health?verbose=1',
    'https://medium.com/@user/post and bob@example.com',
    'GET /users/42?page=2&sort=name',
    'the token expired; token refreshed',
    'Basic checks passed, a basic check',
    'passed: 12, failed: 0, keep-alive: timeout=5',
    'keyCount: 3, tokenExpiresAt: 2026, author: bob, privateKeyPath: /etc/k.pem',
    'at login (/app/src/auth.js:42:13)',
    'shutdown hook "db pool" failed; the others go on',
    'desktop session in /srv/app',
  ])('keeps %p as it is', (text) => {
    expect(redactMessage(text)).toBe(text);
  });
});

describe('isSecretName', () => {
  it.each([
    'password',
    'DB_PASSWORD',
    'PGPASSWORD',
    'apiKey',
    'x-api-key',
    'APIKey',
    'AWS_SECRET_ACCESS_KEY',
    'Authorization',
    'proxy-authorization',
    'set-cookie',
    'connect.sid',
    'sessionId',
    'access_token',
    'client_secret',
    'X-Amz-Signature',
    '--token',
    'credentials',
    'passwordHash',
  ])('holds a secret: %s', (name) => {
    expect(isSecretName(name)).toBe(true);
  });

  it.each([
    'status',
    'author',
    'passed',
    'keepAlive',
    'keyCount',
    'tokenExpiresAt',
    'authMethod',
    'PRIVATE_KEY_PATH',
    'SSH_AUTH_SOCK',
    'auth.js',
    'npm_package_keywords_0',
    'monkey',
  ])('holds no secret: %s', (name) => {
    expect(isSecretName(name)).toBe(false);
  });
});

describe('the fields of an event', () => {
  it('hands back the very object when nothing in it needs redacting', () => {
    const fields = { port: 3000, host: 'db1', nested: { list: [1, 'two', { ok: true }] } };
    expect(redactFields(fields)).toBe(fields);
  });

  it('copies only the objects on the way to a secret and never changes the caller', () => {
    const untouched = { a: 1 };
    const fields = { untouched, deep: { headers: { authorization: 'Bearer x', accept: 'json' } } };
    const redacted = redactFields(fields) as typeof fields;
    expect(redacted).toEqual({
      untouched: { a: 1 },
      deep: { headers: { authorization: R, accept: 'json' } },
    });
    expect(redacted.untouched).toBe(untouched);
    expect(fields.deep.headers.authorization).toBe('Bearer x');
  });

  it('serialises Errors at any depth, then redacts their messages, causes, members and properties', () => {
    const cause = new Error('connect postgres://u:pw1@db failed');
    const error = Object.assign(new Error('query failed', { cause }), {
      config: { headers: { 'X-Api-Key': 'k1' } },
    });
    const aggregate = new AggregateError([new Error('token=t1')], 'many');
    const redacted = redactFields({ list: [error], aggregate }) as Record<string, unknown>;
    expect(redacted).toMatchObject({
      list: [
        {
          name: 'Error',
          message: 'query failed',
          config: { headers: { 'X-Api-Key': R } },
          cause: { message: `connect postgres://${R}@db failed` },
        },
      ],
      aggregate: { message: 'many', errors: [{ message: `token=${R}` }] },
    });
    expect(JSON.stringify(redacted)).not.toMatch(/pw1|k1|t1/);
  });

  it('redacts the head of an Error stack (its message) and keeps its frames as they are', () => {
    const error = new Error('login failed\npassword=multi-line');
    const stack = error.stack ?? '';
    const frames = stack.slice(stack.indexOf('\n    at '));
    const { err } = redactFields({ err: error }) as { err: { stack: string } };
    expect(err.stack).toBe(`Error: login failed\npassword=${R}${frames}`);
  });

  it('hides the item after a secret flag or header name in an array, not after a tag', () => {
    expect(
      redactFields({
        argv: ['node', '--token', 'abc', '--port', '80'],
        rawHeaders: ['X-Api-Key', 'k', 'Accept', 'json'],
        tags: ['auth', 'db'],
      }),
    ).toEqual({
      argv: ['node', '--token', R, '--port', '80'],
      rawHeaders: ['X-Api-Key', R, 'Accept', 'json'],
      tags: ['auth', 'db'],
    });
  });

  it('keeps booleans and empty values under secret names, and marks cycles and depth', () => {
    const cycle: Record<string, unknown> = { token: 't' };
    cycle['self'] = cycle;
    let deep: Record<string, unknown> = { end: true };
    for (let level = 0; level < 12; level += 1) deep = { next: deep };
    expect(redactFields({ isPrivate: true, password: '', cycle })).toEqual({
      isPrivate: true,
      password: '',
      cycle: { token: R, self: '[Circular]' },
    });
    expect(JSON.stringify(redactFields(deep))).toContain('"[too deep]"');
  });
});

describe('setRedaction', () => {
  it('adds patterns and reads the environment again, for the log lines and the crash redactor', () => {
    setRedaction({ patterns: [/sk_live_\w+/], env: { API_TOKEN: 'rotated-123' } });
    expect(redactMessage('charge sk_live_abc with rotated-123, old Pw-env-value')).toBe(
      `charge ${R} with ${R}, old Pw-env-value`,
    );
    const redact = createRedactor({ maxStringLength: 100, env: {} });
    expect(redact('sk_live_abc')).toBe(R);
  });

  it('re-redacts the bindings of loggers handed out earlier', () => {
    const pino = recordingPino();
    setLogger(pino.logger);
    const log = getLogger('test:redaction', { note: 'with rotated-123' });
    log.info('one');
    setRedaction({ env: { API_TOKEN: 'rotated-123' } });
    log.info('two');
    expect(pino.records.map((record) => record['note'])).toEqual(['with rotated-123', `with ${R}`]);
  });

  it.each([
    ['options that are not an object', 'patterns'],
    ['patterns that are not RegExps', { patterns: ['sk_'] }],
    ['an env that is not an object', { env: 'x' }],
  ])('rejects %s', (_what, options) => {
    expect(codeOf(() => setRedaction(options as never))).toBe(
      'LASTCALL_ERR_LOG_SHIM_INVALID_OPTIONS',
    );
  });
});

describe('through getLogger to the stderr fallback', () => {
  it('redacts the message, the fields, the Error and the bindings of every line', () => {
    const stderr = spyOnStderr();
    try {
      setLogger(undefined);
      const log = getLogger('test:redaction', { dsn: 'mysql://app:b1nd@db/x' });
      log.error('hook failed: password=m1 for postgres://u:p@ss@db', {
        err: new Error('auth with Pw-env-value refused'),
        headers: { cookie: 'sid=c1' },
      });
      expect(stderr.lines).toHaveLength(1);
      const line = stderr.lines[0] ?? '';
      expect(line).not.toMatch(/b1nd|m1 |p@ss|ss@db|Pw-env-value|c1/);
      expect(line).toContain(`hook failed: password=${R} for postgres://${R}@db`);
      expect(line).toContain(`"dsn":"mysql://${R}@db/x"`);
      expect(line).toContain(`"message":"auth with ${R} refused"`);
      expect(line).toContain(`"headers":{"cookie":"${R}"}`);
    } finally {
      stderr.restore();
    }
  });
});
