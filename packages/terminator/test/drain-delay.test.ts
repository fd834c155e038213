/**
 * terminate({ drainDelay }): the listener closes at once, keep-alive goes on as before for the
 * delay, then the connections drain. In a cluster worker this lets the primary stop accepting
 * before clients are told to reconnect.
 */
import * as net from 'node:net';
import { Agent, request } from 'undici';
import { createTerminator } from '../src';
import { createServer, delay, listen, protocols, useCleanups, withTimeout } from './support';
import type { Protocol } from './support';

const defer = useCleanups();

function connectOutcome(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      resolve(error.code ?? error.message);
    });
  });
}

/** A server answering `ok`, listening, and a one-connection keep-alive agent to it. */
async function keepAliveSetup(protocol: Protocol): Promise<{
  server: ReturnType<typeof createServer>;
  port: number;
  origin: string;
  agent: Agent;
}> {
  const server = createServer(protocol, (_incoming, response) => {
    response.end('ok');
  });
  const port = await listen(server);
  defer(() => {
    server.closeAllConnections();
    server.close();
  });
  const agent = new Agent({ connections: 1, connect: { rejectUnauthorized: false } });
  defer(() => agent.close());
  return { server, port, origin: `${protocol}://127.0.0.1:${String(port)}`, agent };
}

describe.each(protocols)('terminate({ drainDelay }) over %s', (protocol: Protocol) => {
  it('refuses new connections at once, serves keep-alive as before during the delay, then drains', async () => {
    const { server, port, origin, agent } = await keepAliveSetup(protocol);
    const terminator = createTerminator(server, { timeout: 10_000 });
    const first = await request(origin, { dispatcher: agent });
    await first.body.text();
    expect(first.headers['connection']).toBe('keep-alive');

    const startedAt = performance.now();
    const done = terminator.terminate({ drainDelay: 400 });
    expect(await connectOutcome(port)).toBe('ECONNREFUSED');
    // During the delay the open socket serves as before: no Connection: close yet.
    const during = await request(origin, { dispatcher: agent });
    await during.body.text();
    expect(during.statusCode).toBe(200);
    expect(during.headers['connection']).toBe('keep-alive');
    expect(terminator.state).toBe('draining');

    const report = await withTimeout(done, 4 * 400 + 2000, 'the drain after the delay');
    expect(report).toMatchObject({ graceful: true, forced: 0 });
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(400 - 5);
    await delay(10);
  });

  it("holds off another terminator's stopKeepAlive() of the same server until the drain", async () => {
    const { server, origin, agent } = await keepAliveSetup(protocol);
    // An app's own terminator beside the one of a supervisor's runtime.
    const appTerminator = createTerminator(server);
    const runtimeTerminator = createTerminator(server, { timeout: 10_000 });
    await (await request(origin, { dispatcher: agent })).body.text();

    const done = runtimeTerminator.terminate({ drainDelay: 400 });
    appTerminator.stopKeepAlive();
    const during = await request(origin, { dispatcher: agent });
    await during.body.text();
    expect(during.headers['connection']).toBe('keep-alive');
    expect(await withTimeout(done, 4 * 400 + 2000, 'the drain')).toMatchObject({ graceful: true });
  });

  it('a forced end during the delay still closes everything and resolves', async () => {
    const { server, origin, agent } = await keepAliveSetup(protocol);
    const terminator = createTerminator(server);
    const response = await request(origin, { dispatcher: agent });
    await response.body.text();
    const controller = new AbortController();
    const done = terminator.terminate({ drainDelay: 5000, signal: controller.signal });
    controller.abort();
    const report = await withTimeout(done, 4000, 'the forced end');
    expect(report.graceful).toBe(false);
    expect(terminator.state).toBe('closed');
  });
});
