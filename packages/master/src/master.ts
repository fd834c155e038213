import cluster from 'node:cluster';
import { EventEmitter } from 'node:events';
import { Graceful } from '@lastcall/graceful';
import { reopenLogs } from '@lastcall/log-shim';
import type { Logger } from '@lastcall/log-shim';
import { MasterError } from './errors';
import type { WorkerFailure } from './errors';
import { NotReadyError, describeFailures, portInUse } from './failures';
import { readOptions } from './options';
import type { ResolvedMasterOptions } from './options';
import { DRAIN_TIMEOUT_ENV, MASTER_ENV, SLOT_ENV } from './protocol';
import { Heartbeat } from './heartbeat';
import type { HeartbeatBody } from './heartbeat';
import { removePidFile, writePidFile } from './pid-file';
import { Slot } from './slot';
import { Upkeep } from './upkeep';
import type { MasterEvents, MasterOptions, RestartReport, WorkerExit, WorkerInfo } from './types';
import { WorkerHandle } from './worker-handle';
import type { WorkerObserver } from './worker-handle';

/** The worker runtime every worker loads before the app (`--require`). */
const RUNTIME = require.resolve('./worker-runtime');

type MasterState = 'new' | 'starting' | 'running' | 'stopping' | 'stopped';

type RestartStep = RestartReport['replaced'][number];

/** A handler of `requestMaster(type, payload)` calls, registered with {@link Master.handle}. */
export type RequestHandler = (
  payload: unknown,
  from: { readonly slot: number; readonly id: number; readonly pid: number | undefined },
) => unknown;

