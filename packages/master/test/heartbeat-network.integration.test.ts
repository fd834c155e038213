/**
 * The heartbeat seen from another host (a network namespace): a load balancer there may read
 * the status, but control requests from a non-loopback address are refused unless they carry
 * the token; a heartbeat bound beyond loopback without a token does not start.
 */
import { killApps, startMaster } from './support';
import type { MasterApp } from './support';
import { createTestHost } from './netns';
import type { TestHost } from './netns';

let host: TestHost;

beforeAll(() => {
  host = createTestHost();
});

afterAll(() => {
  host.remove();
});

afterEach(killApps);

async function started(heartbeat: Record<string, unknown>): Promise<number> {
  const app: MasterApp = startMaster({ workers: 1, heartbeat: { port: 0, ...heartbeat } });
  await app.waitFor('started', 20_000);
  const address = app.eventsNamed('started')[0]?.['heartbeat'] as { port: number };
  return address.port;
}

/** Statuses of GET /ecv, POST /ecv/disable, then GET /ecv again, asked from the other host. */
async function fromOtherHost(port: number, token?: string): Promise<number[]> {
  const base = `http://${host.localAddress}:${String(port)}/ecv`;
  const headers = token === undefined ? {} : { authorization: `Bearer ${token}` };
  const script = `
    (async () => {
      const statuses = [];
      for (const [url, method] of [['${base}', 'GET'], ['${base}/disable', 'POST'], ['${base}', 'GET']]) {
        const response = await fetch(url, { method, headers: ${JSON.stringify(headers)} });
        await response.text();
        statuses.push(response.status);
      }
      process.stdout.write(JSON.stringify(statuses));
    })().catch((error) => { console.error(error); process.exit(1); });
  `;
  return JSON.parse(await host.node(script)) as number[];
}

describe('the heartbeat from another host', () => {
  it('does not start bound beyond loopback without a token, and says why', async () => {
    const app = startMaster({ workers: 1, heartbeat: { port: 0, host: '0.0.0.0' } });
    expect((await app.exited(20_000)).code).not.toBe(0);
    expect(app.stderr()).toContain('LASTCALL_ERR_MASTER_TOKEN_REQUIRED');
    expect(app.eventsNamed('started')).toEqual([]);
  });

  it('takes control requests that carry the token, and refuses none or a wrong one', async () => {
    const port = await started({ host: '0.0.0.0', token: 's3cret' });
    expect(await fromOtherHost(port)).toEqual([200, 403, 200]);
    expect(await fromOtherHost(port, 'wrong')).toEqual([200, 403, 200]);
    expect(await fromOtherHost(port, 's3cret')).toEqual([200, 200, 503]);
  });
});
