export { Master } from './master';
export type { RequestHandler } from './request-router';
export { MasterError } from './errors';
export type { MasterErrorCode, WorkerFailure } from './errors';
export { MASTER_DEFAULTS, MAX_WORKERS, workersFromEnvironment } from './options';
export {
  DEFAULT_REQUEST_TIMEOUT,
  isMasterWorker,
  ready,
  requestMaster,
  workerSlot,
} from './worker';
export type { RequestOptions } from './worker';
export type { HeartbeatBody } from './heartbeat';
export { backoffDelay } from './backoff';
export { TAIL_BYTES } from './output-tail';
export type {
  BackoffOptions,
  HealthOptions,
  HeartbeatOptions,
  RecycleOptions,
  MasterEvents,
  MasterOptions,
  ReadyOn,
  RestartReport,
  WorkerEventInfo,
  WorkerExit,
  WorkerInfo,
  WorkerState,
} from './types';
