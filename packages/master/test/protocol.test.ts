import {
  MAX_REASON_CHARS,
  MAX_VERSION_CHARS,
  parseMasterMessage,
  parseWorkerMessage,
} from '../src/protocol';

describe('parseWorkerMessage', () => {
  it.each([
    [{ lastcall: 1, type: 'ready' }],
    [{ lastcall: 1, type: 'draining' }],
    [{ lastcall: 1, type: 'draining', reason: { kind: 'error' } }],
    [{ lastcall: 1, type: 'stats', requests: 3, connections: 0, rss: 1024 }],
    [{ lastcall: 1, type: 'request', id: 7, name: 'warm', payload: [1] }],
    [{ lastcall: 1, type: 'pong', seq: 2 }],
    [{ lastcall: 1, type: 'signal', signal: 'SIGINT' }],
    [{ lastcall: 1, type: 'restart-request' }],
    [{ lastcall: 1, type: 'restart-request', reason: 'leak' }],
  ])('reads %j', (value) => {
    expect(parseWorkerMessage(value)).toEqual({ kind: 'message', message: value });
  });

  it.each([
    [{ lastcall: 1, type: 'draining', reason: 'a string' }],
    [{ lastcall: 1, type: 'draining', reason: [1, 2] }],
    [{ lastcall: 1, type: 'stats', requests: '3', connections: 0, rss: 1 }],
    [{ lastcall: 1, type: 'stats', requests: -1, connections: 0, rss: 1 }],
    [{ lastcall: 1, type: 'stats', requests: Number.NaN, connections: 0, rss: 1 }],
    [{ lastcall: 1, type: 'request', id: 1.5, name: 'warm' }],
    [{ lastcall: 1, type: 'request', id: 1, name: 42 }],
    [{ lastcall: 1, type: 'pong', seq: 'x' }],
    [{ lastcall: 1, type: 'signal', signal: 'SIGKILL' }],
    [{ lastcall: 1, type: 'restart-request', reason: 42 }],
    [{ lastcall: 1, type: 'drain', timeout: 5 }],
    [{ lastcall: 1, type: 'toString' }],
    [{ lastcall: 1, type: '__proto__' }],
    [{ lastcall: 1 }],
  ])('calls %j malformed', (value) => {
    expect(parseWorkerMessage(value).kind).toBe('malformed');
  });

  it('leaves the app its own messages', () => {
    for (const value of [null, 5, 'ready', [], { type: 'ready' }, { lastcall: 2, type: 'ready' }]) {
      expect(parseWorkerMessage(value)).toEqual({ kind: 'app' });
    }
  });

  it("reads dutch-master's request-restart as a restart request", () => {
    expect(parseWorkerMessage({ event: 'request-restart' })).toEqual({
      kind: 'message',
      message: { lastcall: 1, type: 'restart-request', reason: "dutch-master's request-restart" },
    });
    expect(parseWorkerMessage({ event: 'something-else' })).toEqual({ kind: 'app' });
  });

  it('cuts a long reason and a long unknown type', () => {
    const parsed = parseWorkerMessage({
      lastcall: 1,
      type: 'restart-request',
      reason: 'x'.repeat(10_000),
    });
    expect(parsed.kind === 'message' && parsed.message.type === 'restart-request').toBe(true);
    if (parsed.kind === 'message' && parsed.message.type === 'restart-request') {
      expect(parsed.message.reason).toHaveLength(MAX_REASON_CHARS);
    }
    expect(parseWorkerMessage({ lastcall: 1, type: 'y'.repeat(10_000) })).toEqual({
      kind: 'malformed',
      type: 'y'.repeat(100),
    });
  });

  it('reads a reason nested 20,000 levels deep without walking it', () => {
    let deep: Record<string, unknown> = {};
    for (let index = 0; index < 20_000; index += 1) deep = { deep };
    expect(parseWorkerMessage({ lastcall: 1, type: 'draining', reason: deep }).kind).toBe(
      'message',
    );
  });
});

