import type { Worker } from 'node:cluster';
import type { DroppedOutput } from './output-relay';
import { WorkerOutput } from './worker-output';
import type { LineSink } from './line-sink';
import type { WorkerFailure } from '../errors';
import { NotReadyError } from './failures';
import { signalGroup } from '../process-group';
import { parseWorkerMessage } from '../protocol';
import type { DrainMessage, MasterMessage, WorkerMessage } from '../protocol';
import type { ReadyOn, WorkerExit, WorkerState } from '../types';

/** What a {@link WorkerHandle} tells the master about its worker. */
export interface WorkerObserver {
  /** The handle moved from one phase to the next (logged at debug level). */
  transition(handle: WorkerHandle, from: WorkerState, to: WorkerState, why: string): void;
  listening(handle: WorkerHandle, address: { address: string; port: number }): void;
  ready(handle: WorkerHandle): void;
  /** The worker began to shut down on its own (a crash, a signal, the app's own call). */
  draining(handle: WorkerHandle, reason: Record<string, unknown> | undefined): void;
  exit(handle: WorkerHandle, exit: WorkerExit): void;
  /** The worker asks the master something (`requestMaster`). */
  request(handle: WorkerHandle, message: Extract<WorkerMessage, { type: 'request' }>): void;
  /** The worker delegates a job to the master the cluster2 way (`{ type: 'delegate' }`). */
  delegate(handle: WorkerHandle, message: Extract<WorkerMessage, { type: 'delegate' }>): void;
  /** The worker received a stop signal and left it to the master. */
  signal(handle: WorkerHandle, signal: NodeJS.Signals): void;
  /** The worker asks to be replaced (`requestRestart()`, dutch-master's request-restart). */
  restartRequest(handle: WorkerHandle, reason: string | undefined): void;
  /** The worker sent a lastcall message of an unknown type or shape: ignored. */
  malformed(handle: WorkerHandle, type: string): void;
  /** A handler of one of the worker's events threw: logged, and the master carries on. */
  handlerFailed(handle: WorkerHandle, event: string, error: unknown): void;
}

/** The timing options a handle needs. */
export interface HandleTimes {
  readonly readyOn: ReadyOn;
  readonly readyTimeout: number;
  readonly drainTimeout: number;
  readonly killTimeout: number;
  /** Where its output goes (the master's `output` option); default `'inherit'`. */
  readonly output?: 'inherit' | LineSink;
}

/**
 * Who began a drain: the master's order (a restart, a stop, a replacement) or the worker itself
 * (a crash, its app's own shutdown). Set once, at the move to `draining`: a worker that shut down
 * by itself stays a crash, also once the master tells it to go.
 */
type DrainedBy = 'master' | 'worker';

/**
 * The phases a handle may move to from each phase; any other move is refused (and is a bug).
 * The README's transition table is this one, with the events that cause each move.
 */
const TRANSITIONS: Readonly<Record<WorkerState, readonly WorkerState[]>> = {
  forking: ['starting', 'ready', 'draining', 'killing', 'exited'],
  starting: ['ready', 'draining', 'killing', 'exited'],
  ready: ['draining', 'killing', 'exited'],
  draining: ['killing', 'exited'],
  killing: ['exited'],
  exited: [],
};

/**
 * One forked worker as the master sees it, as one state machine: its phase (`forking →
 * starting → ready → draining → exited`, and `killing` from any phase once SIGKILL is sent),
 * every move made by {@link WorkerHandle.#enter}, and the exit reason derived from the phase it
 * exits from. It also carries the worker's output (forwarded line by line, the stderr tail
 * kept), its readiness, and the deadline that backs a drain with SIGTERM and SIGKILL.
 */
