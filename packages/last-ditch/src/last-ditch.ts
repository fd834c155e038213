import * as fs from 'node:fs';
import * as path from 'node:path';
import { getLogger } from '@lastcall/log-shim';
import { findAppName } from './app-info';
import { buildCrashEntry } from './crash-entry';
import type { CrashEntry } from './crash-entry';
import { postWebhook, sendEmail, sendSms } from './notifiers';
import { resolveOptions } from './options';
import type { ResolvedOptions } from './options';
import { createRedactor } from './redact';
import type { Redactor } from './redact';
import { runTargets } from './run-targets';
import type { TargetTask } from './run-targets';
import { serializeThrown } from './serialize-thrown';
import { sendCrashMetric } from './statsd-target';
import type {
  CrashSummary,
  LastDitchOptions,
  ReportInfo,
  ReportResult,
  TargetOutcome,
} from './types';
import { writeAllSync } from './write-all-sync';

const log = getLogger('lastcall:last-ditch');

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
    try {
      const redact = createRedactor({
        patterns: this.#options.redact,
        maxStringLength: this.#options.maxStringLength,
      });
      const { entry, result } = this.#writeSync(error, info ?? {}, redact);
      return this.#notify(error, entry, result, redact).catch((failure: unknown) => {
        log.warn('last-ditch notifiers failed', { err: redact(serializeThrown(failure)) });
        return result;
      });
    } catch (failure) {
      writeAllSync(2, `last-ditch: could not build the crash report: ${String(failure)}\n`);
      return Promise.resolve({ id: 'unknown', crashLog: undefined, stderr: true, targets: {} });
    }
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

  #writeSync(
    error: unknown,
    info: ReportInfo,
    redact: Redactor,
  ): { entry: CrashEntry; result: ReportResult } {
    const options = this.#options;
    const entry = buildCrashEntry(error, info, this.#app(), redact);
    const line = `${JSON.stringify(entry)}\n`;
    let crashLog: string | undefined;
    let crashLogError: string | undefined;
    if (options.crashLog !== false) {
      const file = path.resolve(options.crashLog);
      try {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.appendFileSync(file, line, { mode: 0o600 });
        crashLog = file;
      } catch (failure) {
        crashLogError = `${(failure as NodeJS.ErrnoException).code ?? 'error'}: ${failure instanceof Error ? failure.message : String(failure)}`;
        writeAllSync(
          2,
          `last-ditch: could not write the crash log ${file} (${crashLogError}); the report follows on stderr\n`,
        );
        log.error('could not write the crash log, the report went to stderr', {
          file,
          reason: crashLogError,
          reportId: entry.id,
        });
      }
    }
    const isStderrWanted = options.stderr || crashLogError !== undefined;
    const isStderrWritten = isStderrWanted && writeAllSync(2, line);
    const result: ReportResult = {
      id: entry.id,
      crashLog,
      ...(crashLogError === undefined ? {} : { crashLogError }),
      stderr: isStderrWritten,
      targets: {},
    };
    return { entry, result };
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
      tasks.push({ name: 'messenger', run: () => Promise.resolve(messenger(error, summary)) });
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
