/**
 * The messages between the master and its workers: objects `{ lastcall: 1, type, ... }`, typed
 * in both directions ({@link MasterMessage}, {@link WorkerMessage}) and read only through
 * {@link parseMasterMessage} and {@link parseWorkerMessage}, which check every field. Anything
 * without `lastcall: 1` belongs to the app and is left alone, except dutch-master's
 * `{ event: 'request-restart' }`, which is read as a {@link RestartRequestMessage}.
 */

// ---------------------------------------------------------------------------------------------
// Master → worker
// ---------------------------------------------------------------------------------------------

/** Master → worker: drain and exit within `timeout` ms. */
export interface DrainMessage {
  readonly lastcall: 1;
  readonly type: 'drain';
  readonly timeout: number;
}

/**
 * Master → worker, the answer to a worker that shuts down by itself: `hold` (it is the only one
 * serving its port: keep listening until the drain order says the replacement is ready) or `go`
 * (others serve the port: close the listener now).
 */
export type VerdictMessage = HoldMessage | GoMessage;

/** See {@link VerdictMessage}. */
export interface HoldMessage {
  readonly lastcall: 1;
  readonly type: 'hold';
}

/** See {@link VerdictMessage}. */
export interface GoMessage {
  readonly lastcall: 1;
  readonly type: 'go';
}

/** Master → worker: answer with a {@link PongMessage} of the same `seq`. */
export interface PingMessage {
  readonly lastcall: 1;
  readonly type: 'ping';
  readonly seq: number;
}

/** Master → worker: reopen the log files (the master got SIGUSR1 after a log rotation). */
export interface ReopenLogsMessage {
  readonly lastcall: 1;
  readonly type: 'reopen-logs';
}

/** Master → worker: the answer to a {@link RequestMessage} of the same `id`. */
export interface ResponseMessage {
  readonly lastcall: 1;
  readonly type: 'response';
  readonly id: number;
  readonly ok: boolean;
  readonly value?: unknown;
  readonly error?: { readonly message: string; readonly code?: string };
}

/** Every lastcall message the master may send. */
export type MasterMessage =
  DrainMessage | VerdictMessage | PingMessage | ReopenLogsMessage | ResponseMessage;

// ---------------------------------------------------------------------------------------------
// Worker → master
// ---------------------------------------------------------------------------------------------

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

/**
 * Worker → master: replace me. The master forks the replacement, waits until it is ready, then
 * drains this worker (`requestRestart()`, or dutch-master's `{ event: 'request-restart' }`).
 */
export interface RestartRequestMessage {
  readonly lastcall: 1;
  readonly type: 'restart-request';
  /** Why, for the log; at most {@link MAX_REASON_CHARS} characters. */
  readonly reason?: string;
}

/** Every lastcall message a worker may send. */
export type WorkerMessage =
  | ReadyMessage
  | DrainingMessage
  | StatsMessage
  | RequestMessage
  | PongMessage
  | SignalMessage
  | RestartRequestMessage;

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

/** What a value received on the channel is. */
export type Parsed<M> =
  /** A lastcall message, every field checked. */
  | { readonly kind: 'message'; readonly message: M }
  /** `lastcall: 1`, but of an unknown type or a wrong shape: ignore it (and say so, rarely). */
  | { readonly kind: 'malformed'; readonly type: string }
  /** Not ours: the app's own message. */
  | { readonly kind: 'app' };

/** The stop signals a worker leaves to its master while it has one (see {@link SignalMessage}). */
export const WORKER_STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];

/** The longest `reason` of a {@link RestartRequestMessage}, in characters. */
export const MAX_REASON_CHARS = 200;

type Fields = Readonly<Record<string, unknown>>;
type Reader<M> = (fields: Fields) => M | undefined;

