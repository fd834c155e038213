/**
 * The messages between the master and its workers: objects `{ lastcall: 1, type, ... }`.
 * Anything else on the channel belongs to the app and is left alone.
 */

/** Master → worker: drain and exit within `timeout` ms. */
export interface DrainMessage {
  readonly lastcall: 1;
  readonly type: 'drain';
  readonly timeout: number;
}

/** Worker → master: the worker is ready (readyOn 'message'). */
export interface ReadyMessage {
  readonly lastcall: 1;
  readonly type: 'ready';
}

/** Worker → master: the worker began to shut down (sent by @lastcall/graceful). */
export interface DrainingMessage {
  readonly lastcall: 1;
  readonly type: 'draining';
  readonly reason?: Record<string, unknown>;
}

/** Worker → master: what the worker has done so far. */
export interface StatsMessage {
  readonly lastcall: 1;
  readonly type: 'stats';
  readonly requests: number;
  readonly connections: number;
  readonly rss: number;
}

/** Worker → master: a question for `master.handle(name, handler)`. */
export interface RequestMessage {
  readonly lastcall: 1;
  readonly type: 'request';
  readonly id: number;
  readonly name: string;
  readonly payload: unknown;
}

/** Worker → master: the answer to a ping. */
export interface PongMessage {
  readonly lastcall: 1;
  readonly type: 'pong';
  readonly seq: number;
}

/**
 * Worker → master: the worker received a stop signal (SIGTERM, SIGINT, SIGHUP) and left it to
 * the master, which drains it in its own order when the signal went to the whole group, or
 * replaces it (the replacement first) when it was the worker's alone.
 */
export interface SignalMessage {
  readonly lastcall: 1;
  readonly type: 'signal';
  readonly signal: NodeJS.Signals;
}

/** The stop signals a worker leaves to its master while it has one (see {@link SignalMessage}). */
export const WORKER_STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];

/** Every lastcall message a worker may send. */
export type WorkerMessage =
  ReadyMessage | DrainingMessage | StatsMessage | RequestMessage | PongMessage | SignalMessage;

/** The lastcall message `value` is, or undefined when it is the app's own. */
export function readLastcallMessage(
  value: unknown,
): ({ readonly type: unknown } & Record<string, unknown>) | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  return record['lastcall'] === 1
    ? (record as { readonly type: unknown } & Record<string, unknown>)
    : undefined;
}

/** The environment variable that tells the worker runtime it runs under a lastcall master. */
export const MASTER_ENV = 'LASTCALL_MASTER';

/** The environment variable that carries the worker's slot. */
export const SLOT_ENV = 'LASTCALL_WORKER_SLOT';

/** The environment variable that carries the master's drainTimeout. */
export const DRAIN_TIMEOUT_ENV = 'LASTCALL_DRAIN_TIMEOUT';

/** ms between two stats messages of a worker. */
export const STATS_INTERVAL = 1000;
