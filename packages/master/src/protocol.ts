/**
 * The messages between the master and its workers: objects `{ lastcall: 1, type, ... }`, typed
 * in both directions ({@link MasterMessage}, {@link WorkerMessage}) and read only through
 * {@link parseMasterMessage} and {@link parseWorkerMessage}, which check every field. Anything
 * without `lastcall: 1` belongs to the app and is left alone, except dutch-master's
 * `{ event: 'request-restart' }`, which is read as a {@link RestartRequestMessage}, and
 * cluster2's `{ type: 'delegate', delegate, ... }`, which is read as a {@link DelegateMessage}.
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

/**
 * Master → worker: keep-alive on or off. Off from the first moment of the master's shutdown or
 * a `disable`: every response says `Connection: close` (the listener stays open, requests are
 * served), so that clients and balancers move their kept-alive connections elsewhere while the
 * balancer stops routing here. On again after an `enable`.
 */
export interface KeepAliveMessage {
  readonly lastcall: 1;
  readonly type: 'keep-alive';
  readonly on: boolean;
}

/** Every lastcall message the master may send. */
export type MasterMessage =
  | DrainMessage
  | VerdictMessage
  | PingMessage
  | ReopenLogsMessage
  | ResponseMessage
  | KeepAliveMessage;

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
  /** Connections open now. */
  readonly connections: number;
  /**
   * Connections accepted in total since the fork (cluster2's `connThreshold` counted these). A
   * worker of an earlier version sends none: the master reads that as 0.
   */
  readonly connectionsServed?: number;
  readonly rss: number;
  /** Requests in flight now. A worker of an earlier version sends none: read as 0. */
  readonly inFlight?: number;
}

/**
 * Worker → master, once, as the runtime loads: the version of the app it runs
 * (`LASTCALL_APP_VERSION`, else the `version` of the package.json nearest the app's main
 * script; null for none), at most {@link MAX_VERSION_CHARS} characters.
 */
export interface HelloMessage {
  readonly lastcall: 1;
  readonly type: 'hello';
  readonly version: string | null;
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

/**
 * Worker → master: cluster2's delegation, sent raw by cluster2 code as
 * `process.send({ type: 'delegate', delegate, expect?, matches?, timeout?, ... })` (no
 * `lastcall: 1`). The master calls the handler registered with `master.handle(delegate, fn)`
 * with {@link DelegateMessage.payload}; with `expect`, it answers the worker with a message
 * `{ type: expect, ... }` (see the README), without `expect` it sends nothing back.
 */
export interface DelegateMessage {
  readonly lastcall: 1;
  readonly type: 'delegate';
  /** The handler's name. */
  readonly delegate: string;
  /** The `type` of the answer; none: no answer. */
  readonly expect: string | undefined;
  /** Fields of the request copied into the answer, by which the worker recognises it. */
  readonly matches: readonly string[];
  /** ms the handler has to answer (cluster2's `timeOut`, also read); default 10000. */
  readonly timeout: number;
  /** The message minus its routing fields ({@link DELEGATE_ROUTING_FIELDS}): the handler's. */
  readonly payload: Readonly<Record<string, unknown>>;
  /** The message as sent, every field: cluster2 answered a failure with it. */
  readonly request: Readonly<Record<string, unknown>>;
}

/** Every lastcall message a worker may send. */
export type WorkerMessage =
  | ReadyMessage
  | DrainingMessage
  | StatsMessage
  | RequestMessage
  | PongMessage
  | SignalMessage
  | RestartRequestMessage
  | DelegateMessage
  | HelloMessage;

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

/** The longest app version a {@link HelloMessage} carries, in characters. */
export const MAX_VERSION_CHARS = 100;

/** ms a delegate handler has to answer when the worker set no `timeout`, as in cluster2. */
export const DEFAULT_DELEGATE_TIMEOUT = 10_000;

/** The longest `timeout` a delegation may ask for, in ms; a longer one is cut to this. */
export const MAX_DELEGATE_TIMEOUT = 600_000;

/** The longest `delegate` and `expect` names, and the most `matches`, a delegation may carry. */
export const MAX_DELEGATE_NAME_CHARS = 200;
const MAX_DELEGATE_MATCHES = 64;

/**
 * The fields of a cluster2 delegation that route it rather than carry its data: they are left
 * out of {@link DelegateMessage.payload}. (`targets` and `notification`, cluster2's broadcast and
 * change feeds, are not supported and only left out.)
 */
export const DELEGATE_ROUTING_FIELDS: readonly string[] = [
  'lastcall',
  'type',
  'delegate',
  'expect',
  'matches',
  'timeout',
  'timeOut',
  'origin',
  'targets',
  'notification',
];

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
  stats: ({ requests, connections, connectionsServed, rss, inFlight }) =>
    isCount(requests) &&
    isCount(connections) &&
    isCount(rss) &&
    (connectionsServed === undefined || isCount(connectionsServed)) &&
    (inFlight === undefined || isCount(inFlight))
      ? {
          lastcall: 1,
          type: 'stats',
          requests,
          connections,
          ...(connectionsServed === undefined ? {} : { connectionsServed }),
          rss,
          ...(inFlight === undefined ? {} : { inFlight }),
        }
      : undefined,
  hello: ({ version }) =>
    version === null || (typeof version === 'string' && version !== '')
      ? {
          lastcall: 1,
          type: 'hello',
          version: version === null ? null : version.slice(0, MAX_VERSION_CHARS),
        }
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
  delegate: readDelegate,
};

