/**
 * What a gate watches: a `Writable` (the master's stdout or stderr), or a `LineSink` that
 * hands lines to the master's logger or an output function.
 */
export interface GateTarget {
  /** A `write()` returned `false` (or the sink is backed up) and `'drain'` has not come yet. */
  readonly writableNeedDrain: boolean;
  /** False once the target is closed: what would go to it is dropped. */
  readonly writable: boolean;
  once(event: 'drain', listener: () => void): unknown;
}

/**
 * ms the relays into a full target pause their workers before they read on and drop: a burst
 * that the target takes within this time loses nothing; a flood the target cannot take does not
 * stall the workers (nor pile up in them) for longer.
 */
export const OUTPUT_PAUSE_LIMIT = 1000;

/**
 * Bytes per second that the relays into one overloaded target read (and drop) from their workers,
 * all together: the master's cost for a flood it cannot pass on stays bounded whatever the number
 * of workers; what they write beyond it waits in the workers.
 */
export const DROP_READ_RATE = 4 * 1024 * 1024;

/** Settings of a {@link TargetGate}, taken by the first relay into the target. */
export interface GateSettings {
  /** ms; default {@link OUTPUT_PAUSE_LIMIT}. */
  readonly pauseLimit?: number;
  /** Bytes per second; default {@link DROP_READ_RATE}. */
  readonly dropReadRate?: number;
}

/** A relay waiting for its target to drain. */
export interface GateWaiter {
  /** The target drained: write what is queued, then read on. */
  drained(): void;
  /** The target has been full for the pause limit: read on (and drop). */
  released(): void;
}

const gates = new WeakMap<GateTarget, TargetGate>();

/**
 * The one "target is full" state of a stream that several relays write into (every worker's
 * stderr into the master's): full from a `write()` that returned `false`, by any writer, until
 * the target's `'drain'`. The waiters all hear of the drain from one listener.
 *
 * A congestion episode runs from the moment the target fills until it has stayed writable for
 * the pause limit; once the episode is that old, the target is overloaded and relays stop
 * pausing their workers, but read from them no faster than the drop-read rate, together.
 */
export class TargetGate {
  readonly #target: GateTarget;
  readonly #pauseLimit: number;
  readonly #dropReadRate: number;
  #readBudget: number;
  #budgetAt = Date.now();
  #waiters = new Set<GateWaiter>();
  #episodeStart: number | undefined;
  #lastDrainAt: number | undefined;
  #releaseTimer: NodeJS.Timeout | undefined;

  private constructor(target: GateTarget, settings: GateSettings) {
    this.#target = target;
    this.#pauseLimit = settings.pauseLimit ?? OUTPUT_PAUSE_LIMIT;
    this.#dropReadRate = settings.dropReadRate ?? DROP_READ_RATE;
    this.#readBudget = this.#dropReadRate;
  }

  /** The gate of `target`, made with `settings` when it is the first relay into it. */
  static of(target: GateTarget, settings: GateSettings = {}): TargetGate {
    let gate = gates.get(target);
    if (gate === undefined) {
      gate = new TargetGate(target, settings);
      gates.set(target, gate);
    }
    return gate;
  }

  /**
   * Counts `bytes` a relay read while the target is overloaded; returns the ms it must pause its
   * worker for, so that all of them together stay within the drop-read rate (0: read on).
   */
  spendReadBudget(bytes: number): number {
    const now = Date.now();
    const rate = this.#dropReadRate;
    this.#readBudget = Math.min(rate, this.#readBudget + ((now - this.#budgetAt) * rate) / 1000);
    this.#budgetAt = now;
    this.#readBudget -= bytes;
    return this.#readBudget >= 0 ? 0 : Math.ceil((-this.#readBudget * 1000) / rate);
  }

  /** A write returned `false` and the target has not drained since. */
  get isFull(): boolean {
    return this.#target.writableNeedDrain;
  }

  /** The current congestion episode is older than the pause limit. */
  get isOverloaded(): boolean {
    return this.#episodeStart !== undefined && Date.now() - this.#episodeStart >= this.#pauseLimit;
  }

  /** Tells `waiter` when the target drains (once), or when it has been full too long. */
  wait(waiter: GateWaiter): void {
    if (this.#waiters.size === 0) {
      this.#target.once('drain', this.#onDrain);
      const now = Date.now();
      const isNewEpisode =
        this.#episodeStart === undefined ||
        this.#lastDrainAt === undefined ||
        now - this.#lastDrainAt >= this.#pauseLimit;
      if (isNewEpisode) {
        this.#episodeStart = now;
        this.#armRelease(this.#pauseLimit);
      }
    }
    this.#waiters.add(waiter);
  }

  readonly #onDrain = (): void => {
    this.#lastDrainAt = Date.now();
    const waiters = this.#waiters;
    this.#waiters = new Set();
    // Each writes at most its bounded queue, so all of them may write after one drain: the
    // target then holds at most one queue per relay, and no worker goes first every time.
    for (const waiter of waiters) waiter.drained();
  };

  #armRelease(ms: number): void {
    clearTimeout(this.#releaseTimer);
    this.#releaseTimer = setTimeout(() => {
      this.#releaseTimer = undefined;
      const start = this.#episodeStart ?? 0;
      const left = start + this.#pauseLimit - Date.now();
      if (left > 0) {
        this.#armRelease(left);
        return;
      }
      for (const waiter of this.#waiters) waiter.released();
    }, ms);
    this.#releaseTimer.unref();
  }
}
