import { CodedError } from '@lastcall/log-shim';

/** Every code an {@link ExpressError} can carry. Each one is documented in docs/errors.md. */
export type ExpressErrorCode =
  | 'LASTCALL_ERR_EXPRESS_INVALID_OPTIONS'
  | 'LASTCALL_ERR_EXPRESS_INVALID_RETRY_AFTER'
  | 'LASTCALL_ERR_EXPRESS_INVALID_APP'
  | 'LASTCALL_ERR_EXPRESS_INVALID_SERVER'
  | 'LASTCALL_ERR_EXPRESS_INVALID_SOCKET';

/**
 * The one error class of `@lastcall/express`. Branch on {@link ExpressError.code}, never on the
 * message: codes are stable, messages may improve.
 */
export class ExpressError extends CodedError<ExpressErrorCode> {}
