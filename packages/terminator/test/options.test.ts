/**
 * Input validation of createTerminator(), terminate() and terminateAll(), and the error class.
 * Every bad input must throw a TerminatorError synchronously, before anything is attached to the
 * server, with a stable code and a message that names the option and the value it got.
 */
import { once } from 'node:events';
import * as http from 'node:http';
import type * as net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { TerminatorError, createTerminator, terminateAll } from '../src';
import type { TerminatorErrorCode, TerminatorOptions } from '../src';
import { collect, connect, createServer, listen, withTimeout } from './support';

/** Runs `act`, expects a TerminatorError thrown synchronously, and returns it. */
function catchTerminatorError(act: () => unknown): TerminatorError {
  let thrown: unknown;
  try {
    const result = act();
    // A rejected promise would be a failure too: make it visible instead of unhandled.
    if (result instanceof Promise) void result.catch(() => undefined);
  } catch (error: unknown) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(TerminatorError);
  return thrown as TerminatorError;
}

function expectThrows(act: () => unknown, code: TerminatorErrorCode, fragments: string[]): void {
  const error = catchTerminatorError(act);
  expect(error.code).toBe(code);
  for (const fragment of fragments) expect(error.message).toContain(fragment);
}

/** Every event the server has listeners for, with how many. */
function listenerCounts(server: net.Server): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const event of server.eventNames()) counts[String(event)] = server.listenerCount(event);
  return counts;
}

/** A bad option, the code it must throw and the text its message must contain. */
interface BadOption {
  readonly title: string;
  readonly options: unknown;
  readonly code: TerminatorErrorCode;
  readonly fragments: string[];
}

const badOptions: readonly BadOption[] = [
  {
    title: 'options that are a string',
    options: 'fast',
    code: 'LASTCALL_ERR_TERMINATOR_INVALID_OPTIONS',
    fragments: ['options', '"fast"'],
  },
  {
    title: 'options that are a number',
    options: 5000,
    code: 'LASTCALL_ERR_TERMINATOR_INVALID_OPTIONS',
    fragments: ['options', '5000'],
  },
  {
    title: 'options that are null',
    options: null,
    code: 'LASTCALL_ERR_TERMINATOR_INVALID_OPTIONS',
    fragments: ['options', 'null'],
  },
  {
    title: 'options that are an array',
    options: [{ timeout: 1 }],
    code: 'LASTCALL_ERR_TERMINATOR_INVALID_OPTIONS',
    fragments: ['options', 'Array'],
  },
  {
    title: 'an unknown option name (a typo)',
    options: { timout: 5000 },
    code: 'LASTCALL_ERR_TERMINATOR_INVALID_OPTIONS',
    fragments: ['"timout"', 'timeout'],
  },
  {
    title: 'a negative timeout',
    options: { timeout: -1 },
    code: 'LASTCALL_ERR_TERMINATOR_INVALID_TIMEOUT',
    fragments: ['timeout', '-1'],
  },
  {
    title: 'a NaN timeout',
    options: { timeout: NaN },
    code: 'LASTCALL_ERR_TERMINATOR_INVALID_TIMEOUT',
    fragments: ['timeout', 'NaN'],
  },
  {
    title: "a numeric string timeout '100'",
    options: { timeout: '100' },
    code: 'LASTCALL_ERR_TERMINATOR_INVALID_TIMEOUT',
    fragments: ['timeout', '"100"'],
  },
  {
    title: 'a -Infinity timeout',
    options: { timeout: -Infinity },
    code: 'LASTCALL_ERR_TERMINATOR_INVALID_TIMEOUT',
    fragments: ['timeout', '-Infinity'],
  },
  {
    title: 'an Infinity forceDelay',
    options: { forceDelay: Infinity },
    code: 'LASTCALL_ERR_TERMINATOR_INVALID_FORCE_DELAY',
    fragments: ['forceDelay', 'Infinity'],
  },
  {
    title: 'a negative forceDelay',
    options: { forceDelay: -5 },
    code: 'LASTCALL_ERR_TERMINATOR_INVALID_FORCE_DELAY',
    fragments: ['forceDelay', '-5'],
  },
  {
    title: 'a NaN keepListening',
    options: { keepListening: NaN },
    code: 'LASTCALL_ERR_TERMINATOR_INVALID_KEEP_LISTENING',
    fragments: ['keepListening', 'NaN'],
  },
  {
    title: 'a negative drainDelay',
    options: { drainDelay: -1 },
    code: 'LASTCALL_ERR_TERMINATOR_INVALID_DRAIN_DELAY',
    fragments: ['drainDelay', '-1'],
  },
  {
    title: 'keepListening and drainDelay together',
    options: { keepListening: 100, drainDelay: 100 },
    code: 'LASTCALL_ERR_TERMINATOR_INVALID_OPTIONS',
    fragments: ['keepListening', 'drainDelay'],
  },
  {
    title: 'a string idleGrace',
    options: { idleGrace: '20' },
    code: 'LASTCALL_ERR_TERMINATOR_INVALID_IDLE_GRACE',
    fragments: ['idleGrace', '"20"'],
  },
  {
    title: 'an Infinity idleGrace',
    options: { idleGrace: Infinity },
    code: 'LASTCALL_ERR_TERMINATOR_INVALID_IDLE_GRACE',
    fragments: ['idleGrace', 'Infinity'],
  },
  {
    title: 'an onUpgrade that is not a function',
    options: { onUpgrade: 'close' },
    code: 'LASTCALL_ERR_TERMINATOR_INVALID_HOOK',
    fragments: ['onUpgrade', '"close"'],
  },
  {
    title: 'an onSocket that is not a function',
    options: { onSocket: 42 },
    code: 'LASTCALL_ERR_TERMINATOR_INVALID_HOOK',
    fragments: ['onSocket', '42'],
  },
  {
    title: 'a signal that is the AbortController instead of its signal',
    options: { signal: new AbortController() },
    code: 'LASTCALL_ERR_TERMINATOR_INVALID_SIGNAL',
    fragments: ['signal', 'AbortController'],
  },
  {
    title: 'a signal that is a boolean',
    options: { signal: true },
    code: 'LASTCALL_ERR_TERMINATOR_INVALID_SIGNAL',
    fragments: ['signal', 'true'],
  },
];

