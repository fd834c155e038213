import type { Logger } from '@lastcall/log-shim';
import { Heartbeat, NO_LISTENER } from './heartbeat';
import type { HeartbeatState } from './heartbeat';
import type { ResolvedHeartbeat } from './options';
import type { WorkerHandle } from './worker-handle';

/** What the rotation asks of the master: the state the heartbeat reports, and its workers. */
export interface RotationSources {
  readonly heartbeat: ResolvedHeartbeat | undefined;
  readonly log: Logger;
  /** Every worker alive. */
  readonly handles: () => Iterable<WorkerHandle>;
  /** The heartbeat's state that the master alone knows. */
  readonly state: () => Omit<HeartbeatState, 'minReady' | 'isShuttingDown' | 'draining'>;
}

/**
 * Whether this node takes traffic, as the world outside sees it: the heartbeat (built here, with
 * or without a listener), `disable()`/`enable()`, the shutdown's first moment, and what every
 * worker is told about keep-alive. Out of rotation (disabled, or shutting down with a delay),
 * every worker says `Connection: close` on each response while it serves on.
 */
export class Rotation {
  readonly #sources: RotationSources;
  readonly heartbeat: Heartbeat;
  #isShuttingDown = false;

  constructor(sources: RotationSources) {
    this.#sources = sources;
    const settings = sources.heartbeat ?? NO_LISTENER;
    this.heartbeat = new Heartbeat(
      settings,
      () => ({
        ...sources.state(),
        minReady: settings.minReady,
        isShuttingDown: this.#isShuttingDown,
        draining: this.#drainTelemetry(),
      }),
      sources.log,
      (isDisabled) => {
        sources.log.info(isDisabled ? 'disabled: out of rotation' : 'enabled: back in rotation');
        this.#tellAll(!this.isOut);
      },
    );
  }

  get isShuttingDown(): boolean {
    return this.#isShuttingDown;
  }

  /** Disabled, or shutting down. */
  get isOut(): boolean {
    return this.#isShuttingDown || this.heartbeat.isDisabled;
  }

  /**
   * The first moment of a shutdown: the heartbeat answers 503 from now on. With a delay to
   * come, the workers serve on with `Connection: close` meanwhile. Without one the drain follows
   * at once, and its own drain delay keeps keep-alive on while the listeners close (see
   * WorkerDrain): a client told to close now would reconnect into a closing listener.
   */
  beginShutdown(hasDelay: boolean): void {
    if (this.#isShuttingDown) return;
    this.#isShuttingDown = true;
    if (hasDelay) this.#tellAll(false);
  }

  /** Keep-alive on again in every worker, at the end of the shutdown's delay, before the drain. */
  endDelay(): void {
    this.#tellAll(true);
  }

  /** A worker forked out of rotation (a reload of a disabled host) says Connection: close too. */
  forked(handle: WorkerHandle): void {
    if (this.isOut) handle.send({ lastcall: 1, type: 'keep-alive', on: false });
  }

  #tellAll(on: boolean): void {
    for (const handle of this.#sources.handles()) {
      handle.send({ lastcall: 1, type: 'keep-alive', on });
    }
  }

  #drainTelemetry(): { workers: number; inFlight: number } {
    let workers = 0;
    let inFlight = 0;
    for (const handle of this.#sources.handles()) {
      if (handle.state !== 'draining' && handle.state !== 'killing') continue;
      workers += 1;
      inFlight += handle.inFlight;
    }
    return { workers, inFlight };
  }
}
