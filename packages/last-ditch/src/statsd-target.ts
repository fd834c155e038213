import * as dgram from 'node:dgram';
import { createRequire } from 'node:module';
import * as net from 'node:net';
import * as path from 'node:path';
import { LastDitchError } from './errors';
import type { StatsdLike } from './types';

/** The part of the statsd-client constructor last-ditch uses. */
type StatsdClientConstructor = new (options: {
  readonly host: string;
  readonly port: number;
  readonly _socket: { send(data: string): void; close(): void };
}) => StatsdLike;

/** The metric name for `app`: `<app>.crashes`, with characters statsd treats specially replaced. */
export function crashMetricName(app: string): string {
  return `${app.replace(/[^\w.-]+/g, '_').replace(/^_+/, '')}.crashes`;
}

/**
 * Loads statsd-client the way the app would: from its main module's folder, then from the working
 * folder, then from next to this package. Only called when a report needs it.
 */
function loadStatsdClient(): StatsdClientConstructor {
  const anchors = [
    require.main?.filename,
    path.join(process.cwd(), 'package.json'),
    __filename,
  ].filter((anchor) => anchor !== undefined);
  for (const anchor of anchors) {
    try {
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

/**
 * Increments `<app>.crashes` through statsd-client built for `target` (`host:port`), and
 * resolves once the UDP datagram has been handed to the kernel. statsd-client buffers metrics
 * and its `close()` drops a buffer whose socket is not yet bound, so it is given a socket of
 * ours that sends each metric at once and reports when it is out.
 */
export async function sendCrashMetric(target: StatsdLike | string, app: string): Promise<void> {
  const name = crashMetricName(app);
  if (typeof target !== 'string') {
    target.increment(name, 1);
    return;
  }
  const separator = target.lastIndexOf(':');
  const host = target.slice(0, separator).replace(/^\[|\]$/g, '');
  const port = Number(target.slice(separator + 1));
  if (separator <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new LastDitchError(
      'LASTCALL_ERR_LAST_DITCH_INVALID_TARGET',
      `statsd: expected "host:port", got ${JSON.stringify(target)}`,
    );
  }
  const StatsdClient = loadStatsdClient();
  const socket = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
  socket.unref();
  // Send failures arrive in the send callback; an 'error' event without a listener would throw.
  socket.on('error', () => undefined);
  const sent: Promise<void>[] = [];
  const client = new StatsdClient({
    host,
    port,
    _socket: {
      send(data: string): void {
        sent.push(
          new Promise((resolve, reject) => {
            socket.send(Buffer.from(data), port, host, (error) => {
              if (error) reject(error);
              else resolve();
            });
          }),
        );
      },
      close(): void {
        // The socket is closed by sendCrashMetric once every datagram is out.
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
