/**
 * thehelp-last-ditch's custom messenger, `function (err, options, cb)`, in a real crashing
 * child: its async send (a POST to a real HTTP server that answers late) must complete before
 * the process exits, and a messenger that never calls `cb` must not hold the process past
 * `timeout`.
 */
import { jsonLines, killFixtures, runFixture, startRecordingServer } from './run-fixture';

afterEach(killFixtures);

describe('a callback messenger in a crashing child', () => {
  it('waits for cb(): the late answer is read before the process exits 1', async () => {
    const delayMs = 500;
    const timeout = 10_000;
    const server = await startRecordingServer({ path: '/page', delayMs });
    const run = await runFixture(
      { url: server.url, timeout },
      { fixture: 'messenger-crash.js', ms: 20_000 },
    );
    expect(run.code).toBe(1);
    const events = jsonLines(run.stdout).map((line) => line['event']);
    expect(events).toEqual(['crashing', 'sent', 'exit']);
    expect(jsonLines(run.stdout)[1]).toEqual({ event: 'sent', status: 200 });
    expect(server.bodies).toHaveLength(1);
    expect(JSON.parse(server.bodies[0] ?? '{}')).toMatchObject({
      message: 'crash with a messenger',
      reportId: expect.stringMatching(/^[0-9a-f-]{36}$/) as unknown,
    });
    const exit = jsonLines(run.stdout)[2];
    expect(exit?.['elapsed']).toBeGreaterThanOrEqual(delayMs - 50);
    // Done at cb(), not at the deadline.
    expect(exit?.['elapsed']).toBeLessThan(timeout);
  });

  it('exits 1 at the timeout when cb is never called', async () => {
    const timeout = 1000;
    const server = await startRecordingServer({ path: '/page', hang: true });
    const run = await runFixture({ url: server.url, timeout }, { fixture: 'messenger-crash.js' });
    expect(run.code).toBe(1);
    expect(server.bodies).toHaveLength(1);
    const lines = jsonLines(run.stdout);
    expect(lines.map((line) => line['event'])).toEqual(['crashing', 'exit']);
    expect(lines[1]?.['elapsed']).toBeGreaterThanOrEqual(timeout - 50);
    expect(lines[1]?.['elapsed']).toBeLessThan(timeout + 4 * timeout);
  });
});
