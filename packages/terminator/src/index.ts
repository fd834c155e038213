export { createTerminator } from './create-terminator';
export { terminateAll } from './terminate-all';
export { withShutdown } from './with-shutdown';
export type { ShutdownServer, WithShutdown } from './with-shutdown';
export { TerminatorError } from './errors';
export type { TerminatorErrorCode } from './errors';
export type {
  TerminateOptions,
  TerminationReport,
  Terminator,
  TerminatorOptions,
  TerminatorState,
  TerminatorStats,
} from './types';
