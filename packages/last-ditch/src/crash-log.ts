import * as fs from 'node:fs';
import * as path from 'node:path';
import * as util from 'node:util';
import type { LastDitchErrorCode } from './errors';

/** The mode of the crash log: read and write for its owner only. */
export const CRASH_LOG_MODE = 0o600;

/** The mode of a folder last-ditch creates for the crash log. */
export const CRASH_LOG_DIR_MODE = 0o700;

/**
 * `O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK`: never follow a symlink at the path
 * (ELOOP instead), and never wait on a FIFO planted there (ENXIO instead of blocking until a
 * reader comes). libuv adds `O_CLOEXEC` to every open on its own, so a child process forked
 * meanwhile does not inherit the descriptor; `fs.constants` does not list it on Linux.
 */
const OPEN_FLAGS =
  fs.constants.O_WRONLY |
  fs.constants.O_APPEND |
  fs.constants.O_CREAT |
  fs.constants.O_NOFOLLOW |
  fs.constants.O_NONBLOCK |
  ((fs.constants as Record<string, number | undefined>)['O_CLOEXEC'] ?? 0);

/** How appending one entry went. */
export interface CrashLogOutcome {
  /** Why the entry is not in the file, when it is not. */
  readonly error?: string;
  /** A problem that did not stop the write, such as a mode that could not be made 0600. */
  readonly warning?: string;
}

/**
 * Appends `line` to the crash log at `file` in ONE `write()`, so that entries of several
 * processes never interleave. The file is opened with {@link OPEN_FLAGS} and created with mode
 * 0600 (no chmod after the fact); its missing folders are created with mode 0700. A symlink
 * or anything but a regular file at the path is refused. An existing file we own that is not
 * 0600 is made 0600 through the open descriptor (`fchmod`); one we do not own is left alone
 * and reported as a warning. A short write (the disk filled up mid-entry) is rolled back with
 * `ftruncate`, so that no torn line stays and the next entry starts on a line of its own.
 * Never throws.
 */
export function appendCrashLog(file: string, line: string): CrashLogOutcome {
  let fd: number;
  try {
    createFolder(path.dirname(file));
    fd = fs.openSync(file, OPEN_FLAGS, CRASH_LOG_MODE);
  } catch (error) {
    return { error: openFailure(file, error) };
  }
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) {
      return {
        error: problem(
          'LASTCALL_ERR_LAST_DITCH_CRASH_LOG_REFUSED',
          `${file} is not a regular file; last-ditch writes only to one`,
        ),
      };
    }
    const warning = enforceMode(fd, file, stat);
    const error = writeWhole(fd, Buffer.from(line, 'utf8'));
    return {
      ...(error === undefined ? {} : { error }),
      ...(warning === undefined ? {} : { warning }),
    };
  } catch (error) {
    return { error: describeErrno(error) };
  } finally {
    fs.closeSync(fd);
  }
}

function createFolder(dir: string): void {
  const first = fs.mkdirSync(dir, { recursive: true, mode: CRASH_LOG_DIR_MODE });
  if (first === undefined) return;
  // mkdir's mode is masked by the umask; a folder we create is ours and exactly 0700.
  let current = first;
  fs.chmodSync(current, CRASH_LOG_DIR_MODE);
  for (const part of path.relative(first, dir).split(path.sep).filter(Boolean)) {
    current = path.join(current, part);
    fs.chmodSync(current, CRASH_LOG_DIR_MODE);
  }
}

/** Makes the file 0600 when it is ours; otherwise says why it could not. */
function enforceMode(fd: number, file: string, stat: fs.Stats): string | undefined {
  const mode = stat.mode & 0o777;
  if (mode === CRASH_LOG_MODE) return undefined;
  const octal = `0${mode.toString(8)}`;
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  if (uid !== stat.uid) {
    return problem(
      'LASTCALL_ERR_LAST_DITCH_CRASH_LOG_MODE',
      `${file} has mode ${octal} and belongs to uid ${String(stat.uid)}, not to this process; its mode was left as it is`,
    );
  }
  try {
    fs.fchmodSync(fd, CRASH_LOG_MODE);
    return undefined;
  } catch (error) {
    return problem(
      'LASTCALL_ERR_LAST_DITCH_CRASH_LOG_MODE',
      `${file} has mode ${octal} and could not be made 0600 (${describeErrno(error)})`,
    );
  }
}

/** One `write()` of all of `bytes`; a short write is rolled back. Returns the failure, if any. */
function writeWhole(fd: number, bytes: Buffer): string | undefined {
  let written: number;
  try {
    written = fs.writeSync(fd, bytes, 0, bytes.length);
  } catch (error) {
    // write(2) failed as a whole (ENOSPC, EDQUOT, EIO): nothing of the entry is in the file.
    return describeErrno(error);
  }
  if (written === bytes.length) return undefined;
  const what = `wrote ${String(written)} of ${String(bytes.length)} bytes (the disk is full?)`;
  try {
    // With O_APPEND our bytes went to the end of the file, wherever another process's append
    // (or a rotation that truncated it) left that end: cut exactly them off again.
    fs.ftruncateSync(fd, Math.max(0, fs.fstatSync(fd).size - written));
  } catch (error) {
    return problem(
      'LASTCALL_ERR_LAST_DITCH_CRASH_LOG_SHORT_WRITE',
      `${what}; rolling back failed (${describeErrno(error)}), a partial line of ${String(written)} bytes remains`,
    );
  }
  return problem(
    'LASTCALL_ERR_LAST_DITCH_CRASH_LOG_SHORT_WRITE',
    `${what}; the partial line was rolled back`,
  );
}

function openFailure(file: string, error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ELOOP' || code === 'EMLINK') {
    return problem(
      'LASTCALL_ERR_LAST_DITCH_CRASH_LOG_REFUSED',
      `${file} is a symbolic link; last-ditch does not follow one (O_NOFOLLOW)`,
    );
  }
  if (code === 'ENXIO') {
    return problem(
      'LASTCALL_ERR_LAST_DITCH_CRASH_LOG_REFUSED',
      `${file} is not a regular file; last-ditch writes only to one`,
    );
  }
  return describeErrno(error);
}

function problem(code: LastDitchErrorCode, message: string): string {
  return `${code}: ${message}`;
}

/** `ENOSPC: no space left on device, write`: Node's message already starts with the code. */
function describeErrno(error: unknown): string {
  // isNativeError, not instanceof: an error of another realm (a vm context) is an Error too.
  if (util.types.isNativeError(error)) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === undefined || error.message.startsWith(code)
      ? error.message
      : `${code}: ${error.message}`;
  }
  return 'an unknown failure';
}
