/** Every code a {@link TerminatorError} can carry. Each one is documented in docs/errors.md. */
export type TerminatorErrorCode =
  | 'LASTCALL_ERR_TERMINATOR_INVALID_SERVER'
  | 'LASTCALL_ERR_TERMINATOR_INVALID_OPTIONS'
  | 'LASTCALL_ERR_TERMINATOR_INVALID_TIMEOUT'
  | 'LASTCALL_ERR_TERMINATOR_INVALID_FORCE_DELAY'
  | 'LASTCALL_ERR_TERMINATOR_INVALID_KEEP_LISTENING'
  | 'LASTCALL_ERR_TERMINATOR_INVALID_DRAIN_DELAY'
  | 'LASTCALL_ERR_TERMINATOR_INVALID_IDLE_GRACE'
  | 'LASTCALL_ERR_TERMINATOR_INVALID_IDLE_TIMEOUT'
  | 'LASTCALL_ERR_TERMINATOR_INVALID_SERVER_TIMEOUT'
  | 'LASTCALL_ERR_TERMINATOR_INVALID_HOOK'
  | 'LASTCALL_ERR_TERMINATOR_INVALID_SIGNAL'
  | 'LASTCALL_ERR_TERMINATOR_INVALID_SERVERS'
  | 'LASTCALL_ERR_TERMINATOR_HOOK_FAILED';

/**
 * The one error class of `@lastcall/terminator`. Branch on {@link TerminatorError.code}, never on
 * the message: codes are stable, messages may improve.
 */
export class TerminatorError extends Error {
  /** A stable `LASTCALL_ERR_TERMINATOR_*` string. */
  readonly code: TerminatorErrorCode;

  constructor(code: TerminatorErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TerminatorError';
    this.code = code;
  }
}
