import { cutMarker, MORE_PROPERTIES, sliceWhole } from './plain-copy';

/** The largest crash log entry, in bytes of UTF-8 JSON with its newline: 256 KiB. */
export const MAX_ENTRY_BYTES = 256 * 1024;

/**
 * The short form of an entry written to a stderr that could block, in bytes: `PIPE_BUF` (4 KiB),
 * so that it goes in one atomic write or not at all.
 */
export const SHORT_ENTRY_BYTES = 4096;

/** Below this many bytes left, containers stop taking members and strings are dropped. */
const MIN_ROOM = 256;

/** Fields in the order they get their share of the size budget; the rest come after. */
const PRIORITY = ['id', 'timestamp', 'level', 'origin', 'app', 'pid', 'error'];

const MARKER_AT_END = /…\[(\d+) more characters\]$/;

/** What {@link fitEntry} cut, as the entry's `truncated` field says it. */
export interface EntryCut {
  /** The limit the entry was fitted to, in bytes. */
  readonly maxBytes: number;
  /** The size it would have had, in bytes. */
  readonly originalBytes: number;
}

interface Budget {
  left: number;
}

/**
 * The JSON line of `entry` (plain data, newline included) in at most `maxBytes` bytes. An entry
 * that fits is written as it is. A larger one gets the budget field by field, the id, the
 * origin and the error first, then the request, argv and `extra`: a string that does not fit
 * keeps what does and ends with `…[N more characters]`, an object or array that does not fit
 * keeps its first members and says `'[more properties]': N` or `'[N more items]'`, and the entry gets
 * `truncated: { maxBytes, originalBytes }`. If even that is too big, only the identity of the
 * report and the first characters of the error's name and message remain.
 */
export function fitEntry(entry: Readonly<Record<string, unknown>>, maxBytes: number): string {
  const whole = `${JSON.stringify(entry)}\n`;
  const originalBytes = Buffer.byteLength(whole);
  if (originalBytes <= maxBytes) return whole;
  const truncated: EntryCut = { maxBytes, originalBytes };
  const budget: Budget = { left: maxBytes - jsonBytes({ truncated }) - 2 };
  const fitted: Record<string, unknown> = {};
  const keys = Object.keys(entry);
  const order = [
    ...PRIORITY.filter((key) => key in entry),
    ...keys.filter((key) => !PRIORITY.includes(key)),
  ];
  for (const key of order) {
    budget.left -= jsonBytes(key) + 2;
    fitted[key] = fitValue(entry[key], budget);
  }
  const ordered: Record<string, unknown> = {};
  for (const key of keys) ordered[key] = fitted[key];
  ordered['truncated'] = truncated;
  const line = `${JSON.stringify(ordered)}\n`;
  if (Buffer.byteLength(line) <= maxBytes) return line;
  return minimalLine(entry, truncated, maxBytes);
}

/** The identity of the report and the start of the error, for when nothing else fits. */
function minimalLine(
  entry: Readonly<Record<string, unknown>>,
  truncated: EntryCut,
  maxBytes: number,
): string {
  const error = entry['error'];
  const field = (name: string): string => {
    const value =
      typeof error === 'object' && error !== null
        ? (error as Record<string, unknown>)[name]
        : undefined;
    return typeof value === 'string' ? value : '';
  };
  for (let room = 1024; ; room = Math.floor(room / 2)) {
    const minimal = {
      id: entry['id'],
      timestamp: entry['timestamp'],
      level: entry['level'],
      origin: entry['origin'],
      pid: entry['pid'],
      error: {
        name: cutString(field('name'), room / 8),
        message: cutString(field('message'), room),
      },
      truncated,
    };
    const line = `${JSON.stringify(minimal)}\n`;
    if (Buffer.byteLength(line) <= maxBytes || room < 16) return line;
  }
}

function fitValue(value: unknown, budget: Budget): unknown {
  if (typeof value === 'string') return fitString(value, budget);
  if (typeof value !== 'object' || value === null) {
    budget.left -= jsonBytes(value ?? null);
    return value;
  }
  if (Array.isArray(value)) return fitArray(value as unknown[], budget);
  return fitObject(value as Record<string, unknown>, budget);
}

function fitArray(value: readonly unknown[], budget: Budget): unknown[] {
  budget.left -= 2;
  const result: unknown[] = [];
  for (const item of value) {
    if (budget.left < MIN_ROOM) break;
    budget.left -= 1;
    result.push(fitValue(item, budget));
  }
  if (result.length < value.length) {
    const marker = `[${String(value.length - result.length)} more items]`;
    budget.left -= jsonBytes(marker) + 1;
    result.push(marker);
  }
  return result;
}

function fitObject(value: Readonly<Record<string, unknown>>, budget: Budget): unknown {
  budget.left -= 2;
  const result: Record<string, unknown> = {};
  const earlier = value[MORE_PROPERTIES];
  const keys = Object.keys(value).filter((key) => key !== MORE_PROPERTIES);
  let index = 0;
  for (; index < keys.length; index += 1) {
    const key = keys[index] ?? '';
    if (budget.left < MIN_ROOM + jsonBytes(key)) break;
    budget.left -= jsonBytes(key) + 2;
    result[key] = fitValue(value[key], budget);
  }
  const left = keys.length - index + (typeof earlier === 'number' ? earlier : 0);
  if (left > 0) {
    budget.left -= jsonBytes(MORE_PROPERTIES) + jsonBytes(left) + 2;
    result[MORE_PROPERTIES] = left;
  }
  return result;
}

/** `text` shortened to what the budget holds, its marker counting every character cut. */
function fitString(text: string, budget: Budget): string {
  const bytes = jsonBytes(text);
  if (bytes <= budget.left) {
    budget.left -= bytes;
    return text;
  }
  const marker = MARKER_AT_END.exec(text);
  const body = marker === null ? text : text.slice(0, marker.index);
  const alreadyCut = marker === null ? 0 : Number(marker[1]);
  const room = budget.left - 48;
  let end = Math.max(0, Math.min(body.length, room));
  let kept = sliceWhole(body, end);
  while (kept.length > 0 && jsonBytes(kept) > room) {
    end = Math.floor(end * 0.8);
    kept = sliceWhole(body, end);
  }
  const result = `${kept}${cutMarker(body.length - kept.length + alreadyCut)}`;
  budget.left -= jsonBytes(result);
  return result;
}

function cutString(text: string, max: number): string {
  const kept = sliceWhole(text, Math.floor(max));
  return kept.length === text.length ? text : `${kept}${cutMarker(text.length - kept.length)}`;
}

function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value));
}
