import type { Worker } from 'node:cluster';
import type { DroppedOutput } from './output-relay';
import { WorkerOutput } from './worker-output';
import type { WorkerFailure } from './errors';
import { NotReadyError } from './failures';
import { WORKER_STOP_SIGNALS, readLastcallMessage } from './protocol';
import type { DrainMessage } from './protocol';
import type { ReadyOn, WorkerExit, WorkerState } from './types';

/** What a {@link WorkerHandle} tells the master about its worker. */
export interface WorkerObserver {
  listening(handle: WorkerHandle, address: { address: string; port: number }): void;
  ready(handle: WorkerHandle): void;
  /** The worker began to shut down on its own (a crash, a signal, the app's own call). */
  draining(handle: WorkerHandle, reason: Record<string, unknown> | undefined): void;
  exit(handle: WorkerHandle, exit: WorkerExit): void;
  /** The worker asks the master something (`requestMaster`). */
  request(handle: WorkerHandle, message: Record<string, unknown>): void;
  /** The worker received a stop signal and left it to the master. */
  signal(handle: WorkerHandle, signal: NodeJS.Signals): void;
  /** The worker sent a lastcall message of an unknown type or shape: ignored. */
  malformed(handle: WorkerHandle, type: unknown): void;
  /** A handler of one of the worker's events threw: logged, and the master carries on. */
  handlerFailed(handle: WorkerHandle, event: string, error: unknown): void;
}

/** The timing options a handle needs. */
export interface HandleTimes {
  readonly readyOn: ReadyOn;
  readonly readyTimeout: number;
  readonly drainTimeout: number;
  readonly killTimeout: number;
}

/**
 * One forked worker as the master sees it: its state, its output (forwarded line by line, the
 * stderr tail kept), its readiness, its drain with the SIGTERM and SIGKILL that back it up.
 */
export class WorkerHandle {
  readonly slot: number;
  readonly worker: Worker;
  readonly forkedAt = Date.now();
  #state: WorkerState = 'starting';
  #requests = 0;
  #connections = 0;
  #rss: number | undefined;
  #pingSeq = 0;
  #isAwaitingPong = false;
  #missedPings = 0;
  #isDrainOrdered = false;
  #isShuttingDownAlone = false;
  #isDeadlineArmed = false;
  #isKilled = false;
  #readyAt: number | undefined;
  readonly #output: WorkerOutput;
  readonly #times: HandleTimes;
  readonly #observer: WorkerObserver;
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly exited: Promise<WorkerExit>;
  /** Resolves when ready; rejects with a `NotReadyError` when it exits first or times out. */
  readonly ready: Promise<void>;

