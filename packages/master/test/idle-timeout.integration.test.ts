/**
 * `idleTimeout` under a real master (cluster2's `timeout`): every worker ends the idle sockets of
 * an app that has no lastcall code (test/fixtures/idle-timeout-app.js), never a request in
 * flight; without the option nothing is ended.
 */
import * as net from 'node:net';
import { performance } from 'node:perf_hooks';
import { killApps, startMaster } from './support';
import type { MasterApp } from './support';

afterEach(killApps);

const IDLE_TIMEOUT = 500;

/** Longer than IDLE_TIMEOUT by over 4x, for what must not happen. */
const QUIET_WINDOW = IDLE_TIMEOUT * 5;

const sockets: net.Socket[] = [];

afterEach(() => {
  for (const socket of sockets.splice(0)) socket.destroy();
});

async function started(options: Record<string, unknown>): Promise<MasterApp> {
  const app = startMaster({ workers: 1, ...options }, { app: 'idle-timeout-app.js' });
  await app.waitFor('started', 20_000);
  return app;
}

/** A raw connection and how it ends: `ended` resolves with the ms from connect to the FIN. */
async function open(port: number): Promise<{
  socket: net.Socket;
  received: () => string;
  ended: Promise<number | 'timeout'>;
}> {
  const socket = net.connect({ host: '127.0.0.1', port });
  sockets.push(socket);
  let received = '';
  socket.on('data', (chunk: Buffer) => {
    received += chunk.toString('latin1');
  });
  socket.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const connectedAt = performance.now();
  const ended = new Promise<number | 'timeout'>((resolve) => {
    const timer = setTimeout(
      () => {
        resolve('timeout');
      },
      QUIET_WINDOW + IDLE_TIMEOUT * 4,
    );
    socket.once('end', () => {
      clearTimeout(timer);
      resolve(performance.now() - connectedAt);
    });
  });
  return { socket, received: () => received, ended };
}

describe('idleTimeout under the master', () => {
  it('ends idle sockets of an app with no lastcall code, and never a request in flight', async () => {
    const app = await started({ idleTimeout: IDLE_TIMEOUT });
    const port = app.port();
    const idle = await open(port);
    const busy = await open(port);
    busy.socket.write(`GET /slow/${String(IDLE_TIMEOUT * 4)} HTTP/1.1\r\nHost: x\r\n\r\n`);

    const idleEnded = await idle.ended;
    expect(idleEnded).not.toBe('timeout');
    expect(idleEnded).toBeGreaterThanOrEqual(IDLE_TIMEOUT - 50);
    expect(idle.received()).toBe('');

    // The slow request (4x idleTimeout with no byte either way) is answered in full, then its
    // keep-alive socket is ended idleTimeout after the response.
    const busyEnded = await busy.ended;
    expect(busyEnded).not.toBe('timeout');
    expect(busyEnded).toBeGreaterThanOrEqual(IDLE_TIMEOUT * 5 - 50);
    expect(busy.received()).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nslow \d+$/);
    expect(busy.received()).toMatch(/\r\nConnection: keep-alive\r\n/i);
  });

  it('ends nothing without idleTimeout', async () => {
    const app = await started({});
    const idle = await open(app.port());
    expect(await idle.ended).toBe('timeout');
    expect(idle.socket.readableEnded).toBe(false);
    expect(idle.received()).toBe('');
  });
});
