import type { Logger } from '@lastcall/log-shim';
import type { ResolvedHealth, ResolvedMasterOptions, ResolvedRecycle } from './options';
import type { Slot } from './slot';
import type { MasterEvents, WorkerInfo } from '../types';
import type { WorkerHandle } from './worker-handle';

/** What {@link Upkeep} needs of the master. */
export interface UpkeepHost {
  /** The worker serving each slot, when it is ready. */
  servingWorkers(): WorkerHandle[];
  infoOf(handle: WorkerHandle): WorkerInfo;
  /** The slot the worker belongs to. */
  slotOf(handle: WorkerHandle): Slot | undefined;
  /** The options of the slots' backoff: `stableAfter`, `backoff`, `maxRestarts`, `restartWindow`. */
  readonly options: ResolvedMasterOptions;
  /** Replaces the worker through the rolling path; resolves when done, failed or not needed. */
  replace(handle: WorkerHandle, reason: string): Promise<void>;
  /** A rolling restart is under way: it replaces everyone anyway. */
  isRestarting(): boolean;
  emit<E extends keyof MasterEvents>(event: E, ...args: MasterEvents[E]): void;
  readonly log: Logger;
}

const MIB = 1024 * 1024;

/** ± this share of the spacing, so that recycles of many masters do not line up. */
const SPACING_JITTER = 0.2;

/**
 * ms between the end of one replacement a worker asked for (`requestRestart()`) and the start of
 * the next: a worker that asks again and again, or every worker at once, cannot turn the
 * cluster into a fork storm.
 */
export const REQUESTED_RESTART_SPACING = 1000;

/** The reason of a replacement a worker asked for begins with this. */
const REQUESTED = 'requested';

/** The reason of a replacement for failing health begins with this. */
const HEALTH = 'health';

/**
 * Recycling and health: replaces, one at a time and spaced, a worker that has served too many
 * requests or connections, grown too big, lived too long, stopped answering pings (a blocked
 * event loop) or failed the user's probe. Replacements go through the rolling path: the new
 * worker is ready before the old one drains, and one that cannot drain is killed by the drain
 * timeouts. A replacement for failing health goes through its slot's backoff clock, as a crash
 * does ({@link Slot.decide}): a worker that fails within `stableAfter` of its fork is a quick
 * death, each one in a row waits longer, and past `maxRestarts` within `restartWindow` the slot
 * is failed: its worker serves on, untouched by health, until a rolling restart revives it.
 */
export class Upkeep {
  readonly #recycle: ResolvedRecycle | undefined;
  readonly #health: ResolvedHealth | undefined;
  readonly #host: UpkeepHost;
  readonly #queue = new Map<WorkerHandle, string>();
  readonly #probing = new Set<WorkerHandle>();
  /** Health replacements waiting out their slot's backoff, by slot. */
  readonly #backoffWaits = new Map<number, NodeJS.Timeout>();
  #timer: NodeJS.Timeout | undefined;
  /** Wakes the queue when a replacement is due and no tick would come (requests only). */
  #wakeTimer: NodeJS.Timeout | undefined;
  /** The worker being replaced now, if any. */
  #replacing: WorkerHandle | undefined;
  #nextReplacementAt = 0;
  #lastPingAt = Date.now();

  constructor(
    recycle: ResolvedRecycle | undefined,
    health: ResolvedHealth | undefined,
    host: UpkeepHost,
  ) {
    this.#recycle = recycle;
    this.#health = health;
    this.#host = host;
  }

