/** The six levels every {@link Logger} has, from the most to the least verbose. */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/** Every {@link LogLevel}, from the most to the least verbose. */
export const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

/** Structured data attached to a log event. */
export type LogFields = Record<string, unknown>;

/**
 * One level method. Both argument orders are accepted, as are Errors in either place:
 * `log.info('msg', { meta })`, `log.info({ meta }, 'msg')`, `log.error(error)`,
 * `log.error('msg', error)`.
 */
export interface LogMethod {
  (message: string, meta?: LogFields | Error): void;
  (meta: LogFields | Error, message?: string): void;
}

/** What {@link getLogger} hands out: the six level methods and `child`. */
export interface Logger {
  readonly trace: LogMethod;
  readonly debug: LogMethod;
  readonly info: LogMethod;
  readonly warn: LogMethod;
  readonly error: LogMethod;
  readonly fatal: LogMethod;
  /** A logger whose events carry `bindings` on top of this logger's own. */
  child(bindings: LogFields): Logger;
}

/**
 * The app's logger as handed to {@link setLogger}: a winston 3 logger (or the `winston` module),
 * a pino or bunyan logger, a `debug` instance (or the `debug` module), the `console`, or any
 * object with level methods. Described by its shape only; host libraries are never imported.
 */
export type HostLogger = object;

/** Builds the app's logger for one module name, such as `'lastcall:master'`. */
export type LoggerFactory = (name: string) => HostLogger;

/** One normalised log event as the adapters receive it. */
export interface LogEvent {
  readonly level: LogLevel;
  readonly message: string;
  /** Bindings and metadata merged; Error values already serialised. */
  readonly fields: LogFields;
}

/** Writes normalised events into one host logger. */
export type LogSink = (event: LogEvent) => void;

/**
 * Writes one call of a {@link Logger}, its arguments as the caller gave them, into one host
 * logger with the facade's bindings.
 */
export type LogWriter = (level: LogLevel, first: unknown, second: unknown) => void;
