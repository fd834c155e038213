import { AsyncLocalStorage } from 'node:async_hooks';
import * as http from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { Graceful, isInProcessTest } from '@lastcall/graceful';
import type { ErrorContext } from '@lastcall/graceful';
import { describeValue } from '@lastcall/log-shim';
import { createTerminator } from '@lastcall/terminator';
import type { TerminatorOptions } from '@lastcall/terminator';
import { ExpressError } from './errors';
import { DEFAULT_RETRY_AFTER, readOptions } from './options';
import { describeRequest, hasHttpStatus } from './request-info';
import type {
  GracefulExpressOptions,
  NextFunction,
  Request,
  RequestListener,
  Response,
  ShuttingDownError,
} from './types';

/** What the middleware remembers of one request, for the length of its async work. */
interface RequestContext {
  readonly request: Request;
  readonly response: Response;
  readonly next: NextFunction;
  hasCrashed: boolean;
}

/**
 * Express, gracefully. Its {@link GracefulExpress.middleware} gives each request an
 * AsyncLocalStorage context, so that an error thrown by any callback of that request (a timer,
 * an fs or socket callback, an event listener, a rejected promise) is reported with the request,
 * answered with a 500 by the app's own error handler and followed by a graceful shutdown — while
 * every other request in flight completes. From the first moment of shutdown every response says
 * `Connection: close`; a request that slips in on an old keep-alive socket is still served, or
 * with `shedWhileClosing` gets 503 + `Retry-After` + `Connection: close`.
 *
 * Under a test runner (mocha, jest, `node:test`, vitest) or with `inProcessTest: true`, nothing
 * exits the process: an error in an endpoint is answered with the app's 500 and is the failure
 * of the test that caused it, reported by the runner.
 */
/**
 * ms a keep-alive socket must have been quiet before the drain closes it; the terminator's own
 * default is 20. A pooled client (undici, an Agent) reuses a kept-alive socket at any moment:
 * on a loaded machine one that sent its next request 20–60 ms after the last response lost it
 * to our FIN (a crash drain under load, measured on Node 20 and 26). A socket quiet for a second
 * belongs to a client that is not sending; the worker runtime of @lastcall/master uses the same.
 */
const IDLE_GRACE = 1000;

export class GracefulExpress {
  readonly #graceful: Graceful;
  readonly #storage = new AsyncLocalStorage<RequestContext>();
  readonly #terminatorOptions: TerminatorOptions;
  readonly #retryAfter: string;
  readonly #isInProcessTest: boolean;
  readonly #isShedding: boolean;
  readonly #trackedSockets = new Set<Duplex>();

