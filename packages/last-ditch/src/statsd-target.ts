import * as dgram from 'node:dgram';
import type * as NodeModule from 'node:module';
import * as net from 'node:net';
import * as path from 'node:path';
import { mainModulePath } from '@lastcall/log-shim';
import { LastDitchError } from './errors';
import { isObject } from './options';
import type { StatsdLike } from './types';

/** The part of the statsd-client constructor last-ditch uses. */
type StatsdClientConstructor = new (options: {
  readonly host: string;
  readonly port: number;
  readonly prefix?: string;
  readonly tags?: object;
  readonly _socket: { send(data: string): void; close(): void };
}) => StatsdLike;

/**
 * The metric name `<app>.<suffix>`, with the characters statsd treats specially (`:`, `|`, `@`,
 * `/`, spaces, …) in `app` replaced by `_` and leading `_` dropped: `@shop/api` counts as
 * `shop_api.<suffix>`. `suffix` is used as given.
 */
export function metricName(app: string, suffix: string): string {
  return `${app.replace(/[^\w.-]+/g, '_').replace(/^_+/, '')}.${suffix}`;
}

/** The metric name for `app`: `<app>.crashes`, with characters statsd treats specially replaced. */
export function crashMetricName(app: string): string {
  return metricName(app, 'crashes');
}

/**
 * Loads statsd-client the way the app would: from its main module's folder, then from the working
 * folder, then from next to this package. Only called when a report needs it.
 */
function loadStatsdClient(): StatsdClientConstructor {
  const anchors = [mainModulePath(), path.join(process.cwd(), 'package.json'), __filename].filter(
    (anchor) => anchor !== undefined,
  );
  for (const anchor of anchors) {
    try {
      // node:module only now: loading it sets up Node's ES module loader, a cost a process
      // that never sends a metric should not pay when it imports last-ditch.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { createRequire } = require('node:module') as typeof NodeModule;
      return createRequire(anchor)('statsd-client') as StatsdClientConstructor;
    } catch {
      // Not installed where this anchor looks: try the next one.
    }
  }
  throw new LastDitchError(
    'LASTCALL_ERR_LAST_DITCH_STATSD_MISSING',
    'LASTCALL_STATSD (or the statsd option) is set but statsd-client is not installed: run `npm install statsd-client`',
  );
}

/** The parts of a statsd-client instance read to send through a client of our own. */
interface StatsdClientShape {
  readonly constructor: StatsdClientConstructor;
  readonly options: {
    readonly host?: unknown;
    readonly port?: unknown;
    readonly prefix?: unknown;
    readonly tags?: unknown;
    readonly tcp?: unknown;
    readonly ipv6?: unknown;
  };
  getChildClient(prefix: string): unknown;
}

/** The parts of a hot-shots client used: a callback on increment and on flush. */
interface HotShotsShape {
  increment(
    name: string,
    value: number,
    sampleRate: number,
    tags: undefined,
    callback: (error?: Error | null) => void,
  ): unknown;
  flush(callback: (error?: Error | null) => void): unknown;
  childClient(options: object): unknown;
}

