import { EventEmitter } from 'node:events';
import * as os from 'node:os';
import { describeValue } from '@lastcall/log-shim';
import type { Logger } from '@lastcall/log-shim';
import { delay, untilAborted } from './abortable-wait';
import { GracefulError } from './errors';
import { ExitChecks } from './exit-checks';
import { runHooks } from './hooks';
import { detectTestRunner, nodeProcess } from './in-process-test';
import type { RegisteredHook } from './hooks';
import { resolveOptions } from './options';
import type { ResolvedOptions } from './options';
import { leaveCluster, roleOf, tellParent, watchParent } from './process-role';
import { describeReason, exitCodeOf } from './shutdown-reason';
import { isSignalDeferred } from './signal-deferral';
import type {
  CheckOptions,
  ErrorContext,
  ErrorContextProvider,
  ErrorInfo,
  ErrorOrigin,
  ExitCheck,
  GracefulEvents,
  GracefulOptions,
  GracefulState,
  HookOptions,
  ShutdownHook,
  ShutdownReason,
} from './types';

/**
 * The process-wide shutdown coordinator. On a signal, an uncaught error, the IPC channel of a
 * cluster worker closing or a call to {@link Graceful.shutdown}: readiness turns false, then
 * after `shutdownDelay` the hooks run (the last registered first), then the exit checks, then
 * `exit(code)`, all within `timeout`. Creating one installs nothing; {@link Graceful.start} does.
 *
 * Under a test runner (mocha, jest, `node:test`, vitest: see `isInProcessTest`) or with
 * `inProcessTest: true`, it installs nothing that exits the process and never calls `exit`: an
 * error is the failure of the test that caused it, and the runner prints its own report and
 * sets the exit code.
 */
export class Graceful extends EventEmitter<GracefulEvents> {
  static #instance: Graceful | undefined;

  /** The one instance of this process, once created. */
  static get instance(): Graceful | undefined {
    return Graceful.#instance;
  }

