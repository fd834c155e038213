/**
 * cluster2 users switch without a trap: their workers' raw delegation messages reach
 * `master.handle()` and get cluster2's answers, and `recycle.maxConnectionsServed` counts what
 * cluster2's `connThreshold` counted (connections served in total), while the deprecated
 * `recycle.maxConnections` keeps meaning connections open now, with one warning.
 */
import * as net from 'node:net';
import * as path from 'node:path';
import { request } from 'undici';
import { startApp } from '../../graceful/test/run-app';
import type { App, AppEvent } from '../../graceful/test/run-app';
import { killApps, sleep, waitForCount } from './support';

afterEach(killApps);

const FIXTURE = path.join(__dirname, 'fixtures', 'cluster2-master.js');

async function startCluster2(
  options: Record<string, unknown>,
): Promise<App & { port: number; named: (name: string) => AppEvent[] }> {
  const app = startApp({ options }, { fixture: FIXTURE, env: { LASTCALL_LOG_LEVEL: 'warn' } });
  await app.waitFor('started', 20_000);
  const named = (name: string): AppEvent[] => app.events.filter((event) => event.event === name);
  const port = named('listening')[0]?.['port'] as number;
  return Object.assign(app, { port, named });
}

async function getJson(port: number, urlPath: string): Promise<{ status: number; body: unknown }> {
  const response = await request(`http://127.0.0.1:${String(port)}${urlPath}`, {
    headersTimeout: 15_000,
    bodyTimeout: 15_000,
  });
  const text = await response.body.text();
  return {
    status: response.statusCode,
    body: text === 'sent' ? text : (JSON.parse(text) as unknown),
  };
}

/** Resolves once the master's stderr matches `pattern`; rejects after `ms`. */
async function waitForStderr(app: App, pattern: RegExp, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pattern.test(app.stderr())) {
    if (Date.now() > deadline)
      throw new Error(`stderr never matched ${String(pattern)}:\n${app.stderr()}`);
    await sleep(50);
  }
}

/** One request on a connection of its own, closed by the client once answered. */
function freshConnection(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    socket.setTimeout(10_000, () => {
      socket.destroy(new Error('timed out'));
    });
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => {
      resolve(text.split('\r\n')[0] ?? '');
    });
    socket.end('GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  });
}

describe("cluster2's delegation", () => {
  it('calls the handler with the payload and answers the worker as cluster2 did', async () => {
    const app = await startCluster2({});
    const answer = await getJson(app.port, '/delegate?name=cache-get&expect=cache-got&key=a1');
    expect(answer).toEqual({
      status: 200,
      body: { value: 'v-a1', key: 'a1', type: 'cache-got' },
    });
    const [call] = app.named('delegated');
    const worker = app.named('ready')[0];
    expect(call).toMatchObject({
      name: 'cache-get',
      payload: { key: 'a1', extra: { nested: [1, 2] } },
      from: { slot: 0, id: worker?.['id'], pid: worker?.['pid'] },
    });
    // The routing fields are not the handler's.
    expect(Object.keys(call?.['payload'] as object).sort()).toEqual(['extra', 'key']);
    // A value that is not an object comes as `value`.
    expect(await getJson(app.port, '/delegate?name=count&expect=counted&key=c')).toEqual({
      status: 200,
      body: { value: 42, key: 'c', type: 'counted' },
    });
  });

  it('sends nothing back without expect', async () => {
    const app = await startCluster2({});
    expect(await getJson(app.port, '/delegate?name=notify&key=n1')).toEqual({
      status: 200,
      body: 'sent',
    });
    await waitForCount(app, 'delegated', 1, 10_000);
    // Well past the answer's round trip: nothing came.
    await sleep(1000);
    expect(await getJson(app.port, '/inbox')).toEqual({ status: 200, body: [] });
    expect(app.named('delegated')[0]).toMatchObject({ name: 'notify', payload: { key: 'n1' } });
  });

  it('answers a failure, a timeout and an unknown name with the request and an error', async () => {
    const app = await startCluster2({});
    const failed = await getJson(app.port, '/delegate?name=boom&expect=boomed&key=b');
    expect(failed.body).toMatchObject({
      type: 'boomed',
      delegate: 'boom',
      key: 'b',
      matches: ['key'],
      error: { message: 'the handler failed' },
    });
    const late = await getJson(app.port, '/delegate?name=slow&expect=slowed&key=s&timeout=300');
    expect(late.body).toMatchObject({
      type: 'slowed',
      key: 's',
      error: { code: 'LASTCALL_ERR_MASTER_REQUEST_TIMEOUT', message: 'timeout' },
    });
    const unsent = await getJson(app.port, '/delegate?name=big&expect=bigged&key=g');
    expect(unsent.body).toMatchObject({
      type: 'bigged',
      key: 'g',
      error: { message: expect.stringContaining('cannot be sent') as unknown },
    });
    for (const key of ['u1', 'u2']) {
      const unknown = await getJson(app.port, `/delegate?name=nobody&expect=nobodied&key=${key}`);
      expect(unknown.body).toMatchObject({
        type: 'nobodied',
        key,
        error: { code: 'LASTCALL_ERR_MASTER_REQUEST_UNKNOWN' },
      });
    }
    // One warning for the two unknown delegations.
    await waitForStderr(app, /which no master\.handle\(\) handles/);
    expect(
      app.stderr().match(/delegated "nobody", which no master\.handle\(\) handles/g),
    ).toHaveLength(1);
  });
});

