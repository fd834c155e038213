import { MasterError } from '../errors';
import type { WorkerFailure } from '../errors';

/** How many characters of a stderr tail go into an error message (the whole tail is on the error). */
const MESSAGE_TAIL = 2000;

/** One line per failed worker, with the end of its stderr, for logs and error messages. */
export function describeFailures(failures: readonly WorkerFailure[]): string {
  if (failures.length === 0) return 'no worker exited; none became ready';
  return failures
    .map((failure) => {
      const how =
        failure.reason === 'timeout'
          ? 'was not ready in time'
          : failure.reason === 'before-fork'
            ? 'could not be forked: beforeFork threw'
            : failure.reason === 'fork-failed'
              ? 'could not be forked (the process could not be spawned)'
              : `exited with ${failure.signal === null ? `code ${String(failure.code)}` : failure.signal}`;
      const tail = failure.stderrTail.trim();
      const shown = tail.length > MESSAGE_TAIL ? `…${tail.slice(-MESSAGE_TAIL)}` : tail;
      return `slot ${String(failure.slot)} (pid ${String(failure.pid)}) ${how}${shown === '' ? '' : `; stderr:\n${shown}`}`;
    })
    .join('\n');
}

/**
 * `LASTCALL_ERR_MASTER_PORT_IN_USE` when a worker failed on EADDRINUSE, naming the address from
 * its stderr; else undefined.
 */
export function portInUse(failures: Iterable<WorkerFailure>): MasterError | undefined {
  for (const failure of failures) {
    if (!failure.stderrTail.includes('EADDRINUSE')) continue;
    // `listen EADDRINUSE: address already in use 127.0.0.1:3000` from a lone process,
    // `bind EADDRINUSE 127.0.0.1:3000` from a cluster worker (the primary binds for it).
    const address =
      /EADDRINUSE(?:: address already in use)? ([^\s"',\\]+)/.exec(failure.stderrTail)?.[1] ??
      'its port';
    return new MasterError(
      'LASTCALL_ERR_MASTER_PORT_IN_USE',
      `a worker could not listen: address already in use ${address}`,
      { failures: [failure] },
    );
  }
  return undefined;
}

/** Internal: a worker that did not become ready, with what it left behind. */
export class NotReadyError extends Error {
  readonly failure: WorkerFailure;

  constructor(failure: WorkerFailure) {
    super(describeFailures([failure]));
    this.name = 'NotReadyError';
    this.failure = failure;
  }
}
