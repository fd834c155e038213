/**
 * A worker that keeps failing its health probe is replaced through its slot's backoff clock, as
 * a crashing one is: in fixed-port mode (as child_monitor users probe `info.port`), the slot of
 * the failing port is replaced with growing delays, then given up (its worker serves on), while
 * the other port's worker is never touched.
 */
import * as net from 'node:net';
import * as path from 'node:path';
import { startApp } from '../../graceful/test/run-app';
import type { App, AppEvent } from '../../graceful/test/run-app';
import { get, killApps, sleep, waitForCount } from './support';

afterEach(killApps);

const FIXTURE = path.join(__dirname, 'fixtures', 'cluster2-master.js');

/** Two ports free now, asked of the OS. */
async function freePorts(): Promise<[number, number]> {
  const servers = [net.createServer(), net.createServer()];
  await Promise.all(
    servers.map((server) => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))),
  );
  const ports = servers.map((server) => (server.address() as net.AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return [ports[0] ?? 0, ports[1] ?? 0];
}

/** Backoff without jitter: 500, 1000, 2000, 4000 ms for the 1st to 4th quick failure in a row. */
const BACKOFF = { initial: 500, factor: 2, max: 8000, jitter: 0 };

async function startFixedPorts(
  extra: Record<string, unknown>,
): Promise<{ app: App; ports: [number, number]; named: (name: string) => AppEvent[] }> {
  const ports = await freePorts();
  const app = startApp(
    {
      app: 'worker-app.js',
      failPort: ports[0],
      options: {
        ports,
        health: { pingInterval: 200 },
        stableAfter: 60_000,
        backoff: BACKOFF,
        restartWindow: 120_000,
        ...extra,
      },
    },
    { fixture: FIXTURE, env: { LASTCALL_LOG_LEVEL: 'warn' } },
  );
  await app.waitFor('started', 20_000);
  const named = (name: string): AppEvent[] => app.events.filter((event) => event.event === name);
  return { app, ports, named };
}

describe('health replacements go through the slot backoff', () => {
  it('spaces the replacements of a slot that keeps failing its probe by growing delays', async () => {
    const { app, ports, named } = await startFixedPorts({ maxRestarts: 20 });
    const otherPid = named('ready').find((event) => event['slot'] === 1)?.['pid'];
    const recycles = await waitForCount(app, 'recycle', 4, 40_000);
    // The probe was called with the slot's port, and only the failing port's slot is replaced.
    expect(named('probe')).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ slot: 0, port: ports[0] }),
        expect.objectContaining({ slot: 1, port: ports[1] }),
      ]),
    );
    expect(recycles.map((event) => event['slot'])).toEqual([0, 0, 0, 0]);
    expect(recycles[0]?.['reason']).toBe('health: the probe answered false');
    // Replacement k + 1 starts at least backoff(k + 1) after replacement k: 1000, 2000, 4000 ms.
    const gaps = recycles.slice(1).map((event, index) => event.t - (recycles[index]?.t ?? 0));
    expect(gaps[0]).toBeGreaterThanOrEqual(1000);
    expect(gaps[1]).toBeGreaterThanOrEqual(2000);
    expect(gaps[2]).toBeGreaterThanOrEqual(4000);
    expect(gaps[2] ?? 0).toBeGreaterThan(gaps[0] ?? 0);
    // The other port's worker was never replaced and still serves.
    expect(named('fork').filter((event) => event['slot'] === 1)).toHaveLength(1);
    expect(named('exit').filter((event) => event['pid'] === otherPid)).toEqual([]);
    expect(await get(ports[1], '/ok')).toEqual({ status: 200, body: 'ok' });
    expect(await get(ports[0], '/ok')).toEqual({ status: 200, body: 'ok' });
  });

  it('gives the slot up past maxRestarts, and its worker serves on', async () => {
    const { app, ports, named } = await startFixedPorts({ maxRestarts: 2 });
    const [failed] = await waitForCount(app, 'failed', 1, 30_000);
    expect(failed).toMatchObject({ slot: 0, restarts: 2, window: 120_000 });
    expect(named('recycle')).toHaveLength(2);
    const survivor = named('ready')
      .filter((event) => event['slot'] === 0)
      .at(-1)?.['pid'];
    // Many probe rounds later: no more replacement, and the port still answers.
    await sleep(2000);
    expect(named('recycle')).toHaveLength(2);
    expect(named('fork').filter((event) => event['slot'] === 0)).toHaveLength(3);
    expect(named('exit').filter((event) => event['pid'] === survivor)).toEqual([]);
    expect(await get(ports[0], '/ok')).toEqual({ status: 200, body: 'ok' });
    expect(app.stderr()).toMatch(/slot 0: its workers keep failing their health/);
  });
});
