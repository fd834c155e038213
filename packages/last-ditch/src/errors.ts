import { CodedError } from '@lastcall/log-shim';

/** Every code a {@link LastDitchError} can carry. Each one is documented in docs/errors.md. */
export type LastDitchErrorCode =
  | 'LASTCALL_ERR_LAST_DITCH_INVALID_OPTIONS'
  | 'LASTCALL_ERR_LAST_DITCH_INVALID_TIMEOUT'
  | 'LASTCALL_ERR_LAST_DITCH_INVALID_TARGET'
  | 'LASTCALL_ERR_LAST_DITCH_INVALID_PATTERN'
  | 'LASTCALL_ERR_LAST_DITCH_STATSD_MISSING'
  | 'LASTCALL_ERR_LAST_DITCH_CRASH_LOG_REFUSED'
  | 'LASTCALL_ERR_LAST_DITCH_CRASH_LOG_SHORT_WRITE'
  | 'LASTCALL_ERR_LAST_DITCH_CRASH_LOG_MODE';

/**
 * The one error class of `@lastcall/last-ditch`. Branch on {@link LastDitchError.code}, never on the
 * message: codes are stable, messages may improve.
 */
export class LastDitchError extends CodedError<LastDitchErrorCode> {}