function isName(value: unknown): value is string {
  return typeof value === 'string' && value !== '' && value.length <= MAX_DELEGATE_NAME_CHARS;
}

/** cluster2's delegation; every field checked, unknown fields kept as the payload's. */
function readDelegate(fields: Fields): DelegateMessage | undefined {
  const { delegate, expect, matches } = fields;
  if (!isName(delegate)) return undefined;
  if (expect !== undefined && !isName(expect)) return undefined;
  const isMatchList =
    matches === undefined ||
    (Array.isArray(matches) && matches.length <= MAX_DELEGATE_MATCHES && matches.every(isName));
  if (!isMatchList) return undefined;
  // cluster2 read `timeOut`; `timeout` is what its users write today.
  const givenTimeout = fields['timeout'] ?? fields['timeOut'];
  const isTimeout =
    givenTimeout === undefined ||
    (typeof givenTimeout === 'number' && Number.isFinite(givenTimeout) && givenTimeout > 0);
  if (!isTimeout) return undefined;
  const payload: Record<string, unknown> = {};
  const request: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (key === '__proto__') continue;
    request[key] = value;
    if (!DELEGATE_ROUTING_FIELDS.includes(key)) payload[key] = value;
  }
  return {
    lastcall: 1,
    type: 'delegate',
    delegate,
    expect,
    matches: matches === undefined ? [] : [...matches],
    timeout: Math.min(MAX_DELEGATE_TIMEOUT, givenTimeout ?? DEFAULT_DELEGATE_TIMEOUT),
    payload,
    request,
  };
}

const masterReaders: {
  readonly [T in MasterMessage['type']]: Reader<Extract<MasterMessage, { type: T }>>;
} = {
  drain: ({ timeout }) => (isCount(timeout) ? { lastcall: 1, type: 'drain', timeout } : undefined),
  hold: () => ({ lastcall: 1, type: 'hold' }),
  go: () => ({ lastcall: 1, type: 'go' }),
  ping: ({ seq }) => (isCount(seq) ? { lastcall: 1, type: 'ping', seq } : undefined),
  'reopen-logs': () => ({ lastcall: 1, type: 'reopen-logs' }),
  'keep-alive': ({ on }) =>
    typeof on === 'boolean' ? { lastcall: 1, type: 'keep-alive', on } : undefined,
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
 * read as a restart request, cluster2's `{ type: 'delegate', delegate: string, ... }` as a
 * {@link DelegateMessage} (a wrong shape of it is malformed).
 */
export function parseWorkerMessage(value: unknown): Parsed<WorkerMessage> {
  if (isRecord(value) && value['lastcall'] === undefined && value['event'] === 'request-restart') {
    return {
      kind: 'message',
      message: { lastcall: 1, type: 'restart-request', reason: "dutch-master's request-restart" },
    };
  }
  if (isRecord(value) && value['lastcall'] === undefined && value['type'] === 'delegate') {
    const message = readDelegate(value);
    return message === undefined
      ? { kind: 'malformed', type: "cluster2's delegate" }
      : { kind: 'message', message };
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

/** The environment variable that carries the master's idleTimeout in ms; `'0'` when it is off. */
export const IDLE_TIMEOUT_ENV = 'LASTCALL_IDLE_TIMEOUT';

/** The environment variables of the server timeouts the runtime sets on every HTTP server. */
export const KEEP_ALIVE_TIMEOUT_ENV = 'LASTCALL_KEEP_ALIVE_TIMEOUT';
export const HEADERS_TIMEOUT_ENV = 'LASTCALL_HEADERS_TIMEOUT';

/** ms between two stats messages of a worker. */
export const STATS_INTERVAL = 1000;
