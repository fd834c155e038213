import type { Readable, Writable } from 'node:stream';
import { getLogger } from '@lastcall/log-shim';
import type { LogFields, Logger } from '@lastcall/log-shim';
import { LineSplitter, MAX_LINE_BYTES } from './line-splitter';
import { OutputTail } from './output-tail';
import { TargetGate } from './target-gate';
import type { GateTarget, GateWaiter } from './target-gate';

/** Whole lines a relay keeps for its full target, per worker and stream, in bytes. */
export const OUTPUT_BUFFER_BYTES = 256 * 1024;

/** ms between two log lines about the lines one relay dropped. */
export const DROP_REPORT_INTERVAL = 5000;

const NEWLINE = 0x0a;

/** Lines (pieces of a split line count one each) and their bytes. */
export interface DroppedOutput {
  readonly lines: number;
  readonly bytes: number;
}

/** Options of an {@link OutputRelay}. */
export interface OutputRelayOptions {
  /** Names the output in the drop log line: `worker 3's stderr`. */
  readonly name: string;
  /** Names the target in the drop log line: `the master's stderr`. */
  readonly targetName: string;
  /** Where drops are logged (warn); default `getLogger('lastcall:master')`. */
  readonly logger?: Logger;
  /** Added to the drop log line: `{ slot, pid }`. */
  readonly fields?: LogFields;
  /** Keep the last 64 KiB read (`TAIL_BYTES`) for crash and abort reports. */
  readonly keepTail?: boolean;
  /** Default {@link OUTPUT_BUFFER_BYTES}. */
  readonly bufferBytes?: number;
  /** Default {@link MAX_LINE_BYTES}. */
  readonly maxLineBytes?: number;
  /** ms; default `OUTPUT_PAUSE_LIMIT`; taken by the first relay into a target. */
  readonly pauseLimit?: number;
  /** ms; default {@link DROP_REPORT_INTERVAL}. */
  readonly reportInterval?: number;
  /** Bytes per second; default `DROP_READ_RATE`; taken by the first relay into a target. */
  readonly dropReadRate?: number;
  /**
   * How a block of whole lines reaches the target; default `target.write(block)`. Required when
   * the target is not a `Writable` (a `LineSink`, which needs to know whose lines they are).
   */
  readonly write?: (block: Buffer) => void;
}

/**
 * Copies a worker's output stream to `target` (the master's stdout or stderr, or a `LineSink`
 * that hands each line to the master's logger or an `output` function) whole lines at a time (so that the lines of two
 * workers never interleave mid-line), with backpressure and a bound:
 *
 * - while the target is full (see {@link TargetGate}) the worker's pipe is paused, so its writes
 *   wait in the worker, and up to `bufferBytes` of whole lines wait here for the `'drain'`;
 * - once the target has been full for the pause limit, the pipe is read on (all the relays into
 *   the target together at most `dropReadRate` bytes a second; the rest waits in the workers),
 *   and the newest whole lines beyond `bufferBytes` are dropped, counted (`dropped`) and logged
 *   at most once every `reportInterval`;
 * - a line longer than `maxLineBytes` is split (see {@link LineSplitter}).
 *
 * Nothing it does throws from its stream handlers.
 */
export class OutputRelay implements GateWaiter {
  readonly #source: Readable;
  readonly #target: GateTarget;
  readonly #writeBlock: (block: Buffer) => void;
  readonly #gate: TargetGate;
  readonly #options: OutputRelayOptions;
  readonly #bufferBytes: number;
  readonly #splitter: LineSplitter;
  readonly #tail: OutputTail | undefined;
  #queue: Buffer[] = [];
  #queuedBytes = 0;
  #isWaiting = false;
  #isPaused = false;
  #droppedLines = 0;
  #droppedBytes = 0;
  #reportedLines = 0;
  #reportedBytes = 0;
  #lastReportAt = -Infinity;
  #reportTimer: NodeJS.Timeout | undefined;
  #throttleTimer: NodeJS.Timeout | undefined;

