import type { ServerHttp2Session, ServerHttp2Stream } from 'node:http2';

/**
 * NO_ERROR, the code of a stream that closed normally (RFC 9113 §7). Spelled out rather than read
 * from `http2.constants`: importing `node:http2` costs every http server ~12 ms of start-up.
 */
const NGHTTP2_NO_ERROR = 0;

/** What the session tracker reports back to its registry. */
export interface Http2SessionEvents {
  /** A stream closed; `completed` is false when it was reset or cancelled. */
  streamClosed(completed: boolean): void;
  /** A session closed and left the tracker. */
  sessionClosed(): void;
  /** A session was sent a GOAWAY by {@link Http2Sessions.close}. */
  sessionClosing(): void;
}

/** The open HTTP/2 sessions of one server and how many streams each has open. */
export class Http2Sessions {
  readonly #streams = new Map<ServerHttp2Session, number>();
  readonly #events: Http2SessionEvents;

  constructor(events: Http2SessionEvents) {
    this.#events = events;
  }

  /** How many sessions are open. */
  get size(): number {
    return this.#streams.size;
  }

  /** How many streams are open across all sessions. */
  get streamCount(): number {
    let count = 0;
    for (const streams of this.#streams.values()) count += streams;
    return count;
  }

  /** Starts tracking `session` and its streams until it closes. */
  track(session: ServerHttp2Session): void {
    this.#streams.set(session, 0);
    session.on('stream', (stream: ServerHttp2Stream) => {
      this.#streams.set(session, (this.#streams.get(session) ?? 0) + 1);
      stream.once('close', () => {
        const open = this.#streams.get(session);
        if (open !== undefined) this.#streams.set(session, open - 1);
        this.#events.streamClosed(stream.rstCode === NGHTTP2_NO_ERROR);
      });
    });
    session.once('close', () => {
      this.#streams.delete(session);
      this.#events.sessionClosed();
    });
  }

  /** Sends `session` a GOAWAY: its open streams finish, new ones are refused. */
  close(session: ServerHttp2Session): void {
    if (session.closed || session.destroyed) return;
    this.#events.sessionClosing();
    session.close();
  }

  /** Sends every open session a GOAWAY. */
  closeAll(): void {
    for (const session of this.#streams.keys()) this.close(session);
  }

  /**
   * Destroys every session, which resets its streams with CANCEL. (`stream.close()` on a stream
   * still writing would end it with END_STREAM, and the client would take the cut body as whole.)
   */
  destroyAll(): void {
    for (const session of this.#streams.keys()) session.destroy();
  }
}
