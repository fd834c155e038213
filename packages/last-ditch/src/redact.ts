/**
 * The redaction of a crash report is log-shim's, the one choke point every output of lastcall
 * goes through (the crash log, its stderr copy and every log line): re-exported here under the
 * names last-ditch has always had.
 */
export {
  createRedactor,
  MAX_DEPTH,
  REDACTED,
  redactArgv,
  redactPath,
  SECRET_NAME,
} from '@lastcall/log-shim';
export type { Redactor, RedactorOptions } from '@lastcall/log-shim';
