/**
 * lastcall: every package of the family by name, `lastcall()` (thehelp-cluster's front door)
 * and the launch metrics. The module itself is callable, as thehelp-cluster's was:
 * `const cluster = require('lastcall'); cluster.setupLogs(); cluster({ worker() { … } })`.
 *
 * Two names exist in two packages; both are here under their package's prefix:
 * `GRACEFUL_DEFAULT_TIMEOUT` and `LAST_DITCH_DEFAULT_TIMEOUT`. `MAX_CAUSE_DEPTH` is the one
 * binding that last-ditch re-exports from log-shim.
 */
import { lastcall } from './lastcall';

export { lastcall, RESTART_REQUEST, STOP_REQUEST } from './lastcall';
export type { LastcallHandle, LastcallOptions } from './lastcall';
export { countLaunch } from './launch-metrics';
export type { LaunchMetricsOptions } from './launch-metrics';
export { LastcallError } from './errors';
export type { LastcallErrorCode } from './errors';

export {
  TerminatorError,
  createTerminator,
  terminateAll,
  withShutdown,
} from '@lastcall/terminator';
export type {
  ShutdownServer,
  TerminateOptions,
  TerminationReport,
  Terminator,
  TerminatorErrorCode,
  TerminatorOptions,
  TerminatorState,
  TerminatorStats,
} from '@lastcall/terminator';

export {
  CodedError,
  DEFAULT_LOG_LEVEL,
  LOG_LEVELS,
  LogShimError,
  MAX_CAUSE_DEPTH,
  describeValue,
  detectLoggerKind,
  fileTimestamp,
  getLogger,
  mainModulePath,
  reopenLogs,
  serializeError,
  setLogger,
  setupLogs,
} from '@lastcall/log-shim';
export type {
  HostLogger,
  LogFields,
  LogFiles,
  LogLevel,
  LogMethod,
  LogShimErrorCode,
  Logger,
  LoggerFactory,
  LoggerKind,
  SerializeErrorOptions,
  SerializedError,
  SetupLogsOptions,
} from '@lastcall/log-shim';

export {
  DEFAULT_MAX_STRING_LENGTH,
  DEFAULT_TIMEOUT as LAST_DITCH_DEFAULT_TIMEOUT,
  LastDitch,
  LastDitchError,
  REDACTED,
  SECRET_NAME,
  crashMetricName,
  createRedactor,
  metricName,
  redactArgv,
  redactPath,
  resolveAppName,
  sendIncrement,
  serializeThrown,
} from '@lastcall/last-ditch';
export type {
  CrashEntry,
  CrashOrigin,
  CrashSummary,
  EmailTarget,
  LastDitchErrorCode,
  LastDitchOptions,
  MailTransport,
  Messenger,
  Redactor,
  RedactorOptions,
  ReportCallback,
  ReportInfo,
  ReportResult,
  RequestContext,
  SerializedThrown,
  SmsMessage,
  SmsTarget,
  StatsdLike,
  TargetOutcome,
} from '@lastcall/last-ditch';

export {
  CHECK_INTERVAL,
  DEFAULT_SIGNALS,
  DEFAULT_TIMEOUT as GRACEFUL_DEFAULT_TIMEOUT,
  DISCONNECT_TIMEOUT,
  Graceful,
  GracefulError,
  describeReason,
  tellParent,
} from '@lastcall/graceful';
export type {
  CheckOptions,
  ErrorContext,
  ErrorContextProvider,
  ErrorInfo,
  ErrorOrigin,
  ExitCheck,
  GracefulErrorCode,
  GracefulEvents,
  GracefulOptions,
  GracefulState,
  HookOptions,
  Reporter,
  ShutdownHook,
  ShutdownReason,
} from '@lastcall/graceful';

export {
  DEFAULT_RETRY_AFTER,
  ExpressError,
  GracefulExpress,
  isInProcessTest,
} from '@lastcall/express';
export type {
  ExpressErrorCode,
  GracefulExpressOptions,
  NextFunction,
  Request,
  RequestListener,
  Response,
  ShuttingDownError,
} from '@lastcall/express';

export {
  DEFAULT_REQUEST_TIMEOUT,
  MASTER_DEFAULTS,
  Master,
  MasterError,
  TAIL_BYTES,
  backoffDelay,
  isMasterWorker,
  ready,
  requestMaster,
  requestRestart,
  workerSlot,
  workersFromEnvironment,
} from '@lastcall/master';
export type {
  BackoffOptions,
  HealthOptions,
  HeartbeatBody,
  LivenessBody,
  HeartbeatOptions,
  MasterErrorCode,
  MasterEvents,
  MasterOptions,
  OutputLineHandler,
  OutputLineInfo,
  OutputStreamName,
  ReadyOn,
  RecycleOptions,
  RequestHandler,
  RequestOptions,
  RestartReport,
  WorkerEventInfo,
  WorkerExit,
  WorkerFailure,
  WorkerInfo,
  WorkerState,
} from '@lastcall/master';

export default lastcall;

// The callable module: `require('lastcall')` is `lastcall()` carrying every export above, so a
// thehelp-cluster cluster.js ports by changing its require. The named exports stay on it (an
// ESM `import { Master } from 'lastcall'` finds them: Node reads them from the `exports.X`
// lines above before this reassignment, and their values from the function after it).
module.exports = Object.assign(lastcall, module.exports as object);