  start(): void {
    for (const deprecation of this.#recycle?.deprecations ?? []) this.#host.log.warn(deprecation);
    if (this.#recycle === undefined && this.#health === undefined) return;
    const tick = Math.min(1000, this.#health?.pingInterval ?? 1000);
    this.#timer = setInterval(() => {
      this.#check();
    }, tick);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    clearTimeout(this.#wakeTimer);
    this.#timer = undefined;
    this.#wakeTimer = undefined;
    for (const timer of this.#backoffWaits.values()) clearTimeout(timer);
    this.#backoffWaits.clear();
    this.#queue.clear();
  }

  /**
   * A worker asks to be replaced: it is queued, and replaced through the rolling path when its
   * turn comes (one replacement at a time, {@link REQUESTED_RESTART_SPACING} apart, none during
   * a rolling restart). False, and nothing queued, when the worker is not serving or is queued
   * already.
   */
  request(handle: WorkerHandle, why: string | undefined): boolean {
    const isWaiting = this.#queue.has(handle) || this.#replacing === handle;
    if (handle.state !== 'ready' || isWaiting) return false;
    this.#queue.set(handle, why === undefined ? REQUESTED : `${REQUESTED}: ${why}`);
    // On the next turn, so that the caller's log line of the request comes before the fork's.
    setImmediate(() => void this.#replaceNext(Date.now()));
    return true;
  }

  #check(): void {
    const now = Date.now();
    const isPingDue =
      this.#health !== undefined && now - this.#lastPingAt >= this.#health.pingInterval;
    if (isPingDue) this.#lastPingAt = now;
    for (const handle of this.#host.servingWorkers()) {
      if (this.#queue.has(handle)) continue;
      const recycleReason = this.#recycleReason(handle, now);
      if (recycleReason !== undefined) {
        this.#queue.set(handle, recycleReason);
        continue;
      }
      const healthReason = this.#healthReason(handle, isPingDue);
      if (healthReason !== undefined) this.#failHealth(handle, healthReason);
    }
    void this.#replaceNext(now);
  }

  #recycleReason(handle: WorkerHandle, now: number): string | undefined {
    const limits = this.#recycle;
    if (limits === undefined) return undefined;
    if (limits.maxRequests !== undefined && handle.requests >= limits.maxRequests) {
      return `recycle: ${String(handle.requests)} requests (maxRequests ${String(limits.maxRequests)})`;
    }
    const served = limits.maxConnectionsServed;
    if (served !== undefined && handle.connectionsServed >= served) {
      return `recycle: ${String(handle.connectionsServed)} connections served (maxConnectionsServed ${String(served)})`;
    }
    const open = limits.maxOpenConnections;
    if (open !== undefined && handle.connections >= open) {
      return `recycle: ${String(handle.connections)} connections (${limits.openConnectionsName} ${String(open)})`;
    }
    const rssMB = (handle.rss ?? 0) / MIB;
    if (limits.maxRssMB !== undefined && rssMB >= limits.maxRssMB) {
      return `recycle: rss ${rssMB.toFixed(0)} MiB (maxRssMB ${String(limits.maxRssMB)})`;
    }
    const age = now - handle.forkedAt;
    if (limits.maxAgeMs !== undefined && age >= limits.maxAgeMs) {
      return `recycle: ${String(age)} ms old (maxAgeMs ${String(limits.maxAgeMs)})`;
    }
    return undefined;
  }

  #healthReason(handle: WorkerHandle, isPingDue: boolean): string | undefined {
    const health = this.#health;
    if (health === undefined || !isPingDue) return undefined;
    handle.ping();
    if (handle.missedPings >= health.missedPings) {
      return `${HEALTH}: ${String(handle.missedPings)} pings unanswered`;
    }
    if (health.probe !== undefined) this.#probe(handle, health.probe);
    return undefined;
  }

  #probe(handle: WorkerHandle, probe: NonNullable<ResolvedHealth['probe']>): void {
    if (this.#probing.has(handle)) return;
    this.#probing.add(handle);
    const fail = (why: string): void => {
      this.#failHealth(handle, `${HEALTH}: the probe ${why}`);
    };
    Promise.resolve()
      .then(() => probe(this.#host.infoOf(handle)))
      .then(
        (isHealthy: unknown) => {
          if (isHealthy !== true) fail(`answered ${String(isHealthy)}`);
          else this.#recovered(handle);
        },
        (error: unknown) => {
          fail(`threw: ${error instanceof Error ? error.message : String(error)}`);
        },
      )
      .finally(() => this.#probing.delete(handle));
  }

  /**
   * The worker failed its health: its slot's backoff clock decides when it is queued for
   * replacement, or, past `maxRestarts` within `restartWindow`, that the slot gives up (the
   * `failed` event) and the worker serves on: replacing it again and again at the backoff's
   * longest delay would only churn, and a worker that still answers some requests serves better
   * than none (in fixed-port mode, its port would go dark). A rolling restart revives the slot.
   */
  #failHealth(handle: WorkerHandle, reason: string): void {
    // A probe may settle after stop(): the master is going, nothing is replaced any more.
    if (this.#timer === undefined) return;
    if (this.#queue.has(handle) || this.#replacing === handle || handle.state !== 'ready') return;
    const slot = this.#host.slotOf(handle);
    if (slot?.current !== handle || slot.isFailed || this.#backoffWaits.has(slot.index)) return;
    const options = this.#host.options;
    const decision = slot.decide(Date.now() - handle.forkedAt, options);
    const fields = { slot: slot.index, pid: handle.pid, reason };
    if (decision.kind === 'failed') {
      this.#host.log.error(
        `slot ${String(slot.index)}: its workers keep failing their health; no more health replacements until a rolling restart, the worker serves on`,
        fields,
      );
      this.#host.emit('failed', {
        slot: slot.index,
        restarts: decision.restarts,
        window: options.restartWindow,
      });
      return;
    }
    const enqueue = (why: string): void => {
      if (handle.state !== 'ready' || slot.current !== handle) return;
      this.#queue.set(handle, why);
      void this.#replaceNext(Date.now());
    };
    if (decision.delay === 0) {
      enqueue(reason);
      return;
    }
    this.#host.log.info(
      `slot ${String(slot.index)}: ${reason}; replaced after ${String(decision.delay)} ms of backoff`,
      { ...fields, delay: decision.delay },
    );
    const timer = setTimeout(() => {
      this.#backoffWaits.delete(slot.index);
      enqueue(reason);
    }, decision.delay);
    timer.unref();
    this.#backoffWaits.set(slot.index, timer);
  }

  /**
   * The worker passes its probe again while its replacement waits out the backoff: the
   * replacement is called off (a dependency that blinked is no reason to churn). The slot's
   * clock keeps the failure, so a worker that fails again waits longer.
   */
  #recovered(handle: WorkerHandle): void {
    const slot = this.#host.slotOf(handle);
    const timer = slot === undefined ? undefined : this.#backoffWaits.get(slot.index);
    if (slot?.current !== handle || timer === undefined) return;
    clearTimeout(timer);
    this.#backoffWaits.delete(slot.index);
    this.#host.log.info(
      `slot ${String(slot.index)}: the probe passes again; its replacement is called off`,
      { slot: slot.index, pid: handle.pid },
    );
  }

  /** Runs the queue again in `ms`, unless a wake-up is due sooner. */
  #wakeIn(ms: number): void {
    if (this.#wakeTimer !== undefined) return;
    this.#wakeTimer = setTimeout(() => {
      this.#wakeTimer = undefined;
      void this.#replaceNext(Date.now());
    }, ms);
    this.#wakeTimer.unref();
  }

  async #replaceNext(now: number): Promise<void> {
    if (this.#replacing !== undefined || this.#queue.size === 0) return;
    if (now < this.#nextReplacementAt || this.#host.isRestarting()) {
      // Without a tick (no recycle, no health), nothing else would run the queue again.
      this.#wakeIn(
        this.#host.isRestarting() ? REQUESTED_RESTART_SPACING : this.#nextReplacementAt - now,
      );
      return;
    }
    for (const [handle, reason] of this.#queue) {
      this.#queue.delete(handle);
      if (handle.state !== 'ready') continue;
      this.#replacing = handle;
      const slot = this.#host.slotOf(handle);
      try {
        if (reason.startsWith(HEALTH) && slot !== undefined) {
          await slot.keepingAccounting(() => this.#host.replace(handle, reason));
        } else {
          await this.#host.replace(handle, reason);
        }
      } finally {
        this.#replacing = undefined;
        const spacing = reason.startsWith(REQUESTED)
          ? REQUESTED_RESTART_SPACING
          : reason.startsWith(HEALTH)
            ? (this.#health?.pingInterval ?? 0)
            : (this.#recycle?.spacing ?? 0);
        const jitter = 1 + SPACING_JITTER * (2 * Math.random() - 1);
        this.#nextReplacementAt = Date.now() + spacing * jitter;
        if (this.#queue.size > 0) this.#wakeIn(this.#nextReplacementAt - Date.now());
      }
      return;
    }
  }
}