  /**
   * Returns the process's instance, creating it with `options` on the first call, and makes sure
   * its handlers are installed. Options given to a later call are ignored, with a warning.
   */
  static start(options?: GracefulOptions): Graceful {
    const existing = Graceful.#instance;
    if (existing === undefined) return new Graceful(options).start();
    if (options !== undefined) {
      existing.#log.warn(
        'Graceful.start(): already started; the options of this call are ignored',
        {
          code: 'LASTCALL_ERR_GRACEFUL_ALREADY_EXISTS',
        },
      );
    }
    return existing.start();
  }

  readonly #options: ResolvedOptions;
  readonly #log: Logger;
  readonly #hooks: RegisteredHook[] = [];
  readonly #checks: ExitChecks;
  readonly #pendingHooks = new Set<string>();
  readonly #pendingReports = new Set<Promise<unknown>>();
  readonly #uninstall: (() => void)[] = [];
  readonly #errorContexts: ErrorContextProvider[] = [];
  #state: GracefulState = 'running';
  #reason: ShutdownReason | undefined;
  #exitCode = 0;
  #finished: Promise<void> | undefined;
  #deadline: AbortController | undefined;
  #errorsDuringShutdown = 0;
  #hooksAdded = 0;
  #isStarted = false;

  /** Throws a {@link GracefulError} for a bad option. A second instance warns. */
  constructor(options?: GracefulOptions) {
    super();
    this.#options = resolveOptions(options);
    this.#log = this.#options.logger.child({ role: roleOf(), pid: process.pid });
    this.#checks = new ExitChecks(this.#log);
    if (Graceful.#instance === undefined) {
      Graceful.#instance = this;
    } else {
      this.#log.warn(
        'a second Graceful was created while one exists; use Graceful.start() to share the one of the process',
        { code: 'LASTCALL_ERR_GRACEFUL_ALREADY_EXISTS' },
      );
    }
  }

  /** `'running'`, then `'draining'` (readiness false, the delay), `'closing'` (hooks, checks), `'exiting'`. */
  get state(): GracefulState {
    return this.#state;
  }

  /** False from the first moment of shutdown: for a readiness probe. Liveness is the process itself. */
  get isReady(): boolean {
    return this.#state === 'running';
  }

  /** Why the process is shutting down, once it is. */
  get reason(): ShutdownReason | undefined {
    return this.#reason;
  }

  /**
   * Whether this instance is in in-process-test mode (option `inProcessTest`, by default detected):
   * then nothing it installs exits the process and {@link Graceful.shutdown} does not exit.
   */
  get isInProcessTest(): boolean {
    return this.#options.inProcessTest;
  }

  /** The code `exit` is (or will be) called with: 0, 1, `error.exitCode` or 128 + a signal number. */
  get exitCode(): number {
    return this.#exitCode;
  }

  /**
   * Installs the handlers: the `signals`, `uncaughtException` and `unhandledRejection` (unless
   * `handleErrors` is false) and, in a cluster worker, the IPC channel closing. Idempotent.
   * Starts no timer. In in-process-test mode, none of these: only, unless `handleErrors` is
   * false, an `uncaughtExceptionMonitor` through which the error contexts answer their request.
   */
  start(): this {
    if (this.#isStarted) return this;
    this.#isStarted = true;
    if (this.#options.inProcessTest) {
      this.#startInProcessTest();
      return this;
    }
    for (const signal of this.#options.signals) {
      const onSignal = (): void => {
        this.#onSignal(signal);
      };
      process.on(signal, onSignal);
      this.#uninstall.push(() => process.off(signal, onSignal));
    }
    if (this.#options.handleErrors) {
      const onException = (error: Error, origin: string): void => {
        this.#onError(
          error,
          origin === 'unhandledRejection' ? 'unhandledRejection' : 'uncaughtException',
        );
      };
      const onRejection = (reason: unknown): void => {
        this.#onError(reason, 'unhandledRejection');
      };
      process.on('uncaughtException', onException);
      process.on('unhandledRejection', onRejection);
      this.#uninstall.push(() => {
        process.off('uncaughtException', onException);
        process.off('unhandledRejection', onRejection);
      });
    }
    const unwatch = watchParent(() => {
      this.#onParentGone();
    });
    if (unwatch !== undefined) this.#uninstall.push(unwatch);
    return this;
  }

  /**
   * A test runner owns this process: its own `uncaughtException` handler fails the running test,
   * and it exits when its report is printed. A monitor does not change what happens to an
   * uncaught error (https://nodejs.org/api/process.html#event-uncaughtexceptionmonitor); it only
   * lets the request that threw get its 500, so that the test's client does not hang and the
   * runner can end.
   */
  #startInProcessTest(): void {
    const runner = detectTestRunner() ?? 'the option inProcessTest';
    this.#log.info(
      `in-process test (${runner}): no signal or uncaught-error handler that exits is installed, ` +
        'and shutdown() does not exit; errors are left to the test runner',
      { inProcessTest: true },
    );
    if (!this.#options.handleErrors) return;
    const onMonitor = (error: Error, origin: string): void => {
      this.#answerInTest(
        error,
        origin === 'unhandledRejection' ? 'unhandledRejection' : 'uncaughtException',
      );
    };
    const target = nodeProcess();
    target.on('uncaughtExceptionMonitor', onMonitor);
    this.#uninstall.push(() => target.off('uncaughtExceptionMonitor', onMonitor));
  }

  /** No report, no shutdown: the runner reports the error as the running test's failure. */
  #answerInTest(error: unknown, origin: ErrorOrigin): void {
    const context = this.#errorContext(error, origin);
    if (context?.afterReport === undefined) return;
    try {
      context.afterReport();
    } catch (failure) {
      this.#log.error('an error context failed to answer its request', { err: failure });
    }
  }

  /**
   * Removes every handler {@link Graceful.start} installed and, when this is the process's
   * instance, forgets it, so that a test or an embedding library can start afresh.
   */
  uninstall(): void {
    for (const remove of this.#uninstall.splice(0)) remove();
    this.#isStarted = false;
    if (Graceful.#instance === this) Graceful.#instance = undefined;
  }

  /**
   * Shuts the process down. The first call decides the reason and the exit code (1, or
   * `error.exitCode`, with an error; 0 without); later calls return the same promise. An error
   * is reported first (synchronously, by last-ditch by default). Resolves when `exit` was called;
   * in in-process-test mode, when the hooks and checks are done: nothing exits.
   */
  shutdown(error?: unknown, info?: ErrorInfo): Promise<void> {
    if (error === undefined) return this.#begin({ kind: 'manual' }, 0);
    const origin = info?.origin ?? 'manual';
    this.#report(error, { ...info, origin });
    return this.#begin({ kind: 'error', origin, error }, exitCodeOf(error));
  }

  /**
   * Adds a hook run at shutdown, the last added first. Returns a function that removes it.
   * Throws a {@link GracefulError} for a hook that is not a function or a bad timeout.
   */
  onShutdown(hook: ShutdownHook, options?: HookOptions): () => void {
    if (typeof hook !== 'function') {
      throw new GracefulError(
        'LASTCALL_ERR_GRACEFUL_INVALID_HOOK',
        `onShutdown: hook must be a function (reason, signal) => unknown, got ${describeValue(hook)}`,
      );
    }
    const timeout = options?.timeout;
    if (
      timeout !== undefined &&
      !(typeof timeout === 'number' && Number.isFinite(timeout) && timeout > 0)
    ) {
      throw new GracefulError(
        'LASTCALL_ERR_GRACEFUL_INVALID_HOOK',
        `onShutdown: timeout must be a finite number of milliseconds > 0, got ${describeValue(timeout)}`,
      );
    }
    this.#hooksAdded += 1;
    const entry: RegisteredHook = {
      hook,
      name: options?.name ?? (hook.name || `hook ${String(this.#hooksAdded)}`),
      timeout,
    };
    if (this.#state !== 'running') {
      // The hooks that run are the ones registered when the shutdown began.
      this.#log.warn(
        `shutdown hook "${entry.name}" was added after the shutdown began; it will not run`,
      );
      return () => undefined;
    }
    this.#hooks.push(entry);
    return () => {
      const index = this.#hooks.indexOf(entry);
      if (index !== -1) this.#hooks.splice(index, 1);
    };
  }

  /**
   * Adds a "ready to exit?" check, evaluated once the hooks are done. Returns a function that
   * removes it. Throws a {@link GracefulError} for a check that is not a function.
   */
  addCheck(check: ExitCheck, options?: CheckOptions): () => void {
    if (typeof check !== 'function') {
      throw new GracefulError(
        'LASTCALL_ERR_GRACEFUL_INVALID_CHECK',
        `addCheck: check must be a function () => boolean | Promise<boolean>, got ${describeValue(check)}`,
      );
    }
    return this.#checks.add(check, options?.name ?? (check.name || 'check'));
  }

  /**
   * Adds a provider asked, inside the `uncaughtException` / `unhandledRejection` handler and
   * before the report, what the error belongs to: `@lastcall/express` answers with the request
   * whose callback threw (its `info.request` goes into the report) and an `afterReport` that
   * sends that request its 500. The first provider that returns a context wins. Returns a
   * function that removes the provider.
   */
  addErrorContext(provider: ErrorContextProvider): () => void {
    if (typeof provider !== 'function') {
      throw new GracefulError(
        'LASTCALL_ERR_GRACEFUL_INVALID_OPTIONS',
        `addErrorContext: provider must be a function (error, origin) => context | undefined, got ${describeValue(provider)}`,
      );
    }
    this.#errorContexts.push(provider);
    return () => {
      const index = this.#errorContexts.indexOf(provider);
      if (index !== -1) this.#errorContexts.splice(index, 1);
    };
  }

  /** Evaluates the exit checks again now: call it when something a check looks at changed. */
  recheck(): void {
    this.#checks.recheck();
  }

  #onSignal(signal: NodeJS.Signals): void {
    if (isSignalDeferred(signal)) return;
    if (this.#state === 'running') {
      this.#log.info(`${signal} received; shutting down`, { signal });
      void this.#begin({ kind: 'signal', signal }, 0);
      return;
    }
    const code = 128 + ((os.constants.signals[signal] as number | undefined) ?? 0);
    this.#log.error(
      `${signal} received again during shutdown; exiting at once with ${String(code)}`,
      {
        code: 'LASTCALL_ERR_GRACEFUL_FORCED',
        ...this.#pending(),
      },
    );
    this.#exit(code);
  }

  /**
   * The primary is gone: nobody routes to this worker any more, so it must not outlive it for
   * long, whether or not a shutdown was already under way.
   */
  #onParentGone(): void {
    if (this.#state === 'running') {
      this.#log.warn('the IPC channel to the primary closed; shutting down');
      void this.#begin({ kind: 'disconnect' }, 0);
      return;
    }
    this.#log.warn(
      `the IPC channel to the primary closed during shutdown; exiting within ${String(DISCONNECT_TIMEOUT)} ms`,
    );
    const deadline = this.#deadline;
    setTimeout(() => deadline?.abort(), DISCONNECT_TIMEOUT).unref();
  }

  #onError(error: unknown, origin: ErrorOrigin): void {
    const context = this.#errorContext(error, origin);
    if (context?.isContained === true) return;
    if (this.#state !== 'running') {
      // An error that repeats itself during a shutdown (a write to a broken pipe that fails,
      // whose report writes to it again) must not fill the disk with reports.
      this.#errorsDuringShutdown += 1;
      if (this.#errorsDuringShutdown > MAX_REPORTS_DURING_SHUTDOWN) {
        if (this.#errorsDuringShutdown === MAX_REPORTS_DURING_SHUTDOWN + 1) {
          this.#log.error(
            `more than ${String(MAX_REPORTS_DURING_SHUTDOWN)} errors during shutdown; the next ones are not reported`,
            { origin },
          );
        }
        return;
      }
    }
    this.#report(error, { ...context?.info, origin });
    if (context?.afterReport !== undefined) {
      try {
        context.afterReport();
      } catch (failure) {
        this.#log.error('an error context failed after the report; the shutdown goes on', {
          err: failure,
        });
      }
    }
    if (this.#state === 'running') {
      void this.#begin({ kind: 'error', origin, error }, exitCodeOf(error));
    } else {
      // Never resume, never restart: the shutdown already under way goes on.
      this.#log.error(`${origin} during shutdown; reported, the shutdown goes on`, {
        err: error,
        origin,
      });
    }
  }

  #errorContext(error: unknown, origin: ErrorOrigin): ErrorContext | undefined {
    for (const provider of this.#errorContexts) {
      try {
        const context = provider(error, origin);
        if (context !== undefined) return context;
      } catch (failure) {
        this.#log.error('an error context provider threw; it is skipped', { err: failure });
      }
    }
    return undefined;
  }

  #report(error: unknown, info: ErrorInfo): void {
    let pending: Promise<unknown>;
    try {
      pending = Promise.resolve(this.#options.reporter(error, info));
    } catch (failure) {
      pending = Promise.reject(failure instanceof Error ? failure : new Error(String(failure)));
    }
    const settled = pending.then(
      () => undefined,
      (failure: unknown) => {
        this.#log.error('the crash reporter failed', { err: failure });
      },
    );
    this.#pendingReports.add(settled);
    void settled.finally(() => this.#pendingReports.delete(settled));
  }

  #begin(reason: ShutdownReason, exitCode: number): Promise<void> {
    if (this.#finished !== undefined) return this.#finished;
    this.#reason = reason;
    this.#exitCode = exitCode;
    this.#state = 'draining';
    // A test runner's IPC channel (a jest worker's) is not a lastcall master's.
    if (!this.#options.inProcessTest) {
      tellParent({ lastcall: 1, type: 'draining', reason: describeReason(reason) });
    }
    this.#emitSafely('draining', reason);
    this.#finished = this.#run(reason);
    return this.#finished;
  }

  async #run(reason: ShutdownReason): Promise<void> {
    const { shutdownDelay } = this.#options;
    // A worker whose primary is gone must not outlive it for long: nobody routes to it any more.
    const timeout =
      reason.kind === 'disconnect'
        ? Math.min(this.#options.timeout, DISCONNECT_TIMEOUT)
        : this.#options.timeout;
    const deadline = new AbortController();
    this.#deadline = deadline;
    const hooks = [...this.#hooks];
    // Only a guard: unref'd. If the loop runs dry while a hook waits on nothing, 'beforeExit'
    // ends the wait instead of Node exiting with the wrong code.
    const timer = setTimeout(() => {
      this.#log.error(`shutdown did not finish within ${String(timeout)} ms; exiting`, {
        code: 'LASTCALL_ERR_GRACEFUL_DEADLINE',
        ...this.#pending(),
      });
      deadline.abort();
    }, timeout);
    timer.unref();
    const onEmptyLoop = (): void => {
      this.#log.error(
        'nothing is left that could finish the pending shutdown work; exiting',
        this.#pending(),
      );
      deadline.abort();
    };
    process.on('beforeExit', onEmptyLoop);
    try {
      this.#log.info('shutting down', { reason: describeReason(reason), timeout, shutdownDelay });
      // Always at least one turn in 'draining': listeners added right after shutdown() returns
      // still see the 'shutdown' event, and the state is observable.
      await delay(reason.kind === 'disconnect' ? 0 : shutdownDelay, deadline.signal);
      this.#state = 'closing';
      this.#emitSafely('shutdown', reason);
      await runHooks(hooks, reason, deadline.signal, this.#log, this.#pendingHooks);
      await this.#checks.waitUntilReady(deadline.signal);
      await untilAborted(Promise.all(this.#pendingReports), deadline.signal);
      if (!deadline.signal.aborted) this.#emitSafely('drain');
      if (!this.#options.inProcessTest) await leaveCluster(LEAVE_CLUSTER_TIMEOUT, deadline.signal);
    } finally {
      clearTimeout(timer);
      process.off('beforeExit', onEmptyLoop);
    }
    this.#exit(this.#exitCode);
  }

  #exit(code: number): void {
    if (this.#state === 'exiting') return;
    this.#state = 'exiting';
    this.#exitCode = code;
    // A forced exit (a second signal) with an injected `exit` must stop the remaining work too.
    this.#deadline?.abort();
    this.#emitSafely('exit', code);
    if (this.#options.inProcessTest) {
      this.#log.info(
        `shutdown finished (exit code ${String(code)}); in-process test: the process is left to the test runner`,
        { exitCode: code, inProcessTest: true },
      );
      return;
    }
    this.#log.info(`exiting with ${String(code)}`, { exitCode: code });
    this.#options.exit(code);
  }

  #pending(): { pendingHooks: string[]; pendingChecks: string[]; pendingReports: number } {
    return {
      pendingHooks: [...this.#pendingHooks],
      pendingChecks: [...this.#checks.notReady],
      pendingReports: this.#pendingReports.size,
    };
  }

  #emitSafely<E extends keyof GracefulEvents>(event: E, ...args: GracefulEvents[E]): void {
    try {
      (this.emit as (event: E, ...args: GracefulEvents[E]) => boolean)(event, ...args);
    } catch (error) {
      this.#log.error(`a "${event}" listener threw; the shutdown goes on`, { err: error });
    }
  }
}

/** The deadline, in ms, of a cluster worker's shutdown after its IPC channel to the primary closed. */
export const DISCONNECT_TIMEOUT = 1000;

/** Errors reported during one shutdown, at most; later ones are counted, not reported. */
const MAX_REPORTS_DURING_SHUTDOWN = 10;

/** How long a drained cluster worker waits for the primary to acknowledge its disconnect. */
const LEAVE_CLUSTER_TIMEOUT = 1000;
