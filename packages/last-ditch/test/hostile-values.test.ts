import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LastDitch, serializeThrown } from '../src/index';

const SECRET = 'hostile-secret-5a0c93';

let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'last-ditch-hostile-'));
  process.env['HOSTILE_TEST_PASSWORD'] = SECRET;
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
  delete process.env['HOSTILE_TEST_PASSWORD'];
});

/** Throws an Error that quotes the secret: what a hostile trap or getter leaks if printed raw. */
function leak(): never {
  throw new Error(`leaked ${SECRET}`);
}

const leaked = 'leaked [REDACTED]';

function throwingProxy(): object {
  return new Proxy(
    {},
    {
      get: leak,
      has: leak,
      ownKeys: leak,
      getOwnPropertyDescriptor: leak,
      getPrototypeOf: leak,
      defineProperty: leak,
      apply: leak,
    },
  );
}

function revokedProxy(): object {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
}

function errorWith(fields: PropertyDescriptorMap, message = 'boom'): Error {
  const error = new Error(message);
  Object.defineProperties(error, fields);
  return error;
}

const nullPrototype = Object.assign(Object.create(null) as object, { reason: `pw ${SECRET}` });

function namedFunction(): void {
  // A function thrown as a value.
}

class Weird {
  field = 1;
}

const hostile: [string, () => unknown, Record<string, unknown>][] = [
  [
    'a Proxy whose traps all throw',
    throwingProxy,
    {
      name: 'NonError',
      thrownType: 'object (Proxy)',
      value: { '[properties threw]': leaked },
      message: `{"[properties threw]":"${leaked}"}`,
    },
  ],
  [
    'a revoked Proxy',
    revokedProxy,
    {
      name: 'NonError',
      thrownType: 'object (Proxy)',
      value: { '[properties threw]': "Cannot perform 'ownKeys' on a proxy that has been revoked" },
    },
  ],
  [
    'an Error whose name has a throwing toString',
    () => errorWith({ name: { value: { toString: leak } } }),
    {
      name: `[unprintable object: ${leaked}]`,
      message: 'boom',
      stack: `[getter threw: ${leaked}]`,
    },
  ],
  [
    'an Error whose name getter throws',
    () => errorWith({ name: { get: leak } }),
    { name: `[getter threw: ${leaked}]`, message: 'boom' },
  ],
  [
    'an Error whose message getter throws',
    () => errorWith({ message: { get: leak } }),
    { name: 'Error', message: `[getter threw: ${leaked}]` },
  ],
  [
    'an Error with a throwing enumerable getter',
    () => errorWith({ detail: { get: leak, enumerable: true } }),
    { name: 'Error', message: 'boom', detail: `[getter threw: ${leaked}]` },
  ],
  [
    'an Error whose cause is a throwing Proxy',
    () => new Error('outer', { cause: throwingProxy() }),
    {
      name: 'Error',
      message: 'outer',
      cause: { name: 'NonError', thrownType: 'object (Proxy)' },
    },
  ],
  [
    'an AggregateError with hostile members',
    () => new AggregateError([revokedProxy(), Symbol('s'), 7n], 'many'),
    {
      name: 'AggregateError',
      message: 'many',
      errors: [
        { name: 'NonError', thrownType: 'object (Proxy)' },
        { name: 'NonError', thrownType: 'symbol', message: 'Symbol(s)', value: 'Symbol(s)' },
        { name: 'NonError', thrownType: 'bigint', message: '7n', value: '7n' },
      ],
    },
  ],
  [
    'an object whose constructor getter throws',
    () => Object.defineProperty({ a: 1 }, 'constructor', { get: leak }),
    { name: 'NonError', thrownType: 'object', value: { a: 1 } },
  ],
  [
    'an object with a throwing toString, valueOf and toJSON',
    () => ({ toString: leak, valueOf: leak, toJSON: leak, [Symbol.toPrimitive]: leak }),
    {
      name: 'NonError',
      thrownType: 'object',
      value: {
        toString: '[function leak]',
        valueOf: '[function leak]',
        toJSON: '[function leak]',
      },
    },
  ],
  [
    'a null-prototype object with a secret in it',
    () => nullPrototype,
    { name: 'NonError', thrownType: 'object', value: { reason: 'pw [REDACTED]' } },
  ],
  [
    'an instance of a class',
    () => new Weird(),
    { name: 'NonError', thrownType: 'object (Weird)', value: { field: 1 } },
  ],
  ['a BigInt', () => 10n, { name: 'NonError', thrownType: 'bigint', message: '10n', value: '10n' }],
  [
    'a Symbol',
    () => Symbol(`sym ${SECRET}`),
    { name: 'NonError', thrownType: 'symbol', message: 'Symbol(sym [REDACTED])' },
  ],
  [
    'a function',
    () => namedFunction,
    {
      name: 'NonError',
      thrownType: 'function',
      message: '[function namedFunction]',
      value: '[function namedFunction]',
    },
  ],
  [
    'a string with a secret',
    () => `failed with ${SECRET}`,
    { name: 'NonError', thrownType: 'string', message: 'failed with [REDACTED]' },
  ],
  [
    'undefined',
    () => undefined,
    { name: 'NonError', thrownType: 'undefined', message: 'undefined' },
  ],
  ['null', () => null, { name: 'NonError', thrownType: 'null', message: 'null', value: null }],
  [
    'a Proxy around an Error that lets reads through',
    () => new Proxy(new TypeError('wrapped'), {}),
    { name: 'TypeError', message: 'wrapped' },
  ],
];

describe('a hostile thrown value', () => {
  it.each(hostile)('%s gives one whole, redacted entry', async (_title, make, expected) => {
    const crashLog = path.join(dir, 'crash.log');
    const lastDitch = new LastDitch({ crashLog, stderr: false });
    const result = await lastDitch.report(make());
    expect(result.crashLog).toBe(crashLog);
    expect(result.crashLogError).toBeUndefined();
    const text = fs.readFileSync(crashLog, 'utf8');
    expect(text.indexOf('\n')).toBe(text.length - 1);
    const entry = JSON.parse(text) as { id: string; error: unknown };
    expect(entry.id).toBe(result.id);
    expect(entry.error).toMatchObject(expected);
    expect(text).not.toContain(SECRET);
  });

  it.each(hostile)('%s: serializeThrown never throws', (_title, make) => {
    expect(() => serializeThrown(make())).not.toThrow();
  });
});
