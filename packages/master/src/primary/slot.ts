import { backoffDelay } from './backoff';
import type { ResolvedMasterOptions } from './options';
import type { WorkerExit } from '../types';
import type { WorkerHandle } from './worker-handle';

/**
 * What the slot decided after one of its workers died, began to shut down by itself, or failed
 * its health checks.
 */
export type RespawnDecision =
  | { readonly kind: 'respawn'; readonly delay: number; readonly restarts: number }
  | { readonly kind: 'failed'; readonly restarts: number };

/**
 * One place in the cluster: the worker serving it now, and the accounting that turns a worker
 * that keeps dying young into backoff and, past `maxRestarts` within `restartWindow`, a failed
 * slot. One crashing slot never delays another.
 */
export class Slot {
  readonly index: number;
  current: WorkerHandle | undefined;
  lastExit: WorkerExit | undefined;
  #restartTimes: number[] = [];
  #restarts = 0;
  #quickDeaths = 0;
  #isFailed = false;
  #respawnTimer: NodeJS.Timeout | undefined;
  /** A replacement for failing health runs: {@link Slot.revive} must not reset the accounting. */
  #isKeepingAccounting = false;

  constructor(index: number) {
    this.index = index;
  }

  /** Re-forks so far, over the slot's whole life. */
  get restarts(): number {
    return this.#restarts;
  }

  get isFailed(): boolean {
    return this.#isFailed;
  }

  get isRespawnPending(): boolean {
    return this.#respawnTimer !== undefined;
  }

  /**
   * Decides the next fork after a worker of this slot that lived `uptime` ms died, began to
   * shut down by itself, or failed its health checks (pings or probe). A worker younger than
   * `stableAfter` counts as a quick death, and quick deaths in a row grow the delay. A crash of
   * a worker that had become ready (`wasReady`) counts one step less: it served, so the build
   * starts, and the first such death after a stable run is re-forked at once; only deaths before
   * ready, or a second young death in a row, wait.
   */
  decide(
    uptime: number,
    options: ResolvedMasterOptions,
    now = Date.now(),
    wasReady = false,
  ): RespawnDecision {
    this.#quickDeaths = uptime < options.stableAfter ? this.#quickDeaths + 1 : 0;
    this.#restartTimes = this.#restartTimes.filter((time) => now - time < options.restartWindow);
    this.#restartTimes.push(now);
    if (this.#restartTimes.length > options.maxRestarts) {
      this.#isFailed = true;
      return { kind: 'failed', restarts: this.#restartTimes.length - 1 };
    }
    this.#restarts += 1;
    const steps = wasReady ? this.#quickDeaths - 1 : this.#quickDeaths;
    const delay = steps <= 0 ? 0 : backoffDelay(options.backoff, steps);
    return { kind: 'respawn', delay, restarts: this.#restarts };
  }

  /** Runs `fork` after `delay` ms; a pending respawn is replaced. */
  scheduleRespawn(delay: number, fork: () => void): void {
    this.cancelRespawn();
    this.#respawnTimer = setTimeout(() => {
      this.#respawnTimer = undefined;
      fork();
    }, delay);
  }

  cancelRespawn(): void {
    clearTimeout(this.#respawnTimer);
    this.#respawnTimer = undefined;
  }

  /**
   * Runs `replace`, a replacement through the rolling path of a worker that failed its health,
   * keeping the slot's accounting: the replacement runs the same build, so a slot whose workers
   * keep failing their probe backs off as one whose workers keep crashing does.
   */
  async keepingAccounting<T>(replace: () => Promise<T>): Promise<T> {
    this.#isKeepingAccounting = true;
    try {
      return await replace();
    } finally {
      this.#isKeepingAccounting = false;
    }
  }

  /**
   * A rolling restart gives a failed slot a new chance (with the new build). Not during a
   * replacement for failing health (see {@link Slot.keepingAccounting}).
   */
  revive(): void {
    if (this.#isKeepingAccounting) return;
    this.#isFailed = false;
    this.#quickDeaths = 0;
    this.#restartTimes = [];
  }
}
