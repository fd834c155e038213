/**
 * Issue behaviour 14: the terminator works the same behind the servers that express 4, express 5,
 * fastify 5 and koa 3 make. Each case runs test/fixtures/framework-server.js as a real process
 * that loads the built `@lastcall/terminator` by name and terminates on SIGTERM without ever
 * calling process.exit().
 */
import { performance } from 'node:perf_hooks';
import type { TerminationReport } from '@lastcall/terminator';
import {
  bodyOf,
  killFixtures,
  openIdleSocket,
  portOf,
  sendRequest,
  startFixture,
  tryConnect,
} from './fixture-process';
import { parseResponses, withTimeout } from './support';

/** What framework-server.js answers on `/slow`, 300 ms after the request arrives. */
const SLOW_BODY = `slow:${'x'.repeat(64 * 1024)}`;

afterEach(() => {
  killFixtures();
});

describe.each(['express4', 'express5', 'fastify', 'koa'])('behind %s', (framework) => {
  it('on SIGTERM finishes the slow request with Connection: close, closes the idle socket with FIN, refuses new connections and exits 0 by itself', async () => {
    const fixture = startFixture('framework-server.js', [framework]);
    const port = portOf(await fixture.message('listening', 15_000));
    const idle = await openIdleSocket('http', port);
    const slow = await sendRequest('http', port, '/slow');
    await fixture.message('slow-started', 5000);

    const signalledAt = performance.now();
    fixture.child.kill('SIGTERM');

    expect(await idle.outcome).toEqual({ received: '', ending: 'end' });
    expect(await tryConnect(port)).toBe('ECONNREFUSED');
    // Refused by the draining process itself, not because it had already gone.
    expect(fixture.hasExited()).toBe(false);

    const { received, ending } = await slow.outcome;
    expect(parseResponses(received)).toEqual([{ status: 200, connection: 'close' }]);
    expect(bodyOf(received)).toBe(SLOW_BODY);
    expect(ending).toBe('end');

    const exit = await withTimeout(fixture.exited, 5000, `${framework} to exit by itself`);
    expect({ code: exit.code, signal: exit.signal, stderr: fixture.stderr() }).toEqual({
      code: 0,
      signal: null,
      stderr: '',
    });
    expect(exit.at - signalledAt).toBeLessThan(5000);

    const { report } = await fixture.message('terminated', 1000);
    expect(report).toEqual<TerminationReport>({
      durationMs: expect.any(Number) as number,
      graceful: true,
      closedIdle: 1,
      completedInFlight: 1,
      forced: 0,
      upgraded: 0,
      h2Sessions: 0,
      hookErrors: [],
    });
  });
});