  constructor(source: Readable, target: Writable, options: OutputRelayOptions);
  constructor(
    source: Readable,
    target: GateTarget,
    options: OutputRelayOptions & { readonly write: (block: Buffer) => void },
  );
  constructor(source: Readable, target: GateTarget | Writable, options: OutputRelayOptions) {
    this.#source = source;
    this.#target = target;
    // The overloads make `write` required for a target that is not a Writable.
    this.#writeBlock =
      options.write ??
      ((block) => {
        if (isWritable(target)) target.write(block);
      });
    this.#options = options;
    this.#gate = TargetGate.of(target, {
      ...(options.pauseLimit === undefined ? {} : { pauseLimit: options.pauseLimit }),
      ...(options.dropReadRate === undefined ? {} : { dropReadRate: options.dropReadRate }),
    });
    this.#bufferBytes = options.bufferBytes ?? OUTPUT_BUFFER_BYTES;
    this.#splitter = new LineSplitter(options.maxLineBytes ?? MAX_LINE_BYTES);
    this.#tail = options.keepTail === true ? new OutputTail() : undefined;
    source.on('data', (chunk: Buffer | string) => {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      this.#tail?.keep(bytes);
      const blocks = this.#splitter.push(bytes);
      if (blocks.length > 0) this.#deliver(blocks);
    });
    const finish = (): void => {
      const last = this.#splitter.end();
      if (last !== undefined) this.#deliver([last]);
    };
    source.once('end', finish);
    // A broken pipe of a dying worker ends its output; its exit is reported elsewhere.
    source.on('error', () => undefined);
  }

  /** The last 64 KiB read (dropped lines included); empty without `keepTail`. */
  get tail(): string {
    return this.#tail?.text ?? '';
  }

  /** What was dropped so far. */
  get dropped(): DroppedOutput {
    return { lines: this.#droppedLines, bytes: this.#droppedBytes };
  }

  /** The target drained: writes the queue, then reads on unless the target is full again. */
  drained(): void {
    this.#isWaiting = false;
    const queue = this.#queue;
    this.#queue = [];
    this.#queuedBytes = 0;
    for (const block of queue) this.#write(block);
    if (this.#gate.isFull) this.#waitForTarget();
    else this.#resume();
  }

  /** The target has been full for the pause limit: reads on (and drops beyond the queue). */
  released(): void {
    this.#resume();
  }

  #deliver(blocks: Buffer[]): void {
    if (!this.#target.writable) {
      for (const block of blocks) this.#drop(block);
      return;
    }
    let held = 0;
    for (const block of blocks) {
      if (this.#isWaiting || this.#gate.isFull) {
        held += block.length;
        this.#enqueue(block);
      } else {
        this.#write(block);
      }
    }
    if (this.#gate.isFull && !this.#isWaiting) this.#waitForTarget();
    if (held > 0 && this.#gate.isOverloaded) this.#throttle(this.#gate.spendReadBudget(held));
  }

  /** Pauses the worker for `ms`: the relays into the target read too much to drop. */
  #throttle(ms: number): void {
    if (ms === 0 || this.#throttleTimer !== undefined) return;
    this.#pause();
    this.#throttleTimer = setTimeout(() => {
      this.#throttleTimer = undefined;
      if (!this.#isWaiting || this.#gate.isOverloaded) this.#resume();
    }, ms);
    this.#throttleTimer.unref();
  }

  #write(block: Buffer): void {
    if (!this.#target.writable) {
      this.#drop(block);
      return;
    }
    this.#writeBlock(block);
  }

  #waitForTarget(): void {
    this.#isWaiting = true;
    this.#gate.wait(this);
    if (!this.#gate.isOverloaded) this.#pause();
  }

  #pause(): void {
    if (this.#isPaused) return;
    this.#isPaused = true;
    this.#source.pause();
  }

  #resume(): void {
    if (!this.#isPaused || this.#throttleTimer !== undefined) return;
    this.#isPaused = false;
    this.#source.resume();
  }

  /** Queues the whole lines of `block` that fit; drops the rest (whole lines, the newest). */
  #enqueue(block: Buffer): void {
    const room = this.#bufferBytes - this.#queuedBytes;
    if (block.length <= room) {
      this.#queue.push(block);
      this.#queuedBytes += block.length;
      return;
    }
    const end = room > 0 ? block.lastIndexOf(NEWLINE, room - 1) + 1 : 0;
    if (end > 0) {
      this.#queue.push(block.subarray(0, end));
      this.#queuedBytes += end;
    }
    this.#drop(block.subarray(end));
  }

  #drop(block: Buffer): void {
    let lines = 0;
    for (let at = block.indexOf(NEWLINE); at !== -1; at = block.indexOf(NEWLINE, at + 1)) {
      lines += 1;
    }
    this.#droppedLines += lines;
    this.#droppedBytes += block.length;
    if (this.#reportTimer !== undefined) return;
    const delay = Math.max(
      0,
      this.#lastReportAt + (this.#options.reportInterval ?? DROP_REPORT_INTERVAL) - Date.now(),
    );
    this.#reportTimer = setTimeout(() => {
      this.#reportTimer = undefined;
      this.#report();
    }, delay);
    this.#reportTimer.unref();
  }

  #report(): void {
    this.#lastReportAt = Date.now();
    const lines = this.#droppedLines - this.#reportedLines;
    const bytes = this.#droppedBytes - this.#reportedBytes;
    this.#reportedLines = this.#droppedLines;
    this.#reportedBytes = this.#droppedBytes;
    const { name, targetName, fields } = this.#options;
    const why = this.#target.writable ? 'is not keeping up' : 'is closed';
    try {
      (this.#options.logger ?? getLogger('lastcall:master')).warn(
        `dropped ${String(lines)} lines (${String(bytes)} bytes) of ${name}: ${targetName} ${why}`,
        {
          ...fields,
          lines,
          bytes,
          totalLines: this.#droppedLines,
          totalBytes: this.#droppedBytes,
        },
      );
    } catch {
      // The app's logger threw: the count stays in status.
    }
  }
}

function isWritable(target: GateTarget | Writable): target is Writable {
  return typeof (target as Partial<Writable>).write === 'function';
}
