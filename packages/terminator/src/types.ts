import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import type { TerminatorError } from './errors';

/** Options of {@link createTerminator}; every one may also be passed to `terminate()`. */
export interface TerminatorOptions {
  /**
   * Grace period in milliseconds before whatever is still open is forced closed. `Infinity`
   * never forces and starts no timer; `0` forces at once, after the listener is closed.
   * @defaultValue 10000
   */
  readonly timeout?: number;
  /**
   * Milliseconds between `end()` and `destroy()` of each socket when forcing, so that a TLS
   * close_notify or the tail of a response can still be flushed.
   * @defaultValue 0
   */
  readonly forceDelay?: number;
  /**
   * Milliseconds to keep accepting new connections after `terminate()`, while a load balancer
   * deregisters this instance. Every response served in that window carries `Connection: close`.
   * @defaultValue 0
   */
  readonly keepListening?: number;
  /**
   * Milliseconds between closing the listener and draining the connections: keep-alive goes on
   * as before meanwhile, then every connection is asked to close. In a cluster worker, whose
   * listener is the primary's, this gives the primary time to stop accepting, so that a client
   * told `Connection: close` reconnects into a refused port (or another worker) rather than into
   * a connection the primary accepts and then drops. Cannot be combined with `keepListening`.
   * @defaultValue 0
   */
  readonly drainDelay?: number;
  /**
   * Milliseconds a keep-alive socket must have been quiet before the drain closes it. A busy
   * client may have sent its next request before it could see our FIN; held this long, that
   * request arrives and is answered with `Connection: close` instead of being lost. Sockets
   * quiet for longer are closed at once.
   * @defaultValue 20
   */
  readonly idleGrace?: number;
  /**
   * Milliseconds after which, while the server serves, an HTTP/1 socket with no request in
   * flight and no byte received is ended: FIN, then destroyed if still open a second later. It
   * counts from the end of the last response, or from the connection when no request came. A
   * request in flight is never cut, however long it takes or however slowly its body arrives;
   * upgraded sockets (WebSocket, CONNECT), HTTP/2 sessions, TLS handshakes and plain `net`/`tls`
   * sockets are left alone. `false` turns it off. It is read when the terminator is created; in
   * `terminate()` it changes nothing, as the drain closes idle sockets anyway. cluster2's
   * `timeout` was 30000.
   * @defaultValue false
   */
  readonly idleTimeout?: number | false;
  /**
   * Sets the server's `keepAliveTimeout` (ms an idle keep-alive socket stays open) when the
   * terminator is created. Behind a load balancer that keeps connections to the app open (nginx
   * `keepalive`, HAProxy `http-reuse`, an AWS ALB), it must be LONGER than the balancer's idle
   * timeout: otherwise the app closes a connection at the moment the balancer reuses it, and the
   * balancer answers 502. Node's default is 5000. HTTP/1 servers only; in `terminate()` it
   * changes nothing.
   */
  readonly keepAliveTimeout?: number;
  /**
   * Sets the server's `headersTimeout` (ms a client has to send a request's headers) when the
   * terminator is created. HTTP/1 servers only; in `terminate()` it changes nothing.
   */
  readonly headersTimeout?: number;
  /**
   * Called once per upgraded socket (WebSocket, CONNECT tunnel) when the drain starts, for
   * example to send a WebSocket close frame 1001. Without it, upgraded sockets are left alone
   * until the deadline, then destroyed.
   */
  readonly onUpgrade?: (socket: Duplex, request: IncomingMessage) => void;
  /**
   * Plain `net.Server` and `tls.Server` only: called once per connection when the drain starts,
   * instead of the default `socket.end()`, so the protocol can say goodbye its own way.
   */
  readonly onSocket?: (socket: Socket) => void;
  /** Aborting this signal forces everything still open closed at once. */
  readonly signal?: AbortSignal;
}

/** Options of {@link Terminator.terminate}: the creation options, overridden one by one. */
export type TerminateOptions = TerminatorOptions;

/** Where a terminator is in its life. */
export type TerminatorState = 'serving' | 'draining' | 'closed';

/** How many connections a terminator tracks right now, by kind. */
export interface TerminatorStats {
  /** HTTP/1 sockets with no request in flight (including connected ones that sent nothing). */
  readonly idle: number;
  /** HTTP/1 sockets with a request in flight, and plain `net` sockets. */
  readonly active: number;
  /** Sockets handed over to an `upgrade` or `connect` listener. */
  readonly upgraded: number;
  /** TLS connections whose handshake has not finished. */
  readonly handshaking: number;
  /** Open HTTP/2 sessions. */
  readonly h2Sessions: number;
  /** Open HTTP/2 streams across all sessions. */
  readonly h2Streams: number;
}

/** What one termination did; `terminate()` resolves with it. */
export interface TerminationReport {
  /** Milliseconds from the first `terminate()` call until everything was closed. */
  readonly durationMs: number;
  /** `true` when nothing had to be forced closed at the deadline or by the abort signal. */
  readonly graceful: boolean;
  /** Connections closed because no request was in flight on them. */
  readonly closedIdle: number;
  /** Requests and HTTP/2 streams that were in flight during the drain and completed. */
  readonly completedInFlight: number;
  /** Connections and HTTP/2 sessions destroyed at the deadline or by the abort signal. */
  readonly forced: number;
  /** Upgraded sockets that were open when the drain started. */
  readonly upgraded: number;
  /** HTTP/2 sessions sent a GOAWAY. */
  readonly h2Sessions: number;
  /** Errors thrown by `onUpgrade` or `onSocket`; the socket then waits for the deadline. */
  readonly hookErrors: readonly TerminatorError[];
}

/** Closes one server without dropping a request. Made by {@link createTerminator}. */
export interface Terminator {
  /** `'serving'` until `terminate()`, `'draining'` while it runs, `'closed'` once resolved. */
  readonly state: TerminatorState;
  /** Counts of the connections tracked right now. */
  stats(): TerminatorStats;
  /**
   * Says `Connection: close` on every HTTP/1 response from now on, and on those in flight whose
   * headers are not out yet, while the server keeps accepting: for the time a load balancer
   * needs to stop routing here, so that keep-alive clients move on before the drain starts.
   * Idempotent; `terminate()` does it too.
   */
  stopKeepAlive(): void;
  /**
   * Takes back {@link stopKeepAlive}: responses from now on keep their connection open again
   * (the node is back in rotation). Connections already told to close still close. Does
   * nothing once `terminate()` has begun.
   */
  resumeKeepAlive(): void;
  /**
   * Stops accepting, lets every request already received finish, closes each connection as
   * it goes idle, and forces the rest at the deadline. Idempotent: every call returns the
   * promise of the first. Never rejects because the server was not listening.
   */
  terminate(options?: TerminateOptions): Promise<TerminationReport>;
}
