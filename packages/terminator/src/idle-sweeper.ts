import type * as net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Connection } from './connection';

/**
 * ms an idle socket ended by `idleTimeout` has to close after our FIN before it is destroyed: a
 * client that never answers a FIN must not keep the socket half open for ever.
 */
export const IDLE_END_GRACE = 1000;

/** The longest a sweep may come after a socket's due time, in ms. */
const MAX_SWEEP_SLACK = 1000;

/**
 * The share of `idleTimeout` a socket may wait past its due time, so that sockets falling due
 * one after another are ended by one sweep instead of a sweep each.
 */
const SWEEP_SLACK_SHARE = 0.05;

/**
 * Ends the HTTP/1 sockets of one server that have had no request in flight and received no
 * byte for `idleTimeout` ms, while it serves (cluster2's `timeout`). One unref'd timer for the
 * whole server, armed for the earliest socket due: nothing runs per request but a check that
 * it is armed. Node's `socket.setTimeout()` is not used because it counts any I/O silence,
 * cutting a long request that has not written yet, and because the http server already owns
 * it for `server.timeout`.
 */
export class IdleSweeper {
  readonly #connections: ReadonlyMap<net.Socket, Connection>;
  readonly #isDraining: () => boolean;
  /** The `idleTimeout` of every terminator of the server that gave one; the shortest applies. */
  readonly #timeouts: number[] = [];
  #timer: NodeJS.Timeout | undefined;
  #dueAt = Infinity;

  constructor(connections: ReadonlyMap<net.Socket, Connection>, isDraining: () => boolean) {
    this.#connections = connections;
    this.#isDraining = isDraining;
  }

  /** A terminator of the server asks for `idleTimeout` ms. */
  watch(idleTimeout: number): void {
    this.#timeouts.push(idleTimeout);
    this.#arm(this.#timeout() ?? Infinity);
  }

  /** Takes back one {@link watch}; with none left, the timer stops. */
  unwatch(idleTimeout: number): void {
    const index = this.#timeouts.indexOf(idleTimeout);
    if (index >= 0) this.#timeouts.splice(index, 1);
    if (this.#timeouts.length === 0) this.stop();
  }

  /**
   * A socket connected or its last response closed: it falls due `idleTimeout` ms from now, never
   * before the timer already armed, so only an unarmed timer needs arming.
   */
  socketIdle(): void {
    if (this.#timer !== undefined || this.#timeouts.length === 0) return;
    this.#arm(this.#timeout() ?? Infinity);
  }

  /** Stops the timer; the drain closes idle sockets from now on. */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#dueAt = Infinity;
  }

  #timeout(): number | undefined {
    return this.#timeouts.length === 0 ? undefined : Math.min(...this.#timeouts);
  }

  #arm(delay: number): void {
    if (delay === Infinity || this.#isDraining()) return;
    const idleTimeout = this.#timeout() ?? 0;
    const slack = Math.min(MAX_SWEEP_SLACK, idleTimeout * SWEEP_SLACK_SHARE);
    const dueAt = performance.now() + delay + slack;
    if (this.#timer !== undefined && this.#dueAt <= dueAt) return;
    clearTimeout(this.#timer);
    this.#dueAt = dueAt;
    this.#timer = setTimeout(this.#sweep, Math.max(1, delay + slack)).unref();
  }

  #sweep = (): void => {
    this.#timer = undefined;
    this.#dueAt = Infinity;
    const idleTimeout = this.#timeout();
    if (idleTimeout === undefined || this.#isDraining()) return;
    const now = performance.now();
    let nextDueAt = Infinity;
    const due: Connection[] = [];
    for (const connection of this.#connections.values()) {
      if (!isQuietCandidate(connection)) continue;
      // Bytes of a request head that has not arrived whole: the socket is not idle. Node's own
      // headersTimeout bounds a client that sends a head too slowly.
      const { bytesRead } = connection.socket;
      if (bytesRead !== connection.quietBytesRead) {
        connection.quietBytesRead = bytesRead;
        connection.quietSince = now;
      }
      const dueAt = connection.quietSince + idleTimeout;
      if (dueAt <= now) due.push(connection);
      else nextDueAt = Math.min(nextDueAt, dueAt);
    }
    if (due.length > 0) this.#endAfterTwoPolls(due);
    if (nextDueAt !== Infinity) this.#arm(nextDueAt - now);
  };

  /**
   * Ends the sockets of `due` that are still quiet after two poll phases: when the timer fires
   * late, a request its client sent meanwhile is in the kernel's buffer and the first poll
   * phase reads it (see the drain's sweep in the registry).
   */
  #endAfterTwoPolls(due: readonly Connection[]): void {
    const quietSince = due.map((connection) => connection.quietSince);
    setImmediate(() => {
      setImmediate(() => {
        if (this.#isDraining()) return;
        let left = 0;
        for (const [index, connection] of due.entries()) {
          if (!isQuietCandidate(connection)) continue;
          const isStillQuiet =
            connection.quietSince === quietSince[index] &&
            connection.socket.bytesRead === connection.quietBytesRead;
          if (isStillQuiet) endIdleSocket(connection.socket);
          else left += 1;
        }
        // Bytes arrived on these: the next sweep restarts their clock.
        if (left > 0) this.socketIdle();
      });
    });
  }
}

/** An HTTP/1 socket, not upgraded, not ended, with no request in flight. */
function isQuietCandidate(connection: Connection): boolean {
  const { socket } = connection;
  return (
    connection.isHttp &&
    connection.upgradeRequest === undefined &&
    connection.inFlight === 0 &&
    !connection.isHandled &&
    !socket.destroyed &&
    !socket.writableEnded
  );
}

function endIdleSocket(socket: net.Socket): void {
  socket.end();
  const timer = setTimeout(() => {
    socket.destroy();
  }, IDLE_END_GRACE).unref();
  socket.once('close', () => {
    clearTimeout(timer);
  });
}
