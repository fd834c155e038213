import * as os from 'node:os';
import type { HeartbeatBody } from './heartbeat';

/**
 * cluster2's ECV answer for each heartbeat status: its `status` word and HTTP status code.
 * cluster2 answered 200 AVAILABLE, 400 DISABLED when disabled and 500 WARNING when its monitor
 * failed; starting and shutting down are out of rotation on purpose, as a disable; too few
 * ready workers is a failed health, as a failed monitor.
 */
export const CLUSTER2_ANSWERS: Readonly<
  Record<HeartbeatBody['status'], { readonly word: string; readonly statusCode: number }>
> = {
  ok: { word: 'AVAILABLE', statusCode: 200 },
  degraded: { word: 'AVAILABLE', statusCode: 200 },
  disabled: { word: 'DISABLED', statusCode: 400 },
  starting: { word: 'DISABLED', statusCode: 400 },
  'shutting-down': { word: 'DISABLED', statusCode: 400 },
  unavailable: { word: 'WARNING', statusCode: 500 },
  'monitor-failed': { word: 'WARNING', statusCode: 500 },
};

/**
 * cluster2's ECV text, field for field and unencoded as cluster2 wrote it: `status`,
 * `ServeTraffic`, `ip` (the address the request came in on), `hostname`, `port` (the app's, not
 * the heartbeat's; empty before a worker listens) and `time` (`Date#toString()`).
 */
export function cluster2Answer(
  status: HeartbeatBody['status'],
  { ip, port, now = new Date() }: { ip: string; port: number | undefined; now?: Date },
): { statusCode: number; text: string } {
  const { word, statusCode } = CLUSTER2_ANSWERS[status];
  const text =
    `status=${word}&ServeTraffic=${String(statusCode === 200)}` +
    `&ip=${unmapped(ip)}&hostname=${os.hostname()}` +
    `&port=${port === undefined ? '' : String(port)}&time=${now.toString()}`;
  return { statusCode, text };
}

/** An IPv4-mapped IPv6 address as its IPv4 address, as cluster2's IPv4 hosts wrote it. */
function unmapped(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
