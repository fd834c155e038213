import { randomUUID } from 'node:crypto';
import * as os from 'node:os';
import { clusterRole } from './app-info';
import { redactArgv, redactPath } from './redact';
import type { Redactor } from './redact';
import { serializeThrown } from './serialize-thrown';
import type { SerializedThrown } from './serialize-thrown';
import type { CrashOrigin, ReportInfo } from './types';

/** One line of the crash log, already redacted. */
export interface CrashEntry {
  readonly id: string;
  readonly timestamp: string;
  readonly level: 'fatal';
  readonly origin: CrashOrigin;
  readonly app: string;
  readonly hostname: string;
  readonly pid: number;
  readonly ppid: number;
  readonly role: string;
  readonly node: string;
  readonly uptime: number;
  readonly memory: NodeJS.MemoryUsage | undefined;
  readonly argv: readonly string[];
  readonly error: SerializedThrown;
  readonly request?: unknown;
  readonly extra?: unknown;
}

function safe<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}

/**
 * Builds the crash log entry for `error`. Everything that comes from the app (the error, argv,
 * the request, `extra`) goes through `redact`; nothing of the environment is copied.
 */
export function buildCrashEntry(
  error: unknown,
  info: ReportInfo,
  app: string,
  redact: Redactor,
): CrashEntry {
  const request = info.request;
  const entry: Record<string, unknown> = {
    id: randomUUID(),
    timestamp: new Date().toISOString(),
    level: 'fatal',
    origin: info.origin ?? 'manual',
    app,
    hostname: safe(() => os.hostname(), 'unknown'),
    pid: process.pid,
    ppid: process.ppid,
    role: safe(clusterRole, 'unknown'),
    node: process.version,
    uptime: process.uptime(),
    memory: safe<NodeJS.MemoryUsage | undefined>(() => process.memoryUsage(), undefined),
    argv: redactArgv(process.argv, redact),
    error: redact(serializeThrown(error)),
  };
  if (request !== undefined) {
    entry['request'] = redact({
      method: request.method,
      url: request.url === undefined ? undefined : redactPath(request.url, redact),
      id: request.id,
      remoteAddress: request.remoteAddress,
      headers: request.headers,
    });
  }
  if (info.extra !== undefined) entry['extra'] = redact(info.extra);
  return entry as unknown as CrashEntry;
}
