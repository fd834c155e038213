import { levelRank } from './levels';
import type { LogEvent, LogLevel, LogSink } from './types';

/** Options of {@link createConsoleSink}. */
export interface ConsoleSinkOptions {
  /** Events below this level are dropped. */
  readonly level: LogLevel;
  /** Receives one finished line, newline included. */
  readonly write: (line: string) => void;
}

/**
 * A sink that prints one readable line per event:
 * `2026-01-02T03:04:05.678Z INFO  lastcall:master listening {"port":3000}`.
 */
export function createConsoleSink(options: ConsoleSinkOptions): LogSink {
  const threshold = levelRank(options.level);
  return (event) => {
    if (levelRank(event.level) < threshold) return;
    options.write(formatLine(event));
  };
}

/** Formats one event as a single line ending in a newline; line breaks inside are escaped. */
export function formatLine(event: LogEvent): string {
  const { name, ...rest } = event.fields;
  const parts = [new Date().toISOString(), event.level.toUpperCase().padEnd(5)];
  if (name !== undefined) parts.push(typeof name === 'string' ? name : safeStringify(name));
  if (event.message !== '') parts.push(event.message.replaceAll('\n', '\\n'));
  if (Object.keys(rest).length > 0) parts.push(safeStringify(rest));
  return `${parts.join(' ')}\n`;
}

/** JSON that survives cycles and bigints instead of throwing inside a log call. */
export function safeStringify(value: unknown): string {
  const seen = new WeakSet<object>();
  try {
    return JSON.stringify(value, (_key, inner: unknown) => {
      if (typeof inner === 'bigint') return inner.toString();
      if (inner !== null && typeof inner === 'object') {
        if (seen.has(inner)) return '[Circular]';
        seen.add(inner);
      }
      return inner;
    });
  } catch {
    return '"[unserialisable]"';
  }
}
