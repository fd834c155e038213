import { CodedError } from '@lastcall/log-shim';

/** Every code a {@link LastcallError} can carry. Each one is documented in docs/errors.md. */
export type LastcallErrorCode =
  | 'LASTCALL_ERR_LASTCALL_INVALID_OPTIONS'
  | 'LASTCALL_ERR_LASTCALL_NO_MASTER'
  | 'LASTCALL_ERR_LASTCALL_UNSAFE_RUN_DIR';

/**
 * The one error class of `lastcall`. Branch on {@link LastcallError.code}, never on the message:
 * codes are stable, messages may improve.
 */
export class LastcallError extends CodedError<LastcallErrorCode> {}
