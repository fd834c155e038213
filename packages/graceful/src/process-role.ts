import type { Cluster } from 'node:cluster';

function cluster(): Cluster {
  // Loaded when first asked, not at module load: importing graceful loads nothing it does not use.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('node:cluster') as Cluster;
}

/** `master` in a cluster primary or a lone process, `worker <id>` in a cluster worker. */
export function roleOf(): string {
  const worker = cluster().worker;
  return worker === undefined ? 'master' : `worker ${String(worker.id)}`;
}

/** Sends `message` to the parent over IPC when there is a connected channel; never throws. */
export function tellParent(message: object): void {
  if (typeof process.send !== 'function' || !process.connected) return;
  try {
    process.send(message, undefined, {}, () => undefined);
  } catch {
    // The channel closed between the check and the send: the parent is gone, nobody to tell.
  }
}

/** This worker is leaving the cluster on its own: its channel closing is no news. */
let isLeaving = false;

/**
 * In a cluster worker, calls `onClose` when the IPC channel to the primary closes (the primary
 * died or disconnected the worker); returns a function that stops watching. Elsewhere returns
 * `undefined`: a 'disconnect' listener keeps the IPC channel of a plain `child_process.fork`
 * child referenced, which would keep a child that has finished its work alive, while a cluster
 * worker's channel is referenced by cluster itself.
 */
export function watchParent(onClose: () => void): (() => void) | undefined {
  const worker = cluster().worker;
  if (worker === undefined || !process.connected) return undefined;
  const onDisconnect = (): void => {
    // Our own leaveCluster(): the primary did not vanish, nothing to start.
    if (isLeaving) return;
    // cluster's own 'disconnect' listener, which runs right after this one, calls process.exit(0)
    // at once when the primary vanished (exitedAfterDisconnect false), dropping every request in
    // flight. The one deliberate write to a Node object in graceful: marking the disconnect as
    // expected leaves the exit to the drain.
    worker.exitedAfterDisconnect = true;
    onClose();
  };
  process.prependListener('disconnect', onDisconnect);
  return () => process.off('disconnect', onDisconnect);
}

/**
 * In a cluster worker, leaves the cluster before the exit: a worker-initiated disconnect, which
 * closes what is still listening and sends the primary a message it acknowledges. The channel is
 * ordered both ways, so by the acknowledgement the primary has stopped routing connections to
 * this worker, and every connection it had already handed over has arrived here and been handed
 * back (a worker that exits first strands them: their clients time out). Resolves when the
 * channel has closed, after `ms`, or when `signal` aborts; at once outside a cluster worker.
 */
export function leaveCluster(ms: number, signal: AbortSignal): Promise<void> {
  const worker = cluster().worker;
  if (worker === undefined || !process.connected || signal.aborted) return Promise.resolve();
  isLeaving = true;
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      process.off('disconnect', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    timer.unref();
    process.once('disconnect', done);
    signal.addEventListener('abort', done, { once: true });
    try {
      worker.disconnect();
    } catch {
      done();
    }
  });
}
