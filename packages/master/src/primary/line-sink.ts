import { EventEmitter } from 'node:events';
import type { Writable } from 'node:stream';
import { getLogger } from '@lastcall/log-shim';
import type { Logger } from '@lastcall/log-shim';
import type { GateTarget } from './target-gate';
import type { OutputLineHandler, OutputLineInfo } from '../types';

/** ms between two log lines about the throws of one sink's line handler. */
export const HANDLER_FAILURE_REPORT_INTERVAL = 5000;

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/** Options of a {@link LineSink}. */
export interface LineSinkOptions {
  /** Names the sink in the master's log lines: `the master's logger`. */
  readonly name: string;
  /** Where the handler's throws are reported (error); default `getLogger('lastcall:master')`. */
  readonly logger?: Logger;
  /**
   * The streams the handler's output ends up in, whose backpressure is the sink's: default the
   * master's stdout and stderr (where the default logger, the console and winston's or bunyan's
   * console transports write).
   */
  readonly watched?: readonly Writable[];
  /** ms; default {@link HANDLER_FAILURE_REPORT_INTERVAL}. */
  readonly reportInterval?: number;
  /** Leave out empty lines (a log record without a message is noise); default false. */
  readonly skipEmpty?: boolean;
}

/**
 * The target of the relays of every worker of one master when its `output` is `'log'` or a
 * function: each whole line (see `LineSplitter`) is handed to `handler`, synchronously, as a
 * string without its newline (nor a `\r` before it).
 *
 * The handler returns nothing to wait for, so the sink takes its backpressure from the streams
 * the handler writes into ({@link LineSinkOptions.watched}): while one of them needs a drain the
 * sink is full, and the relays into it pause, queue and drop exactly as they do for the master's
 * own stdout (one `TargetGate` for all of them). Buffers the handler keeps elsewhere (a file or
 * network transport of the logger) are its own and not seen here.
 *
 * A throw of the handler loses that line only: it is caught, counted and reported at most once
 * every `reportInterval`.
 */
export class LineSink extends EventEmitter implements GateTarget {
  readonly name: string;
  readonly #handler: OutputLineHandler;
  readonly #options: LineSinkOptions;
  readonly #watched: readonly Writable[];
  #isAwaitingDrain = false;
  #failures = 0;
  #reportedFailures = 0;
  #lastFailure: unknown;
  #lastReportAt = -Infinity;
  #reportTimer: NodeJS.Timeout | undefined;

  constructor(handler: OutputLineHandler, options: LineSinkOptions) {
    super();
    this.name = options.name;
    this.#handler = handler;
    this.#options = options;
    this.#watched = options.watched ?? [process.stdout, process.stderr];
    this.on('newListener', (event) => {
      if (event === 'drain') this.#awaitDrain();
    });
  }

  /** Always true: a sink is never closed (what it writes into may be; its own writes decide). */
  get writable(): boolean {
    return true;
  }

  /** One of the watched streams needs a drain. */
  get writableNeedDrain(): boolean {
    return this.#watched.some((stream) => stream.writableNeedDrain);
  }

  /** Throws of the handler so far. */
  get failures(): number {
    return this.#failures;
  }

  /** Hands each line of `block` (whole lines, each ending with a newline) to the handler. */
  deliver(block: Buffer, info: OutputLineInfo): void {
    let start = 0;
    for (let end = block.indexOf(NEWLINE); end !== -1; end = block.indexOf(NEWLINE, start)) {
      const stop = end > start && block[end - 1] === CARRIAGE_RETURN ? end - 1 : end;
      const line = block.toString('utf8', start, stop);
      start = end + 1;
      if (line === '' && this.#options.skipEmpty === true) continue;
      try {
        this.#handler(line, info);
      } catch (error) {
        this.#failed(error);
      }
    }
  }

  /** Emits `'drain'` once none of the watched streams needs one (armed by a `'drain'` listener). */
  #awaitDrain(): void {
    if (this.#isAwaitingDrain) return;
    this.#isAwaitingDrain = true;
    // The listener that armed it is added after 'newListener': tell it on the next turn at least.
    setImmediate(this.#checkDrained);
  }

  readonly #checkDrained = (): void => {
    const full = this.#watched.find((stream) => stream.writableNeedDrain);
    if (full === undefined) {
      this.#isAwaitingDrain = false;
      this.emit('drain');
      return;
    }
    // A stream destroyed while full (EPIPE) never drains, but no longer needs to either.
    const next = (): void => {
      full.off('drain', next);
      full.off('close', next);
      this.#checkDrained();
    };
    full.once('drain', next);
    full.once('close', next);
  };

  #failed(error: unknown): void {
    this.#failures += 1;
    this.#lastFailure = error;
    if (this.#reportTimer !== undefined) return;
    const interval = this.#options.reportInterval ?? HANDLER_FAILURE_REPORT_INTERVAL;
    const delay = Math.max(0, this.#lastReportAt + interval - Date.now());
    this.#reportTimer = setTimeout(() => {
      this.#reportTimer = undefined;
      this.#report();
    }, delay);
    this.#reportTimer.unref();
  }

  #report(): void {
    this.#lastReportAt = Date.now();
    const failures = this.#failures - this.#reportedFailures;
    this.#reportedFailures = this.#failures;
    try {
      (this.#options.logger ?? getLogger('lastcall:master')).error(
        `${this.name} threw on ${String(failures)} lines of worker output; those lines are lost`,
        { failures, totalFailures: this.#failures, error: this.#lastFailure },
      );
    } catch {
      // The reporting logger threw too: the count stays in `failures`.
    }
    this.#lastFailure = undefined;
  }
}
