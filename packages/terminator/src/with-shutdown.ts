import * as net from 'node:net';
import { createTerminator } from './create-terminator';
import type { TerminationReport, TerminatorOptions } from './types';

/** A server decorated by {@link withShutdown}, shaped like one from `http-shutdown`. */
export type ShutdownServer<S extends net.Server> = S & {
  /** Drains the server (see `terminate()`); calls back once every connection is closed. */
  shutdown(callback?: (error?: Error) => void): void;
  /** Refuses new connections and closes every connection at once; calls back when done. */
  forceShutdown(callback?: (error?: Error) => void): void;
};

declare module 'node:net' {
  interface Server {
    /**
     * Present once `withShutdown.extend()` has been called: decorates this server as
     * `withShutdown(this, options)` does and returns it. http-shutdown's `extend()` form.
     */
    withShutdown(options?: TerminatorOptions): ShutdownServer<this>;
  }
}

/** The `withShutdown` function with its http-shutdown-compatible `extend()`. */
export interface WithShutdown {
  <S extends net.Server>(server: S, options?: TerminatorOptions): ShutdownServer<S>;
  /**
   * http-shutdown's second form: adds a non-enumerable `withShutdown(options?)` method to
   * `net.Server.prototype` (so to http, https, http2 and net servers), so that
   * `http.createServer(app).withShutdown()` returns the decorated server. Opt-in and
   * idempotent: nothing is added until it is called, and a second call changes nothing.
   */
  extend(): void;
}

function decorate<S extends net.Server>(server: S, options?: TerminatorOptions): ShutdownServer<S> {
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

/** The method `extend()` puts on `net.Server.prototype`. */
function withShutdownMethod(
  this: net.Server,
  options?: TerminatorOptions,
): ShutdownServer<net.Server> {
  return decorate(this, options);
}

function extend(): void {
  const prototype = net.Server.prototype;
  if (Object.getOwnPropertyDescriptor(prototype, 'withShutdown')?.value === withShutdownMethod) {
    return;
  }
  // http-shutdown assigns the method (enumerable) to http.Server and https.Server only; ours is
  // non-enumerable, so that `for…in` over a server and copies of it see nothing new.
  Object.defineProperty(prototype, 'withShutdown', {
    value: withShutdownMethod,
    enumerable: false,
    writable: true,
    configurable: true,
  });
}

/**
 * An `http-shutdown`-compatible decorator: adds `shutdown(cb)` and `forceShutdown(cb)` to
 * `server` and returns it, so `require('http-shutdown')(server)` becomes `withShutdown(server)`,
 * and `require('http-shutdown').extend()` becomes `withShutdown.extend()`.
 * Unlike `http-shutdown`, it does not destroy in-flight HTTPS requests, answers pipelined
 * requests, and bounds the wait by `options.timeout`. This is the one place lastcall adds
 * properties to an object it did not create, because the caller asks for it.
 */
export const withShutdown: WithShutdown = Object.assign(decorate, { extend });