const noop = (): void => undefined;

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
  #restartRun: Promise<RestartReport> | undefined;
  #restartQueued: Promise<RestartReport> | undefined;
  #stopping: Promise<void> | undefined;
  #onStartProgress: (() => void) | undefined;
  #onRestartSignal: (() => void) | undefined;
  #onReopenSignal: (() => void) | undefined;
  #heartbeat: Heartbeat | undefined;
  #isShuttingDown = false;
  readonly #handlers = new Map<string, RequestHandler>();
  readonly #upkeep: Upkeep;

  /** Throws a {@link MasterError} for a bad option. */
  constructor(options?: MasterOptions) {
    super();
    this.#options = readOptions(options);
    this.#log = this.#options.logger;
    this.#upkeep = new Upkeep(this.#options.recycle, this.#options.health, {
      servingWorkers: () =>
        this.#slots
          .map((slot) => slot.current)
          .filter((handle): handle is WorkerHandle => handle?.state === 'ready'),
      infoOf: (handle) => this.#infoOf(handle),
      replace: (handle, reason) => this.#replaceForUpkeep(handle, reason),
      isRestarting: () => this.#restartRun !== undefined,
      log: this.#log,
    });
  }

  /**
   * Answers `requestMaster(type, payload)` calls of the workers with what `handler` returns (or
   * resolves to). One handler per type; a throw or rejection reaches the worker as
   * `LASTCALL_ERR_MASTER_REQUEST_FAILED` with its message.
   */
  handle(type: string, handler: RequestHandler): this {
    if (typeof type !== 'string' || type === '' || typeof handler !== 'function') {
      throw new MasterError(
        'LASTCALL_ERR_MASTER_INVALID_HANDLER',
        'Master.handle(type, handler): expected a non-empty string and a function',
      );
    }
    if (this.#handlers.has(type)) {
      throw new MasterError(
        'LASTCALL_ERR_MASTER_INVALID_HANDLER',
        `Master.handle(): a handler for "${type}" is registered already`,
      );
    }
    this.#handlers.set(type, handler);
    return this;
  }

  /** Where the heartbeat listens, once started with one. */
  heartbeatAddress(): { address: string; port: number } | undefined {
    const address = this.#heartbeat?.address();
    return address === undefined ? undefined : { address: address.address, port: address.port };
  }

  /** What the heartbeat answers now (also without a heartbeat listener). */
  health(): { statusCode: number; body: HeartbeatBody } {
    return this.#heartbeatFor().report();
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
    this.#install();
    try {
      if (this.#options.pidFile !== undefined) writePidFile(this.#options.pidFile);
      if (this.#options.heartbeat !== undefined) await this.#listenHeartbeat();
    } catch (error) {
      this.#state = 'stopped';
      this.#uninstall();
      throw error;
    }
    for (let index = 0; index < count; index += 1) this.#slots.push(new Slot(index));
    this.#log.info('starting', { workers: count });
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
    if (this.#restartRun === undefined) return this.#beginRestart();
    this.#restartQueued ??= this.#restartRun.then(noop, noop).then(() => {
      this.#restartQueued = undefined;
      return this.#beginRestart();
    });
    return this.#restartQueued;
  }

  /** Drains every worker; resolves when all have exited. */
  stop(): Promise<void> {
    if (this.#stopping !== undefined) return this.#stopping;
    this.#state = 'stopping';
    this.#isShuttingDown = true;
    this.#upkeep.stop();
    for (const slot of this.#slots) slot.cancelRespawn();
    this.#log.info('stopping', { workers: this.#handles.size });
    this.#stopping = Promise.all([...this.#handles].map((handle) => handle.drain()))
      .then(() => this.#heartbeat?.close())
      .then(() => {
        this.#state = 'stopped';
        this.#uninstall();
        this.#log.info('stopped');
      });
    return this.#stopping;
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
      lastExit: slot?.lastExit,
    };
  }

  #heartbeatFor(): Heartbeat {
    const settings = this.#options.heartbeat ?? {
      port: 0,
      host: '127.0.0.1',
      path: '/ecv',
      token: undefined,
      version: undefined,
      minReady: 1,
    };
    this.#heartbeat ??= new Heartbeat(settings, () => ({
      ready: this.#readyCount(),
      total: this.#slots.length,
      minReady: settings.minReady,
      isShuttingDown: this.#isShuttingDown,
      isStarted: this.#state === 'running',
      failedSlots: this.#slots.filter((slot) => slot.isFailed).length,
    }));
    return this.#heartbeat;
  }

  async #listenHeartbeat(): Promise<void> {
    const heartbeat = this.#heartbeatFor();
    try {
      await heartbeat.listen();
    } catch (error) {
      const { host, port } = this.#options.heartbeat ?? { host: '', port: 0 };
      const isInUse = (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
      throw new MasterError(
        isInUse ? 'LASTCALL_ERR_MASTER_PORT_IN_USE' : 'LASTCALL_ERR_MASTER_START_FAILED',
        `the heartbeat could not listen on ${host}:${String(port)}: ${isInUse ? 'address already in use' : (error as Error).message}`,
        { cause: error },
      );
    }
  }

  async #replaceForUpkeep(handle: WorkerHandle, reason: string): Promise<void> {
    const slot = this.#slots[handle.slot];
    if (slot?.current !== handle || this.#state !== 'running') return;
    this.#emitAndLog('recycle', { ...this.#workerInfo(handle), reason });
    try {
      await this.#replace(slot);
    } catch (error) {
      const detail =
        error instanceof NotReadyError ? describeFailures([error.failure]) : String(error);
      this.#log.error(`the replacement failed; the old worker serves on: ${detail}`, { reason });
    }
  }

  #beginRestart(): Promise<RestartReport> {
    const run = this.#runRestart();
    this.#restartRun = run;
    void run.then(noop, noop).then(() => {
      if (this.#restartRun === run) this.#restartRun = undefined;
    });
    return run;
  }

  async #runRestart(): Promise<RestartReport> {
    const startedAt = Date.now();
    const slots = [...this.#slots];
    this.#emitAndLog('restart', { workers: slots.length });
    const replaced: RestartStep[] = [];
    for (let first = 0; first < slots.length; first += this.#options.maxSurge) {
      const batch = slots.slice(first, first + this.#options.maxSurge);
      const results = await Promise.allSettled(batch.map((slot) => this.#replace(slot)));
      const failures: WorkerFailure[] = [];
      for (const result of results) {
        if (result.status === 'fulfilled') replaced.push(result.value);
        else if (result.reason instanceof NotReadyError) failures.push(result.reason.failure);
        else throw result.reason;
      }
      if (failures.length > 0) throw this.#abortRestart(failures);
      if (this.#state !== 'running') {
        throw new MasterError(
          'LASTCALL_ERR_MASTER_STOPPED',
          'rolling restart: the master is stopping',
        );
      }
    }
    const report: RestartReport = { replaced, duration: Date.now() - startedAt };
    this.#emitAndLog('restartDone', report);
    return report;
  }

  async #replace(slot: Slot): Promise<RestartStep> {
    let fresh: WorkerHandle;
    try {
      fresh = await this.#fork(slot);
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
    if (this.#state !== 'running') {
      await fresh.drain();
      throw new MasterError(
        'LASTCALL_ERR_MASTER_STOPPED',
        'rolling restart: the master is stopping',
      );
    }
    // Read only now: a crash during the replacement's start may have replaced the old one.
    const old = slot.current;
    slot.cancelRespawn();
    slot.revive();
    slot.current = fresh;
    const step: RestartStep = { slot: slot.index, oldPid: old?.pid, newPid: fresh.pid };
    this.#emitAndLog('restartStep', step);
    if (old !== undefined) {
      this.#emitAndLog('drain', { ...this.#workerInfo(old), reason: 'restart' });
      await old.drain();
    }
    return step;
  }

  #abortRestart(failures: WorkerFailure[]): MasterError {
    const error = new MasterError(
      'LASTCALL_ERR_MASTER_RESTART_ABORTED',
      `rolling restart aborted; the old workers go on serving: ${describeFailures(failures)}`,
      { failures },
    );
    const first = failures[0];
    this.emit('restartAborted', { slot: first?.slot ?? -1, error });
    this.#log.error(error.message, { code: error.code, failures });
    return error;
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
    const { exec, args, env, readyOn, readyTimeout, drainTimeout, killTimeout } = this.#options;
    // Only what is given: cluster keeps its own defaults (the current script and its arguments).
    cluster.setupPrimary({
      ...(exec === undefined ? {} : { exec }),
      ...(args === undefined ? {} : { args: [...args] }),
      silent: true,
      execArgv: [...process.execArgv, '--require', RUNTIME],
    });
    const port = this.#options.ports?.[slot.index];
    const worker = cluster.fork({
      ...env,
      ...(port === undefined ? {} : { PORT: String(port) }),
      [MASTER_ENV]: '1',
      [SLOT_ENV]: String(slot.index),
      [DRAIN_TIMEOUT_ENV]: String(drainTimeout),
    });
    // Fixed-port mode: a worker is ready when it listens on its own port.
    const times = {
      readyOn: port !== undefined && readyOn === 'listening' ? { port } : readyOn,
      readyTimeout,
      drainTimeout,
      killTimeout,
    };
    const handle = new WorkerHandle(slot.index, worker, times, this.#observer);
    this.#handles.add(handle);
    this.#emitAndLog('fork', this.#workerInfo(handle));
    return handle;
  }

  readonly #observer: WorkerObserver = {
    request: (handle, message) => {
      void this.#answer(handle, message);
    },
    listening: (handle, address) => {
      this.#emitAndLog('listening', { ...this.#workerInfo(handle), ...address });
    },
    ready: (handle) => {
      this.#failures.delete(handle.slot);
      this.#emitAndLog('ready', { ...this.#workerInfo(handle), startup: handle.startup ?? 0 });
      this.#onStartProgress?.();
    },
    draining: (handle, reason) => {
      this.#emitAndLog('drain', {
        ...this.#workerInfo(handle),
        reason: JSON.stringify(reason ?? {}),
      });
      const slot = this.#slots[handle.slot];
      // The only worker serving its port keeps listening until its replacement is ready; with
      // others beside it, it closes its listener at once and they take its connections.
      const othersServing = this.#slots.filter(
        (other) => other !== slot && other.current?.state === 'ready',
      ).length;
      const isAlone = this.#options.ports !== undefined || othersServing === 0;
      handle.send({ lastcall: 1, type: isAlone ? 'hold' : 'go' });
      if (slot?.current === handle) this.#replaceLost(slot, Date.now() - handle.forkedAt);
    },
    exit: (handle, exit) => {
      this.#handles.delete(handle);
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
      if (exit.reason !== 'drained' && !slot.isRespawnPending) this.#replaceLost(slot, exit.uptime);
      if (slot.current === handle) slot.current = undefined;
      this.#onStartProgress?.();
    },
  };

  async #answer(handle: WorkerHandle, message: Record<string, unknown>): Promise<void> {
    const { id, name, payload } = message;
    if (typeof id !== 'number' || typeof name !== 'string') {
      this.#log.warn('a malformed request from a worker is ignored', {
        ...this.#workerInfo(handle),
      });
      return;
    }
    const handler = this.#handlers.get(name);
    const reply = (fields: object): void => {
      handle.send({ lastcall: 1, type: 'response', id, ...fields });
    };
    if (handler === undefined) {
      reply({
        ok: false,
        error: { code: 'LASTCALL_ERR_MASTER_REQUEST_UNKNOWN', message: `no handler for "${name}"` },
      });
      return;
    }
    try {
      const value: unknown = await handler(payload, this.#workerInfo(handle));
      reply({ ok: true, value });
    } catch (error) {
      reply({
        ok: false,
        error: { message: error instanceof Error ? error.message : String(error) },
      });
    }
  }

  /** A slot lost its worker (a crash, a death): re-fork, with backoff when it died young. */
  #replaceLost(slot: Slot, uptime: number): void {
    if (this.#state === 'stopping' || this.#state === 'stopped' || slot.isRespawnPending) return;
    const decision = slot.decide(uptime, this.#options);
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
    slot.scheduleRespawn(decision.delay, () => void this.#respawn(slot));
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
    if (isTrouble) this.#log.warn(`worker ${event}`, fields);
    else this.#log.info(`worker ${event}`, fields);
    try {
      (this.emit as (name: E, ...rest: MasterEvents[E]) => boolean)(event, ...args);
    } catch (error) {
      this.#log.error(`a "${event}" listener threw`, { err: error });
    }
  }

  #install(): void {
    // The master's own deadline must leave room for a worker's drain and kill.
    const graceful =
      this.#options.graceful ??
      (Graceful.instance === undefined
        ? Graceful.start({ timeout: this.#options.drainTimeout + this.#options.killTimeout + 2000 })
        : Graceful.start());
    graceful.onShutdown(() => this.stop(), { name: 'lastcall master' });
    // The heartbeat turns 503 at the first moment of shutdown, before graceful's delay.
    graceful.once('draining', () => {
      this.#isShuttingDown = true;
    });
    // However the master ends, no worker outlives it.
    process.once('exit', this.#killAll);
    const signal = this.#options.restartSignal;
    if (signal !== null) {
      this.#onRestartSignal = () => {
        this.#log.info(`${signal} received; rolling restart`);
        this.restart().catch(noop);
      };
      process.on(signal, this.#onRestartSignal);
    }
    // SIGUSR2 is logrotate's habit for reopening log files: when it is not the restart signal,
    // it reopens those of setupLogs(), in the master and in every worker.
    if (signal !== 'SIGUSR2') {
      this.#onReopenSignal = () => {
        reopenLogs();
        for (const handle of this.#handles) handle.send({ lastcall: 1, type: 'reopen-logs' });
      };
      process.on('SIGUSR2', this.#onReopenSignal);
    }
  }

  #uninstall(): void {
    const signal = this.#options.restartSignal;
    if (signal !== null && this.#onRestartSignal !== undefined) {
      process.off(signal, this.#onRestartSignal);
    }
    if (this.#onReopenSignal !== undefined) process.off('SIGUSR2', this.#onReopenSignal);
    process.off('exit', this.#killAll);
    if (this.#options.pidFile !== undefined) removePidFile(this.#options.pidFile);
  }

  readonly #killAll = (): void => {
    for (const handle of this.#handles) handle.kill();
    if (this.#options.pidFile !== undefined) removePidFile(this.#options.pidFile);
  };
}
