import * as fs from 'node:fs';
import { SHORT_ENTRY_BYTES } from './entry-size';
import { writeAllSync } from './write-all-sync';

/** What fd 2 is, as `fstat` sees it. */
export type StderrKind = 'file' | 'character' | 'fifo' | 'socket' | 'other' | 'closed';

/** Where the stderr copy goes: a descriptor and, for a pipe or socket, Node's stream over it. */
export interface StderrTarget {
  readonly fd: number;
  /** Node's writable stream over `fd` (`process.stderr` for fd 2), made when first asked for. */
  readonly stream?: () => NodeJS.WritableStream | undefined;
}

/** The text of the copy, and its short form of at most 4 KiB for a descriptor that may block. */
export interface StderrText {
  readonly full: string;
  readonly short: string;
}

/** The kind of `fd`, or `'closed'` when it is not open. */
export function stderrKind(fd: number): StderrKind {
  let stat: fs.Stats;
  try {
    stat = fs.fstatSync(fd);
  } catch {
    return 'closed';
  }
  if (stat.isFile()) return 'file';
  if (stat.isCharacterDevice()) return 'character';
  if (stat.isFIFO()) return 'fifo';
  if (stat.isSocket()) return 'socket';
  return 'other';
}

/**
 * Whether `fd` has O_NONBLOCK, read from /proc/self/fdinfo (Linux); `undefined` where that
 * does not exist.
 */
export function isNonBlocking(fd: number): boolean | undefined {
  try {
    const info = fs.readFileSync(`/proc/self/fdinfo/${String(fd)}`, 'utf8');
    const flags = /^flags:\s*([0-7]+)$/m.exec(info)?.[1];
    return flags === undefined ? undefined : (parseInt(flags, 8) & fs.constants.O_NONBLOCK) !== 0;
  } catch {
    return undefined;
  }
}

/**
 * Writes the stderr copy so that a stalled reader can never hold the process past `timeout`
 * ms. A file or a character device (a terminal, /dev/null) is written synchronously, whole.
 * A pipe or a socket (a log shipper, systemd's journal, a parent's `stdio: 'pipe'`) is
 * written through Node's own stream, `process.stderr`: libuv makes its descriptor non-blocking
 * when Node opens it, writes what fits at once, inside `write()`, and the rest as the reader
 * drains; the copy is given up at `timeout` and what is left is dropped at exit. A descriptor
 * the app made blocking again (checked in /proc/self/fdinfo) is made non-blocking through the
 * same handle method. Where that is not possible, only the short form (≤ 4 KiB, `PIPE_BUF`) is
 * written, in one write: for a FIFO through a non-blocking descriptor of its own opened on
 * /proc/self/fd/2, which can never wait; for a socket on fd 2 itself, which waits only if its
 * reader has left less than 4 KiB free. Resolves `true` when every byte of `text.full` was
 * handed to the kernel.
 */
export function copyToStderr(
  text: StderrText,
  timeout: number,
  target: StderrTarget = { fd: 2, stream: () => process.stderr },
): Promise<boolean> {
  const kind = stderrKind(target.fd);
  if (kind === 'closed') return Promise.resolve(false);
  if (kind === 'file' || kind === 'character' || kind === 'other') {
    return Promise.resolve(writeAllSync(target.fd, text.full));
  }
  const stream = openStream(target);
  let isFree = isNonBlocking(target.fd);
  if (isFree === false && stream !== undefined && unblock(stream)) {
    isFree = isNonBlocking(target.fd);
  }
  if ((isFree ?? process.platform !== 'win32') && stream !== undefined) {
    return writeThroughStream(stream, text.full, timeout);
  }
  const reopened = isFree !== true && kind === 'fifo' ? reopenNonBlocking(target.fd) : undefined;
  const fd = reopened ?? target.fd;
  try {
    const whole = Buffer.byteLength(text.full) <= SHORT_ENTRY_BYTES;
    const bytes = Buffer.from(whole ? text.full : text.short, 'utf8').subarray(
      0,
      SHORT_ENTRY_BYTES,
    );
    const written = fs.writeSync(fd, bytes);
    return Promise.resolve(whole && written === bytes.length);
  } catch {
    return Promise.resolve(false);
  } finally {
    if (reopened !== undefined) fs.closeSync(reopened);
  }
}

/**
 * Makes the stream's descriptor non-blocking again through the handle method an app uses to
 * make it blocking (`process.stderr._handle.setBlocking(true)`, a known way to keep output
 * whole at exit). Node's own stream copes with a non-blocking descriptor: it is how Node opens
 * pipes and sockets on Linux in the first place.
 */
function unblock(stream: NodeJS.WritableStream): boolean {
  try {
    const handle = (stream as { _handle?: { setBlocking?: (isBlocking: boolean) => number } })
      ._handle;
    return typeof handle?.setBlocking === 'function' && handle.setBlocking(false) === 0;
  } catch {
    return false;
  }
}

function openStream(target: StderrTarget): NodeJS.WritableStream | undefined {
  try {
    const stream = target.stream?.();
    const state = stream as { writable?: boolean; destroyed?: boolean } | undefined;
    return stream !== undefined && state?.writable !== false && state?.destroyed !== true
      ? stream
      : undefined;
  } catch {
    return undefined;
  }
}

/** A descriptor of its own on the same FIFO, with O_NONBLOCK, or `undefined` (not Linux). */
function reopenNonBlocking(fd: number): number | undefined {
  try {
    return fs.openSync(
      `/proc/self/fd/${String(fd)}`,
      fs.constants.O_WRONLY | fs.constants.O_NONBLOCK,
    );
  } catch {
    return undefined;
  }
}

function writeThroughStream(
  stream: NodeJS.WritableStream,
  text: string,
  timeout: number,
): Promise<boolean> {
  return new Promise((resolve) => {
    let isSettled = false;
    // An EPIPE is reported to the write callback and then emitted as 'error': without a
    // listener it would become a new uncaughtException in the middle of the report.
    const ignore = (): void => undefined;
    stream.on('error', ignore);
    const finish = (isWritten: boolean): void => {
      if (isSettled) return;
      isSettled = true;
      clearTimeout(timer);
      setImmediate(() => stream.off('error', ignore)).unref();
      resolve(isWritten);
    };
    const timer = setTimeout(() => {
      finish(false);
    }, timeout);
    timer.unref();
    try {
      stream.write(text, (error?: Error | null) => {
        finish(error === undefined || error === null);
      });
    } catch {
      finish(false);
    }
  });
}