let servers: http.Server[] = [];

function trackedServer(handler?: http.RequestListener): http.Server {
  const server = createServer('http', handler);
  servers.push(server);
  return server;
}

afterEach(async () => {
  const closing = servers.map(async (server) => {
    server.closeAllConnections();
    if (server.listening) await withTimeout(once(server.close(), 'close'), 2000, 'server close');
  });
  servers = [];
  await Promise.all(closing);
});

describe('TerminatorError', () => {
  it('is an Error named TerminatorError carrying its code and cause', () => {
    const cause = new Error('root');
    const error = new TerminatorError('LASTCALL_ERR_TERMINATOR_INVALID_TIMEOUT', 'bad', { cause });
    expect(error).toBeInstanceOf(Error);
    expect(error).toBeInstanceOf(TerminatorError);
    expect(error.name).toBe('TerminatorError');
    expect(error.code).toBe('LASTCALL_ERR_TERMINATOR_INVALID_TIMEOUT');
    expect(error.message).toBe('bad');
    expect(error.cause).toBe(cause);
  });

  it('is what a bad input throws, with name TerminatorError', () => {
    const error = catchTerminatorError(() => createTerminator(undefined as never));
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('TerminatorError');
    expect(String(error)).toMatch(/^TerminatorError: /);
  });
});

