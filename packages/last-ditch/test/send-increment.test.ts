import StatsD from 'hot-shots';
import { crashMetricName, metricName, sendIncrement } from '../src/index';
import { sendCrashMetric } from '../src/statsd-target';
import { listenUdp } from './udp-listener';

/** The part of statsd-client used here; it ships no types. */
type StatsdClientConstructor = new (options: {
  readonly host: string;
  readonly port: number;
  readonly prefix?: string;
}) => { increment(name: string, delta?: number): void; close(): void };

// eslint-disable-next-line @typescript-eslint/no-require-imports
const StatsdClient = require('statsd-client') as StatsdClientConstructor;

const cleanups: (() => void)[] = [];

afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

describe('metricName()', () => {
  it('joins the app and the suffix with a dot', () => {
    expect(metricName('shop', 'launches.master')).toBe('shop.launches.master');
  });

  it('replaces the characters statsd treats specially in the app part only', () => {
    expect(metricName('@shop/api v2:beta|x@y', 'launches.worker')).toBe(
      'shop_api_v2_beta_x_y.launches.worker',
    );
  });

  it('gives crashMetricName() its unchanged output', () => {
    expect(crashMetricName('@shop/api')).toBe('shop_api.crashes');
    expect(crashMetricName('my app')).toBe(metricName('my app', 'crashes'));
  });
});

describe('sendIncrement()', () => {
  it("sends 'name:1|c', the name as given, to a 'host:port' target before it resolves", async () => {
    const listener = await listenUdp(cleanups);
    await sendIncrement(`127.0.0.1:${String(listener.port)}`, 'shop.launches.master');
    expect(await listener.received()).toEqual(['shop.launches.master:1|c']);
  });

  it("sends through the app's statsd-client instance with its prefix", async () => {
    const listener = await listenUdp(cleanups);
    const client = new StatsdClient({ host: '127.0.0.1', port: listener.port, prefix: 'eu' });
    cleanups.push(() => {
      client.close();
    });
    await sendIncrement(client, 'shop.deploys');
    expect(await listener.received()).toEqual(['eu.shop.deploys:1|c']);
  });

  it("sends through the app's hot-shots client with its prefix", async () => {
    const listener = await listenUdp(cleanups);
    const client = new StatsD({ host: '127.0.0.1', port: listener.port, prefix: 'eu.' });
    cleanups.push(() => {
      client.close();
    });
    await sendIncrement(client, 'shop.deploys');
    expect(await listener.received()).toEqual(['eu.shop.deploys:1|c']);
  });

  it('calls increment(name, 1) of any other client', async () => {
    const calls: unknown[][] = [];
    await sendIncrement({ increment: (...args: unknown[]) => calls.push(args) }, 'shop.deploys');
    expect(calls).toEqual([['shop.deploys', 1]]);
  });

  it.each(['nohost', '127.0.0.1:0', '127.0.0.1:65536', ':8125'])(
    'rejects %p with LASTCALL_ERR_LAST_DITCH_INVALID_TARGET',
    async (target) => {
      await expect(sendIncrement(target, 'shop.deploys')).rejects.toMatchObject({
        name: 'LastDitchError',
        code: 'LASTCALL_ERR_LAST_DITCH_INVALID_TARGET',
      });
    },
  );

  it('rejects with the socket error when the OS refuses the datagram', async () => {
    // Linux and macOS refuse a broadcast from a socket without SO_BROADCAST: EACCES.
    await expect(sendIncrement('255.255.255.255:8125', 'shop.deploys')).rejects.toMatchObject({
      code: 'EACCES',
    });
  });
});

describe('sendCrashMetric()', () => {
  it("increments '<app>.crashes' with the app name sanitised", async () => {
    const listener = await listenUdp(cleanups);
    await sendCrashMetric(`127.0.0.1:${String(listener.port)}`, '@shop/api');
    expect(await listener.received()).toEqual(['shop_api.crashes:1|c']);
  });
});
