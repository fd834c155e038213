import {
  DEFAULT_DELEGATE_TIMEOUT,
  MAX_DELEGATE_NAME_CHARS,
  MAX_DELEGATE_TIMEOUT,
  parseWorkerMessage,
} from '../src/protocol';

describe("parseWorkerMessage: cluster2's raw delegation", () => {
  it('reads every field, and keeps the rest as the payload', () => {
    const raw = {
      type: 'delegate',
      delegate: 'cache-get',
      expect: 'cache-got',
      matches: ['key'],
      timeout: 250,
      origin: 1234,
      targets: [1],
      notification: true,
      key: 'a',
      extra: { n: 1 },
    };
    expect(parseWorkerMessage(raw)).toEqual({
      kind: 'message',
      message: {
        lastcall: 1,
        type: 'delegate',
        delegate: 'cache-get',
        expect: 'cache-got',
        matches: ['key'],
        timeout: 250,
        payload: { key: 'a', extra: { n: 1 } },
        request: raw,
      },
    });
  });

  it('fills the defaults: no expect, no matches, cluster2 timeout', () => {
    const parsed = parseWorkerMessage({ type: 'delegate', delegate: 'notify' });
    expect(parsed).toEqual({
      kind: 'message',
      message: expect.objectContaining({
        delegate: 'notify',
        expect: undefined,
        matches: [],
        timeout: DEFAULT_DELEGATE_TIMEOUT,
        payload: {},
      }) as unknown,
    });
    expect(DEFAULT_DELEGATE_TIMEOUT).toBe(10_000);
  });

  it("reads cluster2's timeOut, and bounds a huge timeout", () => {
    const old = parseWorkerMessage({ type: 'delegate', delegate: 'd', expect: 'e', timeOut: 42 });
    expect(old).toMatchObject({ kind: 'message', message: { timeout: 42, payload: {} } });
    const huge = parseWorkerMessage({ type: 'delegate', delegate: 'd', timeout: 1e12 });
    expect(huge).toMatchObject({ kind: 'message', message: { timeout: MAX_DELEGATE_TIMEOUT } });
  });

  it('never lets a __proto__ field reach the payload', () => {
    const raw = JSON.parse(
      '{"type":"delegate","delegate":"d","__proto__":{"polluted":1}}',
    ) as object;
    const parsed = parseWorkerMessage(raw);
    expect(parsed.kind).toBe('message');
    if (parsed.kind !== 'message' || parsed.message.type !== 'delegate') return;
    expect(Object.getPrototypeOf(parsed.message.payload)).toBe(Object.prototype);
    expect(Object.keys(parsed.message.payload)).toEqual([]);
    expect((parsed.message.payload as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it.each([
    [{ type: 'delegate' }],
    [{ type: 'delegate', delegate: '' }],
    [{ type: 'delegate', delegate: 7 }],
    [{ type: 'delegate', delegate: 'x'.repeat(MAX_DELEGATE_NAME_CHARS + 1) }],
    [{ type: 'delegate', delegate: 'd', expect: '' }],
    [{ type: 'delegate', delegate: 'd', expect: 3 }],
    [{ type: 'delegate', delegate: 'd', matches: 'key' }],
    [{ type: 'delegate', delegate: 'd', matches: ['key', 4] }],
    [{ type: 'delegate', delegate: 'd', matches: Array.from({ length: 65 }, () => 'k') }],
    [{ type: 'delegate', delegate: 'd', timeout: 0 }],
    [{ type: 'delegate', delegate: 'd', timeout: -5 }],
    [{ type: 'delegate', delegate: 'd', timeout: Number.NaN }],
    [{ type: 'delegate', delegate: 'd', timeout: '100' }],
    [{ type: 'delegate', delegate: 'd', timeOut: null }],
  ])('refuses the malformed %j', (value) => {
    expect(parseWorkerMessage(value)).toEqual({ kind: 'malformed', type: "cluster2's delegate" });
  });

  it('leaves the app its own messages that merely look alike', () => {
    expect(parseWorkerMessage({ type: 'delegated', delegate: 'd' })).toEqual({ kind: 'app' });
    expect(parseWorkerMessage({ kind: 'delegate', delegate: 'd' })).toEqual({ kind: 'app' });
    expect(parseWorkerMessage([{ type: 'delegate', delegate: 'd' }])).toEqual({ kind: 'app' });
  });

  it('reads a stats message with and without connectionsServed', () => {
    const base = { lastcall: 1, type: 'stats', requests: 1, connections: 2, rss: 3 };
    expect(parseWorkerMessage({ ...base, connectionsServed: 9 })).toEqual({
      kind: 'message',
      message: { ...base, connectionsServed: 9 },
    });
    expect(parseWorkerMessage(base)).toEqual({ kind: 'message', message: base });
    expect(parseWorkerMessage({ ...base, connectionsServed: -1 })).toEqual({
      kind: 'malformed',
      type: 'stats',
    });
    expect(parseWorkerMessage({ ...base, connectionsServed: '9' })).toEqual({
      kind: 'malformed',
      type: 'stats',
    });
  });
});
