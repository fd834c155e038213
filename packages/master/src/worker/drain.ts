/**
 * A worker's drain as one state machine, whoever starts it. The master's order (`drain`) and
 * the process's @lastcall/graceful shutdown (a crash, the app's own `shutdown()`, a signal
 * without a master, the IPC channel closing) both go through one {@link WorkerDrain}: it holds
 * the phase ({@link WorkerDrainPhase}), and every move between phases is one row of its table.
 */
import type { GracefulState, HookOptions, ShutdownHook } from '@lastcall/graceful';
import type { Logger } from '@lastcall/log-shim';
import type { Terminator } from '@lastcall/terminator';

/** ms a worker that shuts down by itself waits for the master's `hold` or `go`. */
export const VERDICT_WAIT = 1000;

/**
 * The share of drainTimeout a held worker waits for its replacement: the rest of its deadline
 * is left to close its listener and leave the cluster, so that no connection is stranded.
 */
export const HOLD_SHARE = 0.5;

/** ms a worker the master drains keeps serving keep-alive after closing its listener. */
export const DRAIN_DELAY = 100;

/**
 * Where a worker's drain stands. A worker that shuts down by itself (a crash, its own SIGTERM)
 * keeps listening, with `Connection: close` on every response, until the master says its
 * replacement is ready: the only worker on a port that closed its listener first would refuse
 * connections. The master answers such a worker with `go` (others serve its port: close the
 * listener now) or `hold` (it is the only one: keep listening until the drain order says the
 * replacement is ready).
 */
export type WorkerDrainPhase =
  /** Nothing began: listening, keep-alive as usual. */
  | 'serving'
  /**
   * The master ordered the drain before any verdict: the listeners closed at the order, and
   * keep-alive goes on for {@link DRAIN_DELAY} before `Connection: close`. Graceful shuts down.
   */
  | 'draining-ordered'
  /**
   * Graceful shuts down by itself: still listening, `Connection: close` on every response,
   * waiting for the master's verdict ({@link VERDICT_WAIT} once graceful's hook runs).
   */
  | 'draining-alone'
  /**
   * The master said `hold`: still listening until its order ({@link HOLD_SHARE} of drainTimeout
   * once graceful's hook runs).
   */
  | 'holding'
  /** Nothing is left to wait for: the listeners close when graceful's hook runs. */
  | 'released'
  /** Graceful's hook closes the listeners and waits until every connection is gone. */
  | 'closing';

/** What moves a drain from one phase to the next. */
export type WorkerDrainEvent =
  /** The master's `drain`. */
  | 'order'
  /** Graceful began to shut down (its `'draining'`), by itself unless the order came first. */
  | 'shutdown'
  /** The master's verdict. */
  | 'hold'
  | 'go'
  /** No verdict within {@link VERDICT_WAIT} of graceful's hook. */
  | 'verdict-timeout'
  /** No order within {@link HOLD_SHARE} of drainTimeout of the hold (in graceful's hook). */
  | 'hold-timeout'
  /** The IPC channel to the master closed: nobody is left to answer or to order. */
  | 'disconnect'
  /** Graceful's deadline passed while its hook waited. */
  | 'deadline'
  /** Graceful's hook reaches the servers with nothing left to wait for. */
  | 'close';

/**
 * Every move: the phase an event leads to from each phase. An event a phase does not list
 * changes nothing (a verdict after the order, an order to a worker already closing).
 */
const NEXT: {
  readonly [P in WorkerDrainPhase]: Readonly<Partial<Record<WorkerDrainEvent, WorkerDrainPhase>>>;
} = {
  // A verdict answers graceful's 'draining'; one that comes first means that listener did not
  // run (an app's 'draining' listener before it threw), not that nothing began.
  serving: {
    order: 'draining-ordered',
    shutdown: 'draining-alone',
    hold: 'holding',
    go: 'released',
  },
  // The order may cross the worker's 'draining' on the channel and come before the verdict.
  'draining-alone': {
    order: 'draining-ordered',
    hold: 'holding',
    go: 'released',
    'verdict-timeout': 'released',
    disconnect: 'released',
    deadline: 'released',
  },
  // The order after a hold says the replacement is ready.
  holding: {
    order: 'released',
    'hold-timeout': 'released',
    disconnect: 'released',
    deadline: 'released',
  },
  'draining-ordered': { close: 'closing' },
  released: { close: 'closing' },
  closing: {},
};

/** What the drain needs of a server's terminator. */
export type DrainableServer = Pick<Terminator, 'terminate' | 'stopKeepAlive'>;

/** What the drain needs of the process's @lastcall/graceful coordinator (a `Graceful`). */
export interface ShutdownCoordinator {
  readonly state: GracefulState;
  once(event: 'draining', listener: () => void): unknown;
  onShutdown(hook: ShutdownHook, options?: HookOptions): unknown;
  shutdown(): Promise<void>;
}

/** The worker's end of the IPC channel to its master (`process`, in a worker). */
export interface MasterChannel {
  readonly connected: boolean;
  once(event: 'disconnect', listener: () => void): unknown;
}

/** Options of {@link WorkerDrain}. */
export interface WorkerDrainOptions {
  /** The terminators of the servers found so far, read at each step: more may come. */
  readonly servers: () => Iterable<DrainableServer>;
  /** Picks or starts the process's Graceful; called once, by the first who needs it. */
  readonly startGraceful: () => ShutdownCoordinator;
  /** The master's drainTimeout in ms (finite, > 0), or undefined when unknown: no hold then. */
  readonly drainTimeout: number | undefined;
  /** The IPC channel to the master. */
  readonly channel: MasterChannel;
  /** Where each move is logged, at debug level. */
  readonly log: Logger;
}

