import { CodedError } from '@lastcall/log-shim';

/** Every code a {@link MasterError} can carry. Each one is documented in docs/errors.md. */
export type MasterErrorCode =
  | 'LASTCALL_ERR_MASTER_INVALID_OPTIONS'
  | 'LASTCALL_ERR_MASTER_INVALID_WORKERS'
  | 'LASTCALL_ERR_MASTER_INVALID_TIMEOUT'
  | 'LASTCALL_ERR_MASTER_INVALID_BACKOFF'
  | 'LASTCALL_ERR_MASTER_INVALID_SIGNAL'
  | 'LASTCALL_ERR_MASTER_TOKEN_REQUIRED'
  | 'LASTCALL_ERR_MASTER_NOT_PRIMARY'
  | 'LASTCALL_ERR_MASTER_ALREADY_STARTED'
  | 'LASTCALL_ERR_MASTER_NOT_STARTED'
  | 'LASTCALL_ERR_MASTER_STOPPED'
  | 'LASTCALL_ERR_MASTER_START_FAILED'
  | 'LASTCALL_ERR_MASTER_PORT_IN_USE'
  | 'LASTCALL_ERR_MASTER_RESTART_ABORTED'
  | 'LASTCALL_ERR_MASTER_PID_FILE_IN_USE'
  | 'LASTCALL_ERR_MASTER_PID_FILE_FAILED'
  | 'LASTCALL_ERR_MASTER_PID_DIR_FAILED'
  | 'LASTCALL_ERR_MASTER_INVALID_HANDLER'
  | 'LASTCALL_ERR_MASTER_NO_MASTER'
  | 'LASTCALL_ERR_MASTER_REQUEST_TIMEOUT'
  | 'LASTCALL_ERR_MASTER_REQUEST_UNKNOWN'
  | 'LASTCALL_ERR_MASTER_REQUEST_FAILED';

/** What a failed worker left behind, for start and restart errors. */
export interface WorkerFailure {
  readonly slot: number;
  readonly pid: number | undefined;
  /**
   * Why it failed: it exited before it was ready, it was not ready in time, `beforeFork` threw
   * (its stack is in `stderrTail`), or the process could not be spawned (EAGAIN at the process
   * limit, ENOMEM: the error is in `stderrTail`).
   */
  readonly reason: 'exited' | 'timeout' | 'before-fork' | 'fork-failed';
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** The last lines of its stderr, at most 64 KiB. */
  readonly stderrTail: string;
}

/**
 * The one error class of `@lastcall/master`. Branch on {@link MasterError.code}, never on the
 * message: codes are stable, messages may improve. Start and restart failures carry the
 * failing workers in `failures`.
 */
export class MasterError extends CodedError<MasterErrorCode> {
  /** The workers that failed, for `START_FAILED`, `PORT_IN_USE` and `RESTART_ABORTED`. */
  readonly failures: readonly WorkerFailure[];

  constructor(
    code: MasterErrorCode,
    message: string,
    options?: { readonly cause?: unknown; readonly failures?: readonly WorkerFailure[] },
  ) {
    super(code, message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.failures = options?.failures ?? [];
  }
}
