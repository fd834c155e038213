import cluster from 'node:cluster';
import type * as Errors from '../errors';
import type { MasterError, MasterErrorCode } from '../errors';
import { MASTER_ENV, MAX_REASON_CHARS, SLOT_ENV, parseMasterMessage } from '../protocol';
import type { WorkerMessage } from '../protocol';

/** True in a worker forked by a lastcall {@link Master}. */
export function isMasterWorker(): boolean {
  return cluster.isWorker && process.env[MASTER_ENV] === '1';
}

/** The slot of this worker (0 to workers − 1), or undefined outside a lastcall worker. */
export function workerSlot(): number | undefined {
  if (!isMasterWorker()) return undefined;
  const slot = Number(process.env[SLOT_ENV]);
  return Number.isInteger(slot) ? slot : undefined;
}

/**
 * Tells the master this worker is ready, for `readyOn: 'message'` (an app that must warm up a
 * cache or connect to a database before it takes traffic). Does nothing outside a lastcall
 * worker.
 */
export function ready(): void {
  if (isMasterWorker()) tellMaster({ lastcall: 1, type: 'ready' });
}

/**
 * Asks the master to replace this worker: it forks the replacement, waits until it is ready,
 * then drains this worker, which serves on meanwhile (a worker that knows it should be replaced:
 * a leak it detected, a config it cannot reload). Requests are served one at a time, spaced;
 * one from a worker that is not serving (starting, draining) or already waiting is ignored.
 * `reason` (up to 200 characters) is logged. True when the request was sent; false outside a
 * lastcall worker or when the channel is closed. dutch-master's
 * `process.send({ event: 'request-restart' })` does the same.
 */
export function requestRestart(reason?: string): boolean {
  if (!isMasterWorker() || typeof process.send !== 'function' || !process.connected) return false;
  tellMaster({
    lastcall: 1,
    type: 'restart-request',
    ...(typeof reason === 'string' ? { reason: reason.slice(0, MAX_REASON_CHARS) } : {}),
  });
  return true;
}

/**
 * Sends a lastcall message to the master when the channel is open; never throws. As graceful's
 * `tellParent`, written out here: the worker runtime sends its first message before the app's
 * main module, and importing @lastcall/graceful for it would put graceful and log-shim on the
 * path of every worker to its first listen.
 */
export function tellMaster(message: WorkerMessage): void {
  if (typeof process.send !== 'function' || !process.connected) return;
  try {
    process.send(message, undefined, {}, () => undefined);
  } catch {
    // The channel closed between the check and the send: the master is gone, nobody to tell.
  }
}

/**
 * A {@link MasterError}. Its module (and through it log-shim's CodedError) is loaded at the first
 * error, not with this module, which the worker runtime loads before the app.
 */
function masterError(code: MasterErrorCode, message: string): MasterError {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { MasterError: ErrorClass } = require('../errors') as typeof Errors;
  return new ErrorClass(code, message);
}

/** Options of {@link requestMaster}. */
export interface RequestOptions {
  /** ms to wait for the answer; default 5000. */
  readonly timeout?: number;
}

interface Pending {
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: MasterError) => void;
  readonly timer: NodeJS.Timeout;
}

const pending = new Map<number, Pending>();
let nextRequestId = 1;

const onResponse = (value: unknown): void => {
  const parsed = parseMasterMessage(value);
  if (parsed.kind !== 'message' || parsed.message.type !== 'response') return;
  const { id, ok, value: answer, error } = parsed.message;
  const waiting = pending.get(id);
  if (waiting === undefined) return;
  settle(id);
  if (ok) {
    waiting.resolve(answer);
    return;
  }
  const code =
    error?.code === 'LASTCALL_ERR_MASTER_REQUEST_UNKNOWN'
      ? 'LASTCALL_ERR_MASTER_REQUEST_UNKNOWN'
      : 'LASTCALL_ERR_MASTER_REQUEST_FAILED';
  waiting.reject(masterError(code, error?.message ?? 'the master failed'));
};

/** Forgets request `id`; the listener goes when nothing is pending, so it keeps no worker alive. */
function settle(id: number): void {
  const waiting = pending.get(id);
  if (waiting !== undefined) clearTimeout(waiting.timer);
  pending.delete(id);
  if (pending.size === 0) process.off('message', onResponse);
}

/**
 * Asks the master, from a worker: resolves with what the handler registered with
 * `master.handle(type, handler)` returned for `payload` (cluster2's delegation, for work that
 * must happen once per machine). Rejects with a `MasterError`: `NO_MASTER` outside a lastcall
 * worker or when the channel is closed, `REQUEST_TIMEOUT` after `timeout`, `REQUEST_UNKNOWN` when
 * no handler has that type, `REQUEST_FAILED` when the handler threw (with its message). The
 * payload and the answer cross the IPC channel: JSON-like values only.
 */
export function requestMaster(
  type: string,
  payload?: unknown,
  options: RequestOptions = {},
): Promise<unknown> {
  const timeout = options.timeout ?? DEFAULT_REQUEST_TIMEOUT;
  if (!(typeof timeout === 'number' && Number.isFinite(timeout) && timeout > 0)) {
    return Promise.reject(
      masterError(
        'LASTCALL_ERR_MASTER_INVALID_TIMEOUT',
        `requestMaster: option "timeout" must be a finite number of ms > 0, got ${String(timeout)}`,
      ),
    );
  }
  if (!isMasterWorker() || typeof process.send !== 'function' || !process.connected) {
    return Promise.reject(
      masterError(
        'LASTCALL_ERR_MASTER_NO_MASTER',
        `requestMaster("${type}"): not in a worker of a lastcall master, or its channel is closed`,
      ),
    );
  }
  const id = nextRequestId;
  nextRequestId += 1;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      settle(id);
      reject(
        masterError(
          'LASTCALL_ERR_MASTER_REQUEST_TIMEOUT',
          `requestMaster("${type}"): no answer within ${String(timeout)} ms`,
        ),
      );
    }, timeout);
    if (pending.size === 0) process.on('message', onResponse);
    pending.set(id, { resolve, reject, timer });
    tellMaster({ lastcall: 1, type: 'request', id, name: type, payload });
  });
}

/** Default of {@link RequestOptions.timeout}, in ms. */
export const DEFAULT_REQUEST_TIMEOUT = 5000;
