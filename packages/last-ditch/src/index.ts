export { LastDitch } from './last-ditch';
export type { ReportCallback } from './last-ditch';
export { LastDitchError } from './errors';
export type { LastDitchErrorCode } from './errors';
export { DEFAULT_TIMEOUT, DEFAULT_MAX_STRING_LENGTH } from './options';
export { MAX_ENTRY_BYTES } from './entry-size';
export type { EntryCut } from './entry-size';
export { createRedactor, redactArgv, redactPath, REDACTED, SECRET_NAME } from './redact';
export type { Redactor, RedactorOptions } from './redact';
export { serializeThrown, MAX_CAUSE_DEPTH } from './serialize-thrown';
export type { SerializedThrown } from './serialize-thrown';
export { crashMetricName, metricName, sendIncrement } from './statsd-target';
export { resolveAppName } from './app-info';
export type { CrashEntry } from './crash-entry';
export type {
  CrashOrigin,
  CrashSummary,
  EmailTarget,
  LastDitchOptions,
  MailTransport,
  Messenger,
  ReportInfo,
  ReportResult,
  RequestContext,
  SmsMessage,
  SmsTarget,
  StatsdLike,
  TargetOutcome,
} from './types';
