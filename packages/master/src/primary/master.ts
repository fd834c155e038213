import cluster from 'node:cluster';
import { EventEmitter } from 'node:events';
import { describeValue } from '@lastcall/log-shim';
import type { Logger } from '@lastcall/log-shim';
import { MasterError } from '../errors';
import type { WorkerFailure } from '../errors';
import { NotReadyError, describeFailures, portInUse } from './failures';
import { forkWorker, workerGroupWarning } from './fork';
import { readOptions } from './options';
import type { ResolvedMasterOptions } from './options';
import type { HeartbeatBody } from './heartbeat';
import { writePidFile } from './pid-file';
import { ProcessHooks, masterGracefulOptions } from './process-hooks';
import { RequestRouter } from './request-router';
import type { RequestHandler } from './request-router';
import { RollingRestart } from './rolling-restart';
import { Rotation } from './rotation';
import { SerialRun } from './serial-run';
import { Slot } from './slot';
import { Upkeep } from './upkeep';
import { WorkerPidFiles, preparePidDir } from './worker-pid-files';
import type { MasterEvents, MasterOptions, RestartReport, WorkerExit, WorkerInfo } from '../types';
import type { WorkerHandle, WorkerObserver } from './worker-handle';

type MasterState = 'new' | 'starting' | 'running' | 'stopping' | 'stopped';

/**
 * ms the master waits, after a worker says it received a stop signal, for the same signal to
 * reach the master itself: a signal to the whole process group reaches every process within
 * moments, even on a busy machine, and then the master's own shutdown drains the worker.
 */
const GROUP_SIGNAL_WINDOW = 500;

/**
 * ms of keep-alive between the end of the master's shutdownDelay and the drain: long enough for
 * the clients reconnecting at that moment to be answered on a kept-alive connection.
 */
const KEEP_ALIVE_SETTLE = 250;

/**
 * The master as a container's PID 1 drains on SIGTERM like anywhere else, but the kernel hands it
 * every orphaned process of the namespace, and nothing of Node's reaps them.
 */
export const PID_1_WARNING =
  "the master runs as PID 1: processes that the workers' children leave behind are not reaped and stay zombies, and a SIGTERM in the first moments of the start is ignored by the kernel; run it under an init (tini, `docker run --init`; see docs/kubernetes.md)";

/** ms between two warnings about malformed messages from one worker. */
const MALFORMED_WARNING_INTERVAL = 10_000;

/** The longest drain reason a log line carries, in characters. */
const MAX_REASON_LENGTH = 1000;

/**
 * A worker's drain reason as one bounded line. The worker sent it: a reason nested thousands of
 * levels deep makes JSON.stringify throw, and a huge one would flood the log.
 */
function describeDrainReason(reason: Record<string, unknown> | undefined): string {
  let text: string;
  try {
    text = JSON.stringify(reason ?? {});
  } catch {
    return '[a reason that cannot be written as JSON]';
  }
  return text.length > MAX_REASON_LENGTH
    ? `${text.slice(0, MAX_REASON_LENGTH)}…[${String(text.length - MAX_REASON_LENGTH)} more characters]`
    : text;
}

/**
 * A cluster master that never drops a request. It forks `workers` workers, each running the
 * worker runtime before the app; replaces a worker the moment it says it is shutting down
 * (a crash) or dies, with backoff for a slot whose workers keep dying young; restarts them one
 * `maxSurge` at a time with the replacement ready before the old one drains, aborting on a bad
 * build; and on SIGTERM (through @lastcall/graceful) drains them all.
 */
export class Master extends EventEmitter<MasterEvents> {
  readonly #options: ResolvedMasterOptions;
  readonly #log: Logger;
  readonly #slots: Slot[] = [];
  readonly #handles = new Set<WorkerHandle>();
  readonly #failures = new Map<number, WorkerFailure>();
  #state: MasterState = 'new';
  readonly #restarts = new SerialRun<RestartReport>();
  readonly #rolling: RollingRestart;
  #stopping: Promise<void> | undefined;
  #onStartProgress: (() => void) | undefined;
  readonly #rotation: Rotation;
  /**
   * Where the workers' app listens, for the heartbeat's cluster2 `port` and monitor path: the
   * first address a worker listened on (on `readyOn`'s port, or the first fixed port, if given).
   */
  #appAddress: { address: string; port: number } | undefined;
  /** When each worker was last warned about a malformed message. */
  readonly #malformedWarnedAt = new WeakMap<WorkerHandle, number>();
  readonly #router: RequestRouter;
  readonly #upkeep: Upkeep;
  readonly #hooks: ProcessHooks;
  readonly #workerPidFiles: WorkerPidFiles | undefined;

