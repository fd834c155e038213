import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  jsonLines,
  killFixtures,
  makeTempDir,
  runFixture,
  startRecordingServer,
} from './run-fixture';

const sockets: dgram.Socket[] = [];

afterEach(() => {
  killFixtures();
  for (const socket of sockets.splice(0)) socket.close();
});

/** A real HTTP server on 127.0.0.1:0 that records every body; `hang` never answers. */
function startWebhook(hang: boolean): Promise<{ url: string; bodies: string[] }> {
  return startRecordingServer({ path: '/hook', hang });
}

describe('notifications from a child process', () => {
  it('posts the summary to a real webhook and never leaks a secret from env, argv, URL or header', async () => {
    const webhook = await startWebhook(false);
    const dir = makeTempDir();
    const crashLog = path.join(dir, 'crash.log');
    const secrets = {
      env: 'env-secret-4f9a1c',
      argv: 'argv-secret-77b2',
      url: 'url-secret-e81d',
      header: 'header-secret-c0ffee',
    };
    const run = await runFixture(
      {
        mode: 'report',
        message: `connect https://admin:${secrets.url}@db.internal/x failed using ${secrets.env}`,
        options: { webhook: webhook.url, includeStack: true, timeout: 5000 },
        request: {
          method: 'POST',
          url: `/login?session=${secrets.url}&q=1`,
          headers: { authorization: `Bearer ${secrets.header}`, 'x-trace': 'ok' },
        },
      },
      {
        env: {
          LASTCALL_CRASH_LOG: crashLog,
          LASTCALL_APP_NAME: 'shop',
          SHOP_API_TOKEN: secrets.env,
        },
        args: [`--password=${secrets.argv}`, '--token', secrets.argv],
      },
    );
    expect(run.code).toBe(0);
    const reported = jsonLines(run.stdout).find((line) => line['event'] === 'reported');
    const result = reported?.['result'] as { id: string; targets: Record<string, string> };
    expect(result.targets).toEqual({ webhook: 'sent' });
    expect(webhook.bodies).toHaveLength(1);
    const summary = JSON.parse(webhook.bodies[0] ?? '{}') as Record<string, unknown>;
    expect(summary).toMatchObject({ app: 'shop', reportId: result.id, crashLog });
    const logText = fs.readFileSync(crashLog, 'utf8');
    const entry = jsonLines(logText)[0];
    expect(entry?.['request']).toMatchObject({
      method: 'POST',
      headers: { authorization: '[REDACTED]', 'x-trace': 'ok' },
    });
    for (const secret of Object.values(secrets)) {
      expect(logText).not.toContain(secret);
      expect(run.stderr).not.toContain(secret);
      expect(webhook.bodies[0]).not.toContain(secret);
    }
  });

  it('completes at the timeout when the webhook never answers', async () => {
    const webhook = await startWebhook(true);
    const timeout = 300;
    const run = await runFixture(
      { mode: 'report', options: { webhook: webhook.url, timeout, crashLog: false } },
      { ms: 10_000 },
    );
    expect(run.code).toBe(0);
    const reported = jsonLines(run.stdout).find((line) => line['event'] === 'reported');
    const targets = (reported?.['result'] as { targets: Record<string, string> }).targets;
    expect(['timeout', 'failed']).toContain(targets['webhook']);
    expect(reported?.['elapsed']).toBeLessThan(timeout * 4);
    expect(webhook.bodies).toHaveLength(1);
  });

  it('gets the statsd packet to a real UDP socket before the process exits', async () => {
    const socket = dgram.createSocket('udp4');
    sockets.push(socket);
    const packets: string[] = [];
    socket.on('message', (message) => packets.push(message.toString('utf8')));
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const { port } = socket.address();
    const dir = makeTempDir();
    const run = await runFixture(
      { mode: 'throw', message: 'count me' },
      {
        env: {
          LASTCALL_STATSD: `127.0.0.1:${String(port)}`,
          LASTCALL_APP_NAME: 'shop',
          LASTCALL_CRASH_LOG: path.join(dir, 'crash.log'),
        },
      },
    );
    expect(run.code).toBe(1);
    // The datagram left the child before it exited; give this process's loop a bounded moment.
    const deadline = Date.now() + 2000;
    while (packets.length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(packets).toEqual(['shop.crashes:1|c']);
  });

  it.each([
    { client: 'statsd-client', buffered: false },
    { client: 'hot-shots', buffered: false },
    { client: 'hot-shots', buffered: true },
  ])(
    "gets the packet of the app's own $client (buffered: $buffered) out before the process exits",
    async ({ client, buffered }) => {
      const { port, packets } = await udpListener();
      const dir = makeTempDir();
      const run = await runFixture(
        {
          mode: 'throw',
          message: 'count me',
          statsdClient: { kind: client, port, prefix: 'eu', buffered },
        },
        { env: { LASTCALL_APP_NAME: 'shop', LASTCALL_CRASH_LOG: path.join(dir, 'crash.log') } },
      );
      expect(run.code).toBe(1);
      await waitFor(() => packets.length > 0, 2000);
      expect(packets).toEqual(['eu.shop.crashes:1|c']);
    },
  );
});

async function udpListener(): Promise<{ port: number; packets: string[] }> {
  const socket = dgram.createSocket('udp4');
  sockets.push(socket);
  const packets: string[] = [];
  socket.on('message', (message) => packets.push(message.toString('utf8')));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { port: socket.address().port, packets };
}

/** Polls `isDone` until it holds or `ms` have passed. */
async function waitFor(isDone: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!isDone() && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
