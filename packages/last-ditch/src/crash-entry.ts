import * as os from 'node:os';
import { clusterRole } from './app-info';
import type { EntryCut } from './entry-size';
import {
  createCopier,
  cutText,
  keptEntries,
  MAX_KEY_LENGTH,
  SECRET_MARGIN,
  sliceWhole,
} from './plain-copy';
import type { Copier } from './plain-copy';
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
  /** Only on an entry that was over the size limit: the limit and the size it would have had. */
  readonly truncated?: EntryCut;
}

/** What {@link buildCrashEntry} needs besides the error. */
export interface EntryContext {
  readonly id: string;
  readonly app: string;
  /** The report's redactor; it must not cut strings, the entry does that with its markers. */
  readonly redact: Redactor;
  /** Longest string kept, in characters. */
  readonly maxStringLength: number;
}

const ORIGINS: ReadonlySet<string> = new Set([
  'uncaughtException',
  'unhandledRejection',
  'request',
  'manual',
]);

function safe<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}

/**
 * Builds the crash log entry for `error` as plain data. Everything that comes from the app (the
 * error, argv, the request, `extra`) is copied without trusting it (see `createCopier`), cut to
 * `maxStringLength` and passed through `redact`; nothing of the environment is copied.
 */
export function buildCrashEntry(
  error: unknown,
  info: ReportInfo,
  context: EntryContext,
): CrashEntry {
  const { redact } = context;
  const copier = createCopier({
    maxStringLength: context.maxStringLength,
    redactText: (text) => String(redact(text)),
  });
  const origin = safe(() => info.origin, undefined);
  const entry: Record<string, unknown> = {
    id: context.id,
    timestamp: new Date().toISOString(),
    level: 'fatal',
    origin: typeof origin === 'string' && ORIGINS.has(origin) ? origin : 'manual',
    app: copier.text(sliceWhole(context.app, MAX_KEY_LENGTH)),
    hostname: safe(() => os.hostname(), 'unknown'),
    pid: process.pid,
    ppid: process.ppid,
    role: safe(clusterRole, 'unknown'),
    node: process.version,
    uptime: process.uptime(),
    memory: safe<NodeJS.MemoryUsage | undefined>(() => process.memoryUsage(), undefined),
    argv: copyArgv(process.argv, context),
    error: redact(serializeThrown(error, copier)),
  };
  const request: unknown = safe(() => info.request, undefined);
  if (typeof request === 'object' && request !== null) {
    entry['request'] = copyRequest(request, copier, redact);
  }
  const extra: unknown = safe(() => info.extra, undefined);
  if (extra !== undefined) entry['extra'] = redact(copier.copy(extra));
  return entry as unknown as CrashEntry;
}

/**
 * The entry written when even {@link buildCrashEntry} failed (an engine failure such as running
 * out of memory): built only from data that cannot carry a secret, the id, the time, the pid
 * and the type of what was thrown, and still passed through `redact`.
 */
export function fallbackEntry(
  id: string,
  thrownType: string,
  failureType: string,
  redact: Redactor,
): Record<string, unknown> {
  const entry = {
    id,
    timestamp: new Date().toISOString(),
    level: 'fatal',
    origin: 'manual',
    pid: process.pid,
    node: process.version,
    error: {
      name: 'Unreported',
      message: `last-ditch could not build the report of a thrown ${thrownType} (${failureType})`,
      thrownType,
    },
  };
  return safe(() => redact(entry) as Record<string, unknown>, entry);
}

/** argv through `redactArgv` (which knows `--token x`), each argument then cut with its marker. */
function copyArgv(argv: readonly string[], context: EntryContext): string[] {
  const head = argv
    .slice(0, keptEntries(argv.length))
    .map((argument) => argument.slice(0, context.maxStringLength + SECRET_MARGIN));
  const result = redactArgv(head, context.redact).map((argument, index) =>
    cutText(
      argument,
      context.maxStringLength,
      (argv[index]?.length ?? 0) - (head[index]?.length ?? 0),
    ),
  );
  if (head.length < argv.length) result.push(`[${String(argv.length - head.length)} more items]`);
  return result;
}

function copyRequest(request: object, copier: Copier, redact: Redactor): unknown {
  const field = (name: string): unknown =>
    safe(() => (request as Record<string, unknown>)[name], '[unreadable]');
  const url = field('url');
  return redact({
    method: copier.copy(field('method')),
    url: typeof url === 'string' ? redactPath(copier.text(url), redact) : copier.copy(url),
    id: copier.copy(field('id')),
    remoteAddress: copier.copy(field('remoteAddress')),
    headers: copier.copy(field('headers')),
  });
}