describe('createTerminator(server)', () => {
  it.each<[string, unknown, string]>([
    ['undefined', undefined, 'undefined'],
    ['a plain object', {}, 'an object'],
    ['a string', 'server', '"server"'],
    ['an http.Agent', new http.Agent(), 'an instance of Agent'],
    ['an Express-like app function', () => undefined, 'a function'],
  ])('throws INVALID_SERVER naming the server and %s', (_title, value, description) => {
    expectThrows(() => createTerminator(value as never), 'LASTCALL_ERR_TERMINATOR_INVALID_SERVER', [
      'server',
      description,
    ]);
  });

  it('checks the server before the options', () => {
    expectThrows(
      () => createTerminator({} as never, { timeout: -1 }),
      'LASTCALL_ERR_TERMINATOR_INVALID_SERVER',
      ['server'],
    );
  });
});

describe('createTerminator(server, options)', () => {
  it.each(badOptions)('throws $code synchronously for $title', ({ options, code, fragments }) => {
    const server = trackedServer();
    expectThrows(() => createTerminator(server, options as never), code, [
      'createTerminator',
      ...fragments,
    ]);
  });

  it.each(badOptions)(
    'leaves no listener on the server after throwing for $title',
    ({ options }) => {
      const server = trackedServer(() => undefined);
      server.on('upgrade', () => undefined);
      const before = listenerCounts(server);
      catchTerminatorError(() => createTerminator(server, options as never));
      expect(listenerCounts(server)).toEqual(before);
    },
  );

  it('accepts timeout Infinity: a server with nothing open closes gracefully', async () => {
    const server = trackedServer();
    await listen(server);
    const terminator = createTerminator(server, { timeout: Infinity });
    const report = await withTimeout(terminator.terminate(), 2000, 'terminate');
    expect(report).toMatchObject({ graceful: true, forced: 0, closedIdle: 0 });
    expect(terminator.state).toBe('closed');
    expect(server.listening).toBe(false);
  });

  it('accepts timeout 0, forceDelay 0 and keepListening 0: an empty server closes gracefully', async () => {
    const server = trackedServer();
    await listen(server);
    const terminator = createTerminator(server, { timeout: 0, forceDelay: 0, keepListening: 0 });
    const report = await withTimeout(terminator.terminate(), 2000, 'terminate');
    expect(report).toMatchObject({ graceful: true, forced: 0 });
    expect(terminator.state).toBe('closed');
    expect(server.listening).toBe(false);
  });

  it('accepts no options, an empty object, hooks and an AbortSignal', () => {
    const server = trackedServer();
    const valid: TerminatorOptions[] = [
      {},
      { onUpgrade: () => undefined, onSocket: () => undefined },
      { signal: new AbortController().signal },
      { timeout: 1, forceDelay: 2, keepListening: 3 },
    ];
    expect(createTerminator(server).state).toBe('serving');
    for (const options of valid) expect(createTerminator(server, options).state).toBe('serving');
  });
});

describe('terminator.terminate(options)', () => {
  it.each(badOptions)(
    'throws $code synchronously for $title and keeps serving',
    async ({ options, code, fragments }) => {
      const server = trackedServer();
      await listen(server);
      const terminator = createTerminator(server);
      expectThrows(() => terminator.terminate(options as never), code, ['terminate', ...fragments]);
      expect(terminator.state).toBe('serving');
      expect(server.listening).toBe(true);
      const report = await withTimeout(terminator.terminate(), 2000, 'terminate');
      expect(report.graceful).toBe(true);
    },
  );

  it('accepts timeout Infinity and 0 at terminate time', async () => {
    const first = trackedServer();
    const second = trackedServer();
    await Promise.all([listen(first), listen(second)]);
    const reports = await withTimeout(
      Promise.all([
        createTerminator(first).terminate({ timeout: Infinity }),
        createTerminator(second).terminate({ timeout: 0 }),
      ]),
      2000,
      'terminate',
    );
    expect(reports.map((report) => report.graceful)).toEqual([true, true]);
    expect([first.listening, second.listening]).toEqual([false, false]);
  });
});

