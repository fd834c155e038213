import { createRedactor, redactArgv, redactPath, REDACTED } from '../src/redact';

const env = { API_TOKEN: 'tok-123456', DB_PASSWORD: 'pw', HOME: '/home/someone' };
const redact = createRedactor({ maxStringLength: 1000, env, patterns: [/sk_live_\w+/g] });

describe('createRedactor', () => {
  it('replaces every occurrence of a secret-looking environment value of 6+ characters', () => {
    expect(redact('calling with tok-123456 and tok-123456')).toBe(
      `calling with ${REDACTED} and ${REDACTED}`,
    );
    expect(redact('pw stays: too short to be matched safely')).toBe(
      'pw stays: too short to be matched safely',
    );
    expect(redact('/home/someone')).toBe('/home/someone');
  });

  it('removes credentials from URLs and secret query values', () => {
    expect(redact('GET https://alice:hunter2@db.local/x?q=1&token=abc&apikey=zz')).toBe(
      `GET https://${REDACTED}@db.local/x?q=1&token=${REDACTED}&apikey=${REDACTED}`,
    );
  });

  it('redacts bearer tokens, key=value pairs and extra patterns', () => {
    expect(redact('sent Bearer abcdefghijkl')).toBe(`sent Bearer ${REDACTED}`);
    expect(redact('Authorization: Bearer abcdefghijkl')).toBe(`Authorization: ${REDACTED}`);
    expect(redact('failed with password=hunter2 for sk_live_ABC')).toBe(
      `failed with password=${REDACTED} for ${REDACTED}`,
    );
    expect(redact('{"session":"s3cr3t","user":"bob"}')).toBe(
      `{"session":"${REDACTED}","user":"bob"}`,
    );
  });

  it('redacts the values of secret-looking keys and headers at any depth', () => {
    expect(
      redact({
        headers: { authorization: 'Basic x', cookie: 'sid=1', accept: 'text/html' },
        body: { user: 'bob', password: 'hunter2', nested: [{ apiKey: 'k' }] },
      }),
    ).toEqual({
      headers: { authorization: REDACTED, cookie: REDACTED, accept: 'text/html' },
      body: { user: 'bob', password: REDACTED, nested: [{ apiKey: REDACTED }] },
    });
  });

  it('caps long strings, long arrays and deep or circular objects', () => {
    const short = createRedactor({ maxStringLength: 10, env: {} });
    expect(short('0123456789abcdef')).toBe('0123456789…[6 more characters]');
    const list = short(Array.from({ length: 150 }, (_, index) => index)) as unknown[];
    expect(list).toHaveLength(101);
    expect(list[100]).toBe('[50 more items]');
    let deep: Record<string, unknown> = {};
    const root = deep;
    for (let level = 0; level < 20; level += 1) {
      deep['next'] = {};
      deep = deep['next'] as Record<string, unknown>;
    }
    expect(JSON.stringify(short(root))).toContain('[too deep]');
    expect(short({ data: Buffer.alloc(5000) })).toEqual({ data: '[Buffer of 5000 bytes]' });
    const wide = Object.fromEntries(
      Array.from({ length: 120 }, (_, index) => [`k${String(index)}`, 1]),
    );
    const cut = short(wide) as Record<string, unknown>;
    expect(Object.keys(cut)).toHaveLength(101);
    expect(cut['[more keys]']).toBe(20);
    const cycle: Record<string, unknown> = { name: 'a' };
    cycle['self'] = cycle;
    expect(short(cycle)).toEqual({ name: 'a', self: '[Circular]' });
  });
});

describe('redactArgv', () => {
  it('hides --password=x, the value after --token and secret env values', () => {
    expect(
      redactArgv(
        ['node', 'app.js', '--password=hunter2', '--token', 'abc', '--port', '80', 'tok-123456'],
        redact,
      ),
    ).toEqual([
      'node',
      'app.js',
      `--password=${REDACTED}`,
      '--token',
      REDACTED,
      '--port',
      '80',
      REDACTED,
    ]);
  });
});

describe('redactPath', () => {
  it('redacts every query value of a request path', () => {
    expect(redactPath('/search?q=cats&page=2', redact)).toBe(
      `/search?q=${REDACTED}&page=${REDACTED}`,
    );
    expect(redactPath('/plain', redact)).toBe('/plain');
  });
});
