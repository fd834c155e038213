import { CodedError } from './coded-error';

/** Every code a {@link LogShimError} can carry. Each one is documented in docs/errors.md. */
export type LogShimErrorCode =
  | 'LASTCALL_ERR_LOG_SHIM_INVALID_LOGGER'
  | 'LASTCALL_ERR_LOG_SHIM_INVALID_NAME'
  | 'LASTCALL_ERR_LOG_SHIM_INVALID_BINDINGS'
  | 'LASTCALL_ERR_LOG_SHIM_INVALID_LEVEL'
  | 'LASTCALL_ERR_LOG_SHIM_FACTORY_FAILED'
  | 'LASTCALL_ERR_LOG_SHIM_LOGGER_THREW'
  | 'LASTCALL_ERR_LOG_SHIM_INVALID_OPTIONS'
  | 'LASTCALL_ERR_LOG_SHIM_WINSTON_MISSING'
  | 'LASTCALL_ERR_LOG_SHIM_LOGS_DIR_FAILED';

/**
 * The one error class of `@lastcall/log-shim`. Branch on {@link LogShimError.code}, never on the
 * message: codes are stable, messages may improve.
 */
export class LogShimError extends CodedError<LogShimErrorCode> {}
