export { Master } from './master';
export { MasterError } from './errors';
export type { MasterErrorCode, WorkerFailure } from './errors';
export { MASTER_DEFAULTS, workersFromEnvironment } from './options';
export { isMasterWorker, ready, workerSlot } from './worker';
export { backoffDelay } from './backoff';
export { TAIL_BYTES } from './output-tail';
export type {
  BackoffOptions,
  MasterEvents,
  MasterOptions,
  ReadyOn,
  RestartReport,
  WorkerEventInfo,
  WorkerExit,
  WorkerInfo,
  WorkerState,
} from './types';
