/**
 * The one redaction choke point, end to end: each secret shape goes through a real getLogger()
 * writing to the stderr fallback and to real winston, pino and bunyan loggers, and through a real
 * crash report (crash log line and stderr copy); the secret must be in none of the bytes written.
 */
import fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { getLogger, REDACTED, setLogger, setRedaction } from '@lastcall/log-shim';
import bunyan from 'bunyan';
import pino from 'pino';
import * as winston from 'winston';
import { LastDitch } from '../src/index';
import type { ReportInfo } from '../src/index';

/** One shape of secret: what is logged and reported, and the text that must never come out. */
interface Shape {
  readonly label: string;
  readonly secrets: readonly string[];
  readonly value: string | Record<string, unknown> | Error;
  readonly info?: ReportInfo;
  readonly argv?: readonly string[];
}

const ENV_NAME = 'SHAPES_DB_PASSWORD';
const ENV_VALUE = 'Sx29-env-f3k';

const axiosLike = (header: string): Error => {
  // An HTTP client's error: the request config with its headers object, an instance of a class.
  class Headers {
    readonly Authorization = header;
    readonly Accept = 'application/json';
  }
  return Object.assign(new Error('Request failed with status code 401'), {
    config: { method: 'get', url: '/me', headers: new Headers() },
  });
};

const SECRET_REQUEST = {
  method: 'GET',
  url: '/cb?access_token=Sx26a',
  headers: { authorization: 'Bearer Sx26b', cookie: 'sid=Sx26c', 'x-api-key': 'Sx26d' },
};

const deepCause = (text: string): Error =>
  new Error('outer', { cause: new Error('middle', { cause: new Error(text) }) });

