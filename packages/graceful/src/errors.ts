import { CodedError } from '@lastcall/log-shim';

/** Every code a {@link GracefulError} can carry. Each one is documented in docs/errors.md. */
export type GracefulErrorCode =
  | 'LASTCALL_ERR_GRACEFUL_INVALID_OPTIONS'
  | 'LASTCALL_ERR_GRACEFUL_INVALID_TIMEOUT'
  | 'LASTCALL_ERR_GRACEFUL_INVALID_DELAY'
  | 'LASTCALL_ERR_GRACEFUL_INVALID_SIGNALS'
  | 'LASTCALL_ERR_GRACEFUL_INVALID_HOOK'
  | 'LASTCALL_ERR_GRACEFUL_INVALID_CHECK'
  | 'LASTCALL_ERR_GRACEFUL_ALREADY_EXISTS'
  | 'LASTCALL_ERR_GRACEFUL_HOOK_FAILED'
  | 'LASTCALL_ERR_GRACEFUL_HOOK_TIMEOUT'
  | 'LASTCALL_ERR_GRACEFUL_CHECK_FAILED'
  | 'LASTCALL_ERR_GRACEFUL_DEADLINE'
  | 'LASTCALL_ERR_GRACEFUL_FORCED';

/**
 * The one error class of `@lastcall/graceful`. Branch on {@link GracefulError.code}, never on the
 * message: codes are stable, messages may improve.
 */
export class GracefulError extends CodedError<GracefulErrorCode> {}
