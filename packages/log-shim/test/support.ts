/**
 * Shared helpers for the log-shim tests: real winston, pino, bunyan and debug loggers whose output
 * is recorded in memory, and a spy on stderr.
 */
import { Writable } from 'node:stream';
import { format } from 'node:util';
import bunyan from 'bunyan';
import createDebug from 'debug';
import pino from 'pino';
import * as winston from 'winston';
import { LogShimError } from '../src';
import type { LogShimErrorCode } from '../src';

/** One record as the host logger produced it, parsed back from JSON where the host wrote JSON. */
export type LogRecord = Record<string, unknown>;

/** A host logger and the records it wrote. */
export interface RecordingLogger<T> {
  readonly logger: T;
  readonly records: LogRecord[];
}

/** A winston 3 logger at `silly` with a Stream transport writing JSON lines into `records`. */
export function recordingWinston(
  options: winston.LoggerOptions = {},
): RecordingLogger<winston.Logger> {
  const records: LogRecord[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      records.push(JSON.parse(chunk.toString('utf8')) as LogRecord);
      done();
    },
  });
  const logger = winston.createLogger({
    level: 'silly',
    format: winston.format.json(),
    // winston's typings declare the Stream transport apart from TransportStream, which it extends.
    // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment
    transports: [new winston.transports.Stream({ stream })],
    ...options,
  });
  return { logger, records };
}

/** A pino logger at `trace` writing into `records` through a synchronous destination. */
export function recordingPino(): RecordingLogger<pino.Logger> {
  const records: LogRecord[] = [];
  const destination = {
    write(line: string) {
      records.push(JSON.parse(line) as LogRecord);
    },
  };
  return { logger: pino({ name: 'app', level: 'trace' }, destination), records };
}

/** A bunyan logger at `trace` with a raw stream that keeps every record. */
export function recordingBunyan(): RecordingLogger<bunyan> {
  const records: LogRecord[] = [];
  const logger = bunyan.createLogger({
    name: 'app',
    streams: [
      {
        type: 'raw',
        level: 'trace',
        stream: {
          write(record: unknown) {
            records.push(JSON.parse(JSON.stringify(record)) as LogRecord);
          },
        },
      },
    ],
  });
  return { logger, records };
}

/** A `debug` instance of the test's own, enabled, whose `log` keeps each formatted line. */
export function recordingDebug(namespace: string): RecordingLogger<createDebug.Debugger> {
  const records: LogRecord[] = [];
  const logger = createDebug(namespace);
  logger.enabled = true;
  // Without colours debug prints `<date> <namespace> <text>`, the same on a terminal and in CI.
  Reflect.set(logger, 'useColors', false);
  logger.log = (...args: unknown[]) => {
    // What debug's own `log` prints, minus the write to stderr.
    records.push({ line: format(...args) });
  };
  return { logger, records };
}

/** Records what is written to `process.stderr` until `restore()` is called. */
export function spyOnStderr(): { readonly lines: string[]; restore(): void } {
  const lines: string[] = [];
  const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: unknown) => {
    lines.push(String(chunk));
    return true;
  });
  return {
    lines,
    restore: () => {
      spy.mockRestore();
    },
  };
}

/**
 * Every own key of `target` (symbols included) with its value, and `changedSince()`, which lists
 * the keys added, removed or given another value since: a shim that patched a method shows up.
 */
export function ownSnapshot(target: object): { changedSince(): string[] } {
  const before = new Map(Reflect.ownKeys(target).map((key) => [key, Reflect.get(target, key)]));
  return {
    changedSince() {
      const after = new Map(Reflect.ownKeys(target).map((key) => [key, Reflect.get(target, key)]));
      const keys = new Set([...before.keys(), ...after.keys()]);
      return [...keys]
        .filter((key) => !before.has(key) || !after.has(key) || before.get(key) !== after.get(key))
        .map(String);
    },
  };
}

/** An Error with a code, a cause chain and an extra property. */
export function makeError(): Error {
  const root = Object.assign(new Error('disk full'), { code: 'ENOSPC' });
  return Object.assign(new Error('cannot write report', { cause: root }), { reportId: 'r-1' });
}

/** The code of the LogShimError `action` throws, or undefined when it throws nothing. */
export function codeOf(action: () => unknown): LogShimErrorCode | undefined {
  try {
    action();
  } catch (error) {
    if (error instanceof LogShimError) return error.code;
    throw error;
  }
  return undefined;
}

/** Rejects with a named error when `promise` takes longer than `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`timed out after ${String(ms)} ms waiting for ${what}`));
    }, ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
