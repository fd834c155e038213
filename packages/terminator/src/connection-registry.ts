import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type { ServerHttp2Session } from 'node:http2';
import * as net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { Connection } from './connection';
import { TerminatorError } from './errors';
import { Http2Sessions } from './http2-sessions';
import { IdleSweeper } from './idle-sweeper';
import { listExistingConnections, tlsParentSocket } from './node-internals';
import type { ResolvedOptions } from './options';
import type { ServerKind } from './server-kind';
import { shadowListener } from './shadow-listener';
import type { Listener } from './shadow-listener';
import type { TerminatorStats } from './types';

/** The report counters a drain keeps. */
export type DrainCounter = 'closedIdle' | 'completedInFlight' | 'upgraded' | 'h2Sessions';

/** A terminator that is draining, told by the registry what happens to the server's connections. */
export interface DrainObserver {
  readonly options: ResolvedOptions;
  count(counter: DrainCounter): void;
  hookFailed(error: TerminatorError): void;
  serverClosed(): void;
}

/** Sent to an upgrade or CONNECT request that arrives on an old socket after the drain started. */
const UPGRADE_REFUSAL =
  'HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n';

/** The longest one batch of idle sockets may hold the event loop while the drain closes them, in ms. */
const CLOSE_BATCH_BUDGET = 8;

/**
 * How long a socket must have been quiet to be closed without a FIN sent first, in ms: a busy
 * keep-alive client sends its next request within a round trip of its response, far below this.
 */
const LONG_IDLE = 250;

/** How many sockets a batch closes between two looks at the clock. */
const CLOSE_BATCH_CHECK = 16;

const registries = new WeakMap<net.Server, ConnectionRegistry>();

/**
 * Tracks every connection of one server: the single source of truth that all terminators of
 * that server share, so a hundred terminators add one set of listeners, not a hundred. Its
 * per-request work is a map lookup, a counter and one `close` listener on the response.
 */
export class ConnectionRegistry {
  /** The registry of `server`, made on first use; pair every call with {@link release}. */
  static acquire(server: net.Server, kind: ServerKind): ConnectionRegistry {
    const registry = registries.get(server) ?? new ConnectionRegistry(server, kind);
    registries.set(server, registry);
    registry.#users += 1;
    return registry;
  }

  readonly #server: net.Server;
  readonly #kind: ServerKind;
  readonly #connections = new Map<net.Socket, Connection>();
  /** Raw TCP sockets of TLS servers whose handshake has not finished. */
  readonly #handshaking = new Set<net.Socket>();
  readonly #sessions: Http2Sessions;
  readonly #idleSweeper: IdleSweeper;
  readonly #drains = new Set<DrainObserver>();
  #isKeepAliveStopped = false;
  /** During a terminator's `drainDelay`: keep-alive goes on as before, whoever asks to stop it. */
  #isDrainDelayed = false;
  readonly #detachers: (() => void)[] = [];
  readonly #onSocketClose: (this: net.Socket) => void;
  readonly #onHandshakeSocketClose: (this: net.Socket) => void;
  readonly #onResponseClose: (this: ServerResponse) => void;
  #users = 0;
  #isListenerClosed = false;
  /** Set by the server's `close` event, which Node emits before the sockets' own `close`. */
  #isServerClosed = false;
  /** Whether the server had connections before we watched it that could not be adopted. */
  #hasUnseenConnections = false;
  /** False when a TLS socket did not name its raw socket, so raw sockets cannot be told apart. */
  #canDestroyHandshakes = true;
  #destroyTimer: NodeJS.Timeout | undefined;
  #sweepTimer: NodeJS.Timeout | undefined;
  #sweepDueAt = 0;

