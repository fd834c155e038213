export { GracefulExpress } from './graceful-express';
export { DEFAULT_RETRY_AFTER } from './options';
export { ExpressError } from './errors';
export type { ExpressErrorCode } from './errors';
export { isInProcessTest } from '@lastcall/graceful';
export type {
  GracefulExpressOptions,
  NextFunction,
  Request,
  RequestListener,
  Response,
  ShuttingDownError,
} from './types';
