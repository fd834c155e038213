import { Graceful } from '@lastcall/graceful';
import { reopenLogs } from '@lastcall/log-shim';
import type { Logger } from '@lastcall/log-shim';
import { removePidFile } from './pid-file';
import type { ResolvedMasterOptions } from './options';

/** What the master does when the process tells it something. */
export interface ProcessHookActions {
  /** Graceful's shutdown hook: drain every worker. */
  readonly stop: () => Promise<void>;
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

  constructor(options: ResolvedMasterOptions, actions: ProcessHookActions) {
    this.#options = options;
    this.#actions = actions;
    this.#log = options.logger;
  }

  install(): void {
    const options = this.#options;
    // The master's own deadline must leave room for a worker's drain and kill.
    const graceful =
      options.graceful ??
      (Graceful.instance === undefined
        ? Graceful.start({ timeout: options.drainTimeout + options.killTimeout + 2000 })
        : Graceful.start());
    graceful.onShutdown(() => this.#actions.stop(), { name: 'lastcall master' });
    graceful.once('draining', this.#actions.shuttingDown);
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
    this.#removePidFile();
  }

  readonly #onExit = (): void => {
    this.#actions.killAll();
    this.#removePidFile();
  };

  #removePidFile(): void {
    if (this.#options.pidFile !== undefined) removePidFile(this.#options.pidFile);
  }
}
