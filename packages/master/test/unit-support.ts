/**
 * Helpers of the master's unit tests, free of hooks (the integration tests' kit, support.ts,
 * stops processes in its `afterEach`): a recording logger, slow streams and line makers for the
 * output tests, and the settings and state of a heartbeat.
 */
import { Writable } from 'node:stream';
import type { Logger } from '@lastcall/log-shim';
import type { HeartbeatSettings, HeartbeatState } from '../src/primary/heartbeat';

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The settings of a JSON heartbeat on 127.0.0.1:0 at `/ecv`, without token, version or monitor;
 * `overrides` replace any of them.
 */
export function heartbeatSettings(overrides: Partial<HeartbeatSettings> = {}): HeartbeatSettings {
  return {
    port: 0,
    host: '127.0.0.1',
    path: '/ecv',
    token: undefined,
    version: undefined,
    format: 'json',
    monitor: undefined,
    ...overrides,
  };
}

/**
 * The state of a started master serving 2 of 2 workers (minReady 1), nothing draining, its app on
 * 127.0.0.1:8123; `overrides` replace any of it.
 */
export function serving(overrides: Partial<HeartbeatState> = {}): HeartbeatState {
  return {
    ready: 2,
    total: 2,
    minReady: 1,
    isShuttingDown: false,
    isStarted: true,
    failedSlots: 0,
    servingVersions: [],
    draining: { workers: 0, inFlight: 0 },
    appAddress: { address: '127.0.0.1', port: 8123 },
    ...overrides,
  };
}

/**
 * A stream whose write() returns false once `highWaterMark` bytes wait, and that takes nothing
 * until `release()`: a pipe nobody reads, then read all at once.
 */
export class SlowStream extends Writable {
  readonly taken: Buffer[] = [];
  #pending: (() => void)[] = [];
  #isOpen = false;

  constructor(highWaterMark = 16) {
    super({ highWaterMark });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.taken.push(chunk);
    if (this.#isOpen) done();
    else this.#pending.push(done);
  }

  /** Takes what waits; with `stayOpen`, takes every later write at once too. */
  release(stayOpen = false): void {
    this.#isOpen = stayOpen;
    const pending = this.#pending;
    this.#pending = [];
    for (const done of pending) done();
  }

  /** What it has taken, as UTF-8. */
  get text(): string {
    return Buffer.concat(this.taken).toString('utf8');
  }
}

/** A warning a {@link recordingLogger} recorded. */
export interface Warning {
  message: string;
  fields: Record<string, unknown>;
}

/** A call of any level a {@link recordingLogger} recorded. */
export interface Logged extends Warning {
  level: string;
}

/** A logger that records every call in `records`, and each warn call in `warnings` too. */
export function recordingLogger(): { logger: Logger; records: Logged[]; warnings: Warning[] } {
  const records: Logged[] = [];
  const warnings: Warning[] = [];
  const at =
    (level: string) =>
    (message: unknown, fields?: unknown): void => {
      const call = {
        message: message as string,
        fields: (fields ?? {}) as Record<string, unknown>,
      };
      records.push({ level, ...call });
      if (level === 'warn') warnings.push(call);
    };
  const logger: Logger = {
    trace: at('trace'),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    fatal: at('fatal'),
    child: () => logger,
  };
  return { logger, records, warnings };
}

/** Lets queued stream events and immediates run. */
export function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** `count` lines of 10 bytes: `L<n padded to 8>\n`, from `first` on. */
export function lines(first: number, count: number): string {
  let text = '';
  for (let index = first; index < first + count; index += 1) {
    text += `L${String(index).padStart(8, '0')}\n`;
  }
  return text;
}
