import type { Logger } from '@lastcall/log-shim';
import { MasterError } from '../errors';
import type { DelegateMessage, RequestMessage } from '../protocol';
import type { WorkerHandle } from './worker-handle';

/**
 * A handler registered with `Master.handle(name, handler)`: it answers `requestMaster(name,
 * payload)` calls and cluster2's `{ type: 'delegate', delegate: name, ... }` messages.
 */
export type RequestHandler = (
  payload: unknown,
  from: { readonly slot: number; readonly id: number; readonly pid: number | undefined },
) => unknown;

/** ms between two warnings about one delegate name nobody handles, or whose handler fails. */
const DELEGATE_WARNING_INTERVAL = 10_000;

/** The most names whose last warning is remembered; past it the memory starts over. */
const MAX_WARNED_NAMES = 1000;

type Outcome =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly error: { readonly message: string; readonly code?: string } };

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * cluster2's delegation pattern, the master's side: one handler per name, answering both the
 * typed `{ lastcall: 1, type: 'request', id, name, payload }` (under the same id) and cluster2's
 * raw `{ type: 'delegate', delegate, expect?, matches?, timeout? }` (as cluster2 shaped it).
 */
export class RequestRouter {
  readonly #handlers = new Map<string, RequestHandler>();
  readonly #log: Logger | undefined;
  readonly #warnedAt = new Map<string, number>();

  constructor(log?: Logger) {
    this.#log = log;
  }

  /** Throws `LASTCALL_ERR_MASTER_INVALID_HANDLER` for a bad argument or a second handler. */
  add(type: string, handler: RequestHandler): void {
    if (typeof type !== 'string' || type === '' || typeof handler !== 'function') {
      throw new MasterError(
        'LASTCALL_ERR_MASTER_INVALID_HANDLER',
        'Master.handle(type, handler): expected a non-empty string and a function',
      );
    }
    if (this.#handlers.has(type)) {
      throw new MasterError(
        'LASTCALL_ERR_MASTER_INVALID_HANDLER',
        `Master.handle(): a handler for "${type}" is registered already`,
      );
    }
    this.#handlers.set(type, handler);
  }

  /**
   * Answers one request: the handler's value (awaited), its error's message, or
   * `LASTCALL_ERR_MASTER_REQUEST_UNKNOWN` when no handler has the type. (A malformed request
   * never gets here: the protocol's parser refuses it.)
   */
  async answer(handle: WorkerHandle, message: RequestMessage): Promise<void> {
    const { id, name, payload } = message;
    const from = { slot: handle.slot, id: handle.id, pid: handle.pid };
    const reply = (
      fields:
        { ok: true; value: unknown } | { ok: false; error: { message: string; code?: string } },
    ): void => {
      handle.send({ lastcall: 1, type: 'response', id, ...fields });
    };
    const handler = this.#handlers.get(name);
    if (handler === undefined) {
      reply({
        ok: false,
        error: { code: 'LASTCALL_ERR_MASTER_REQUEST_UNKNOWN', message: `no handler for "${name}"` },
      });
      return;
    }
    try {
      const value: unknown = await handler(payload, from);
      reply({ ok: true, value });
    } catch (error) {
      reply({
        ok: false,
        error: { message: error instanceof Error ? error.message : String(error) },
      });
    }
  }

  /**
   * Runs one cluster2 delegation: the handler named `delegate` gets the message's payload (its
   * fields minus the routing ones) and the worker. With `expect`, the worker gets
   * `{ ...value's fields (or { value }), ...its matched fields, type: expect }`, or, when the
   * handler throws, rejects, is not done within `timeout` or does not exist, cluster2's failure
   * answer: the request itself with `type: expect` and `error: { message, code? }`. Without
   * `expect`, nothing is sent back. An unknown name and a failure nobody is told of are logged,
   * at most once per name every {@link DELEGATE_WARNING_INTERVAL} ms.
   */
  async delegate(handle: WorkerHandle, message: DelegateMessage): Promise<void> {
    const { delegate: name, expect } = message;
    const handler = this.#handlers.get(name);
    if (handler === undefined) {
      this.#warn(
        name,
        `worker ${String(handle.slot)} delegated "${name}", which no master.handle() handles; ${expect === undefined ? 'ignored' : `answered "${expect}" with an error`}`,
        handle,
      );
      if (expect !== undefined) {
        this.#sendDelegateAnswer(handle, message, expect, {
          ok: false,
          error: {
            code: 'LASTCALL_ERR_MASTER_REQUEST_UNKNOWN',
            message: `no handler for "${name}"`,
          },
        });
      }
      return;
    }
    const from = { slot: handle.slot, id: handle.id, pid: handle.pid };
    const run = Promise.resolve().then(() => handler(message.payload, from));
    if (expect === undefined) {
      try {
        await run;
      } catch (error) {
        this.#warn(
          name,
          `the handler of "${name}" failed; nobody is told (no expect): ${messageOf(error)}`,
          handle,
        );
      }
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<Outcome>((resolve) => {
      timer = setTimeout(() => {
        resolve({
          ok: false,
          error: { code: 'LASTCALL_ERR_MASTER_REQUEST_TIMEOUT', message: 'timeout' },
        });
      }, message.timeout);
      timer.unref();
    });
    const outcome = await Promise.race([
      run.then(
        (value): Outcome => ({ ok: true, value }),
        (error: unknown): Outcome => ({ ok: false, error: { message: messageOf(error) } }),
      ),
      deadline,
    ]);
    clearTimeout(timer);
    this.#sendDelegateAnswer(handle, message, expect, outcome);
  }

  #sendDelegateAnswer(
    handle: WorkerHandle,
    message: DelegateMessage,
    expect: string,
    outcome: Outcome,
  ): void {
    const matched: Record<string, unknown> = {};
    for (const field of message.matches) {
      if (Object.hasOwn(message.request, field)) matched[field] = message.request[field];
    }
    const failure = (error: { readonly message: string; readonly code?: string }) => ({
      ...message.request,
      type: expect,
      error,
    });
    const answer = outcome.ok
      ? {
          ...(isPlainObject(outcome.value) ? outcome.value : { value: outcome.value }),
          ...matched,
          type: expect,
        }
      : failure(outcome.error);
    if (!this.#sendRaw(handle, answer) && outcome.ok) {
      // The value could not be serialized (a BigInt, a cycle): the worker still gets an answer.
      this.#sendRaw(
        handle,
        failure({ message: `the answer to "${message.delegate}" cannot be sent` }),
      );
    }
  }

  /** Sends a message that is not a lastcall one; false when it could not be serialized. */
  #sendRaw(handle: WorkerHandle, value: object): boolean {
    if (!handle.worker.isConnected()) return true;
    try {
      handle.worker.send(value, undefined, () => undefined);
      return true;
    } catch (error) {
      // A closed channel throws too: its exit is on its way, and a second send fails quietly.
      this.#log?.debug('a delegate answer could not be sent', { err: error, slot: handle.slot });
      return false;
    }
  }

  #warn(name: string, text: string, handle: WorkerHandle): void {
    const now = Date.now();
    const last = this.#warnedAt.get(name);
    if (last !== undefined && now - last < DELEGATE_WARNING_INTERVAL) return;
    if (this.#warnedAt.size >= MAX_WARNED_NAMES) this.#warnedAt.clear();
    this.#warnedAt.set(name, now);
    this.#log?.warn(
      `${text} (at most one such warning per name every ${String(DELEGATE_WARNING_INTERVAL / 1000)} s)`,
      { slot: handle.slot, pid: handle.pid, delegate: name },
    );
  }
}