// One shape per line reads as a table.
// prettier-ignore
const SHAPES: readonly Shape[] = [
  { label: 'URL user:password', secrets: ['Sx01pw'], value: 'connect postgres://admin:Sx01pw@db.local:5432/app' },
  { label: 'URL password with @', secrets: ['p@Sx02', 'Sx02a'], value: 'postgres://u:p@Sx02a@db/app refused' },
  { label: 'URL password with :', secrets: ['pa:Sx03', 'Sx03b'], value: 'mysql://u:pa:Sx03b@h/db' },
  { label: 'URL password with @ and :', secrets: ['Sx05c', 'w0:rd'], value: 'amqp://u:Sx05c@w0:rd@rabbit:5672/' },
  { label: 'URL token as user', secrets: ['ghp_Sx04d'], value: 'git clone https://ghp_Sx04d@github.com/o/r.git' },
  { label: 'URL inside a JSON string', secrets: ['Sx06e'], value: '{"url":"redis://:Sx06e@cache:6379"}' },
  { label: 'Authorization header object', secrets: ['Sx07f'], value: { headers: { Authorization: 'Bearer Sx07f' } } },
  { label: 'Cookie header object', secrets: ['Sx08g'], value: { headers: { cookie: 'theme=dark; sid=Sx08g' } } },
  { label: 'Set-Cookie header array', secrets: ['Sx09h'], value: { headers: { 'set-cookie': ['session=Sx09h; Path=/'] } } },
  { label: 'X-Api-Key header object', secrets: ['Sx10i'], value: { headers: { 'X-Api-Key': 'Sx10i' } } },
  { label: 'raw Authorization header text', secrets: ['U3gxMWpCYXNpYw'], value: 'POST /x HTTP/1.1\r\nHost: a\r\nAuthorization: Basic U3gxMWpCYXNpYw==\r\n\r\n' },
  { label: 'raw Cookie header text', secrets: ['Sx12k'], value: 'Cookie: theme=dark; _ga=Sx12k' },
  { label: 'raw Set-Cookie header text', secrets: ['Sx13l'], value: 'HTTP/1.1 200 OK\nSet-Cookie: id=Sx13l; HttpOnly\n' },
  { label: 'raw X-Api-Key header text', secrets: ['Sx14m'], value: 'X-Api-Key: Sx14m' },
  { label: 'query access_token', secrets: ['Sx15n'], value: 'GET /cb?state=1&access_token=Sx15n&x=2' },
  { label: 'query api_key in a URL', secrets: ['Sx16o'], value: 'https://api.example.com/v1?api_key=Sx16o&q=cats' },
  { label: 'query signature', secrets: ['Sx17p'], value: '/dl?X-Amz-Signature=Sx17p&X-Amz-Expires=60' },
  { label: 'JSON body string, value with spaces', secrets: ['Sx18q'], value: '{"username":"bob","password":"Sx18q with space"}' },
  { label: 'JSON body string, client_secret', secrets: ['Sx19r'], value: 'body {"client_secret":"Sx19r","grant_type":"x"}' },
  { label: 'JSON body stringified twice', secrets: ['Sx20s'], value: JSON.stringify(JSON.stringify({ token: 'Sx20s' })) },
  { label: 'JSON body object', secrets: ['Sx21t'], value: { body: { user: 'bob', password: 'Sx21t' } } },
  { label: 'JSON body object, nested credentials', secrets: ['Sx22u'], value: { body: { credentials: { apiKey: 'Sx22u' } } } },
  { label: 'argv --password=x text', secrets: ['Sx23v'], value: 'started: node app.js --password=Sx23v --port 80' },
  { label: 'argv --token x text', secrets: ['Sx24w'], value: 'started: node app.js --token Sx24w --port 80' },
  { label: 'argv array', secrets: ['Sx25x', 'Sx25y'], value: { argv: ['node', 'app.js', '--token', 'Sx25x', '--api-key=Sx25y'] }, argv: ['node', 'app.js', '--token', 'Sx25x', '--api-key=Sx25y'] },
  { label: 'request with secret headers and query', secrets: ['Sx26a', 'Sx26b', 'Sx26c', 'Sx26d'], value: { request: SECRET_REQUEST }, info: { request: SECRET_REQUEST } },
  { label: 'export AWS_SECRET_ACCESS_KEY=', secrets: ['Sx27wJalrXUtnFEMI'], value: 'export AWS_SECRET_ACCESS_KEY=Sx27wJalrXUtnFEMI' },
  { label: 'DB_PASSWORD= on a command line', secrets: ['Sx28z'], value: 'DB_PASSWORD=Sx28z npm start' },
  { label: 'bare value of a secret environment variable', secrets: [ENV_VALUE], value: `auth failed for ${ENV_VALUE}` },
  { label: 'double-quoted value with spaces', secrets: ['Sx30a', 'Sx30b'], value: 'password = "Sx30a Sx30b" rejected' },
  { label: 'single-quoted value with spaces', secrets: ['Sx31c', 'Sx31d'], value: "secret: 'Sx31c Sx31d'" },
  { label: 'short Bearer token', secrets: ['k9Q'], value: 'sent Bearer k9Q to the api' },
  { label: 'short Basic credentials', secrets: ['dTpw'], value: 'sent Basic dTpw to the api' },
  { label: 'lower-case bearer in a header line', secrets: ['Sx34e'], value: 'authorization: bearer Sx34e' },
  { label: 'long Bearer JWT', secrets: ['Sx35payload'], value: 'Bearer eyJhbGciOiJIUzI1NiJ9.Sx35payload.c2ln' },
  { label: 'cause chain', secrets: ['Sx36f'], value: new Error('query failed', { cause: new Error('password=Sx36f rejected') }) },
  { label: 'deep cause chain with a URL', secrets: ['Sx37g'], value: deepCause('connect postgres://u:Sx37g@h/db') },
  { label: 'AggregateError members', secrets: ['Sx38h', 'Sx38i'], value: new AggregateError([new Error('token=Sx38h'), 'sent Bearer Sx38i'], 'all failed') },
  { label: 'error config headers (class instance)', secrets: ['Sx39j'], value: axiosLike('Bearer Sx39j') },
  { label: 'error property', secrets: ['Sx40k'], value: Object.assign(new Error('login failed'), { password: 'Sx40k' }) },
  { label: 'error message with a header line', secrets: ['Sx41l'], value: new Error('request failed\nAuthorization: Token Sx41l') },
  { label: 'nested objects and arrays', secrets: ['Sx42m'], value: { a: { b: { c: [{ d: { token: 'Sx42m' } }] } } } },
  { label: 'nested argv pair', secrets: ['Sx43n'], value: { list: [['--api-key', 'Sx43n']] } },
  { label: 'array of objects', secrets: ['Sx44o'], value: { users: [{ name: 'bob', pwd: 'Sx44o' }] } },
  { label: 'private key block', secrets: ['Sx45pMIIE'], value: 'key: -----BEGIN RSA PRIVATE KEY-----\nSx45pMIIE\n-----END RSA PRIVATE KEY-----' },
  { label: 'Proxy-Authorization object', secrets: ['Sx46q'], value: { 'Proxy-Authorization': 'Basic Sx46q' } },
  { label: 'sessionId cookie text', secrets: ['Sx47r'], value: 'sessionId=Sx47r; Path=/' },
  { label: 'pair after a pair that is not secret', secrets: ['Sx48s'], value: 'note: token=Sx48s' },
  { label: 'header text inside an object', secrets: ['Sx49t'], value: { raw: 'Cookie: a=Sx49t' } },
  { label: 'secret under a secret key, number', secrets: ['718293'], value: { pin: 1, secretNumber: 718293 } },
];