describe('parseMasterMessage', () => {
  it.each([
    [{ lastcall: 1, type: 'drain', timeout: 30_000 }],
    [{ lastcall: 1, type: 'hold' }],
    [{ lastcall: 1, type: 'go' }],
    [{ lastcall: 1, type: 'ping', seq: 1 }],
    [{ lastcall: 1, type: 'reopen-logs' }],
    [{ lastcall: 1, type: 'response', id: 1, ok: true, value: { a: 1 } }],
    [{ lastcall: 1, type: 'response', id: 1, ok: false, error: { message: 'no', code: 'X' } }],
  ])('reads %j', (value) => {
    const parsed = parseMasterMessage(value);
    expect(parsed.kind).toBe('message');
    expect(parsed).toMatchObject({ message: value });
  });

  it.each([
    [{ lastcall: 1, type: 'drain' }],
    [{ lastcall: 1, type: 'ping', seq: -1 }],
    [{ lastcall: 1, type: 'response', id: '1', ok: true }],
    [{ lastcall: 1, type: 'response', id: 1 }],
    [{ lastcall: 1, type: 'ready' }],
  ])('calls %j malformed', (value) => {
    expect(parseMasterMessage(value).kind).toBe('malformed');
  });

  it('gives a failed response without a message one', () => {
    expect(
      parseMasterMessage({ lastcall: 1, type: 'response', id: 1, ok: false, error: {} }),
    ).toEqual({
      kind: 'message',
      message: {
        lastcall: 1,
        type: 'response',
        id: 1,
        ok: false,
        value: undefined,
        error: { message: 'the master failed' },
      },
    });
  });
});

describe('the messages of issue 19: hello, keep-alive and the inFlight of stats', () => {
  it.each([
    [{ lastcall: 1, type: 'hello', version: '1.4.2' }],
    [{ lastcall: 1, type: 'hello', version: null }],
    [{ lastcall: 1, type: 'stats', requests: 3, connections: 1, rss: 1024, inFlight: 0 }],
    [{ lastcall: 1, type: 'stats', requests: 3, connections: 1, rss: 1024, inFlight: 2 }],
    [
      {
        lastcall: 1,
        type: 'stats',
        requests: 3,
        connections: 1,
        connectionsServed: 9,
        rss: 1024,
        inFlight: 1,
      },
    ],
  ])('reads the worker message %j', (value) => {
    expect(parseWorkerMessage(value)).toEqual({ kind: 'message', message: value });
  });

  it('reads stats without inFlight (a worker of an earlier version) without adding one', () => {
    const parsed = parseWorkerMessage({
      lastcall: 1,
      type: 'stats',
      requests: 3,
      connections: 1,
      rss: 1024,
    });
    expect(parsed).toStrictEqual({
      kind: 'message',
      message: { lastcall: 1, type: 'stats', requests: 3, connections: 1, rss: 1024 },
    });
  });

  it('cuts a long version of a hello to MAX_VERSION_CHARS characters', () => {
    expect(MAX_VERSION_CHARS).toBe(100);
    expect(parseWorkerMessage({ lastcall: 1, type: 'hello', version: 'v'.repeat(5000) })).toEqual({
      kind: 'message',
      message: { lastcall: 1, type: 'hello', version: 'v'.repeat(MAX_VERSION_CHARS) },
    });
  });

  it('leaves out what else a hello carries', () => {
    expect(
      parseWorkerMessage({ lastcall: 1, type: 'hello', version: '2.0.0', extra: { a: 1 } }),
    ).toStrictEqual({ kind: 'message', message: { lastcall: 1, type: 'hello', version: '2.0.0' } });
  });

  it.each([
    [{ lastcall: 1, type: 'hello' }],
    [{ lastcall: 1, type: 'hello', version: '' }],
    [{ lastcall: 1, type: 'hello', version: 2 }],
    [{ lastcall: 1, type: 'hello', version: ['1.0.0'] }],
    [{ lastcall: 1, type: 'hello', version: { major: 1 } }],
    [{ lastcall: 1, type: 'stats', requests: 3, connections: 1, rss: 1, inFlight: -1 }],
    [{ lastcall: 1, type: 'stats', requests: 3, connections: 1, rss: 1, inFlight: '2' }],
    [{ lastcall: 1, type: 'stats', requests: 3, connections: 1, rss: 1, inFlight: null }],
    [{ lastcall: 1, type: 'keep-alive', on: true }],
  ])('calls the worker message %j malformed', (value) => {
    expect(parseWorkerMessage(value).kind).toBe('malformed');
  });

  it.each([
    [{ lastcall: 1, type: 'keep-alive', on: true }],
    [{ lastcall: 1, type: 'keep-alive', on: false }],
  ])('reads the master message %j', (value) => {
    expect(parseMasterMessage(value)).toStrictEqual({ kind: 'message', message: value });
  });

  it.each([
    [{ lastcall: 1, type: 'keep-alive' }],
    [{ lastcall: 1, type: 'keep-alive', on: 'true' }],
    [{ lastcall: 1, type: 'keep-alive', on: 1 }],
    [{ lastcall: 1, type: 'keep-alive', on: null }],
    [{ lastcall: 1, type: 'hello', version: '1.0.0' }],
  ])('calls the master message %j malformed', (value) => {
    expect(parseMasterMessage(value).kind).toBe('malformed');
  });
});
