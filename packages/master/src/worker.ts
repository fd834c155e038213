import cluster from 'node:cluster';
import { MASTER_ENV, SLOT_ENV } from './protocol';
import type { WorkerMessage } from './protocol';

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

/** Sends a lastcall message to the master when the channel is open; never throws. */
export function tellMaster(message: WorkerMessage): void {
  if (typeof process.send !== 'function' || !process.connected) return;
  try {
    process.send(message, undefined, {}, () => undefined);
  } catch {
    // The channel closed between the check and the send: the master is gone.
  }
}