  constructor(slot: number, worker: Worker, times: HandleTimes, observer: WorkerObserver) {
    this.slot = slot;
    this.worker = worker;
    this.#times = times;
    this.#observer = observer;
    const child = worker.process;
    this.#output = new WorkerOutput(child, { id: worker.id, slot });
    let onReady: () => void = () => undefined;
    let onNotReady: (error: NotReadyError) => void = () => undefined;
    this.ready = new Promise((resolve, reject) => {
      onReady = resolve;
      onNotReady = reject;
    });
    // A caller that never awaits readiness (a respawn) must not cause an unhandled rejection.
    this.ready.catch(() => undefined);
    // A worker that began to shut down before it was ready (it crashed asynchronously while
    // starting) is no longer `starting`, but its readiness must still settle: at its exit, or
    // here at the timeout, whichever comes first.
    const readyTimer = this.#after(times.readyTimeout, () => {
      if (this.#readyAt !== undefined || this.#state === 'exited') return;
      onNotReady(new NotReadyError(this.#failure('timeout')));
    });
    const becomeReady = (): void => {
      if (this.#state !== 'starting') return;
      clearTimeout(readyTimer);
      this.#state = 'ready';
      this.#readyAt = Date.now();
      onReady();
      observer.ready(this);
    };
    worker.on('listening', (address: { address: string; port: number }) => {
      observer.listening(this, address);
      const { readyOn } = times;
      if (readyOn === 'message') return;
      if (readyOn === 'listening') {
        becomeReady();
        return;
      }
      const isOnAddress = readyOn.address === undefined || readyOn.address === address.address;
      if (address.port === readyOn.port && isOnAddress) becomeReady();
    });
    worker.on('message', (value: unknown) => {
      // Whatever a worker sends, nothing it does may throw out of the master's event handler.
      try {
        const message = readLastcallMessage(value);
        if (message === undefined) return;
        if (message.type === 'ready' && times.readyOn === 'message') becomeReady();
        else if (message.type === 'stats') this.#readStats(message);
        else if (message.type === 'draining') this.#onDraining(message['reason']);
        else if (message.type === 'pong') this.#onPong(message['seq']);
        else if (message.type === 'request') observer.request(this, message);
        else if (
          message.type === 'signal' &&
          WORKER_STOP_SIGNALS.includes(message['signal'] as NodeJS.Signals)
        ) {
          observer.signal(this, message['signal'] as NodeJS.Signals);
        } else if (message.type !== 'ready') {
          observer.malformed(this, message.type);
        }
      } catch (error) {
        observer.handlerFailed(this, 'message', error);
      }
    });
    this.exited = new Promise((resolve) => {
      const finish = (code: number | null, signal: NodeJS.Signals | null, forkError?: Error) => {
        if (this.#state === 'exited') return;
        const wasNeverReady = this.#readyAt === undefined;
        // One the master told to drain before it was ready (a stop during a start) drained.
        const wasStarting = wasNeverReady && !this.#isDrainOrdered;
        this.#state = 'exited';
        for (const timer of this.#timers) clearTimeout(timer);
        const exit: WorkerExit = {
          code,
          signal,
          uptime: Date.now() - this.forkedAt,
          reason: forkError === undefined ? this.#exitReason(wasStarting) : 'failed-start',
        };
        if (wasNeverReady) {
          const failure =
            forkError === undefined
              ? this.#failure('exited', code, signal)
              : { ...this.#failure('fork-failed'), stderrTail: forkError.message };
          onNotReady(new NotReadyError(failure));
        }
        observer.exit(this, exit);
        resolve(exit);
      };
      worker.once('exit', (code: number | null, signal: NodeJS.Signals | null) => {
        finish(code, signal);
      });
      // A fork that fails (EAGAIN at the process limit, ENOMEM) emits 'error' and never 'exit':
      // without this listener the error would be the master's uncaught exception.
      worker.on('error', (error: Error) => {
        if (this.pid === undefined) finish(null, null, error);
        else observer.handlerFailed(this, 'error', error);
      });
    });
  }

  get id(): number {
    return this.worker.id;
  }

  get pid(): number | undefined {
    return this.worker.process.pid;
  }

  get state(): WorkerState {
    return this.#state;
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

  /** Pings in a row it has not answered. */
  get missedPings(): number {
    return this.#missedPings;
  }

  /** Sends a ping; one still unanswered counts as missed. */
  ping(): void {
    if (this.#isAwaitingPong) this.#missedPings += 1;
    this.#pingSeq += 1;
    this.#isAwaitingPong = true;
    this.send({ lastcall: 1, type: 'ping', seq: this.#pingSeq });
  }

  /** Sends a message over the IPC channel when it is open; never throws. */
  send(message: object): void {
    if (!this.worker.isConnected()) return;
    try {
      this.worker.send(message, undefined, () => undefined);
    } catch {
      // The channel closed between the check and the send: its exit is on its way.
    }
  }

  /** ms from the fork to readiness, once ready. */
  get startup(): number | undefined {
    return this.#readyAt === undefined ? undefined : this.#readyAt - this.forkedAt;
  }

  /** The master ordered this worker's drain (a restart, a stop). */
  get isDrainOrdered(): boolean {
    return this.#isDrainOrdered;
  }

  /** The last 64 KiB of its stderr. */
  get stderrTail(): string {
    return this.#output.stderrTail;
  }

  /** Lines of its stdout and stderr dropped because the master's could not keep up. */
  get droppedOutput(): DroppedOutput {
    return this.#output.dropped;
  }

  /**
   * Orders the drain: the worker stops accepting, finishes what it has and exits. SIGTERM after
   * `drainTimeout`, SIGKILL `killTimeout` later. Resolves when it has exited.
   */
  drain(): Promise<WorkerExit> {
    if (this.#state === 'exited') return this.exited;
    if (!this.#isDrainOrdered) {
      this.#isDrainOrdered = true;
      this.#state = 'draining';
      const message: DrainMessage = {
        lastcall: 1,
        type: 'drain',
        timeout: this.#times.drainTimeout,
      };
      this.send(message);
      this.#armDeadline();
    }
    return this.exited;
  }

  /** SIGKILL, now. */
  kill(): void {
    if (this.#state === 'exited') return;
    this.#isKilled = true;
    this.#signal('SIGKILL');
  }

  #onDraining(reason: unknown): void {
    if (this.#state === 'exited') return;
    const wasOrdered = this.#isDrainOrdered;
    this.#state = 'draining';
    if (wasOrdered || this.#isShuttingDownAlone) return;
    // It shuts down on its own: it still gets the same deadline and kill as an ordered drain.
    this.#isShuttingDownAlone = true;
    this.#armDeadline();
    this.#observer.draining(
      this,
      typeof reason === 'object' && reason !== null
        ? (reason as Record<string, unknown>)
        : undefined,
    );
  }

  #readStats(message: Record<string, unknown>): void {
    const { requests, connections, rss } = message;
    if (typeof requests === 'number') this.#requests = requests;
    if (typeof connections === 'number') this.#connections = connections;
    if (typeof rss === 'number') this.#rss = rss;
  }

  #onPong(seq: unknown): void {
    if (seq !== this.#pingSeq) return;
    this.#isAwaitingPong = false;
    this.#missedPings = 0;
  }

  #exitReason(wasStarting: boolean): WorkerExit['reason'] {
    if (this.#isKilled) return 'killed';
    if (wasStarting) return 'failed-start';
    // One that began to shut down by itself stays a crash, also once the master told it to go.
    return this.#isDrainOrdered && !this.#isShuttingDownAlone ? 'drained' : 'crash';
  }

  #failure(
    reason: WorkerFailure['reason'],
    code: number | null = null,
    signal: NodeJS.Signals | null = null,
  ): WorkerFailure {
    return { slot: this.slot, pid: this.pid, reason, code, signal, stderrTail: this.stderrTail };
  }

  #signal(signal: NodeJS.Signals): void {
    if (this.#state === 'exited') return;
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
      run();
    }, ms);
    this.#timers.add(timer);
    return timer;
  }
}
