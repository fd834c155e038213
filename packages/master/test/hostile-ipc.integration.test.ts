/**
 * The master never dies of what a worker sends it: malformed lastcall messages (wrong types, an
 * unknown type, a 4 MiB payload, a signal that is not one, a drain reason nested 20,000 levels
 * deep that JSON.stringify throws on) are ignored or handled, and the master goes on serving,
 * replacing the worker that said it was draining.
 */
import { get, killApps, sleep, startMaster } from './support';

afterEach(killApps);

it('survives hostile lastcall messages from a worker and keeps serving', async () => {
  const app = startMaster({ workers: 2, readyTimeout: 10_000 });
  await app.waitFor('started', 20_000);
  const port = app.port();
  const sent = await get(port, '/hostile-ipc');
  expect(sent).toMatchObject({ status: 200, body: 'sent' });
  // The worker that sent `draining` is replaced; the master is alive and both slots serve.
  const deadline = Date.now() + 15_000;
  while (app.eventsNamed('fork').length < 3 && Date.now() < deadline) await sleep(50);
  expect({ forks: app.eventsNamed('fork').length, stderr: app.stderr() }).toEqual({
    forks: 3,
    stderr: expect.not.stringMatching(/uncaughtException/) as unknown,
  });
  await sleep(1000);
  const answers = await Promise.all(Array.from({ length: 20 }, () => get(port, '/pid')));
  expect(answers.every((answer) => 'status' in answer && answer.status === 200)).toBe(true);
  expect(app.child.exitCode).toBeNull();
  // Four malformed messages (type 42, no type, two bad signals): one rate-limited warning.
  const warnings = app.stderr().match(/sent a lastcall message of an unknown type or shape/g) ?? [];
  expect(warnings).toHaveLength(1);
  const drains = app.eventsNamed('drain');
  expect(drains).toHaveLength(1);
  // Bounded either way: V8 before Node 26 throws on JSON.stringify at this depth, 26 writes it.
  const reason = String(drains[0]?.['reason']);
  expect(reason.length).toBeLessThan(1100);
  expect(reason).toMatch(
    /^(\[a reason that cannot be written as JSON\]|\{"deeper":.*…\[\d+ more characters\])$/,
  );
});

it("survives lines that are not JSON on a worker's IPC channel, with one warning and no report", async () => {
  const app = startMaster({ workers: 2, readyTimeout: 10_000 });
  await app.waitFor('started', 20_000);
  const port = app.port();
  const forksBefore = app.eventsNamed('fork').length;
  for (let round = 0; round < 3; round += 1) {
    expect(await get(port, '/garbage-ipc?times=20')).toMatchObject({ status: 200, body: 'sent' });
  }
  // The channel reads on: the master still hears its workers (a request answered through it).
  await sleep(500);
  const answers = await Promise.all(Array.from({ length: 20 }, () => get(port, '/pid')));
  expect(answers.every((answer) => 'status' in answer && answer.status === 200)).toBe(true);
  expect(app.child.exitCode).toBeNull();
  expect(app.eventsNamed('fork')).toHaveLength(forksBefore);
  expect(app.eventsNamed('drain')).toHaveLength(0);
  const warnings = app.stderr().match(/a line that is not JSON arrived on a worker's IPC channel/g);
  expect(warnings).toHaveLength(1);
  // The line may hold anything: it never reaches the log.
  expect(app.stderr()).not.toMatch(/secret-token-123/);
  expect(app.stderr()).not.toMatch(/uncaughtException|SyntaxError/);
  // A restart still works: the channel carries the new workers' readiness.
  app.child.kill('SIGUSR2');
  await app.waitFor('restartDone', 20_000);
});
