import { setTimeout as sleep } from 'node:timers/promises';
import { Graceful } from '@lastcall/graceful';
import type { ErrorContext, ErrorOrigin } from '@lastcall/graceful';
import { reopenLogs } from '@lastcall/log-shim';
import type { Logger } from '@lastcall/log-shim';
import { removePidFile } from './pid-file';
import type { ResolvedMasterOptions } from './options';

/** ms between two warnings about lines that are not JSON on the workers' IPC channels. */
const IPC_LINE_WARNING_INTERVAL = 10_000;

/**
 * The options of the Graceful a master starts when there is none: a deadline that leaves room
 * for the master's shutdownDelay, a worker's drain and its kill, and no delay of graceful's own
 * (the master waits its shutdownDelay itself).
 */
export function masterGracefulOptions(options: {
  readonly shutdownDelay: number;
  readonly drainTimeout: number;
  readonly killTimeout: number;
}): { timeout: number; shutdownDelay: 0 } {
  return {
    timeout: options.shutdownDelay + options.drainTimeout + options.killTimeout + 2000,
    shutdownDelay: 0,
  };
}

/** What the master does when the process tells it something. */
export interface ProcessHookActions {
  /**
   * Graceful's shutdown hook: drain every worker; `afterDelay` when the master's shutdownDelay
   * was waited first (its workers said `Connection: close` meanwhile).
   */
  readonly stop: (afterDelay: boolean) => Promise<void>;
  /** The restart signal arrived. */
  readonly restart: () => void;
  /** The first moment of shutdown, before graceful's delay. */
  readonly shuttingDown: () => void;
  /** Tell every worker to reopen its log files. */
  readonly reopenWorkerLogs: () => void;
  /** The process is exiting, however: no worker may outlive it. */
  readonly killAll: () => void;
}

/**
 * The master's hold on its process: its shutdown hook in @lastcall/graceful, the restart
 * signal, SIGUSR2 for log files when that is not the restart signal, the kill-all on exit, and
 * the pid file's removal. Everything installed is uninstalled.
 */
export class ProcessHooks {
  readonly #options: ResolvedMasterOptions;
  readonly #actions: ProcessHookActions;
  readonly #log: Logger;
  #onRestartSignal: (() => void) | undefined;
  #onReopenSignal: (() => void) | undefined;
  #removeErrorContext: (() => void) | undefined;
  #ipcLineWarnedAt = 0;
  /** When graceful began to shut down (its 'draining'). */
  #shutdownBeganAt: number | undefined;

  constructor(options: ResolvedMasterOptions, actions: ProcessHookActions) {
    this.#options = options;
    this.#actions = actions;
    this.#log = options.logger;
  }

  install(): void {
    const options = this.#options;
    // The master's own deadline must leave room for its shutdownDelay, a worker's drain and
    // kill. The delay is the master's (see #stopAfterDelay), not graceful's: 0 here, so that
    // LASTCALL_SHUTDOWN_DELAY is not waited twice.
    const graceful =
      options.graceful ??
      (Graceful.instance === undefined
        ? Graceful.start(masterGracefulOptions(options))
        : Graceful.start());
    graceful.onShutdown((_reason, signal) => this.#stopAfterDelay(signal), {
      name: 'lastcall master',
    });
    this.#removeErrorContext = graceful.addErrorContext(this.#containIpcLineError);
    graceful.once('draining', this.#onShuttingDown);
    process.once('exit', this.#onExit);
    const signal = options.restartSignal;
    if (signal !== null) {
      this.#onRestartSignal = () => {
        this.#log.info(`${signal} received; rolling restart`);
        this.#actions.restart();
      };
      process.on(signal, this.#onRestartSignal);
    }
    // SIGUSR2 is logrotate's habit for reopening log files: when it is not the restart signal,
    // it reopens those of setupLogs(), in the master and in every worker.
    if (signal !== 'SIGUSR2') {
      this.#onReopenSignal = () => {
        reopenLogs();
        this.#actions.reopenWorkerLogs();
      };
      process.on('SIGUSR2', this.#onReopenSignal);
    }
  }

  uninstall(): void {
    const signal = this.#options.restartSignal;
    if (signal !== null && this.#onRestartSignal !== undefined) {
      process.off(signal, this.#onRestartSignal);
    }
    if (this.#onReopenSignal !== undefined) process.off('SIGUSR2', this.#onReopenSignal);
    process.off('exit', this.#onExit);
    this.#removeErrorContext?.();
    this.#removeErrorContext = undefined;
    this.#removePidFile();
  }

  /**
   * A worker that writes a line that is not JSON onto its IPC channel (straight onto the fd: a
   * broken or hostile worker) makes Node's channel parser throw a SyntaxError out of the
   * channel's read callback (parseChannelMessages in lib/internal/child_process/serialization.js,
   * on every line from 20 to 26): an uncaught exception of the master's, though nothing of the
   * master's is broken. The parser has consumed the bad line already, and the channel reads on.
   * Contained, with one warning every IPC_LINE_WARNING_INTERVAL: the rest of that read is lost,
   * nothing else.
   */
  readonly #containIpcLineError = (
    error: unknown,
    origin: ErrorOrigin,
  ): ErrorContext | undefined => {
    if (origin !== 'uncaughtException' || !(error instanceof SyntaxError)) return undefined;
    const stack = error.stack ?? '';
    if (!stack.includes('parseChannelMessages') || !stack.includes('child_process')) {
      return undefined;
    }
    const now = Date.now();
    if (now - this.#ipcLineWarnedAt >= IPC_LINE_WARNING_INTERVAL) {
      this.#ipcLineWarnedAt = now;
      this.#log.warn(
        // Not the parser's message: it quotes the line, which may hold anything.
        `a line that is not JSON arrived on a worker's IPC channel; ignored (at most one such warning every ${String(IPC_LINE_WARNING_INTERVAL / 1000)} s)`,
      );
    }
    return { isContained: true };
  };

  readonly #onShuttingDown = (): void => {
    this.#shutdownBeganAt = Date.now();
    this.#actions.shuttingDown();
  };

  /**
   * The drain, once `shutdownDelay` has passed since the shutdown began (the heartbeat is 503
   * and the workers say `Connection: close` meanwhile): counted from graceful's 'draining', so
   * that a delay of graceful's own (an app's Graceful) is not added on top of it.
   */
  async #stopAfterDelay(signal: AbortSignal): Promise<void> {
    const { shutdownDelay } = this.#options;
    const began = this.#shutdownBeganAt ?? Date.now();
    const left = began + shutdownDelay - Date.now();
    if (left > 0) {
      this.#log.info(
        `waiting the shutdown delay (${String(shutdownDelay)} ms) before the drain: the heartbeat answers 503 and every response says Connection: close meanwhile`,
      );
      await sleep(left, undefined, { signal }).catch(() => undefined);
    }
    await this.#actions.stop(shutdownDelay > 0);
  }

  readonly #onExit = (): void => {
    this.#actions.killAll();
    this.#removePidFile();
  };

  #removePidFile(): void {
    if (this.#options.pidFile !== undefined) removePidFile(this.#options.pidFile);
  }
}
