export { Master } from './primary/master';
export type { RequestHandler } from './primary/request-router';
export { MasterError } from './errors';
export type { MasterErrorCode, WorkerFailure } from './errors';
export {
  MASTER_DEFAULTS,
  MAX_SHUTDOWN_DELAY,
  MAX_WORKERS,
  workersFromEnvironment,
} from './primary/options';
export { REQUESTED_RESTART_SPACING } from './primary/upkeep';
export {
  DEFAULT_REQUEST_TIMEOUT,
  isMasterWorker,
  ready,
  requestMaster,
  requestRestart,
  workerSlot,
} from './worker/api';
export type { RequestOptions } from './worker/api';
export type { HeartbeatBody, LivenessBody } from './primary/heartbeat';
export { backoffDelay } from './primary/backoff';
export { TAIL_BYTES } from './primary/output-tail';
export type {
  BackoffOptions,
  HealthOptions,
  HeartbeatOptions,
  RecycleOptions,
  MasterEvents,
  MasterOptions,
  OutputLineHandler,
  OutputLineInfo,
  OutputStreamName,
  ReadyOn,
  RestartReport,
  WorkerEventInfo,
  WorkerExit,
  WorkerInfo,
  WorkerState,
} from './types';
