/**
 * A real UDP socket on 127.0.0.1:0 that records every datagram as text, for the statsd tests of
 * last-ditch and of the meta package's launch metrics. Closed by the caller's `cleanups`.
 */
import * as dgram from 'node:dgram';

export interface UdpListener {
  /** `127.0.0.1:<port>`, as LASTCALL_STATSD takes it. */
  readonly address: string;
  readonly port: number;
  /** The datagrams received so far. */
  readonly packets: string[];
  /** Resolves with every datagram so far once `count` are in; rejects after `ms`. */
  waitForPackets(count: number, ms?: number): Promise<string[]>;
  /** Resolves with the first `count` datagrams once they are in; rejects after `ms`. */
  firstPackets(count: number, ms?: number): Promise<string[]>;
  /**
   * Sends a sentinel to itself after the call under test and resolves with what came before it
   * (at most 5 s): a datagram that left before the call resolved is queued on loopback ahead of
   * the sentinel.
   */
  received(): Promise<string[]>;
}

export async function listenUdp(cleanups: (() => void)[]): Promise<UdpListener> {
  const socket = dgram.createSocket('udp4');
  cleanups.push(() => {
    socket.close();
  });
  const packets: string[] = [];
  socket.on('message', (message) => {
    packets.push(message.toString('utf8'));
    socket.emit('recorded');
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  const waitFor = (count: number, ms: number, take: () => string[]): Promise<string[]> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (packets.length < count) return;
        clearTimeout(timer);
        socket.off('recorded', check);
        resolve(take());
      };
      const timer = setTimeout(() => {
        socket.off('recorded', check);
        reject(
          new Error(
            `got ${JSON.stringify(packets)} within ${String(ms)} ms, expected ${String(count)}`,
          ),
        );
      }, ms);
      socket.on('recorded', check);
      check();
    });
  return {
    address: `127.0.0.1:${String(port)}`,
    port,
    packets,
    waitForPackets: (count, ms = 5000) => waitFor(count, ms, () => packets.slice()),
    firstPackets: (count, ms = 5000) => waitFor(count, ms, () => packets.slice(0, count)),
    received: () =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(new Error(`no sentinel within 5 s; got ${JSON.stringify(packets)}`));
        }, 5000);
        socket.on('recorded', () => {
          if (packets.at(-1) !== 'sentinel') return;
          clearTimeout(timer);
          resolve(packets.slice(0, -1));
        });
        socket.send('sentinel', port, '127.0.0.1');
      }),
  };
}
