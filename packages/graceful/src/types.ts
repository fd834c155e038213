import type { CrashOrigin, ReportInfo } from '@lastcall/last-ditch';
import type { Logger } from '@lastcall/log-shim';

/** Where a {@link Graceful} is in its life: it only ever moves forward. */
export type GracefulState = 'running' | 'draining' | 'closing' | 'exiting';

/** Where an error that started or happened during a shutdown came from. */
export type ErrorOrigin = CrashOrigin;

/** Why the process is shutting down: decided by the first cause, never changed after. */
export type ShutdownReason =
  | { readonly kind: 'signal'; readonly signal: NodeJS.Signals }
  | { readonly kind: 'error'; readonly origin: ErrorOrigin; readonly error: unknown }
  | { readonly kind: 'disconnect' }
  | { readonly kind: 'manual' };

/**
 * What is known about an error besides the error itself, passed on to the reporter: `origin`
 * (default `'manual'` for {@link Graceful.shutdown}), `request` and `extra`, as
 * `@lastcall/last-ditch` takes them.
 */
export type ErrorInfo = ReportInfo;

/** What an uncaught error belongs to, as an {@link ErrorContextProvider} tells it. */
export interface ErrorContext {
  /** Merged into the report's info (`origin` is graceful's): typically `request`. */
  readonly info?: Omit<ErrorInfo, 'origin'>;
  /**
   * Called right after the report was written, before the shutdown starts; in in-process-test
   * mode, with no report and no shutdown, so that the request that threw is answered.
   */
  readonly afterReport?: () => void;
  /**
   * The provider contained the error and logged it: no report, no shutdown. Only for an error
   * known to leave the process sound, such as the SyntaxError Node's IPC channel parser throws
   * when a child process writes a line that is not JSON onto its channel.
   */
  readonly isContained?: boolean;
}

/** Asked about every uncaught error; `undefined` when the error is none of its business. */
export type ErrorContextProvider = (
  error: unknown,
  origin: ErrorOrigin,
) => ErrorContext | undefined;

/** Writes a crash report; may return a promise, which is awaited (within the deadline) before exit. */
export type Reporter = (error: unknown, info: ErrorInfo) => unknown;

/** Stops one thing. May be async; `signal` aborts when the hook's own timeout or the deadline passes. */
export type ShutdownHook = (reason: ShutdownReason, signal: AbortSignal) => unknown;

/** Options of {@link Graceful.onShutdown}. */
export interface HookOptions {
  /** Shown in the log when the hook fails, times out or is still pending. */
  readonly name?: string;
  /** ms this hook may take; after it the hook is given up on and the next one starts. */
  readonly timeout?: number;
}

/** "Ready to exit?": true when ready. May be async; a throw counts as not ready. */
export type ExitCheck = () => boolean | Promise<boolean>;

/** Options of {@link Graceful.addCheck}. */
export interface CheckOptions {
  /** Shown in the log when the check throws or is still not ready at the deadline. */
  readonly name?: string;
}

/** The events of a {@link Graceful} and their arguments. */
export interface GracefulEvents {
  /** The first moment of shutdown: readiness just turned false, the delay starts. */
  draining: [reason: ShutdownReason];
  /** Readiness is false and the delay is over: the hooks are about to run. */
  shutdown: [reason: ShutdownReason];
  /** Every hook and check is done. */
  drain: [];
  /** `exit(code)` is about to be called; in in-process-test mode, the shutdown is over and nothing exits. */
  exit: [code: number];
}

/** Options of {@link Graceful}; every one is optional and validated. */
export interface GracefulOptions {
  /** ms from the first moment of shutdown (delay included) to a forced exit; default 30000. */
  readonly timeout?: number;
  /** ms between readiness going false and the hooks; default `LASTCALL_SHUTDOWN_DELAY`, else 0. */
  readonly shutdownDelay?: number;
  /** Signals that start a shutdown; default `['SIGTERM', 'SIGINT']`; `[]` for none. */
  readonly signals?: readonly NodeJS.Signals[];
  /** Install `uncaughtException` and `unhandledRejection` handlers; default true. */
  readonly handleErrors?: boolean;
  /**
   * In-process-test mode: no handler that exits is installed (no signal handlers, no
   * `uncaughtException` / `unhandledRejection` handlers, no watch of a cluster primary), an
   * uncaught error is left to the test runner as the failure of the running test (only its
   * request, through an error context, is answered, from an `uncaughtExceptionMonitor` that
   * changes nothing else), and `shutdown()` runs the hooks but never calls `exit`. Default:
   * {@link isInProcessTest}, true under mocha, jest, `node:test` and vitest.
   */
  readonly inProcessTest?: boolean;
  /** Writes the crash report of an error; default a `LastDitch` from `@lastcall/last-ditch`. */
  readonly reporter?: Reporter;
  /** Where graceful logs; default `getLogger('lastcall:graceful')` of `@lastcall/log-shim`. */
  readonly logger?: Logger;
  /** Called with the exit code; default `process.exit`. */
  readonly exit?: (code: number) => void;
}