  private constructor(server: net.Server, kind: ServerKind) {
    this.#server = server;
    this.#kind = kind;
    this.#sessions = new Http2Sessions({
      streamClosed: (completed) => {
        if (completed && this.#drains.size > 0) this.#count('completedInFlight');
      },
      sessionClosed: () => {
        this.#notifyIfClosed();
      },
      sessionClosing: () => {
        this.#count('h2Sessions');
      },
    });
    this.#idleSweeper = new IdleSweeper(this.#connections, () => this.#drains.size > 0);
    const connections = this.#connections;
    const handshaking = this.#handshaking;
    const notifyIfClosed = this.#notifyIfClosed.bind(this);
    this.#onSocketClose = function (this: net.Socket) {
      connections.delete(this);
      notifyIfClosed();
    };
    this.#onHandshakeSocketClose = function (this: net.Socket) {
      handshaking.delete(this);
      notifyIfClosed();
    };
    const onResponseClose = this.#responseClosed.bind(this);
    this.#onResponseClose = function (this: ServerResponse) {
      onResponseClose(this);
    };
    this.#listen('connection', this.#onConnection);
    this.#listen('close', this.#onServerClose);
    if (kind.isTls) this.#listen('secureConnection', this.#onSecureConnection);
    if (kind.isHttp2) this.#listen('session', this.#onSession);
    if (kind.isHttp1 || kind.isHttp2) {
      // An http2 server turns on its compatibility layer when a `request` listener appears.
      if (kind.isHttp1) {
        server.prependListener('request', this.#onRequest);
        this.#detachers.push(() => server.removeListener('request', this.#onRequest));
      } else {
        this.#detachers.push(shadowListener(server, 'request', this.#onRequest));
      }
      for (const event of ['checkContinue', 'checkExpectation']) {
        this.#detachers.push(shadowListener(server, event, this.#onRequest));
      }
      for (const event of ['upgrade', 'connect']) {
        this.#detachers.push(shadowListener(server, event, this.#onUpgrade));
      }
    }
    this.#adoptExistingConnections();
  }

  /** Gives back a registry from {@link acquire}; the last user detaches every listener. */
  release(): void {
    this.#users -= 1;
    if (this.#users > 0) return;
    registries.delete(this.#server);
    for (const detach of this.#detachers.splice(0)) detach();
    clearTimeout(this.#destroyTimer);
    clearTimeout(this.#sweepTimer);
    this.#idleSweeper.stop();
  }

  /** Ends sockets idle for `idleTimeout` ms while serving, until {@link unwatchIdle}. */
  watchIdle(idleTimeout: number): void {
    this.#idleSweeper.watch(idleTimeout);
  }

  /** Takes back one {@link watchIdle}. */
  unwatchIdle(idleTimeout: number): void {
    this.#idleSweeper.unwatch(idleTimeout);
  }

  /**
   * From now on every response says `Connection: close`, including those in flight whose
   * headers are not out yet; the listener stays open and nothing is closed. Idempotent.
   */
  stopKeepAlive(): void {
    // Another terminator of this server (an app's own) asks during a drain delay: the drain that
    // ends the delay asks every connection to close anyway.
    if (this.#isKeepAliveStopped || this.#isDrainDelayed) return;
    this.#isKeepAliveStopped = true;
    for (const connection of this.#connections.values()) {
      if (connection.lastResponse !== undefined) {
        this.#askToClose(connection, connection.lastResponse);
      }
    }
  }

  /**
   * Takes back {@link stopKeepAlive} while serving: later responses keep their connection.
   * Connections already asked to close still close. Nothing changes once a drain has begun.
   */
  resumeKeepAlive(): void {
    if (this.#drains.size > 0 || this.#isDrainDelayed) return;
    this.#isKeepAliveStopped = false;
  }

  /**
   * A terminator's `drainDelay` begins: until the drain, `stopKeepAlive()` changes nothing, so
   * that keep-alive goes on as before while the listener is closed.
   */
  beginDrainDelay(): void {
    this.#isDrainDelayed = true;
    // Keep-alive goes on as before during the delay, also after a stopKeepAlive() of the
    // rotation (a node taken out of it, then drained): a client told to close now would
    // reconnect into a listener that is closing.
    this.#isKeepAliveStopped = false;
  }

  /** Starts draining on behalf of `observer`; the first drain asks every connection to close. */
  beginDrain(observer: DrainObserver): void {
    this.#isDrainDelayed = false;
    this.#drains.add(observer);
    this.#idleSweeper.stop();
    if (this.#drains.size > 1) {
      // A second terminator of a server another one has closed already: no 'close' event will
      // come again, so it must hear it now.
      this.#notifyIfClosed();
      return;
    }
    for (const connection of this.#connections.values()) {
      if (connection.upgradeRequest !== undefined) {
        this.#handUpgraded(connection, connection.upgradeRequest);
      } else if (connection.lastResponse !== undefined) {
        this.#askToClose(connection, connection.lastResponse);
      }
    }
    this.#sessions.closeAll();
    this.#scheduleSweep(0);
    this.#notifyIfClosed();
  }

  /** Stops telling `observer` about the drain. */
  endDrain(observer: DrainObserver): void {
    this.#drains.delete(observer);
  }

  /**
   * Stops accepting new connections. This is `net.Server#close`, never the server's own
   * `close()`: since Node 19 `http.Server#close()` also destroys every socket that sits idle
   * between two requests of a busy keep-alive client, resetting requests already on the wire.
   */
  closeListener(): void {
    if (this.#isListenerClosed) return;
    this.#isListenerClosed = true;
    this.#isServerClosed = false;
    net.Server.prototype.close.call(this.#server);
    this.#scheduleSweep(0);
  }

  /**
   * Ends every connection still open and destroys it `forceDelay` ms later; cancels every
   * HTTP/2 stream. Returns how many connections and sessions it forced.
   */
  force(forceDelay: number): number {
    this.closeListener();
    this.#destroyHandshakes();
    let forced = 0;
    for (const { socket } of this.#connections.values()) {
      forced += 1;
      if (!socket.writableEnded) socket.end();
    }
    forced += this.#sessions.size;
    const destroyAll = (): void => {
      for (const { socket } of this.#connections.values()) socket.destroy();
      this.#sessions.destroyAll();
      (this.#server as Partial<HttpServer>).closeAllConnections?.();
    };
    if (forceDelay > 0) this.#destroyTimer = setTimeout(destroyAll, forceDelay).unref();
    else destroyAll();
    return forced;
  }

  /** Counts of what is tracked right now. */
  stats(): TerminatorStats {
    let idle = 0;
    let active = 0;
    let upgraded = 0;
    for (const connection of this.#connections.values()) {
      if (connection.upgradeRequest !== undefined) upgraded += 1;
      else if (connection.isHttp && connection.inFlight === 0) idle += 1;
      else active += 1;
    }
    return {
      idle,
      active,
      upgraded,
      handshaking: this.#handshaking.size,
      h2Sessions: this.#sessions.size,
      h2Streams: this.#sessions.streamCount,
    };
  }

  /**
   * Tracks the sockets accepted before any terminator watched this server, so they drain and
   * count like the others. Node lists them only for http servers; for the rest (and if that list
   * ever goes away) the drain falls back on asking the server how many connections it has.
   */
  #adoptExistingConnections(): void {
    const existing = this.#kind.isHttp1 ? listExistingConnections(this.#server) : undefined;
    if (existing === undefined) {
      this.#server.getConnections((error, count) => {
        if (error === null && count > this.#connections.size) this.#hasUnseenConnections = true;
      });
      return;
    }
    for (const { socket, pendingResponse } of existing) {
      if (this.#connections.has(socket)) continue;
      const connection = this.#track(socket, true);
      if (pendingResponse === undefined) continue;
      connection.inFlight = 1;
      connection.lastResponse = pendingResponse;
      pendingResponse.on('close', this.#onResponseClose);
    }
  }

  #listen(event: string, listener: Listener): void {
    this.#server.on(event, listener);
    this.#detachers.push(() => this.#server.removeListener(event, listener));
  }

  #track(socket: net.Socket, isHttp: boolean): Connection {
    const connection = new Connection(socket, isHttp);
    this.#connections.set(socket, connection);
    socket.on('close', this.#onSocketClose);
    this.#idleSweeper.socketIdle();
    return connection;
  }

  #onConnection = (socket: net.Socket): void => {
    if (this.#kind.isTls) {
      this.#handshaking.add(socket);
      socket.on('close', this.#onHandshakeSocketClose);
    } else if (!this.#kind.isHttp2) {
      this.#track(socket, this.#kind.isHttp1);
    }
  };

  #onSecureConnection = (socket: TLSSocket): void => {
    // Destroying the raw socket under a TLS socket kills a live TLS connection mid-response (what
    // http-shutdown does to every in-flight HTTPS request), so it must leave the set now.
    const parent = tlsParentSocket(socket);
    if (parent !== undefined) this.#handshaking.delete(parent);
    else this.#canDestroyHandshakes = false;
    if (this.#kind.isHttp2 && socket.alpnProtocol === 'h2') return;
    this.#track(socket, this.#kind.isHttp1 || this.#kind.isHttp2);
  };

  #onRequest = (request: IncomingMessage, response: ServerResponse): void => {
    if (request.httpVersionMajor === 2) return;
    const connection = this.#connections.get(request.socket) ?? this.#track(request.socket, true);
    connection.inFlight += 1;
    connection.lastResponse = response;
    response.on('close', this.#onResponseClose);
    if (this.#drains.size > 0 || this.#isKeepAliveStopped) this.#askToClose(connection, response);
  };

  #responseClosed(response: ServerResponse): void {
    const connection = this.#connections.get(response.req.socket);
    if (connection === undefined) return;
    connection.inFlight -= 1;
    if (connection.lastResponse === response) connection.lastResponse = undefined;
    if (connection.closingResponse === response) connection.closingResponse = undefined;
    if (this.#drains.size > 0 && response.writableFinished) this.#count('completedInFlight');
    if (connection.inFlight > 0) return;
    connection.markIdle(performance.now());
    this.#idleSweeper.socketIdle();
    // After a response that said `Connection: close`, Node is already ending the socket; after
    // one that promised keep-alive (its headers went out before the drain), the client may
    // reuse the socket at once, so it gets the same quiet period as any idle socket.
    if (this.#drains.size > 0 && !connection.socket.writableEnded) this.#scheduleSweep(0);
  }

  /**
   * Makes `response` the one that carries `Connection: close`. Only the newest response of a
   * socket may: Node ends the socket after the first response that says close, so saying it on
   * an earlier pipelined response would drop the requests queued behind it.
   */
  #askToClose(connection: Connection, response: ServerResponse): void {
    if (response.headersSent) return;
    const previous = connection.closingResponse;
    if (previous !== undefined && previous !== response && !previous.headersSent) {
      previous.shouldKeepAlive = true;
    }
    connection.closingResponse = undefined;
    if (response.shouldKeepAlive) {
      response.shouldKeepAlive = false;
      connection.closingResponse = response;
    }
  }

  #onUpgrade = (request: IncomingMessage, socket: Duplex): void => {
    if (!(socket instanceof net.Socket)) return;
    const connection = this.#connections.get(socket) ?? this.#track(socket, true);
    connection.upgradeRequest = request;
    if (this.#drains.size === 0) return;
    connection.isHandled = true;
    socket.end(UPGRADE_REFUSAL);
    socket.once('finish', destroySocket);
  };

  #onSession = (session: ServerHttp2Session): void => {
    this.#sessions.track(session);
    if (this.#drains.size === 0) return;
    // Accepted while the listener stays open for `keepListening`: let its first stream in.
    if (this.#isListenerClosed) {
      this.#sessions.close(session);
    } else {
      session.once('stream', () => {
        this.#sessions.close(session);
      });
    }
  };

  #onServerClose = (): void => {
    this.#isServerClosed = true;
    // A net.Server emits 'close' once its listener is closed and every socket it accepted has
    // been destroyed: their file descriptors are closed and their FINs are out. Their own
    // 'close' events come only after the loop has run the close callbacks of every socket, which
    // for ten thousand sockets is tens of milliseconds the drain need not wait. A socket handed
    // to the server by `emit('connection')` is not counted by Node, so it is waited for.
    for (const socket of this.#connections.keys()) {
      if (socket.destroyed) this.#connections.delete(socket);
    }
    for (const socket of this.#handshaking) {
      if (socket.destroyed) this.#handshaking.delete(socket);
    }
    this.#notifyIfClosed();
  };

  /** Tells the drains once the server is closed and every socket it had has emitted `close`. */
  #notifyIfClosed(): void {
    if (!this.#isServerClosed || this.#drains.size === 0) return;
    if (this.#connections.size + this.#sessions.size + this.#handshaking.size > 0) return;
    for (const drain of [...this.#drains]) drain.serverClosed();
  }

  #closeIdle(connection: Connection, now: number): void {
    if (connection.isHandled) return;
    connection.isHandled = true;
    const { socket } = connection;
    // After a response that said `Connection: close`, Node is already ending the socket.
    if (socket.destroyed || socket.writableEnded) return;
    this.#count('closedIdle');
    // A socket quiet for long, with nothing left to write: close(2) sends the FIN at once, one
    // syscall, where end() costs a shutdown request, a poll phase and a 'finish' before the same
    // close. Not so a socket that served a request moments ago: its client's next request may
    // land in the kernel after the last poll phase, and close(2) over unread bytes sends a reset,
    // which clients report as an error, where a FIN sent first (end()) is a closed keep-alive
    // socket they retry on. A TLS socket is ended too, so its client reads a close_notify.
    if (
      now - connection.idleSince >= LONG_IDLE &&
      socket.writableLength === 0 &&
      !isTlsSocket(socket)
    ) {
      socket.destroy();
      return;
    }
    socket.end();
    if (socket.writableFinished) socket.destroy();
    else socket.once('finish', destroySocket);
  }

  #handUpgraded(connection: Connection, request: IncomingMessage): void {
    connection.isHandled = true;
    this.#count('upgraded');
    const hook = this.#primaryOptions()?.onUpgrade;
    if (hook === undefined) return;
    this.#callHook('onUpgrade', () => {
      hook(connection.socket, request);
    });
  }

  #handPlainSocket(connection: Connection): void {
    connection.isHandled = true;
    const hook = this.#primaryOptions()?.onSocket;
    if (hook === undefined) connection.socket.end();
    else {
      this.#callHook('onSocket', () => {
        hook(connection.socket);
      });
    }
  }

  #callHook(name: string, call: () => void): void {
    try {
      call();
    } catch (cause) {
      const message = cause instanceof Error ? cause.message : String(cause);
      const error = new TerminatorError(
        'LASTCALL_ERR_TERMINATOR_HOOK_FAILED',
        `${name} threw: ${message}; the socket is left open until the deadline`,
        { cause },
      );
      for (const drain of this.#drains) drain.hookFailed(error);
    }
  }

  #primaryOptions(): ResolvedOptions | undefined {
    for (const drain of this.#drains) return drain.options;
    return undefined;
  }

  #count(counter: DrainCounter): void {
    for (const drain of this.#drains) drain.count(counter);
  }

  /**
   * Sweeps `delay` ms from now, or one event-loop turn from now when `delay` is 0: a busy
   * keep-alive client's next request is often already in the kernel's buffer, and the poll
   * phase that runs first reads it, so that socket turns active instead of being closed under it.
   */
  #scheduleSweep(delay: number): void {
    if (delay > 0) {
      if (this.#sweepTimer !== undefined && this.#sweepDueAt <= performance.now() + delay) return;
      clearTimeout(this.#sweepTimer);
      this.#sweepDueAt = performance.now() + delay;
      this.#sweepTimer = setTimeout(this.#sweep, delay);
    } else {
      setImmediate(this.#sweep);
    }
  }

  /**
   * Closes every socket that has been idle for `idleGrace` ms, and plans the next sweep for the
   * ones idle for less. A client that just got a response may already have sent its next
   * request, which is on the wire when a FIN would cross it: that request would be lost. Held a
   * little longer, the request arrives and is answered with `Connection: close` instead.
   */
  #sweep = (): void => {
    this.#sweepTimer = undefined;
    const idleGrace = this.#primaryOptions()?.idleGrace;
    if (idleGrace === undefined) return;
    if (this.#isListenerClosed) this.#destroyHandshakes();
    const now = performance.now();
    let nextDueAt = Infinity;
    const due: Connection[] = [];
    for (const connection of this.#connections.values()) {
      if (connection.isHandled) continue;
      if (!connection.isHttp) {
        if (this.#isListenerClosed) this.#handPlainSocket(connection);
      } else if (connection.isIdle) {
        const dueAt = connection.idleSince + idleGrace;
        if (dueAt <= now) due.push(connection);
        else nextDueAt = Math.min(nextDueAt, dueAt);
      }
    }
    if (due.length > 0) this.#closeAfterTwoPolls(due);
    if (nextDueAt !== Infinity) this.#scheduleSweep(Math.max(1, nextDueAt - now));
    // Sockets accepted before any terminator watched this server are known only to Node.
    if (this.#hasUnseenConnections) {
      (this.#server as Partial<HttpServer>).closeIdleConnections?.();
    }
  };

  /**
   * Closes the sockets of `due` that are still idle, since the same moment, after two poll
   * phases. A timer that fires late (a GC pause, a busy or shared CPU) finds a socket "quiet for
   * idleGrace" whose client sent its next request long ago: that request sits in the kernel's
   * buffer, and the first poll phase reads it. A client in this same process only answers a
   * response in that first poll phase, so its request is read in the second.
   */
  #closeAfterTwoPolls(due: readonly Connection[]): void {
    const idleSince = due.map((connection) => connection.idleSince);
    setImmediate(() => {
      setImmediate(() => {
        this.#closeDue(due, idleSince, 0);
      });
    });
  }

  /**
   * Closes `due` from `start` on for at most {@link CLOSE_BATCH_BUDGET} ms, then yields one
   * event-loop turn and goes on: ten thousand sockets closed in one go would hold the loop for
   * a hundred milliseconds, while requests in flight on other sockets wait. Each later batch
   * checks its sockets after more poll phases, never fewer.
   */
  #closeDue(due: readonly Connection[], idleSince: readonly number[], start: number): void {
    const now = performance.now();
    const deadline = now + CLOSE_BATCH_BUDGET;
    let index = start;
    let isSweepDue = false;
    while (index < due.length) {
      const connection = due[index] as Connection;
      if (!connection.isHandled && connection.isIdle) {
        if (connection.idleSince === idleSince[index]) this.#closeIdle(connection, now);
        else isSweepDue = true;
      }
      index += 1;
      if (index % CLOSE_BATCH_CHECK === 0 && performance.now() >= deadline) break;
    }
    if (isSweepDue) this.#scheduleSweep(0);
    if (index < due.length) {
      setImmediate(() => {
        this.#closeDue(due, idleSince, index);
      });
    }
  }

  #destroyHandshakes(): void {
    if (!this.#canDestroyHandshakes) return;
    for (const socket of this.#handshaking) socket.destroy();
  }
}

function isTlsSocket(socket: net.Socket): boolean {
  return (socket as Partial<TLSSocket>).encrypted === true;
}

function destroySocket(this: net.Socket): void {
  this.destroy();
}