/** statsd-client over UDP, told by its shape. TCP and HTTP clients are used as they are. */
function isUdpStatsdClient(client: object): client is StatsdClientShape {
  const { getChildClient, options, _socket: socket } = client as Record<string, unknown>;
  if (typeof getChildClient !== 'function' || !isObject(options) || !isObject(socket)) return false;
  const host = options['host'];
  return options['tcp'] !== true && !(typeof host === 'string' && /^https?:\/\//i.test(host));
}

function isHotShots(client: object): client is HotShotsShape {
  const { increment, flush, childClient } = client as Record<string, unknown>;
  return (
    typeof increment === 'function' &&
    typeof flush === 'function' &&
    typeof childClient === 'function'
  );
}

function callbackPromise(start: (callback: (error?: Error | null) => void) => unknown) {
  return new Promise<void>((resolve, reject) => {
    start((error) => {
      if (error) reject(error);
      else resolve();
    });
  });
}

/**
 * Increments the metric `name` by 1 and resolves once the datagram has left, so a process that
 * exits right after still counts it. Rejects when it could not be sent: a `LastDitchError`
 * (`INVALID_TARGET` for a `target` string that is not `host:port`, `STATSD_MISSING` when
 * statsd-client cannot be loaded), or the socket's or the client's own error.
 *
 * - `'host:port'`: through statsd-client (optional peer).
 * - A statsd-client instance over UDP: statsd-client buffers and its `close()` drops a buffer
 *   whose socket is not bound yet, so the metric goes through a client of ours with the same
 *   host, port, prefix and tags; the app's client is not touched.
 * - A hot-shots client: its own callbacks tell when the metric was sent, then `flush()` sends
 *   anything it buffers.
 * - Anything else with `increment`: called, and its delivery is its own.
 */
export async function sendIncrement(target: StatsdLike | string, name: string): Promise<void> {
  if (typeof target === 'string') {
    await sendThroughOwnSocket(loadStatsdClient(), parseHostPort(target), {}, name);
    return;
  }
  if (isUdpStatsdClient(target)) {
    const { host, port, prefix, tags, ipv6 } = target.options;
    await sendThroughOwnSocket(
      target.constructor,
      {
        host: typeof host === 'string' && host !== '' ? host : 'localhost',
        port: typeof port === 'number' ? port : Number(port ?? 8125),
        isIpv6: ipv6 === true,
      },
      { prefix, tags },
      name,
    );
    return;
  }
  if (isHotShots(target)) {
    await callbackPromise((callback) => target.increment(name, 1, 1, undefined, callback));
    await callbackPromise((callback) => target.flush(callback));
    return;
  }
  target.increment(name, 1);
}

/** Increments `<app>.crashes` through {@link sendIncrement}. */
export async function sendCrashMetric(target: StatsdLike | string, app: string): Promise<void> {
  await sendIncrement(target, crashMetricName(app));
}

interface Destination {
  readonly host: string;
  readonly port: number;
  readonly isIpv6?: boolean;
}

function parseHostPort(target: string): Destination {
  const separator = target.lastIndexOf(':');
  const host = target.slice(0, separator).replace(/^\[|\]$/g, '');
  const port = Number(target.slice(separator + 1));
  if (separator <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new LastDitchError(
      'LASTCALL_ERR_LAST_DITCH_INVALID_TARGET',
      `statsd: expected "host:port", got ${JSON.stringify(target)}`,
    );
  }
  return { host, port };
}

/** Sends through a statsd-client of ours whose socket reports when each datagram is out. */
async function sendThroughOwnSocket(
  StatsdClient: StatsdClientConstructor,
  { host, port, isIpv6 }: Destination,
  settings: { readonly prefix?: unknown; readonly tags?: unknown },
  name: string,
): Promise<void> {
  const socket = dgram.createSocket(isIpv6 === true || net.isIPv6(host) ? 'udp6' : 'udp4');
  socket.unref();
  // Send failures arrive in the send callback; an 'error' event without a listener would throw.
  socket.on('error', () => undefined);
  const sent: Promise<void>[] = [];
  const client = new StatsdClient({
    host,
    port,
    ...(typeof settings.prefix === 'string' ? { prefix: settings.prefix } : {}),
    ...(isObject(settings.tags) ? { tags: settings.tags } : {}),
    _socket: {
      send(data: string): void {
        sent.push(
          callbackPromise((callback) => {
            socket.send(Buffer.from(data), port, host, callback);
          }),
        );
      },
      close(): void {
        // The socket is closed by sendThroughOwnSocket once every datagram is out.
      },
    },
  });
  try {
    client.increment(name, 1);
    await Promise.all(sent);
  } finally {
    socket.close();
  }
}