  /** Throws a {@link MasterError} for a bad option. */
  constructor(options?: MasterOptions) {
    super();
    this.#options = readOptions(options);
    this.#log = this.#options.logger;
    this.#router = new RequestRouter(this.#log);
    this.#rotation = new Rotation({
      heartbeat: this.#options.heartbeat,
      log: this.#log,
      handles: () => this.#handles,
      state: () => ({
        ready: this.#readyCount(),
        total: this.#slots.length,
        isStarted: this.#state === 'running',
        failedSlots: this.#slots.filter((slot) => slot.isFailed).length,
        appAddress: this.#appAddress,
        servingVersions: this.#slots
          .map((slot) => slot.current)
          .filter((handle): handle is WorkerHandle => handle?.state === 'ready')
          .map((handle) => handle.version),
      }),
    });
    this.#workerPidFiles =
      this.#options.pidDir === undefined
        ? undefined
        : new WorkerPidFiles(this.#options.pidDir, this.#log);
    this.#rolling = new RollingRestart({
      maxSurge: this.#options.maxSurge,
      log: this.#log,
      fork: (slot) => this.#fork(slot),
      isRunning: () => this.#state === 'running',
      emit: (event, ...args) => {
        this.#emitAndLog(event, ...args);
      },
    });
    this.#hooks = new ProcessHooks(this.#options, {
      stop: (afterDelay) => this.#stopAfterDelay(afterDelay),
      restart: () => {
        // A restart that aborts logs itself; one refused because the master is not running yet
        // (or any more) would otherwise vanish without a word.
        this.restart().catch((error: unknown) => {
          if (
            error instanceof MasterError &&
            error.code !== 'LASTCALL_ERR_MASTER_RESTART_ABORTED'
          ) {
            this.#log.warn(`restart signal ignored: ${error.message}`, { code: error.code });
          }
        });
      },
      shuttingDown: () => {
        this.#rotation.beginShutdown(this.#options.shutdownDelay > 0);
      },
      reopenWorkerLogs: () => {
        for (const handle of this.#handles) handle.send({ lastcall: 1, type: 'reopen-logs' });
      },
      killAll: () => {
        for (const handle of this.#handles) handle.kill();
        this.#workerPidFiles?.removeAll();
      },
    });
    this.#upkeep = new Upkeep(this.#options.recycle, this.#options.health, {
      servingWorkers: () =>
        this.#slots
          .map((slot) => slot.current)
          .filter((handle): handle is WorkerHandle => handle?.state === 'ready'),
      infoOf: (handle) => this.#infoOf(handle),
      slotOf: (handle) => this.#slots[handle.slot],
      options: this.#options,
      replace: (handle, reason) => this.#replaceForUpkeep(handle, reason),
      isRestarting: () => this.#restarts.isRunning,
      emit: (event, ...args) => {
        this.#emitAndLog(event, ...args);
      },
      log: this.#log,
    });
  }

  /**
   * Answers `requestMaster(type, payload)` calls of the workers with what `handler` returns (or
   * resolves to). One handler per type; a throw or rejection reaches the worker as
   * `LASTCALL_ERR_MASTER_REQUEST_FAILED` with its message. cluster2's raw
   * `{ type: 'delegate', delegate: type, expect?, matches?, timeout? }` messages reach the same
   * handler and are answered as cluster2 did (see the README).
   */
  handle(type: string, handler: RequestHandler): this {
    this.#router.add(type, handler);
    return this;
  }

  /** Where the heartbeat listens, once started with one. */
  heartbeatAddress(): { address: string; port: number } | undefined {
    const address = this.#rotation.heartbeat.address();
    return address === undefined ? undefined : { address: address.address, port: address.port };
  }

  /** What the heartbeat answers now (also without a heartbeat listener). */
  health(): { statusCode: number; body: HeartbeatBody } {
    return this.#rotation.heartbeat.report();
  }

  /**
   * The master's settings for a Graceful started for it: a deadline that covers its
   * `shutdownDelay`, drain and kill, and no delay of graceful's own (the master waits its own).
   */
  get gracefulOptions(): { timeout: number; shutdownDelay: 0 } {
    return masterGracefulOptions(this.#options);
  }

  /** The ms between a shutdown's first moment and the drain (see `shutdownDelay`). */
  get shutdownDelay(): number {
    return this.#options.shutdownDelay;
  }

  /** True while the node is out of rotation by `disable()` (or the heartbeat's route). */
  get isDisabled(): boolean {
    return this.#rotation.heartbeat.isDisabled;
  }

  /**
   * Takes this node out of rotation: the heartbeat (`<path>`, `/readyz`) answers 503
   * `disabled`, and every worker says `Connection: close` on each response while it serves on,
   * so that kept-alive clients move elsewhere. Undone by {@link enable}. Idempotent.
   */
  disable(): void {
    this.#rotation.heartbeat.setDisabled(true);
  }

  /** Puts the node back into rotation after {@link disable}; keep-alive on again. */
  enable(): void {
    this.#rotation.heartbeat.setDisabled(false);
  }

  /**
   * Forks the workers; resolves when every one is ready. Rejects with
   * `LASTCALL_ERR_MASTER_START_FAILED` when none is ready within `readyTimeout` (with each
   * slot's last exit code and stderr tail), or `LASTCALL_ERR_MASTER_PORT_IN_USE` as soon as a
   * worker fails on EADDRINUSE; every worker is stopped then.
   */
  async start(): Promise<void> {
    if (!cluster.isPrimary) {
      throw new MasterError(
        'LASTCALL_ERR_MASTER_NOT_PRIMARY',
        'Master.start(): not in the cluster primary',
      );
    }
    if (this.#state !== 'new') {
      throw new MasterError(
        'LASTCALL_ERR_MASTER_ALREADY_STARTED',
        'Master.start(): already started',
      );
    }
    // Asked first: a workers() function that answers nonsense throws before anything is set up.
    const count = this.#options.workers();
    this.#state = 'starting';
    this.#hooks.install();
    try {
      if (this.#options.pidDir !== undefined) preparePidDir(this.#options.pidDir);
      if (this.#options.pidFile !== undefined) writePidFile(this.#options.pidFile);
      this.#workerPidFiles?.removeStale();
      if (this.#options.heartbeat !== undefined) await this.#rotation.heartbeat.listen();
    } catch (error) {
      this.#state = 'stopped';
      this.#hooks.uninstall();
      throw error;
    }
    for (let index = 0; index < count; index += 1) this.#slots.push(new Slot(index));
    this.#log.info('starting', { workers: count });
    const groupWarning = workerGroupWarning();
    if (groupWarning !== undefined) this.#log.warn(groupWarning);
    if (process.pid === 1) this.#log.warn(PID_1_WARNING);
    const outcome = new Promise<MasterError | undefined>((resolve) => {
      const timer = setTimeout(() => {
        resolve(this.#readyCount() > 0 ? undefined : this.#startError());
      }, this.#options.readyTimeout);
      this.#onStartProgress = () => {
        const inUse = portInUse(this.#failures.values());
        if (inUse !== undefined || this.#readyCount() === count) {
          clearTimeout(timer);
          resolve(inUse);
        }
      };
    });
    for (const slot of this.#slots) void this.#respawn(slot);
    const error = await outcome;
    this.#onStartProgress = undefined;
    if (error !== undefined) {
      this.#log.error(error.message, { code: error.code });
      await this.stop();
      throw error;
    }
    if (this.#readyCount() < count) {
      this.#log.warn(
        `started with ${String(this.#readyCount())} of ${String(count)} workers ready`,
        {
          failures: describeFailures([...this.#failures.values()]),
        },
      );
    }
    this.#state = 'running';
    this.#upkeep.start();
    this.#log.info('ready', { workers: this.#readyCount() });
  }

  /**
   * Rolling restart: for each slot, `maxSurge` at a time, forks the replacement, waits until it
   * is ready, then drains the old worker. A replacement that exits or is not ready in time
   * aborts the restart (`LASTCALL_ERR_MASTER_RESTART_ABORTED`, with its exit code and stderr
   * tail); the old workers go on serving. A call during a restart is queued: every call made
   * meanwhile gets the one restart that runs next.
   */
  restart(): Promise<RestartReport> {
    if (this.#state !== 'running') {
      return Promise.reject(
        new MasterError(
          this.#state === 'new' || this.#state === 'starting'
            ? 'LASTCALL_ERR_MASTER_NOT_STARTED'
            : 'LASTCALL_ERR_MASTER_STOPPED',
          `Master.restart(): the master is ${this.#state}`,
        ),
      );
    }
    return this.#restarts.run(() => this.#rolling.run([...this.#slots]));
  }

  /**
   * Drains every worker; resolves when all have exited. With `{ force: true }`, an immediate
   * stop instead: SIGKILL to every worker and its process group (its children go with it), no
   * drain; a call during a graceful stop escalates it the same way. Rejects with
   * `LASTCALL_ERR_MASTER_INVALID_OPTIONS` for options that are not `{ force?: boolean }`.
   */
  stop(options?: { readonly force?: boolean }): Promise<void> {
    // Callers in plain JavaScript may pass anything.
    const given: unknown = options;
    const force = (given as { force?: unknown } | null | undefined)?.force;
    if (
      (given !== undefined && (typeof given !== 'object' || given === null)) ||
      (force !== undefined && typeof force !== 'boolean')
    ) {
      return Promise.reject(
        new MasterError(
          'LASTCALL_ERR_MASTER_INVALID_OPTIONS',
          `Master.stop(): options must be { force?: boolean }, got ${describeValue(options)}`,
        ),
      );
    }
    if (this.#stopping !== undefined) {
      if (force === true) this.#killAll('the graceful stop under way is escalated');
      return this.#stopping;
    }
    this.#state = 'stopping';
    this.#rotation.beginShutdown(false);
    this.#upkeep.stop();
    for (const slot of this.#slots) slot.cancelRespawn();
    this.#log.info('stopping', { workers: this.#handles.size, force: force === true });
    const handles = [...this.#handles];
    if (force === true) this.#killAll('forced stop');
    this.#stopping = Promise.all(
      handles.map((handle) => (force === true ? handle.exited : handle.drain())),
    )
      .then(() => this.#rotation.heartbeat.close())
      .then(() => {
        this.#workerPidFiles?.removeAll();
        this.#state = 'stopped';
        this.#hooks.uninstall();
        this.#log.info('stopped');
      });
    return this.#stopping;
  }

  /**
   * The drain of a shutdown. After a shutdownDelay, whose `Connection: close` made every client
   * still here reconnect on each request, keep-alive comes back on for {@link KEEP_ALIVE_SETTLE}
   * first: a balancer has stopped routing here by now, and a client that is reconnecting at the
   * moment the listeners close would be reset; on a kept-alive connection it is answered, then
   * told to close by the drain, and finds the port closed.
   */
  async #stopAfterDelay(afterDelay: boolean): Promise<void> {
    if (afterDelay && this.#state === 'running') {
      this.#rotation.endDelay();
      await new Promise((resolve) => setTimeout(resolve, KEEP_ALIVE_SETTLE));
    }
    await this.stop();
  }

  /** SIGKILL to every worker and its process group. */
  #killAll(why: string): void {
    this.#log.warn(`${why}: SIGKILL to every worker and its process group`, {
      workers: [...this.#handles].map((handle) => this.#workerInfo(handle)),
    });
    for (const handle of this.#handles) handle.kill();
  }

  /** One row per worker alive, by slot (a draining worker next to its replacement). */
  status(): WorkerInfo[] {
    return [...this.#handles]
      .sort((a, b) => a.slot - b.slot || a.id - b.id)
      .map((handle) => this.#infoOf(handle));
  }

  #infoOf(handle: WorkerHandle): WorkerInfo {
    const slot = this.#slots[handle.slot];
    return {
      slot: handle.slot,
      port: this.#options.ports?.[handle.slot],
      id: handle.id,
      pid: handle.pid,
      state: handle.state,
      uptime: Date.now() - handle.forkedAt,
      restarts: slot?.restarts ?? 0,
      rss: handle.rss,
      requests: handle.requests,
      connections: handle.connections,
      connectionsServed: handle.connectionsServed,
      droppedOutput: handle.droppedOutput,
      lastExit: slot?.lastExit,
    };
  }

  async #replaceForUpkeep(handle: WorkerHandle, reason: string): Promise<void> {
    const slot = this.#slots[handle.slot];
    if (slot?.current !== handle || this.#state !== 'running') return;
    this.#emitAndLog('recycle', { ...this.#workerInfo(handle), reason });
    try {
      await this.#rolling.replace(slot);
    } catch (error) {
      const detail =
        error instanceof NotReadyError ? describeFailures([error.failure]) : String(error);
      this.#log.error(`the replacement failed; the old worker serves on: ${detail}`, { reason });
    }
  }

  /** Forks the slot's worker; the slot's current one is replaced once this one is forked. */
  async #respawn(slot: Slot): Promise<void> {
    try {
      const previous = slot.current;
      const handle = await this.#fork(slot);
      slot.current = handle;
      // A worker that shut down by itself keeps listening until its replacement is ready.
      if (previous !== undefined && previous.state !== 'exited') {
        handle.ready.then(
          () => void previous.drain(),
          () => undefined,
        );
      }
    } catch (error) {
      this.#log.error(`slot ${String(slot.index)}: could not fork`, { err: error });
    }
  }

  async #fork(slot: Slot): Promise<WorkerHandle> {
    if (this.#options.beforeFork !== undefined) await this.#options.beforeFork(slot.index);
    if (this.#state === 'stopping' || this.#state === 'stopped') {
      throw new MasterError('LASTCALL_ERR_MASTER_STOPPED', 'fork: the master is stopping');
    }
    const handle = forkWorker(this.#options, slot.index, this.#observer);
    this.#handles.add(handle);
    this.#rotation.forked(handle);
    this.#emitAndLog('fork', this.#workerInfo(handle));
    return handle;
  }

  /**
   * A worker received SIGTERM, SIGINT or SIGHUP and left it to the master. Sent to the whole
   * process group, the same signal reaches the master within moments, and the master's own
   * shutdown drains every worker in its order: nothing to do here. Sent to that worker alone, it
   * is replaced through the rolling path, its replacement ready before it drains.
   */
  #onWorkerSignal(handle: WorkerHandle, signal: NodeJS.Signals): void {
    setTimeout(() => {
      if (this.#rotation.isShuttingDown || this.#state !== 'running' || handle.state !== 'ready') {
        return;
      }
      void this.#replaceForUpkeep(handle, `${signal} sent to the worker alone`);
    }, GROUP_SIGNAL_WINDOW).unref();
  }

  readonly #observer: WorkerObserver = {
    transition: (handle, from, to, why) => {
      this.#log.debug(`worker ${String(handle.slot)}: ${from} → ${to} (${why})`, {
        ...this.#workerInfo(handle),
        from,
        to,
      });
    },
    restartRequest: (handle, reason) => {
      if (this.#state !== 'running' || this.#slots[handle.slot]?.current !== handle) return;
      if (this.#upkeep.request(handle, reason)) {
        this.#log.info(`worker ${String(handle.slot)} asked to be replaced; queued`, {
          ...this.#workerInfo(handle),
          reason,
        });
      }
    },
    signal: (handle, signal) => {
      this.#onWorkerSignal(handle, signal);
    },
    malformed: (handle, type) => {
      // One warning per worker every MALFORMED_WARNING_INTERVAL: a worker that floods the
      // channel with garbage must not flood the log too.
      const now = Date.now();
      const last = this.#malformedWarnedAt.get(handle);
      if (last !== undefined && now - last < MALFORMED_WARNING_INTERVAL) return;
      this.#malformedWarnedAt.set(handle, now);
      this.#log.warn(
        `worker ${String(handle.slot)} sent a lastcall message of an unknown type or shape; ignored (at most one such warning every ${String(MALFORMED_WARNING_INTERVAL / 1000)} s)`,
        {
          slot: handle.slot,
          pid: handle.pid,
          type: typeof type === 'string' ? type.slice(0, 100) : typeof type,
        },
      );
    },
    handlerFailed: (handle, event, error) => {
      this.#log.error(
        `a handler of worker ${String(handle.slot)}'s ${event} event threw; ignored`,
        {
          slot: handle.slot,
          err: error,
        },
      );
    },
    request: (handle, message) => {
      void this.#router.answer(handle, message);
    },
    delegate: (handle, message) => {
      void this.#router.delegate(handle, message);
    },
    listening: (handle, address) => {
      const { readyOn, ports } = this.#options;
      const appPort = typeof readyOn === 'object' ? readyOn.port : ports?.[0];
      if (appPort === undefined || address.port === appPort) this.#appAddress ??= address;
      this.#emitAndLog('listening', { ...this.#workerInfo(handle), ...address });
    },
    ready: (handle) => {
      this.#failures.delete(handle.slot);
      this.#workerPidFiles?.write(handle.slot, handle.pid);
      this.#emitAndLog('ready', { ...this.#workerInfo(handle), startup: handle.startup ?? 0 });
      this.#onStartProgress?.();
    },
    draining: (handle, reason) => {
      this.#emitAndLog('drain', {
        ...this.#workerInfo(handle),
        reason: describeDrainReason(reason),
      });
      const slot = this.#slots[handle.slot];
      // The only worker serving its port keeps listening until its replacement is ready; with
      // others beside it, it closes its listener at once and they take its connections.
      const othersServing = this.#slots.filter(
        (other) => other !== slot && other.current?.state === 'ready',
      ).length;
      // A worker that was never ready holds nothing worth keeping: it goes at once, with its
      // exit code and stderr for the start or restart that waits on it.
      const wasEverReady = handle.startup !== undefined;
      const isAlone = this.#options.ports !== undefined || othersServing === 0;
      handle.send({ lastcall: 1, type: isAlone && wasEverReady ? 'hold' : 'go' });
      if (slot?.current === handle) this.#replaceLost(slot, handle);
    },
    exit: (handle, exit) => {
      this.#handles.delete(handle);
      this.#workerPidFiles?.remove(handle.slot, handle.pid);
      this.#emitAndLog('exit', { ...this.#workerInfo(handle), ...exit });
      const slot = this.#slots[handle.slot];
      if (slot === undefined) return;
      if (exit.reason === 'failed-start') {
        this.#failures.set(slot.index, {
          slot: slot.index,
          pid: handle.pid,
          reason: 'exited',
          code: exit.code,
          signal: exit.signal,
          stderrTail: handle.stderrTail,
        });
      }
      slot.lastExit = exit;
      if (slot.current !== handle) return;
      if (exit.reason !== 'drained' && !slot.isRespawnPending) this.#replaceLost(slot, handle);
      if (slot.current === handle) slot.current = undefined;
      this.#onStartProgress?.();
    },
  };

  /**
   * A slot lost its worker (a crash, a death): re-fork, with backoff when it died young (the
   * first young crash of a worker that had become ready is re-forked at once, see
   * {@link Slot.decide}).
   */
  #replaceLost(slot: Slot, lost: WorkerHandle): void {
    if (this.#state === 'stopping' || this.#state === 'stopped' || slot.isRespawnPending) return;
    const now = Date.now();
    const wasReady = lost.startup !== undefined;
    const decision = slot.decide(now - lost.forkedAt, this.#options, now, wasReady);
    if (decision.kind === 'failed') {
      this.#emitAndLog('failed', {
        slot: slot.index,
        restarts: decision.restarts,
        window: this.#options.restartWindow,
      });
      return;
    }
    this.#emitAndLog('respawn', {
      slot: slot.index,
      delay: decision.delay,
      restarts: decision.restarts,
    });
    // No timer for a worker re-forked at once: on a loaded event loop even a 0 ms timer waits
    // behind every callback queued before it.
    if (decision.delay === 0) void this.#respawn(slot);
    else slot.scheduleRespawn(decision.delay, () => void this.#respawn(slot));
  }

  #readyCount(): number {
    return this.#slots.filter((slot) => slot.current?.state === 'ready').length;
  }

  #startError(): MasterError {
    const failures = [...this.#failures.values()];
    return new MasterError(
      'LASTCALL_ERR_MASTER_START_FAILED',
      `no worker became ready within ${String(this.#options.readyTimeout)} ms: ${describeFailures(failures)}`,
      { failures },
    );
  }

  #workerInfo(handle: WorkerHandle): { slot: number; id: number; pid: number | undefined } {
    return { slot: handle.slot, id: handle.id, pid: handle.pid };
  }

  #emitAndLog<E extends keyof MasterEvents>(event: E, ...args: MasterEvents[E]): void {
    const [info] = args;
    const isTrouble =
      event === 'failed' || (event === 'exit' && (info as WorkerExit).reason !== 'drained');
    const fields = { event, ...(info as object) };
    // A rolling restart's abort is logged by the restart itself, as an error with its failures.
    const level = event === 'restartAborted' ? undefined : isTrouble ? 'warn' : 'info';
    if (level !== undefined) this.#log[level](`worker ${event}`, fields);
    try {
      (this.emit as (name: E, ...rest: MasterEvents[E]) => boolean)(event, ...args);
    } catch (error) {
      this.#log.error(`a "${event}" listener threw`, { err: error });
    }
  }
}
