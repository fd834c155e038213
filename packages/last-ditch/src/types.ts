/** Where a crash came from. */
export type CrashOrigin = 'uncaughtException' | 'unhandledRejection' | 'request' | 'manual';

/** The request being served when the crash happened, as much of it as is known. */
export interface RequestContext {
  readonly method?: string;
  /** The path with its query string; every query value is redacted in the report. */
  readonly url?: string;
  readonly id?: string;
  readonly remoteAddress?: string;
  /** Request headers; `authorization`, `cookie` and other secret-looking ones are redacted. */
  readonly headers?: Readonly<Record<string, unknown>>;
}

/** What the caller knows about the crash besides the error. */
export interface ReportInfo {
  /** Default `'manual'`. */
  readonly origin?: CrashOrigin;
  readonly request?: RequestContext;
  /** Extra data stored under `extra` in the crash log entry (redacted). */
  readonly extra?: Readonly<Record<string, unknown>>;
}

/** Anything with an `increment` method, such as a statsd-client or hot-shots instance. */
export interface StatsdLike {
  increment(name: string, delta?: number): unknown;
}

/**
 * A nodemailer-style transport: only `sendMail` is used. It may return a promise (nodemailer
 * does) or take a Node-style callback as its second parameter.
 */
export interface MailTransport {
  sendMail(
    message: {
      readonly from?: string;
      readonly to: string;
      readonly subject: string;
      readonly text: string;
    },
    callback?: (error?: Error | null) => void,
  ): unknown;
}

/** Email notifier: the transport, and who gets the mail. */
export interface EmailTarget {
  readonly transport: MailTransport;
  readonly to: string;
  readonly from?: string;
}

/** An SMS message in the shape of Twilio's `client.messages.create()`. */
export interface SmsMessage {
  readonly to: string;
  readonly from?: string;
  readonly body: string;
}

/** SMS notifier: a user function that sends one message, and who gets it. */
export interface SmsTarget {
  /** Returns a promise (Twilio's `messages.create` does) or takes a Node-style callback. */
  readonly send: (message: SmsMessage, callback?: (error?: Error | null) => void) => unknown;
  readonly to: string;
  readonly from?: string;
  /** Longest body sent, in characters (an integer, at least 20); default 160. */
  readonly maxLength?: number;
}

/** The short, redacted description of a crash that notifiers send. */
export interface CrashSummary {
  readonly app: string;
  readonly host: string;
  readonly pid: number;
  readonly origin: CrashOrigin;
  readonly reportId: string;
  readonly timestamp: string;
  readonly name: string;
  readonly message: string;
  /** The crash log file, or `undefined` when it could not be written. */
  readonly crashLog: string | undefined;
  /** Only when the `includeStack` option is true. */
  readonly stack?: string;
}

/**
 * A custom notifier, called with the original error and the summary. Declared with a third
 * parameter, as thehelp-last-ditch's `function (err, options, cb)`, it is given a Node-style
 * callback and is done when it calls it (with an error: `'failed'`); otherwise it is done when
 * the promise it returns settles, or when it returns. Always within `timeout`.
 */
export type Messenger = (
  error: unknown,
  summary: CrashSummary,
  callback: (error?: unknown) => void,
) => unknown;

/** Options of {@link LastDitch}. Every one is optional. */
export interface LastDitchOptions {
  /** Crash log file; `false` turns it off. Default `LASTCALL_CRASH_LOG`, `THEHELP_CRASH_LOG`, `./crash.log`. */
  readonly crashLog?: string | false;
  /** Also write the entry to stderr (fd 2). Default `true`. */
  readonly stderr?: boolean;
  /** Default `LASTCALL_APP_NAME`, `THEHELP_APP_NAME`, then the app's package.json name. */
  readonly appName?: string;
  /** Deadline of the async targets, in milliseconds. Default 2000. */
  readonly timeout?: number;
  /** A client with `increment`, or `'host:port'`; `false` turns it off. Default `LASTCALL_STATSD`. */
  readonly statsd?: StatsdLike | string | false;
  /** URL that receives the summary as a JSON POST. */
  readonly webhook?: string;
  readonly email?: EmailTarget;
  readonly sms?: SmsTarget;
  readonly messenger?: Messenger;
  /** Put the stack in notifications too. Default `false`. */
  readonly includeStack?: boolean;
  /** Extra patterns whose matches are redacted everywhere. */
  readonly redact?: readonly (RegExp | string)[];
  /**
   * Strings longer than this are cut and end with `…[N more characters]`, in characters.
   * Default 32 KiB (32_768). The whole entry is also held to 256 KiB (`MAX_ENTRY_BYTES`).
   */
  readonly maxStringLength?: number;
}

/** How one async target ended. */
export type TargetOutcome = 'sent' | 'failed' | 'timeout' | 'skipped';

/** What {@link LastDitch.report} did. */
export interface ReportResult {
  readonly id: string;
  /** The crash log file written, or `undefined` when it is off or could not be written. */
  readonly crashLog: string | undefined;
  /** Why the crash log could not be written, when it could not; starts with a code. */
  readonly crashLogError?: string;
  /** A problem with the crash log that did not stop the write, such as its mode. */
  readonly crashLogWarning?: string;
  /** Whether every byte of the stderr copy was handed to the kernel before the report ended. */
  readonly stderr: boolean;
  readonly targets: Readonly<Record<string, TargetOutcome>>;
}