/** Every byte each output received. */
const outputs = new Map<string, string[]>();
const capture = (name: string, chunk: unknown): void => {
  outputs.get(name)?.push(String(chunk));
};

function sink(name: string): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      capture(name, chunk.toString('utf8'));
      done();
    },
  });
}

const hosts: Record<string, () => object> = {
  winston: () =>
    winston.createLogger({
      level: 'silly',
      format: winston.format.json(),
      // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment
      transports: [new winston.transports.Stream({ stream: sink('winston') })],
    }),
  pino: () => pino({ level: 'trace' }, sink('pino')),
  bunyan: () =>
    bunyan.createLogger({ name: 'shapes', streams: [{ level: 'trace', stream: sink('bunyan') }] }),
};

/**
 * Logs `value` the ways an app and our packages do, through whatever setLogger set; returns how
 * many calls it made.
 */
function logShape(value: Shape['value']): number {
  const log = getLogger('test:shapes', { role: 'worker 1' });
  if (typeof value === 'string') {
    log.info(value);
    log.warn('while calling the api', { detail: value });
    log.error(new Error(value));
    log.error('failed', { err: new Error('outer', { cause: new Error(value) }) });
    return 4;
  }
  if (value instanceof Error) {
    log.error(value);
    log.error('shutdown hook "db pool" failed; the others go on', { hook: 'db pool', err: value });
    log.fatal(value, 'uncaughtException during shutdown');
    return 3;
  }
  log.info('request', value);
  log.warn(value, 'meta first');
  log.error('failed', Object.assign(new Error('boom'), value));
  return 3;
}

let dir: string;
let stderrSpy: jest.SpyInstance;
let writeSyncSpy: jest.SpyInstance;
const realWriteSync = fs.writeSync.bind(fs);

beforeAll(() => {
  process.env[ENV_NAME] = ENV_VALUE;
  setRedaction({ patterns: [], env: process.env });
});

