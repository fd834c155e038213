import type * as net from 'node:net';
import { createTerminator } from './create-terminator';
import type { TerminationReport, TerminatorOptions } from './types';

/** A server decorated by {@link withShutdown}, shaped like one from `http-shutdown`. */
export type ShutdownServer<S extends net.Server> = S & {
  /** Drains the server (see `terminate()`); calls back once every connection is closed. */
  shutdown(callback?: (error?: Error) => void): void;
  /** Refuses new connections and closes every connection at once; calls back when done. */
  forceShutdown(callback?: (error?: Error) => void): void;
};

/**
 * An `http-shutdown`-compatible decorator: adds `shutdown(cb)` and `forceShutdown(cb)` to
 * `server` and returns it, so `require('http-shutdown')(server)` becomes `withShutdown(server)`.
 * Unlike `http-shutdown`, it does not destroy in-flight HTTPS requests, answers pipelined
 * requests, and bounds the wait by `options.timeout`. This is the one place lastcall adds
 * properties to an object it did not create, because the caller asks for it.
 */
export function withShutdown<S extends net.Server>(
  server: S,
  options?: TerminatorOptions,
): ShutdownServer<S> {
  const terminator = createTerminator(server, options);
  const callBack = (promise: Promise<TerminationReport>, callback?: (error?: Error) => void) => {
    if (callback === undefined) return;
    // Called outside the promise chain, so an exception in the callback is not swallowed.
    void promise.then(() => {
      process.nextTick(() => {
        callback.call(server);
      });
    });
  };
  const decorated = server as ShutdownServer<S>;
  decorated.shutdown = (callback) => {
    callBack(terminator.terminate(), callback);
  };
  decorated.forceShutdown = (callback) => {
    callBack(terminator.terminate({ timeout: 0 }), callback);
  };
  return decorated;
}
