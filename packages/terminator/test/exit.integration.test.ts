/**
 * Issue behaviour 12 in a real process: after terminate() resolves nothing of ours is left, so a
 * process that only ran the server exits by itself (test/fixtures/hanging-server.js never calls
 * process.exit()), at `timeout` plus a margin when a request hangs.
 */
import { performance } from 'node:perf_hooks';
import type { TerminationReport } from '@lastcall/terminator';
import type { FixtureMessage } from './fixture-process';
import { killFixtures, openIdleSocket, portOf, sendRequest, startFixture } from './fixture-process';
import { parseResponses, protocols, withTimeout } from './support';

const TIMEOUT_MS = 500;
/** ≥ 4 × the timeout under test: the machine has 2 shared cores. */
const MARGIN_MS = 4 * TIMEOUT_MS;

afterEach(() => {
  killFixtures();
});

function resourcesOf(message: FixtureMessage): string[] {
  const { resources } = message;
  if (!Array.isArray(resources)) throw new Error(`no resources in ${JSON.stringify(message)}`);
  return resources.map(String);
}

describe.each(protocols)('%s server process', (protocol) => {
  it(`exits 0 by itself ${String(TIMEOUT_MS)} ms after SIGTERM when a request hangs, reporting it forced`, async () => {
    const fixture = startFixture('hanging-server.js', [protocol, String(TIMEOUT_MS)]);
    const port = portOf(await fixture.message('listening', 15_000));
    const hanging = await sendRequest(protocol, port, '/hang');
    await fixture.message('request', 5000);

    const signalledAt = performance.now();
    fixture.child.kill('SIGTERM');
    const exit = await withTimeout(fixture.exited, TIMEOUT_MS + MARGIN_MS, 'the child to exit');

    expect({ code: exit.code, signal: exit.signal, stderr: fixture.stderr() }).toEqual({
      code: 0,
      signal: null,
      stderr: '',
    });
    expect(exit.at - signalledAt).toBeGreaterThanOrEqual(TIMEOUT_MS - 10);
    expect(exit.at - signalledAt).toBeLessThan(TIMEOUT_MS + MARGIN_MS);

    const terminated = await fixture.message('terminated', 1000);
    expect(terminated['report']).toEqual<TerminationReport>({
      durationMs: expect.any(Number) as number,
      graceful: false,
      closedIdle: 0,
      completedInFlight: 0,
      forced: 1,
      upgraded: 0,
      h2Sessions: 0,
      hookErrors: [],
    });
    const { durationMs } = terminated['report'] as TerminationReport;
    expect(durationMs).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
    expect(durationMs).toBeLessThan(TIMEOUT_MS + MARGIN_MS);
    expect(resourcesOf(terminated)).not.toContain('Timeout');

    const { received } = await hanging.outcome;
    expect(parseResponses(received)).toEqual([]);
  });

  it('has no timer, socket or server handle left once terminate() resolved, and exits 0 long before its timeout', async () => {
    const fixture = startFixture('hanging-server.js', [protocol, '10000']);
    const port = portOf(await fixture.message('listening', 15_000));
    const idle = await openIdleSocket(protocol, port);
    const slow = await sendRequest(protocol, port, '/slow');
    await fixture.message('request', 5000, (message) => message['url'] === '/slow');

    const signalledAt = performance.now();
    fixture.child.kill('SIGTERM');
    const exit = await withTimeout(fixture.exited, 3000, 'the child to exit');

    expect({ code: exit.code, signal: exit.signal, stderr: fixture.stderr() }).toEqual({
      code: 0,
      signal: null,
      stderr: '',
    });
    expect(exit.at - signalledAt).toBeLessThan(3000);

    const terminated = await fixture.message('terminated', 1000);
    expect(terminated['report']).toMatchObject({
      graceful: true,
      closedIdle: 1,
      completedInFlight: 1,
      forced: 0,
    });
    expect(resourcesOf(terminated)).not.toContain('Timeout');
    const settled = resourcesOf(await fixture.message('settled', 1000));
    for (const kind of ['Timeout', 'TCPServerWrap', 'TCPSocketWrap', 'TLSWrap']) {
      expect(settled).not.toContain(kind);
    }

    expect(await idle.outcome).toEqual({ received: '', ending: 'end' });
    const slowOutcome = await slow.outcome;
    expect(parseResponses(slowOutcome.received)).toEqual([{ status: 200, connection: 'close' }]);
    expect(slowOutcome.received.endsWith('\r\n\r\nslow done')).toBe(true);
  });
});
