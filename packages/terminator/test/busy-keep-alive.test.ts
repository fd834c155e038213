/**
 * A busy keep-alive client sends its next request the moment it has a response. Closing its
 * socket "because it is idle" at that moment crosses the request on the wire and loses it: the
 * benchmark saw one lost request per busy connection for every peer. These tests hold the
 * terminator to losing none.
 */
import { Pool } from 'undici';
import type { Server } from 'node:http';
import { createTerminator } from '../src';
import { createServer, delay, listen, protocols, withTimeout } from './support';
import type { Protocol } from './support';

interface LoadOutcome {
  answered: number;
  closeHeaders: number;
  errors: Record<string, number>;
}

/** Runs `connections` request loops until each one fails (the server stops accepting). */
function runLoad(pool: Pool, connections: number): { outcome: LoadOutcome; done: Promise<void> } {
  const outcome: LoadOutcome = { answered: 0, closeHeaders: 0, errors: {} };
  const loop = async (): Promise<void> => {
    for (;;) {
      try {
        const response = await pool.request({ path: '/', method: 'GET' });
        await response.body.text();
        outcome.answered += 1;
        if (response.headers.connection === 'close') outcome.closeHeaders += 1;
      } catch (error) {
        const code = (error as { code?: string }).code ?? 'unknown';
        outcome.errors[code] = (outcome.errors[code] ?? 0) + 1;
        return;
      }
    }
  };
  const done = Promise.all(Array.from({ length: connections }, loop)).then(() => undefined);
  return { outcome, done };
}

describe.each(protocols)('busy keep-alive clients over %s', (protocol: Protocol) => {
  let server: Server;
  let pool: Pool | undefined;

  afterEach(async () => {
    await pool?.destroy();
    pool = undefined;
    server.closeAllConnections();
    server.close();
  });

  it('answers the request each busy connection sent as the drain started, and loses none', async () => {
    const connections = 20;
    server = createServer(protocol, (_request, response) => {
      response.end('ok');
    });
    const terminator = createTerminator(server, { timeout: 5000 });
    const port = await listen(server);
    pool = new Pool(`${protocol}://127.0.0.1:${String(port)}`, {
      connections,
      connect: { rejectUnauthorized: false },
    });
    const { outcome, done } = runLoad(pool, connections);
    await delay(300);
    const report = await withTimeout(terminator.terminate(), 4000, 'terminate()');
    await withTimeout(done, 4000, 'the load to stop');

    expect(outcome.answered).toBeGreaterThan(connections);
    // The only failures allowed are new connections refused after the listener closed.
    expect(Object.keys(outcome.errors).filter((code) => code !== 'ECONNREFUSED')).toEqual([]);
    expect(report.graceful).toBe(true);
    expect(report.forced).toBe(0);
    expect(outcome.closeHeaders).toBeGreaterThanOrEqual(1);
  });

  it('with idleGrace 0 closes a socket idle since its last response one turn after terminate()', async () => {
    server = createServer(protocol, (_request, response) => {
      response.end('ok');
    });
    const terminator = createTerminator(server, { idleGrace: 0 });
    const port = await listen(server);
    pool = new Pool(`${protocol}://127.0.0.1:${String(port)}`, {
      connections: 1,
      connect: { rejectUnauthorized: false },
    });
    const response = await pool.request({ path: '/', method: 'GET' });
    await response.body.text();
    await delay(50);
    const report = await withTimeout(terminator.terminate(), 1000, 'terminate()');
    expect(report).toMatchObject({ graceful: true, closedIdle: 1, forced: 0 });
  });
});
