import { metricName, resolveAppName, sendIncrement } from '@lastcall/last-ditch';
import type { StatsdLike } from '@lastcall/last-ditch';
import { adaptLogger, describeValue, detectLoggerKind, getLogger } from '@lastcall/log-shim';
import type { Logger } from '@lastcall/log-shim';
import { LastcallError } from './errors';

/** Options of {@link countLaunch}. */
export interface LaunchMetricsOptions {
  /**
   * A client (statsd-client, hot-shots, anything with `increment`), `'host:port'`, or `false` for
   * none. Default: `LASTCALL_STATSD` when set, else none.
   */
  readonly statsd?: StatsdLike | string | false | undefined;
  /** Default `resolveAppName()`: `LASTCALL_APP_NAME`, `THEHELP_APP_NAME`, then package.json. */
  readonly appName?: string | undefined;
  /** Where a failure to send is logged (warn, once); default `getLogger('lastcall')`. */
  readonly logger?: Logger | undefined;
}

const KNOWN_OPTIONS: readonly string[] = ['statsd', 'appName', 'logger'];

const log = getLogger('lastcall');

/**
 * Increments `<app>.launches.master` or `<app>.launches.worker`; resolves once the datagram has
 * left (or at once when no target). Never rejects: a send failure or a missing statsd-client is
 * logged as one warning. Bad options (statsd of a wrong type, appName not a non-empty string)
 * throw a coded error synchronously — a {@link LastcallError}.
 */
export function countLaunch(
  role: 'master' | 'worker',
  options?: LaunchMetricsOptions,
): Promise<void> {
  const { statsd, appName, logger } = readOptions(role, options);
  const target = statsd ?? statsdFromEnv();
  if (target === false) return Promise.resolve();
  let metric: string | undefined;
  // Async so that a failure naming the app (process.cwd() throws once the working folder is
  // deleted) rejects into the warning below instead of throwing at the caller.
  const sent = (async () => {
    metric = metricName(resolveAppName(appName), `launches.${role}`);
    await sendIncrement(target, metric);
  })();
  return sent.then(undefined, (error: unknown) => {
    try {
      (logger ?? log).warn('could not count the launch', {
        role,
        pid: process.pid,
        ...(metric === undefined ? {} : { metric }),
        err: error,
      });
    } catch {
      // The app's own logger threw: a launch count is never worth failing the launch for.
    }
  });
}

function statsdFromEnv(): string | false {
  const value = process.env['LASTCALL_STATSD'];
  return value === undefined || value.trim() === '' ? false : value;
}

function fail(name: string, value: unknown, expected: string): never {
  throw new LastcallError(
    'LASTCALL_ERR_LASTCALL_INVALID_OPTIONS',
    `countLaunch(): ${name} must be ${expected}, got ${describeValue(value)}`,
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `host:port` or `[ipv6]:port`, with a port from 1 to 65535. */
function isHostPort(value: string): boolean {
  const match = /^(?:\[[^\]\s]+\]|[^:[\]\s]+):(\d{1,5})$/.exec(value);
  const port = Number(match?.[1]);
  return match !== null && port >= 1 && port <= 65535;
}

function readOptions(role: unknown, options: unknown): LaunchMetricsOptions {
  if (role !== 'master' && role !== 'worker') fail('role', role, "'master' or 'worker'");
  if (options === undefined) return {};
  if (!isRecord(options)) fail('options', options, 'an object');
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.includes(key)) {
      throw new LastcallError(
        'LASTCALL_ERR_LASTCALL_INVALID_OPTIONS',
        `countLaunch(): unknown option "${key}"; expected one of ${KNOWN_OPTIONS.join(', ')}`,
      );
    }
  }
  return {
    statsd: readStatsd(options['statsd']),
    appName: readAppName(options['appName']),
    logger: readLogger(options['logger']),
  };
}

function readStatsd(value: unknown): StatsdLike | string | false | undefined {
  if (value === undefined || value === false) return value;
  if (typeof value === 'string' && isHostPort(value)) return value;
  if (isRecord(value) && typeof value['increment'] === 'function') {
    return value as unknown as StatsdLike;
  }
  return fail(
    'option "statsd"',
    value,
    'a client with an increment() method, a "host:port" string or false',
  );
}

function readAppName(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  // 'undefined' is what String(undefined) makes of a missing name; resolveAppName skips it.
  if (typeof value === 'string' && value.trim() !== '' && value !== 'undefined') return value;
  return fail('option "appName"', value, 'a non-empty string');
}

function readLogger(value: unknown): Logger | undefined {
  if (value === undefined) return undefined;
  const kind = detectLoggerKind(value);
  // A winston, pino or bunyan logger given as it is goes through log-shim's adapters and its
  // redaction, as with setLogger, so that its fields stay fields.
  if (kind !== undefined && kind !== 'level-methods') {
    return adaptLogger(value as object, 'lastcall:launch-metrics');
  }
  if (isRecord(value) && typeof value['warn'] === 'function') return value as unknown as Logger;
  return fail('option "logger"', value, 'a logger with a warn() method');
}