afterAll(() => {
  Reflect.deleteProperty(process.env, ENV_NAME);
  setRedaction({ patterns: [], env: process.env });
  setLogger(undefined);
});

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'last-ditch-shapes-'));
  for (const name of ['stderr', 'fd', 'winston', 'pino', 'bunyan']) outputs.set(name, []);
  // The stderr copy of a crash report goes through process.stderr (a pipe under jest) or,
  // for a file or a terminal, straight to fd 2 with fs.writeSync: both are captured.
  stderrSpy = jest
    .spyOn(process.stderr, 'write')
    .mockImplementation((chunk: unknown, encodingOrDone?: unknown, done?: unknown) => {
      capture('stderr', chunk);
      const callback = typeof encodingOrDone === 'function' ? encodingOrDone : done;
      if (typeof callback === 'function') process.nextTick(callback);
      return true;
    });
  // Every other fs.writeSync is kept too (the crash log's), and goes through to its file.
  writeSyncSpy = jest.spyOn(fs, 'writeSync').mockImplementation(((fd: number, ...rest: never[]) => {
    const [data, offset, length] = rest as unknown[];
    const bytes = Buffer.isBuffer(data)
      ? data.subarray(
          typeof offset === 'number' ? offset : 0,
          typeof offset === 'number' && typeof length === 'number' ? offset + length : undefined,
        )
      : Buffer.from(String(data));
    capture('fd', bytes.toString('utf8'));
    if (fd === 2) return bytes.length;
    return (realWriteSync as (...args: unknown[]) => number)(fd, ...rest);
  }) as typeof fs.writeSync);
});

afterEach(() => {
  stderrSpy.mockRestore();
  writeSyncSpy.mockRestore();
  setLogger(undefined);
  fs.rmSync(dir, { recursive: true, force: true });
});

it('has at least 40 shapes, each with its own secrets', () => {
  expect(SHAPES.length).toBeGreaterThanOrEqual(40);
  const secrets = SHAPES.flatMap((shape) => shape.secrets);
  expect(new Set(secrets).size).toBe(secrets.length);
});

describe.each(SHAPES)('$label', (shape) => {
  const expectNoSecret = (output: string, where: string): void => {
    for (const secret of shape.secrets) {
      if (output.includes(secret)) {
        throw new Error(`${where} holds the secret ${JSON.stringify(secret)}:\n${output}`);
      }
    }
  };

  it('is in no byte of the stderr fallback, winston, pino or bunyan, which still log it', () => {
    setLogger(undefined);
    const calls = logShape(shape.value);
    for (const make of Object.values(hosts)) {
      setLogger(make());
      logShape(shape.value);
    }
    for (const name of ['stderr', 'winston', 'pino', 'bunyan']) {
      const output = (outputs.get(name) ?? []).join('');
      const writes = `${name}: ${String(outputs.get(name)?.length)} writes`;
      expect(writes).toBe(`${name}: ${String(calls)} writes`);
      expect(output).toContain(REDACTED);
      expectNoSecret(output, name);
    }
  });

  it('is in no byte of the crash log line or its stderr copy', async () => {
    const crashLog = path.join(dir, 'crash.log');
    const lastDitch = new LastDitch({ crashLog, stderr: true, statsd: false, appName: 'shapes' });
    const { value } = shape;
    const error =
      value instanceof Error
        ? value
        : typeof value === 'string'
          ? new Error(value)
          : Object.assign(new Error('boom'), value);
    const extra = value instanceof Error ? undefined : { detail: value };
    const savedArgv = process.argv;
    if (shape.argv !== undefined) process.argv = [...shape.argv];
    let result;
    try {
      result = await lastDitch.report(error, { ...shape.info, ...(extra && { extra }) });
    } finally {
      process.argv = savedArgv;
    }
    const logged = fs.readFileSync(crashLog, 'utf8');
    const written = (outputs.get('fd') ?? []).join('');
    const stderr = (outputs.get('stderr') ?? []).join('');
    expect(result.crashLog).toBe(crashLog);
    expect(result.stderr).toBe(true);
    expect(logged.split('\n').filter(Boolean)).toHaveLength(1);
    expect(`${written}${stderr}`).toContain(logged.trim());
    expect(logged).toContain(REDACTED);
    expectNoSecret(logged, 'the crash log');
    expectNoSecret(written, 'the bytes written with fs.writeSync');
    expectNoSecret(stderr, 'process.stderr');
  });
});
