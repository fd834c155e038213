import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Graceful } from '@lastcall/graceful';
import type { TerminatorOptions } from '@lastcall/terminator';

/**
 * The request, response and `next` of an Express middleware, described by the parts used, so
 * that Express 4 and 5 both fit and express itself is never imported.
 */
export type Request = IncomingMessage & {
  readonly originalUrl?: string;
  readonly id?: unknown;
};
export type Response = ServerResponse;
export type NextFunction = (error?: unknown) => void;

/** An Express app (or any `(req, res) => void` request listener). */
export type RequestListener = (request: IncomingMessage, response: ServerResponse) => void;

/** Options of {@link GracefulExpress}; every one is optional and validated. */
export interface GracefulExpressOptions {
  /** The process's coordinator; default `Graceful.start()`. */
  readonly graceful?: Graceful;
  /** Options of the terminator that `listen()` and `attach()` create (`timeout`, `onUpgrade`, …). */
  readonly terminator?: TerminatorOptions;
  /** Seconds in the `Retry-After` of a 503 while shutting down; default 5. */
  readonly retryAfter?: number;
  /**
   * In-process-test mode: an error in an endpoint is answered with the app's 500 and left to the
   * test runner as the failure of its test, with no report and no shutdown, and the Graceful this
   * adapter starts installs nothing that exits the process. Default: the mode of the Graceful
   * (given, or the process's), which is detected: true under mocha, jest, `node:test` and vitest.
   */
  readonly inProcessTest?: boolean;
  /**
   * Once the server closes, answer a request that slips in on an old keep-alive socket with 503 +
   * `Retry-After` + `Connection: close` instead of serving it; default false.
   */
  readonly shedWhileClosing?: boolean;
}

/** The error a request gets while the process shuts down: Express's handlers render it as a 503. */
export interface ShuttingDownError extends Error {
  readonly status: 503;
  readonly statusCode: 503;
  readonly expose: true;
  readonly headers: { readonly 'Retry-After': string; readonly Connection: 'close' };
}
