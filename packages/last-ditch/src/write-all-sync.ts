import * as fs from 'node:fs';

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/**
 * Writes every byte of `text` to `fd` before returning. A pipe that Node made non-blocking (as
 * stdout/stderr pipes are, nodejs/node#6980) accepts only what fits in its buffer and throws
 * EAGAIN when full, so a single `fs.writeSync` followed by `process.exit()` loses the rest:
 * this loops on partial writes and waits a millisecond on EAGAIN until the reader catches up.
 * Gives up after `deadlineMs` of no progress, returning `false`.
 */
export function writeAllSync(fd: number, text: string, deadlineMs = 10_000): boolean {
  const buffer = Buffer.from(text, 'utf8');
  let offset = 0;
  let stalledSince = Date.now();
  while (offset < buffer.length) {
    try {
      const written = fs.writeSync(fd, buffer, offset, buffer.length - offset);
      offset += written;
      if (written > 0) stalledSince = Date.now();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') return false;
      if (Date.now() - stalledSince > deadlineMs) return false;
      Atomics.wait(sleeper, 0, 0, 1);
    }
  }
  return true;
}
