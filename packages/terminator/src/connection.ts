import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

/** What the registry knows of one accepted socket (after its TLS handshake, for TLS servers). */
export class Connection {
  /** Requests received on this socket whose response has not closed yet. */
  inFlight = 0;
  /**
   * `socket.bytesRead` when the socket last became idle. More bytes than this on an idle socket
   * mean a request head is arriving, so the socket must not be closed under it.
   */
  idleBytesRead: number;
  /** `performance.now()` when the socket last became idle (or connected). */
  idleSince: number;
  /**
   * For `idleTimeout`: `socket.bytesRead` when last looked at while no request was in flight,
   * and `performance.now()` since when it has not changed.
   */
  quietBytesRead: number;
  quietSince: number;
  /** The newest request's response, while it is open: the one a drain asks to close. */
  lastResponse: ServerResponse | undefined;
  /** The response we set `shouldKeepAlive = false` on, so it can be undone if one follows. */
  closingResponse: ServerResponse | undefined;
  /** Set once an `upgrade` or `connect` listener took the socket over. */
  upgradeRequest: IncomingMessage | undefined;
  /** Set once the drain closed, ended or handed over this socket; it is never done twice. */
  isHandled = false;

  constructor(
    readonly socket: Socket,
    /** `false` for plain `net`/`tls` servers, whose sockets carry no HTTP. */
    readonly isHttp: boolean,
  ) {
    this.idleBytesRead = socket.bytesRead;
    this.idleSince = performance.now();
    this.quietBytesRead = this.idleBytesRead;
    this.quietSince = this.idleSince;
  }

  /** Records that the last response in flight on this socket has closed. */
  markIdle(now: number): void {
    this.idleBytesRead = this.socket.bytesRead;
    this.idleSince = now;
    this.quietBytesRead = this.idleBytesRead;
    this.quietSince = now;
  }

  /** No request in flight and no byte of a new one received. */
  get isIdle(): boolean {
    return (
      this.isHttp &&
      this.upgradeRequest === undefined &&
      this.inFlight === 0 &&
      this.socket.bytesRead === this.idleBytesRead
    );
  }
}
