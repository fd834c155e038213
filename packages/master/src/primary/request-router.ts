import { MasterError } from '../errors';
import type { RequestMessage } from '../protocol';
import type { WorkerHandle } from './worker-handle';

/** A handler of `requestMaster(type, payload)` calls, registered with `Master.handle`. */
export type RequestHandler = (
  payload: unknown,
  from: { readonly slot: number; readonly id: number; readonly pid: number | undefined },
) => unknown;

/**
 * cluster2's delegation pattern, the master's side: one handler per request type, and the
 * answer to each `{ type: 'request', id, name, payload }` a worker sends, under the same id.
 */
export class RequestRouter {
  readonly #handlers = new Map<string, RequestHandler>();

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
}
