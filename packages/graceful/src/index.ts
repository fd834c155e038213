export { DISCONNECT_TIMEOUT, Graceful } from './graceful';
export { describeReason } from './shutdown-reason';
export { tellParent } from './process-role';
export { isInProcessTest } from './in-process-test';
export { deferSignals } from './signal-deferral';
export { GracefulError } from './errors';
export type { GracefulErrorCode } from './errors';
export { DEFAULT_SIGNALS, DEFAULT_TIMEOUT } from './options';
export { CHECK_INTERVAL } from './exit-checks';
export type {
  CheckOptions,
  ErrorContext,
  ErrorContextProvider,
  ErrorInfo,
  ErrorOrigin,
  ExitCheck,
  GracefulEvents,
  GracefulOptions,
  GracefulState,
  HookOptions,
  Reporter,
  ShutdownHook,
  ShutdownReason,
} from './types';
