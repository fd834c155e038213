import type { Logger } from '@lastcall/log-shim';
import { MasterError } from '../errors';
import type { WorkerFailure } from '../errors';
import { NotReadyError, describeFailures } from './failures';
import type { Slot } from './slot';
import type { MasterEvents, RestartReport } from '../types';
import type { WorkerHandle } from './worker-handle';

type RestartStep = RestartReport['replaced'][number];

/** What the rolling restart needs of the master. */
export interface RollingRestartHost {
  readonly maxSurge: number;
  readonly log: Logger;
  /** Forks a worker for the slot (after `beforeFork`); rejects when the master stops. */
  fork(slot: Slot): Promise<WorkerHandle>;
  isRunning(): boolean;
  emit<E extends keyof MasterEvents>(event: E, ...args: MasterEvents[E]): void;
}

/**
 * Replacement first: for each slot, `maxSurge` at a time, fork the new worker, wait until it is
 * ready, make it the slot's worker, and only then drain the old one. A replacement that exits or
 * is not ready in time aborts the run; the old workers go on serving.
 */
export class RollingRestart {
  readonly #host: RollingRestartHost;

  constructor(host: RollingRestartHost) {
    this.#host = host;
  }

  /** Rejects with `LASTCALL_ERR_MASTER_RESTART_ABORTED` (with every failure) on a bad build. */
  async run(slots: readonly Slot[]): Promise<RestartReport> {
    const host = this.#host;
    const startedAt = Date.now();
    host.emit('restart', { workers: slots.length });
    const replaced: RestartStep[] = [];
    for (let first = 0; first < slots.length; first += host.maxSurge) {
      const batch = slots.slice(first, first + host.maxSurge);
      const results = await Promise.allSettled(batch.map((slot) => this.replace(slot)));
      const failures: WorkerFailure[] = [];
      for (const result of results) {
        if (result.status === 'fulfilled') replaced.push(result.value);
        else if (result.reason instanceof NotReadyError) failures.push(result.reason.failure);
        else throw result.reason;
      }
      if (failures.length > 0) throw this.#abort(failures);
      if (!host.isRunning()) throw stopping();
    }
    const report: RestartReport = { replaced, duration: Date.now() - startedAt };
    host.emit('restartDone', report);
    return report;
  }

  /**
   * Replaces one slot's worker. Rejects with a {@link NotReadyError} when the replacement
   * fails (it is killed, the old worker stays), or `LASTCALL_ERR_MASTER_STOPPED`.
   */
  async replace(slot: Slot): Promise<RestartStep> {
    const host = this.#host;
    let fresh: WorkerHandle;
    try {
      fresh = await host.fork(slot);
    } catch (error) {
      if (error instanceof MasterError) throw error;
      throw new NotReadyError({
        slot: slot.index,
        pid: undefined,
        reason: 'before-fork',
        code: null,
        signal: null,
        stderrTail: error instanceof Error ? (error.stack ?? error.message) : String(error),
      });
    }
    try {
      await fresh.ready;
    } catch (failure) {
      fresh.kill();
      await fresh.exited;
      throw failure;
    }
    if (!host.isRunning()) {
      await fresh.drain();
      throw stopping();
    }
    // Read only now: a crash during the replacement's start may have replaced the old one.
    const old = slot.current;
    slot.cancelRespawn();
    slot.revive();
    slot.current = fresh;
    const step: RestartStep = { slot: slot.index, oldPid: old?.pid, newPid: fresh.pid };
    host.emit('restartStep', step);
    if (old !== undefined) {
      host.emit('drain', { slot: old.slot, id: old.id, pid: old.pid, reason: 'restart' });
      await old.drain();
    }
    return step;
  }

  #abort(failures: WorkerFailure[]): MasterError {
    const error = new MasterError(
      'LASTCALL_ERR_MASTER_RESTART_ABORTED',
      `rolling restart aborted; the old workers go on serving: ${describeFailures(failures)}`,
      { failures },
    );
    // This is the event's log line, with the failures; the master logs no second one.
    this.#host.log.error(error.message, { code: error.code, failures });
    this.#host.emit('restartAborted', { slot: failures[0]?.slot ?? -1, error });
    return error;
  }
}

function stopping(): MasterError {
  return new MasterError('LASTCALL_ERR_MASTER_STOPPED', 'rolling restart: the master is stopping');
}