describe('recycling by connections', () => {
  it('maxConnectionsServed replaces a worker after that many fresh connections', async () => {
    const app = await startCluster2({ recycle: { maxConnectionsServed: 5, spacing: 500 } });
    expect(app.named('started')[0]?.['status']).toEqual([
      expect.objectContaining({ slot: 0, connections: 0, connectionsServed: 0 }),
    ]);
    const firstPid = app.named('ready')[0]?.['pid'];
    for (let index = 0; index < 5; index += 1) {
      expect(await freshConnection(app.port)).toBe('HTTP/1.1 200 OK');
    }
    const [recycle] = await waitForCount(app, 'recycle', 1, 15_000);
    expect(recycle).toMatchObject({ slot: 0, pid: firstPid });
    expect(recycle?.['reason']).toMatch(
      /^recycle: [5-9] connections served \(maxConnectionsServed 5\)$/,
    );
    await waitForCount(app, 'ready', 2, 15_000);
    expect(await freshConnection(app.port)).toBe('HTTP/1.1 200 OK');
  });

  it('the deprecated maxConnections warns once and counts open connections only', async () => {
    const app = await startCluster2({ recycle: { maxConnections: 3, spacing: 500 } });
    await waitForStderr(app, /recycle\.maxConnections is deprecated/);
    expect(app.stderr().match(/recycle\.maxConnections is deprecated/g)).toHaveLength(1);
    // Six connections served one after the other: never three open at once.
    for (let index = 0; index < 6; index += 1) {
      expect(await freshConnection(app.port)).toBe('HTTP/1.1 200 OK');
    }
    // Two stats reports and two upkeep ticks later, still no recycle.
    await sleep(2500);
    expect(app.named('recycle')).toEqual([]);
    // Three held open at once do.
    const held = await Promise.all(
      [0, 1, 2].map(
        () =>
          new Promise<net.Socket>((resolve, reject) => {
            const socket = net.connect(app.port, '127.0.0.1', () => resolve(socket));
            socket.on('error', () => undefined);
            socket.once('error', reject);
          }),
      ),
    );
    try {
      const [recycle] = await waitForCount(app, 'recycle', 1, 15_000);
      expect(recycle?.['reason']).toMatch(/^recycle: \d+ connections \(maxConnections 3\)$/);
    } finally {
      for (const socket of held) socket.destroy();
    }
  });
});