describe('terminateAll(servers, options)', () => {
  it.each<[string, unknown, string]>([
    ['a single server instead of an array', http.createServer(), 'an instance of Server'],
    ['undefined', undefined, 'undefined'],
    ['a string', 'servers', '"servers"'],
  ])('throws INVALID_SERVERS for %s', (_title, value, description) => {
    expectThrows(() => terminateAll(value as never), 'LASTCALL_ERR_TERMINATOR_INVALID_SERVERS', [
      'servers',
      'array',
      description,
    ]);
  });

  it('throws INVALID_SERVERS naming the index of a bad entry', () => {
    const server = trackedServer();
    expectThrows(
      () => terminateAll([server, 'not a server' as never]),
      'LASTCALL_ERR_TERMINATOR_INVALID_SERVERS',
      ['servers[1]', '"not a server"'],
    );
    expectThrows(
      () => terminateAll([undefined as never]),
      'LASTCALL_ERR_TERMINATOR_INVALID_SERVERS',
      ['servers[0]', 'undefined'],
    );
  });

  it('throws INVALID_SERVERS naming the index of a hole in a sparse array', () => {
    const server = trackedServer();
    const sparse: net.Server[] = [];
    sparse[1] = server;
    expectThrows(() => terminateAll(sparse), 'LASTCALL_ERR_TERMINATOR_INVALID_SERVERS', [
      'servers[0]',
    ]);
  });

  it('leaves no listener on a valid server listed before the bad entry', () => {
    const server = trackedServer(() => undefined);
    const before = listenerCounts(server);
    catchTerminatorError(() => terminateAll([server, 42 as never]));
    expect(listenerCounts(server)).toEqual(before);
  });

  it.each(badOptions)('throws $code synchronously for $title', ({ options, code, fragments }) => {
    const server = trackedServer();
    const before = listenerCounts(server);
    expectThrows(() => terminateAll([server], options as never), code, fragments);
    expect(listenerCounts(server)).toEqual(before);
  });
});

describe('a throwing onUpgrade hook', () => {
  it('lands in report.hookErrors as HOOK_FAILED with its cause, and terminate still resolves', async () => {
    const upgraded: Duplex[] = [];
    const server = trackedServer();
    server.on('upgrade', (_request: http.IncomingMessage, socket: Duplex) => {
      upgraded.push(socket);
    });
    const port = await listen(server);
    const hookCalls: { socket: Duplex; url: string | undefined }[] = [];
    const failure = new Error('the hook broke');
    const terminator = createTerminator(server, {
      timeout: 200,
      onUpgrade: (socket, request) => {
        hookCalls.push({ socket, url: request.url });
        throw failure;
      },
    });

    const client = await connect('http', port);
    const outcome = collect(client, 5000);
    client.write(
      'GET /chat HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n',
    );
    await withTimeout(
      new Promise<void>((resolve) => {
        if (upgraded.length > 0) resolve();
        else server.once('upgrade', () => resolve());
      }),
      2000,
      'the upgrade',
    );

    const startedAt = performance.now();
    const report = await withTimeout(terminator.terminate(), 2000, 'terminate');
    const elapsed = performance.now() - startedAt;

    expect(hookCalls).toHaveLength(1);
    expect(hookCalls[0]?.socket).toBe(upgraded[0]);
    expect(hookCalls[0]?.url).toBe('/chat');
    expect(report.hookErrors).toHaveLength(1);
    const hookError = report.hookErrors[0]!;
    expect(hookError).toBeInstanceOf(TerminatorError);
    expect(hookError.name).toBe('TerminatorError');
    expect(hookError.code).toBe('LASTCALL_ERR_TERMINATOR_HOOK_FAILED');
    expect(hookError.cause).toBe(failure);
    expect(hookError.message).toContain('onUpgrade');
    expect(hookError.message).toContain('the hook broke');
    // The socket the hook failed on waits for the deadline, then is forced.
    expect(report).toMatchObject({ graceful: false, upgraded: 1, forced: 1 });
    expect(elapsed).toBeGreaterThanOrEqual(195);
    expect(elapsed).toBeLessThan(200 + 800);
    expect(terminator.state).toBe('closed');
    expect((await outcome).received).toBe('');
  });
});