/** Graceful's hook while it waits for a verdict or the order. */
interface HookWait {
  readonly end: () => void;
  timer: NodeJS.Timeout | undefined;
}

/**
 * The one owner of a worker's drain. The master's messages reach it through {@link order} and
 * {@link verdict}, graceful through the `'draining'` listener and the shutdown hook it adds to
 * the Graceful it adopts ({@link adoptGraceful}), the channel through its `'disconnect'`.
 */
export class WorkerDrain {
  readonly #options: WorkerDrainOptions;
  readonly #holdFor: number;
  #phase: WorkerDrainPhase = 'serving';
  #graceful: ShutdownCoordinator | undefined;
  #hookWait: HookWait | undefined;

  constructor(options: WorkerDrainOptions) {
    this.#options = options;
    const { drainTimeout } = options;
    this.#holdFor = drainTimeout !== undefined && drainTimeout > 0 ? drainTimeout * HOLD_SHARE : 0;
    options.channel.once('disconnect', () => {
      this.#on('disconnect');
    });
  }

  /** Where the drain stands. */
  get phase(): WorkerDrainPhase {
    return this.#phase;
  }

  /**
   * The process's Graceful, adopted on the first call: from then on its `'draining'` stops
   * keep-alive and its shutdown hook closes the servers when the drain allows it.
   */
  adoptGraceful(): ShutdownCoordinator {
    if (this.#graceful !== undefined) return this.#graceful;
    const graceful = this.#options.startGraceful();
    this.#graceful = graceful;
    if (graceful.state === 'running') {
      graceful.once('draining', () => {
        this.#onShutdownBegan();
      });
    } else {
      this.#onShutdownBegan();
    }
    graceful.onShutdown((_reason, signal) => this.#closeServers(signal), {
      name: 'lastcall worker servers',
    });
    return graceful;
  }

  /** The master's `drain`: drain and exit. */
  order(): void {
    this.#on('order');
    // A drain already under way (by itself, or a second order) is joined, not restarted.
    void this.adoptGraceful().shutdown();
  }

  /** The master's answer to a worker that shuts down by itself. */
  verdict(verdict: 'hold' | 'go'): void {
    this.#on(verdict);
  }

  #onShutdownBegan(): void {
    // After a drain order, the terminators are in their drain delay, which holds this off.
    for (const server of this.#options.servers()) server.stopKeepAlive();
    this.#on('shutdown');
  }

  /** Graceful's shutdown hook: waits while the master may still want the listeners, then drains. */
  async #closeServers(signal: AbortSignal): Promise<void> {
    // Graceful's 'draining' came first, unless a listener before ours threw (an emitter stops at
    // the first one that throws): its hook running means the shutdown began all the same.
    this.#on('shutdown');
    await this.#untilReleased(signal);
    this.#on('close');
    // A drain the master ordered began at its order; this call joins it.
    await Promise.all([...this.#options.servers()].map((server) => server.terminate()));
  }

  #untilReleased(signal: AbortSignal): Promise<void> {
    if (!this.#isWaiting()) return Promise.resolve();
    return new Promise((resolve) => {
      const onAbort = (): void => {
        this.#on('deadline');
      };
      this.#hookWait = {
        end: () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
        timer: undefined,
      };
      signal.addEventListener('abort', onAbort, { once: true });
      if (signal.aborted) this.#on('deadline');
      else if (!this.#options.channel.connected) this.#on('disconnect');
      else this.#followPhase();
    });
  }

  /** Every move goes through here. */
  #on(event: WorkerDrainEvent): void {
    const from = this.#phase;
    const next = NEXT[from][event];
    if (next === undefined) return;
    this.#phase = next;
    this.#options.log.debug(`worker drain: ${from} → ${next} (${event})`, {
      from,
      to: next,
      event,
    });
    if (next === 'draining-ordered') {
      // The worker closes its listener, then keeps serving keep-alive as before for DRAIN_DELAY:
      // time for the primary to take it out of the rotation and, when it was the last one on its
      // port, to stop accepting. Clients told `Connection: close` afterwards reconnect to another
      // worker or into a refused port, never into a connection the primary accepted and can no
      // longer hand to anyone. Begun before the shutdown, whose 'draining' an app's own adapter
      // (@lastcall/express) answers with stopKeepAlive(): the drain delay holds that off too.
      for (const server of this.#options.servers()) {
        void server.terminate({ drainDelay: DRAIN_DELAY });
      }
    }
    this.#followPhase();
  }

  #isWaiting(): boolean {
    return this.#phase === 'draining-alone' || this.#phase === 'holding';
  }

  /** The hook's wait follows the phase: a timer while it waits, the end once nothing is left. */
  #followPhase(): void {
    const wait = this.#hookWait;
    if (wait === undefined) return;
    clearTimeout(wait.timer);
    if (this.#phase === 'draining-alone') {
      wait.timer = setTimeout(() => {
        this.#on('verdict-timeout');
      }, VERDICT_WAIT);
    } else if (this.#phase === 'holding') {
      wait.timer = setTimeout(() => {
        this.#on('hold-timeout');
      }, this.#holdFor);
    } else {
      this.#hookWait = undefined;
      wait.end();
    }
  }
}
