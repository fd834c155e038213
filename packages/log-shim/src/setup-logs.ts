import * as cluster from 'node:cluster';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { appRequires, createRequireFrom } from './app-winston';
import { formatLine } from './console-sink';
import { describeValue } from './describe-value';
import { LogShimError } from './errors';
import { isLogLevel } from './levels';
import { setLogger } from './registry';
import { LOG_LEVELS } from './types';
import type { LogLevel } from './types';

/** Options of {@link setupLogs}. */
export interface SetupLogsOptions {
  /** Folder of the log files. Default: `LASTCALL_LOGS_DIR`, `THEHELP_LOGS_DIR`, else `./logs`. */
  readonly dir?: string;
  /** Lowest level written. Default: `LASTCALL_LOG_LEVEL`, else `info`. */
  readonly level?: LogLevel;
  /** Also print each event as one readable line on stderr. Default `true`. */
  readonly console?: boolean;
  /** Folder to resolve `winston` from. Default: the app's main module, then the working folder. */
  readonly resolveFrom?: string;
}

/** What {@link setupLogs} set up. */
export interface LogFiles {
  /** Absolute path of this process's log file. */
  readonly file: string;
  /** Closes the file now and opens it again at the same path, such as after logrotate moved it. */
  reopen(): void;
  /** Closes the file; later events still reach the console transport, if any. */
  close(): void;
}

/** The part of the winston module that setupLogs uses, described by its shape. */
interface WinstonModule {
  readonly Transport: new (options?: object) => object;
  readonly transports: { readonly Console: new (options: object) => object };
  readonly format: {
    readonly combine: (...formats: unknown[]) => unknown;
    readonly json: () => unknown;
    readonly timestamp: () => unknown;
    readonly printf: (template: (info: Record<string, unknown>) => string) => unknown;
  };
  createLogger(options: object): object;
}

const KNOWN_OPTIONS = new Set(['dir', 'level', 'console', 'resolveFrom']);
/** Our six levels as winston levels, so every event keeps its exact level in the file. */
const WINSTON_LEVELS = { fatal: 0, error: 1, warn: 2, info: 3, debug: 4, trace: 5 };
const MESSAGE = Symbol.for('message');

let current: LogFiles | undefined;

/**
 * Writes this process's events to `<dir>/<role>-<timestamp>-<pid>.log` (role `master` or
 * `worker-<id>`, a timestamp without `:`), one JSON object per line, plus a readable line on
 * stderr, through winston (an optional peer: install it with `npm install winston`). Then hands
 * that logger to {@link setLogger}. Each line is written synchronously, so none is lost on exit
 * or on {@link reopenLogs}.
 */
export function setupLogs(options: SetupLogsOptions = {}): LogFiles {
  checkOptions(options);
  const winston = loadWinston(options.resolveFrom);
  const dir = path.resolve(
    options.dir ?? process.env['LASTCALL_LOGS_DIR'] ?? process.env['THEHELP_LOGS_DIR'] ?? 'logs',
  );
  const file = path.join(
    dir,
    `${processRole()}-${fileTimestamp(new Date())}-${String(process.pid)}.log`,
  );
  let fd: number;
  try {
    fs.mkdirSync(dir, { recursive: true });
    fd = fs.openSync(file, 'a');
  } catch (error) {
    throw new LogShimError(
      'LASTCALL_ERR_LOG_SHIM_LOGS_DIR_FAILED',
      `setupLogs: cannot create the log file ${file}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const state = { fd: fd as number | undefined };
  const FileTransport = class extends winston.Transport {
    log(info: Record<string | symbol, unknown>, next: () => void): void {
      if (state.fd !== undefined) fs.writeSync(state.fd, `${String(info[MESSAGE])}\n`);
      next();
    }
  };
  const transports: object[] = [new FileTransport()];
  if (options.console !== false) {
    transports.push(
      new winston.transports.Console({
        stderrLevels: Object.keys(WINSTON_LEVELS),
        format: winston.format.printf(({ level, message, timestamp: _time, ...fields }) =>
          formatLine({
            level: isLogLevel(level) ? level : 'info',
            message: String(message),
            fields,
          }).slice(0, -1),
        ),
      }),
    );
  }
  const logger = winston.createLogger({
    levels: WINSTON_LEVELS,
    level: options.level ?? readEnvLevel(),
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    transports,
  });
  current?.close();
  current = {
    file,
    reopen() {
      if (state.fd === undefined) return;
      fs.closeSync(state.fd);
      state.fd = fs.openSync(file, 'a');
    },
    close() {
      if (state.fd !== undefined) fs.closeSync(state.fd);
      state.fd = undefined;
    },
  };
  setLogger(logger);
  return current;
}

/** Reopens the file of the last {@link setupLogs}; wire it to SIGUSR2 for logrotate. */
export function reopenLogs(): void {
  current?.reopen();
}

/** A timestamp valid in file names on every OS: `2026-01-02T03-04-05-678Z`. */
export function fileTimestamp(date: Date): string {
  return date.toISOString().replaceAll(':', '-').replace('.', '-');
}

function processRole(): string {
  const worker = cluster.default.worker;
  return cluster.default.isPrimary || worker === undefined
    ? 'master'
    : `worker-${String(worker.id)}`;
}

function readEnvLevel(): LogLevel {
  const level = process.env['LASTCALL_LOG_LEVEL'];
  return isLogLevel(level) ? level : 'info';
}

function loadWinston(resolveFrom: string | undefined): WinstonModule {
  const requires =
    resolveFrom === undefined
      ? appRequires()
      : [createRequireFrom(path.join(path.resolve(resolveFrom), 'package.json'))];
  for (const appRequire of requires) {
    try {
      return appRequire('winston') as WinstonModule;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw error;
    }
  }
  throw new LogShimError(
    'LASTCALL_ERR_LOG_SHIM_WINSTON_MISSING',
    'setupLogs writes its files through winston, an optional peer dependency that the app does ' +
      'not have. Install it in the app:\n\n  npm install winston\n',
  );
}

function checkOptions(options: unknown): void {
  const fail = (message: string): never => {
    throw new LogShimError('LASTCALL_ERR_LOG_SHIM_INVALID_OPTIONS', `setupLogs: ${message}`);
  };
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    fail(`options must be an object, got ${describeValue(options)}`);
  }
  const given = options as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!KNOWN_OPTIONS.has(key)) {
      fail(`unknown option "${key}"; expected one of ${[...KNOWN_OPTIONS].join(', ')}`);
    }
  }
  for (const key of ['dir', 'resolveFrom']) {
    const value = given[key];
    if (value !== undefined && (typeof value !== 'string' || value === '')) {
      fail(`${key} must be a non-empty string (a folder), got ${describeValue(value)}`);
    }
  }
  if (given['level'] !== undefined && !isLogLevel(given['level'])) {
    fail(`level must be one of ${LOG_LEVELS.join(', ')}, got ${describeValue(given['level'])}`);
  }
  if (given['console'] !== undefined && typeof given['console'] !== 'boolean') {
    fail(`console must be a boolean, got ${describeValue(given['console'])}`);
  }
}
