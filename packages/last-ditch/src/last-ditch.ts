import type * as Crypto from 'node:crypto';
import * as path from 'node:path';
import { getLogger } from '@lastcall/log-shim';
import { findAppName } from './app-info';
import { buildCrashEntry, fallbackEntry } from './crash-entry';
import type { CrashEntry } from './crash-entry';
import { appendCrashLog } from './crash-log';
import { fitEntry, MAX_ENTRY_BYTES, SHORT_ENTRY_BYTES } from './entry-size';
import { callTransport, postWebhook, sendEmail, sendSms } from './notifiers';
import { resolveOptions } from './options';
import type { ResolvedOptions } from './options';
import { createRedactor } from './redact';
import type { Redactor } from './redact';
import { runTargets } from './run-targets';
import type { TargetTask } from './run-targets';
import { serializeThrown } from './serialize-thrown';
import { sendCrashMetric } from './statsd-target';
import { copyToStderr } from './stderr-copy';
import type {
  CrashSummary,
  LastDitchOptions,
  ReportInfo,
  ReportResult,
  TargetOutcome,
} from './types';
import { cutText } from './plain-copy';

const log = getLogger('lastcall:last-ditch');

/** The longest notice about the crash log on stderr, in characters, when stderr may block. */
const MAX_NOTICE_LENGTH = 1024;

/** What the synchronous part of a report did, and the stderr copy still under way. */
interface Written {
  readonly entry: CrashEntry;
  readonly result: ReportResult;
  readonly wantsEntryOnStderr: boolean;
  readonly stderrDone: Promise<boolean>;
}

/** The callback of {@link LastDitch.go}; it is never given an error. */
export type ReportCallback = (error: null, result: ReportResult) => void;

/**
 * Writes a crash report that is never lost, then notifies. The crash log and stderr are written
 * first and synchronously; statsd, the webhook, email, SMS and the messenger then run in
 * parallel under one deadline. Creating one installs nothing: see {@link LastDitch.installHandlers}.
 */
export class LastDitch {
  readonly #options: ResolvedOptions;
  #appName: string | undefined;

  /** Throws a `LastDitchError` at once when an option is invalid. */
  constructor(options?: LastDitchOptions) {
    this.#options = resolveOptions(options);
    this.#appName = this.#options.appName;
  }