  /** Throws an `ExpressError` for a bad option. */
  constructor(options?: GracefulExpressOptions) {
    const given = readOptions(options);
    this.#retryAfter = String(given.retryAfter ?? DEFAULT_RETRY_AFTER);
    this.#isShedding = given.shedWhileClosing ?? false;
    this.#terminatorOptions = this.#withTrackedSockets({
      idleGrace: IDLE_GRACE,
      ...given.terminator,
    });
    this.#graceful = given.graceful ?? startGraceful(given.inProcessTest);
    this.#isInProcessTest = given.inProcessTest ?? modeOf(this.#graceful);
    // In in-process-test mode too: graceful then asks it from an uncaughtExceptionMonitor only,
    // so that the request that threw gets its 500 while the runner fails the test.
    this.#graceful.addErrorContext((error) => this.#contextOfCurrentRequest(error));
  }

  /**
   * Whether errors are left to a test runner: the option `inProcessTest`, else the mode of the
   * Graceful. Then {@link GracefulExpress.errorHandler} starts no shutdown, and the Graceful
   * this adapter started installs nothing that exits.
   */
  get isInProcessTest(): boolean {
    return this.#isInProcessTest;
  }

  /** The coordinator this adapter reports to. */
  get graceful(): Graceful {
    return this.#graceful;
  }

  /**
   * Install it first, before the routes. Opens the request's context. From the first moment of
   * shutdown every response says `Connection: close`; a request that slips in on an old
   * keep-alive socket while the server closes is still served (it was sent before its client
   * could know), or with `shedWhileClosing` answered with a 503 through `next(error)`, so the
   * app's error handler renders it.
   */
  readonly middleware = (request: Request, response: Response, next: NextFunction): void => {
    const state = this.#graceful.state;
    if (state !== 'running') {
      if (!response.headersSent) response.setHeader('Connection', 'close');
      if (this.#isShedding && state !== 'draining') {
        next(this.#shuttingDownError());
        return;
      }
    }
    this.#storage.run({ request, response, next, hasCrashed: false }, next);
  };

  /**
   * Opt-in: install it after the routes and before your own error handler. Express catches a
   * throw in a handler and, in Express 5, an async handler's rejection, and passes the error to
   * `next`: nothing else would know it happened. An error without an HTTP status (`status` or
   * `statusCode` from 400 to 599, as http-errors sets) is taken as a crash of this request: it
   * is reported with the request, the response gets `Connection: close`, the process shuts down
   * gracefully (exit 1), and the error goes on to your error handler for its 500. An error with
   * a status was sent on purpose and goes on untouched. In in-process-test mode every error goes
   * on untouched: the test sees the 500.
   */
  readonly errorHandler = (
    error: unknown,
    request: Request,
    response: Response,
    next: NextFunction,
  ): void => {
    // A crash the middleware's context already answered comes through here on its way to the
    // app's handler: it was reported once.
    const isAnswered = this.#storage.getStore()?.hasCrashed === true;
    if (this.#isInProcessTest || isAnswered || hasHttpStatus(error)) {
      next(error);
      return;
    }
    if (!response.headersSent) response.setHeader('Connection', 'close');
    void this.#graceful.shutdown(error, { origin: 'request', request: describeRequest(request) });
    next(error);
  };

  /** Readiness probe: 200 while running, 503 from the first moment of shutdown. */
  readonly readiness = (_request: Request, response: Response): void => {
    const isReady = this.#graceful.isReady;
    response.statusCode = isReady ? 200 : 503;
    response.setHeader('Cache-Control', 'no-store');
    if (!isReady) response.setHeader('Retry-After', this.#retryAfter);
    response.end(isReady ? 'ready\n' : 'shutting down\n');
  };

  /** Liveness probe: 200 for as long as the process answers. */
  readonly liveness = (_request: Request, response: Response): void => {
    response.statusCode = 200;
    response.setHeader('Cache-Control', 'no-store');
    response.end('alive\n');
  };

  /**
   * Creates the http server for `app`, attaches the terminator before listening and registers
   * it as a shutdown hook, then listens with `listenArgs` (as `app.listen` does).
   */
  listen(app: RequestListener, ...listenArgs: unknown[]): http.Server {
    if (typeof app !== 'function') {
      throw new ExpressError(
        'LASTCALL_ERR_EXPRESS_INVALID_APP',
        `listen: expected an Express app (a function (req, res)) as the first argument, got ${describeValue(app)}`,
      );
    }
    const server = this.attach(http.createServer(app));
    (server.listen as (...args: unknown[]) => http.Server)(...listenArgs);
    return server;
  }

  /**
   * Attaches the terminator to a server the app created itself (http or https, listening or
   * not) and registers it as a shutdown hook. Returns the server.
   */
  attach<S extends http.Server>(server: S): S {
    const shape = server as Partial<http.Server> | null;
    if (typeof shape?.listen !== 'function' || typeof shape.on !== 'function') {
      throw new ExpressError(
        'LASTCALL_ERR_EXPRESS_INVALID_SERVER',
        `attach: expected an http or https server, got ${describeValue(server)}`,
      );
    }
    const terminator = createTerminator(server, this.#terminatorOptions);
    // From the first moment of shutdown every response says Connection: close, so keep-alive
    // clients have moved to other instances by the time the server closes.
    if (this.#graceful.state === 'running') {
      this.#graceful.once('draining', () => {
        terminator.stopKeepAlive();
      });
    } else {
      terminator.stopKeepAlive();
    }
    this.#graceful.onShutdown(() => terminator.terminate(), { name: 'http server' });
    return server;
  }

  /**
   * Leaves an upgraded socket (ws, socket.io) to the app's own shutdown hook: the drain neither
   * ends it nor hands it to `terminator.onUpgrade`; the deadline still destroys it.
   */
  trackSocket(socket: Socket): void {
    this.#trackedSockets.add(checkSocket(socket, 'trackSocket'));
    socket.once('close', () => this.#trackedSockets.delete(socket));
  }

  /** Gives a socket given to {@link GracefulExpress.trackSocket} back to the drain. */
  untrackSocket(socket: Socket): void {
    this.#trackedSockets.delete(checkSocket(socket, 'untrackSocket'));
  }

  #withTrackedSockets(options: TerminatorOptions): TerminatorOptions {
    const onUpgrade = options.onUpgrade;
    return {
      ...options,
      onUpgrade: (socket, request) => {
        if (this.#trackedSockets.has(socket)) return;
        if (onUpgrade === undefined) socket.end();
        else onUpgrade(socket, request);
      },
    };
  }

  #contextOfCurrentRequest(error: unknown): ErrorContext | undefined {
    const context = this.#storage.getStore();
    if (context === undefined) return undefined;
    return {
      info: { request: describeRequest(context.request) },
      afterReport: () => {
        this.#answerCrashed(context, error);
      },
    };
  }

  /**
   * The request whose callback threw gets its 500 from the app's own error handler, through the
   * `next` of this middleware (the router continues at the error handlers) with the error that
   * was thrown, and `Connection: close`. A response already under way cannot become a 500: its socket is
   * destroyed, so the client sees a cut response rather than a complete-looking one.
   */
  #answerCrashed(context: RequestContext, error: unknown): void {
    if (context.hasCrashed) return;
    context.hasCrashed = true;
    const { response, next } = context;
    if (response.writableEnded) return;
    if (response.headersSent) {
      response.destroy();
      return;
    }
    response.setHeader('Connection', 'close');
    next(
      error instanceof Error ? error : new Error(`a non-Error was thrown: ${describeValue(error)}`),
    );
  }

  #shuttingDownError(): ShuttingDownError {
    return Object.assign(new Error('Service Unavailable: the server is shutting down'), {
      status: 503 as const,
      statusCode: 503 as const,
      expose: true as const,
      headers: { 'Retry-After': this.#retryAfter, Connection: 'close' as const },
    });
  }
}

/**
 * The process's Graceful. The first one is started in the mode asked for (in-process test or
 * not); one that exists already keeps its own.
 */
function startGraceful(inProcessTest: boolean | undefined): Graceful {
  if (inProcessTest === undefined || Graceful.instance !== undefined) return Graceful.start();
  return Graceful.start({ inProcessTest });
}

/** By shape: a Graceful from an older copy of @lastcall/graceful has no mode of its own. */
function modeOf(graceful: Graceful): boolean {
  const mode = (graceful as Partial<Graceful>).isInProcessTest;
  return typeof mode === 'boolean' ? mode : isInProcessTest();
}

function checkSocket(socket: unknown, where: string): Socket {
  const shape = socket as Partial<Socket> | null;
  if (typeof shape?.end !== 'function' || typeof shape.once !== 'function') {
    throw new ExpressError(
      'LASTCALL_ERR_EXPRESS_INVALID_SOCKET',
      `${where}: expected a socket (net.Socket or tls.TLSSocket), got ${describeValue(socket)}`,
    );
  }
  return socket as Socket;
}
