import { LOG_LEVELS } from './types';
import type { LogLevel } from './types';

/** The rank of a level: higher is more severe. */
export function levelRank(level: LogLevel): number {
  return LOG_LEVELS.indexOf(level);
}

/** Whether `value` is one of the six {@link LogLevel} names. */
export function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === 'string' && (LOG_LEVELS as readonly string[]).includes(value);
}
