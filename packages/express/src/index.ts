export { GracefulExpress, DEFAULT_RETRY_AFTER } from './graceful-express';
export { ExpressError } from './errors';
export type { ExpressErrorCode } from './errors';
export { isInProcessTest } from './in-process-test';
export type {
  GracefulExpressOptions,
  NextFunction,
  Request,
  RequestListener,
  Response,
  ShuttingDownError,
} from './types';