  /**
   * Reports `error`: crash log and stderr synchronously, before this returns, then the async
   * targets. The promise resolves once, when every target is done or at `timeout`; it never
   * rejects, and this method never throws.
   */
  report(error: unknown, info?: ReportInfo): Promise<ReportResult> {
    const id = reportId();
    const redact = this.#redactor();
    let written: Written;
    try {
      written = this.#writeSync(error, info ?? {}, redact, id);
    } catch (failure) {
      try {
        const entry = fallbackEntry(id, typeof error, typeof failure, redact);
        written = this.#write(entry as unknown as CrashEntry);
      } catch {
        return lastResort(id, error, failure, redact, this.#options.timeout);
      }
    }
    const { entry, result, wantsEntryOnStderr, stderrDone } = written;
    const notified = this.#notify(error, entry, result, redact).catch((failure: unknown) => {
      log.warn('last-ditch notifiers failed', { err: redact(serializeThrown(failure)) });
      return result;
    });
    return Promise.all([notified, stderrDone]).then(([done, isCopied]) => ({
      ...done,
      stderr: wantsEntryOnStderr && isCopied,
    }));
  }

  /**
   * The callback form of {@link LastDitch.report}, as in thehelp-last-ditch:
   * `go(error, cb)` or `go(error, info, cb)`. The callback is called exactly once.
   */
  go(error: unknown, info?: ReportInfo | ReportCallback, callback?: ReportCallback): void {
    const done = typeof info === 'function' ? info : callback;
    void this.report(error, typeof info === 'function' ? undefined : info).then((result) => {
      if (done !== undefined)
        queueMicrotask(() => {
          done(null, result);
        });
    });
  }

  /**
   * For a process that uses last-ditch alone: on `uncaughtException` or `unhandledRejection`,
   * report, then `process.exit(1)`. Returns a function that removes both handlers.
   */
  installHandlers(): () => void {
    let isExiting = false;
    const handle = (error: unknown, origin: 'uncaughtException' | 'unhandledRejection'): void => {
      process.exitCode = 1;
      void this.report(error, { origin }).then(() => {
        if (isExiting) return;
        isExiting = true;
        process.exit(1);
      });
    };
    const onException = (error: Error, origin: string): void => {
      handle(error, origin === 'unhandledRejection' ? 'unhandledRejection' : 'uncaughtException');
    };
    const onRejection = (reason: unknown): void => {
      handle(reason, 'unhandledRejection');
    };
    process.on('uncaughtException', onException);
    process.on('unhandledRejection', onRejection);
    return () => {
      process.off('uncaughtException', onException);
      process.off('unhandledRejection', onRejection);
    };
  }

  #app(): string {
    this.#appName ??= findAppName();
    return this.#appName;
  }

  #redactor(): Redactor {
    // Strings are cut by the entry (with markers that count what was cut), not by the redactor.
    const maxStringLength = Number.MAX_SAFE_INTEGER;
    try {
      return createRedactor({ patterns: this.#options.redact, maxStringLength });
    } catch {
      return createRedactor({ maxStringLength });
    }
  }

  #writeSync(error: unknown, info: ReportInfo, redact: Redactor, id: string): Written {
    const entry = buildCrashEntry(error, info, {
      id,
      app: this.#app(),
      redact,
      maxStringLength: Math.min(this.#options.maxStringLength, MAX_ENTRY_BYTES),
    });
    return this.#write(entry);
  }

  /** The crash log (one write), then the stderr copy (bounded by `timeout`). */
  #write(entry: CrashEntry): Written {
    const options = this.#options;
    const line = fitEntry(entry as unknown as Record<string, unknown>, MAX_ENTRY_BYTES);
    const notices: string[] = [];
    let crashLog: string | undefined;
    let crashLogError: string | undefined;
    let crashLogWarning: string | undefined;
    if (options.crashLog !== false) {
      const file = path.resolve(options.crashLog);
      const outcome = appendCrashLog(file, line);
      crashLogError = outcome.error;
      crashLogWarning = outcome.warning;
      if (crashLogError === undefined) crashLog = file;
      else {
        notices.push(
          `last-ditch: could not write the crash log ${file} (${crashLogError}); the report follows on stderr\n`,
        );
        log.error('could not write the crash log, the report went to stderr', {
          file,
          reason: crashLogError,
          reportId: entry.id,
        });
      }
      if (crashLogWarning !== undefined) {
        notices.push(`last-ditch: crash log ${file}: ${crashLogWarning}\n`);
        log.warn('crash log problem', { file, reason: crashLogWarning, reportId: entry.id });
      }
    }
    const wantsEntryOnStderr = options.stderr || crashLogError !== undefined;
    const notice = notices.join('');
    const full = `${notice}${wantsEntryOnStderr ? line : ''}`;
    const shortNotice = notices.map((text) => `${cutText(text.trimEnd(), MAX_NOTICE_LENGTH)}\n`);
    const noticeBytes = Buffer.byteLength(shortNotice.join(''));
    const short = `${shortNotice.join('')}${
      wantsEntryOnStderr
        ? fitEntry(entry as unknown as Record<string, unknown>, SHORT_ENTRY_BYTES - noticeBytes)
        : ''
    }`;
    const stderrDone =
      full === '' ? Promise.resolve(false) : copyToStderr({ full, short }, options.timeout);
    const result: ReportResult = {
      id: entry.id,
      crashLog,
      ...(crashLogError === undefined ? {} : { crashLogError }),
      ...(crashLogWarning === undefined ? {} : { crashLogWarning }),
      stderr: false,
      targets: {},
    };
    return { entry, result, wantsEntryOnStderr, stderrDone };
  }

  async #notify(
    error: unknown,
    entry: CrashEntry,
    result: ReportResult,
    redact: Redactor,
  ): Promise<ReportResult> {
    const options = this.#options;
    const summary: CrashSummary = {
      app: entry.app,
      host: entry.hostname,
      pid: entry.pid,
      origin: entry.origin,
      reportId: entry.id,
      timestamp: entry.timestamp,
      name: entry.error.name,
      message: entry.error.message.slice(0, 1000),
      crashLog: result.crashLog,
      ...(options.includeStack && entry.error.stack !== undefined
        ? { stack: entry.error.stack }
        : {}),
    };
    const isPagingOff = process.env['NODE_ENV'] === 'development';
    const skipped: Record<string, TargetOutcome> = {};
    const tasks: TargetTask[] = [];
    const { statsd, webhook, email, sms, messenger, timeout } = options;
    if (statsd !== false) {
      tasks.push({ name: 'statsd', run: () => sendCrashMetric(statsd, entry.app) });
    }
    const paging: [string, (() => Promise<unknown>) | undefined][] = [
      ['webhook', webhook === undefined ? undefined : () => postWebhook(webhook, summary, timeout)],
      ['email', email === undefined ? undefined : () => sendEmail(email, summary)],
      ['sms', sms === undefined ? undefined : () => sendSms(sms, summary)],
    ];
    for (const [name, run] of paging) {
      if (run === undefined) continue;
      if (isPagingOff) skipped[name] = 'skipped';
      else tasks.push({ name, run });
    }
    if (messenger !== undefined) {
      tasks.push({
        name: 'messenger',
        run: () => callTransport({ messenger }, 'messenger', [error, summary]),
      });
    }
    const outcomes = await runTargets(tasks, timeout, (name, reason) => {
      log.warn(`crash report target ${name} failed`, {
        reportId: entry.id,
        err: redact(serializeThrown(reason)),
      });
    });
    for (const [name, outcome] of Object.entries(outcomes)) {
      if (outcome === 'timeout') {
        log.warn(`crash report target ${name} did not finish within ${String(timeout)} ms`, {
          reportId: entry.id,
        });
      }
    }
    return { ...result, targets: { ...skipped, ...outcomes } };
  }
}

/**
 * A new report id (a random UUID). node:crypto is loaded at the first report, not at import: it
 * is a large part of what importing last-ditch would cost every process that never crashes, and a
 * builtin loads from the node binary itself, with no file to open, whatever state the crash left.
 */
function reportId(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('node:crypto') as typeof Crypto).randomUUID();
}

/**
 * What is left when not even the fallback entry could be written: one stderr line built only
 * from data that cannot hold a secret (the report id and type names), still redacted.
 */
function lastResort(
  id: string,
  error: unknown,
  failure: unknown,
  redact: Redactor,
  timeout: number,
): Promise<ReportResult> {
  const text = `last-ditch: could not build the crash report ${id} of a thrown ${typeof error} (${typeof failure})`;
  let line: string;
  try {
    line = `${String(redact(text))}\n`;
  } catch {
    line = `last-ditch: could not build the crash report ${id}\n`;
  }
  return copyToStderr({ full: line, short: line }, timeout).then(() => ({
    id,
    crashLog: undefined,
    crashLogError: 'the crash report could not be built',
    stderr: false,
    targets: {},
  }));
}