export class WorkerHandle {
  readonly slot: number;
  readonly worker: Worker;
  readonly forkedAt = Date.now();
  #phase: WorkerState = 'forking';
  #drainedBy: DrainedBy | undefined;
  #requests = 0;
  #connections = 0;
  #inFlight = 0;
  /** The app version the worker reported (its hello); undefined until it does. */
  #version: string | null | undefined;
  #connectionsServed = 0;
  #rss: number | undefined;
  #pingSeq = 0;
  #isAwaitingPong = false;
  #missedPings = 0;
  #isDeadlineArmed = false;
  #isOrderSent = false;
  #readyAt: number | undefined;
  readonly #output: WorkerOutput;
  readonly #times: HandleTimes;
  readonly #observer: WorkerObserver;
  readonly #timers = new Set<NodeJS.Timeout>();
  #settleReady: (failure?: WorkerFailure) => void = () => undefined;
  readonly exited: Promise<WorkerExit>;
  /** Resolves when ready; rejects with a `NotReadyError` when it exits first or times out. */
  readonly ready: Promise<void>;

  /** What each lastcall message of the worker does; the table is checked against the union. */
  readonly #dispatch: {
    readonly [T in WorkerMessage['type']]: (message: Extract<WorkerMessage, { type: T }>) => void;
  } = {
    ready: () => {
      if (this.#times.readyOn === 'message') this.#becomeReady('it said ready');
    },
    stats: ({ requests, connections, connectionsServed, rss, inFlight }) => {
      this.#requests = requests;
      this.#connections = connections;
      this.#inFlight = inFlight ?? 0;
      this.#connectionsServed = connectionsServed ?? 0;
      this.#rss = rss;
    },
    draining: ({ reason }) => {
      this.#onDraining(reason);
    },
    pong: ({ seq }) => {
      if (seq !== this.#pingSeq) return;
      this.#isAwaitingPong = false;
      this.#missedPings = 0;
    },
    request: (message) => {
      this.#observer.request(this, message);
    },
    signal: ({ signal }) => {
      this.#observer.signal(this, signal);
    },
    'restart-request': ({ reason }) => {
      this.#observer.restartRequest(this, reason);
    },
    delegate: (message) => {
      this.#observer.delegate(this, message);
    },
    hello: ({ version }) => {
      this.#version = version;
    },
  };

  constructor(slot: number, worker: Worker, times: HandleTimes, observer: WorkerObserver) {
    this.slot = slot;
    this.worker = worker;
    this.#times = times;
    this.#observer = observer;
    this.#output = new WorkerOutput(worker.process, {
      id: worker.id,
      slot,
      ...(times.output === undefined ? {} : { output: times.output }),
    });
    this.ready = new Promise((resolve, reject) => {
      let isSettled = false;
      this.#settleReady = (failure) => {
        if (isSettled) return;
        isSettled = true;
        if (failure === undefined) resolve();
        else reject(new NotReadyError(failure));
      };
    });
    // A caller that never awaits readiness (a respawn) must not cause an unhandled rejection.
    this.ready.catch(() => undefined);
    // Readiness settles whatever happens: ready, the exit (also of one that began to shut down
    // before it was ready), a fork that failed, or here at the timeout.
    this.#after(times.readyTimeout, () => {
      if (this.#readyAt === undefined) this.#settleReady(this.#failure('timeout'));
    });
    // Whatever a worker sends or does, nothing may throw out of the master's event handlers.
    const guard =
      <A extends unknown[]>(event: string, run: (...args: A) => void) =>
      (...args: A): void => {
        try {
          run(...args);
        } catch (error) {
          observer.handlerFailed(this, event, error);
        }
      };
    worker.once(
      'online',
      guard('online', () => {
        if (this.#phase === 'forking') this.#enter('starting', 'its process is up');
      }),
    );
    worker.on(
      'listening',
      guard('listening', (address: { address: string; port: number }) => {
        observer.listening(this, address);
        const { readyOn } = times;
        if (readyOn === 'message') return;
        const isOnAddress =
          readyOn === 'listening' ||
          (address.port === readyOn.port &&
            (readyOn.address === undefined || readyOn.address === address.address));
        if (isOnAddress) this.#becomeReady('it listens');
      }),
    );
    worker.on(
      'message',
      guard('message', (value: unknown) => {
        const parsed = parseWorkerMessage(value);
        if (parsed.kind === 'malformed') observer.malformed(this, parsed.type);
        else if (parsed.kind === 'message') this.#handle(parsed.message);
      }),
    );
    this.exited = new Promise((resolve) => {
      const finish = (code: number | null, signal: NodeJS.Signals | null, forkError?: Error) => {
        if (this.#phase === 'exited') return;
        const reason = forkError === undefined ? this.#exitReason() : 'failed-start';
        this.#enter('exited', forkError === undefined ? 'its process ended' : 'the fork failed');
        for (const timer of this.#timers) clearTimeout(timer);
        // What the worker started in its process group goes with it.
        signalGroup(this.pid, 'SIGKILL');
        if (this.#readyAt === undefined) {
          this.#settleReady(
            forkError === undefined
              ? this.#failure('exited', code, signal)
              : { ...this.#failure('fork-failed'), stderrTail: forkError.message },
          );
        }
        const exit: WorkerExit = { code, signal, uptime: Date.now() - this.forkedAt, reason };
        observer.exit(this, exit);
        resolve(exit);
      };
      worker.once(
        'exit',
        guard('exit', (code: number | null, signal: NodeJS.Signals | null) => {
          finish(code, signal);
        }),
      );
      // A fork that fails (EAGAIN at the process limit, ENOMEM) emits 'error' and never 'exit':
      // without this listener the error would be the master's uncaught exception.
      worker.on(
        'error',
        guard('error', (error: Error) => {
          if (this.pid === undefined) finish(null, null, error);
          else observer.handlerFailed(this, 'error', error);
        }),
      );
    });
  }

  get id(): number {
    return this.worker.id;
  }

  get pid(): number | undefined {
    return this.worker.process.pid;
  }

  /** Its phase. */
  get state(): WorkerState {
    return this.#phase;
  }

  get requests(): number {
    return this.#requests;
  }

  get rss(): number | undefined {
    return this.#rss;
  }

  /** Open connections of its servers, as last reported. */
  get connections(): number {
    return this.#connections;
  }

  /** Connections its servers accepted in total since the fork, as last reported. */
  get connectionsServed(): number {
    return this.#connectionsServed;
  }

  /** Requests in flight, as last reported. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** The app version it runs, as it reported; undefined before its hello, null for none. */
  get version(): string | null | undefined {
    return this.#version;
  }

  /** Pings in a row it has not answered. */
  get missedPings(): number {
    return this.#missedPings;
  }

  /** ms from the fork to readiness, once ready. */
  get startup(): number | undefined {
    return this.#readyAt === undefined ? undefined : this.#readyAt - this.forkedAt;
  }

  /** The last 64 KiB of its stderr. */
  get stderrTail(): string {
    return this.#output.stderrTail;
  }

  /** Lines of its stdout and stderr dropped because the master's could not keep up. */
  get droppedOutput(): DroppedOutput {
    return this.#output.dropped;
  }

  /** Sends a ping; one still unanswered counts as missed. */
  ping(): void {
    if (this.#isAwaitingPong) this.#missedPings += 1;
    this.#pingSeq += 1;
    this.#isAwaitingPong = true;
    this.send({ lastcall: 1, type: 'ping', seq: this.#pingSeq });
  }

  /** Sends a message over the IPC channel when it is open; never throws. */
  send(message: MasterMessage): void {
    if (!this.worker.isConnected()) return;
    try {
      this.worker.send(message, undefined, () => undefined);
    } catch {
      // The channel closed between the check and the send: its exit is on its way.
    }
  }

  /**
   * Orders the drain: the worker stops accepting, finishes what it has and exits. SIGTERM after
   * `drainTimeout`, SIGKILL `killTimeout` later. Resolves when it has exited. A worker that
   * already shuts down by itself is told to go on, and keeps its reason (a crash).
   */
  drain(): Promise<WorkerExit> {
    if (this.#phase === 'exited' || this.#phase === 'killing') return this.exited;
    if (this.#phase !== 'draining') {
      this.#drainedBy = 'master';
      this.#enter('draining', 'the master ordered its drain');
    }
    const message: DrainMessage = { lastcall: 1, type: 'drain', timeout: this.#times.drainTimeout };
    if (!this.#isOrderSent) {
      this.#isOrderSent = true;
      this.send(message);
    }
    this.#armDeadline();
    return this.exited;
  }

  /** SIGKILL to its whole process group, now. */
  kill(): void {
    if (this.#phase === 'exited' || this.#phase === 'killing') return;
    this.#enter('killing', 'SIGKILL');
    if (signalGroup(this.pid, 'SIGKILL')) return;
    this.#signal('SIGKILL');
  }

  #handle(message: WorkerMessage): void {
    // The table's type ties each handler to its message; TypeScript cannot follow the
    // correlation through the union, hence the one cast.
    (this.#dispatch[message.type] as (message: WorkerMessage) => void)(message);
  }

  /**
   * Moves to `next`, when the table allows it, and tells the master. Every phase change goes
   * through here.
   */
  #enter(next: WorkerState, why: string): void {
    const from = this.#phase;
    if (!TRANSITIONS[from].includes(next)) return;
    this.#phase = next;
    this.#observer.transition(this, from, next, why);
  }

  #becomeReady(why: string): void {
    if (this.#phase !== 'forking' && this.#phase !== 'starting') return;
    this.#readyAt = Date.now();
    this.#enter('ready', why);
    this.#settleReady();
    this.#observer.ready(this);
  }

  /** The worker says it began to shut down: by itself, unless the master ordered it. */
  #onDraining(reason: Record<string, unknown> | undefined): void {
    if (this.#phase === 'exited' || this.#phase === 'killing' || this.#phase === 'draining') {
      return;
    }
    this.#drainedBy = 'worker';
    this.#enter('draining', 'it began to shut down by itself');
    // It still gets the same deadline and kill as an ordered drain.
    this.#armDeadline();
    this.#observer.draining(this, reason);
  }

  /** How it ended, from the phase it ended in. */
  #exitReason(): WorkerExit['reason'] {
    switch (this.#phase) {
      case 'killing':
        return 'killed';
      case 'draining':
        if (this.#drainedBy === 'master') return 'drained';
        return this.#readyAt === undefined ? 'failed-start' : 'crash';
      case 'ready':
        return 'crash';
      default:
        return 'failed-start';
    }
  }

  #failure(
    reason: WorkerFailure['reason'],
    code: number | null = null,
    signal: NodeJS.Signals | null = null,
  ): WorkerFailure {
    return { slot: this.slot, pid: this.pid, reason, code, signal, stderrTail: this.stderrTail };
  }

  #signal(signal: NodeJS.Signals): void {
    if (this.#phase === 'exited') return;
    try {
      this.worker.process.kill(signal);
    } catch {
      // Already gone.
    }
  }

  /** SIGTERM `drainTimeout` from now, SIGKILL `killTimeout` later; armed once per worker. */
  #armDeadline(): void {
    if (this.#isDeadlineArmed) return;
    this.#isDeadlineArmed = true;
    this.#after(this.#times.drainTimeout, () => {
      this.#signal('SIGTERM');
      this.#after(this.#times.killTimeout, () => {
        this.kill();
      });
    });
  }

  #after(ms: number, run: () => void): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      try {
        run();
      } catch (error) {
        this.#observer.handlerFailed(this, 'timer', error);
      }
    }, ms);
    this.#timers.add(timer);
    return timer;
  }
}