const APP: Parsed<never> = { kind: 'app' };

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const workerReaders: {
  readonly [T in WorkerMessage['type']]: Reader<Extract<WorkerMessage, { type: T }>>;
} = {
  ready: () => ({ lastcall: 1, type: 'ready' }),
  draining: ({ reason }) =>
    reason === undefined || isRecord(reason)
      ? { lastcall: 1, type: 'draining', ...(reason === undefined ? {} : { reason }) }
      : undefined,
  stats: ({ requests, connections, rss }) =>
    isCount(requests) && isCount(connections) && isCount(rss)
      ? { lastcall: 1, type: 'stats', requests, connections, rss }
      : undefined,
  request: ({ id, name, payload }) =>
    Number.isSafeInteger(id) && typeof name === 'string'
      ? { lastcall: 1, type: 'request', id: id as number, name, payload }
      : undefined,
  pong: ({ seq }) => (isCount(seq) ? { lastcall: 1, type: 'pong', seq } : undefined),
  signal: ({ signal }) =>
    WORKER_STOP_SIGNALS.includes(signal as NodeJS.Signals)
      ? { lastcall: 1, type: 'signal', signal: signal as NodeJS.Signals }
      : undefined,
  'restart-request': ({ reason }) =>
    reason === undefined || typeof reason === 'string'
      ? {
          lastcall: 1,
          type: 'restart-request',
          ...(reason === undefined ? {} : { reason: reason.slice(0, MAX_REASON_CHARS) }),
        }
      : undefined,
};

const masterReaders: {
  readonly [T in MasterMessage['type']]: Reader<Extract<MasterMessage, { type: T }>>;
} = {
  drain: ({ timeout }) => (isCount(timeout) ? { lastcall: 1, type: 'drain', timeout } : undefined),
  hold: () => ({ lastcall: 1, type: 'hold' }),
  go: () => ({ lastcall: 1, type: 'go' }),
  ping: ({ seq }) => (isCount(seq) ? { lastcall: 1, type: 'ping', seq } : undefined),
  'reopen-logs': () => ({ lastcall: 1, type: 'reopen-logs' }),
  response: ({ id, ok, value, error }) => {
    if (!Number.isSafeInteger(id) || typeof ok !== 'boolean') return undefined;
    const failure = isRecord(error)
      ? {
          message: typeof error['message'] === 'string' ? error['message'] : 'the master failed',
          ...(typeof error['code'] === 'string' ? { code: error['code'] } : {}),
        }
      : undefined;
    return {
      lastcall: 1,
      type: 'response',
      id: id as number,
      ok,
      value,
      ...(failure === undefined ? {} : { error: failure }),
    };
  },
};

function parseWith<M>(value: unknown, readers: Readonly<Record<string, Reader<M>>>): Parsed<M> {
  if (!isRecord(value) || value['lastcall'] !== 1) return APP;
  const { type } = value;
  const reader =
    typeof type === 'string' && Object.hasOwn(readers, type) ? readers[type] : undefined;
  const message = reader?.(value);
  if (message === undefined) {
    return { kind: 'malformed', type: typeof type === 'string' ? type.slice(0, 100) : typeof type };
  }
  return { kind: 'message', message };
}

/**
 * Reads what a worker sent. Every field is checked, and a reader never throws, whatever the
 * value: a worker may be hostile or broken. dutch-master's `{ event: 'request-restart' }` is
 * read as a restart request.
 */
export function parseWorkerMessage(value: unknown): Parsed<WorkerMessage> {
  if (isRecord(value) && value['lastcall'] === undefined && value['event'] === 'request-restart') {
    return {
      kind: 'message',
      message: { lastcall: 1, type: 'restart-request', reason: "dutch-master's request-restart" },
    };
  }
  return parseWith<WorkerMessage>(value, workerReaders);
}

/** Reads what the master sent, in a worker. */
export function parseMasterMessage(value: unknown): Parsed<MasterMessage> {
  return parseWith<MasterMessage>(value, masterReaders);
}

/** The environment variable that tells the worker runtime it runs under a lastcall master. */
export const MASTER_ENV = 'LASTCALL_MASTER';

/** The environment variable that carries the worker's slot. */
export const SLOT_ENV = 'LASTCALL_WORKER_SLOT';

/** The environment variable that carries the master's drainTimeout. */
export const DRAIN_TIMEOUT_ENV = 'LASTCALL_DRAIN_TIMEOUT';

/** ms between two stats messages of a worker. */
export const STATS_INTERVAL = 1000;
