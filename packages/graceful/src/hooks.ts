import type { Logger } from '@lastcall/log-shim';
import type { ShutdownHook, ShutdownReason } from './types';

/** A hook as {@link Graceful.onShutdown} keeps it. */
export interface RegisteredHook {
  readonly hook: ShutdownHook;
  readonly name: string;
  readonly timeout: number | undefined;
}

/**
 * Runs `hooks` one after another, the last registered first (what started last stops first:
 * the server before the database pool it uses). A hook that throws, rejects or outlives its own
 * timeout is logged by name and the next one starts; none can stop the others. `pending` holds
 * the name of the hook running at any moment, for the deadline's and a forced exit's log.
 */
export async function runHooks(
  hooks: readonly RegisteredHook[],
  reason: ShutdownReason,
  deadline: AbortSignal,
  log: Logger,
  pending: Set<string>,
): Promise<void> {
  for (const entry of [...hooks].reverse()) {
    if (deadline.aborted) return;
    pending.add(entry.name);
    try {
      await runOne(entry, reason, deadline, log);
    } finally {
      pending.delete(entry.name);
    }
  }
}

async function runOne(
  { hook, name, timeout }: RegisteredHook,
  reason: ShutdownReason,
  deadline: AbortSignal,
  log: Logger,
): Promise<void> {
  const own = timeout === undefined ? undefined : AbortSignal.timeout(timeout);
  const signal = own === undefined ? deadline : AbortSignal.any([deadline, own]);
  const startedAt = performance.now();
  let outcome: 'done' | 'timeout';
  try {
    outcome = await new Promise<'done' | 'timeout'>((resolve, reject) => {
      const onAbort = (): void => {
        resolve('timeout');
      };
      signal.addEventListener('abort', onAbort, { once: true });
      Promise.resolve()
        .then(() => hook(reason, signal))
        .then(() => {
          resolve('done');
        }, reject)
        .finally(() => {
          signal.removeEventListener('abort', onAbort);
        });
    });
  } catch (error) {
    log.error(`shutdown hook "${name}" failed; the others go on`, {
      code: 'LASTCALL_ERR_GRACEFUL_HOOK_FAILED',
      hook: name,
      err: error,
    });
    return;
  }
  const ms = Math.round(performance.now() - startedAt);
  if (outcome === 'done') {
    log.debug(`shutdown hook "${name}" done`, { hook: name, ms });
  } else if (own?.aborted === true && !deadline.aborted) {
    log.error(
      `shutdown hook "${name}" did not finish within its ${String(timeout)} ms; the others go on`,
      {
        code: 'LASTCALL_ERR_GRACEFUL_HOOK_TIMEOUT',
        hook: name,
        ms,
      },
    );
  }
}
