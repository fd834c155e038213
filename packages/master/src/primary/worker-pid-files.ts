import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Logger } from '@lastcall/log-shim';
import { describeValue } from '@lastcall/log-shim';
import { MasterError } from '../errors';

/** Where the pid files of a master with `pidDir` go, and the name they carry. */
export interface PidDir {
  /** The folder, absolute. */
  readonly dir: string;
  /** The file-safe name: the master's file is `<name>.pid`, a worker's `<name>-worker-<slot>.pid`. */
  readonly name: string;
}

/** A name safe in a file name, as the CLI's: `@acme/shop` → `acme-shop`. */
function fileSafeName(name: string): string {
  const safe = name
    .replace(/^@/, '')
    .replace(/[^\w.-]+/g, '-')
    .replace(/^[.-]+|-+$/g, '');
  return safe === '' ? 'lastcall' : safe;
}

/**
 * The name of the pid files: the basename of `pidFile` without `.pid` when one is given (the
 * CLI's `<run dir>/<name>.pid`), else `LASTCALL_APP_NAME`, else `THEHELP_APP_NAME`, else
 * `lastcall`.
 */
function pidName(pidFile: string | undefined, env: NodeJS.ProcessEnv): string {
  if (pidFile !== undefined) return fileSafeName(path.basename(pidFile).replace(/\.pid$/, ''));
  for (const key of ['LASTCALL_APP_NAME', 'THEHELP_APP_NAME']) {
    const value = env[key]?.trim();
    if (value !== undefined && value !== '') return fileSafeName(value);
  }
  return 'lastcall';
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Reads the `pidDir` option: a non-empty path, or undefined. Throws
 * `LASTCALL_ERR_MASTER_INVALID_OPTIONS`. Whether the folder may be used is checked at start, by
 * {@link preparePidDir}.
 */
export function readPidDir(
  value: unknown,
  pidFile: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): PidDir | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.trim() === '') {
    throw new MasterError(
      'LASTCALL_ERR_MASTER_INVALID_OPTIONS',
      `Master: option "pidDir" must be a path to a folder, got ${describeValue(value)}`,
    );
  }
  return { dir: path.resolve(value), name: pidName(pidFile, env) };
}

/** The master's pid file in `pidDir`, used when no `pidFile` is given. */
export function masterPidFileIn(pidDir: PidDir): string {
  return path.join(pidDir.dir, `${pidDir.name}.pid`);
}

/**
 * Makes the folder when it is missing (mode 0755, parents too), then checks that it may hold
 * our pid files: a real folder (not a symbolic link), owned by this user, writable by this
 * process and by nobody else. A folder others can write into would let another local user swap
 * a pid file for one naming a process of theirs, which a monitor would then signal. Throws
 * `LASTCALL_ERR_MASTER_PID_DIR_FAILED` naming the folder and the reason.
 */
export function preparePidDir(pidDir: PidDir): void {
  const { dir } = pidDir;
  const refuse = (reason: string, cause?: unknown): never => {
    throw new MasterError(
      'LASTCALL_ERR_MASTER_PID_DIR_FAILED',
      `the pidDir ${dir} cannot hold the pid files: ${reason}`,
      cause === undefined ? undefined : { cause },
    );
  };
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
      refuse(`it cannot be made (${(error as Error).message})`, error);
    }
  }
  let stats: fs.Stats;
  try {
    stats = fs.lstatSync(dir);
  } catch (error) {
    return refuse(`it cannot be read (${(error as Error).message})`, error);
  }
  if (stats.isSymbolicLink()) refuse('it is a symbolic link');
  if (!stats.isDirectory()) refuse('it is not a folder');
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  if (uid !== undefined && stats.uid !== uid) {
    refuse(`it belongs to uid ${String(stats.uid)}, not to this user (uid ${String(uid)})`);
  }
  if ((stats.mode & 0o022) !== 0) {
    refuse(
      `other users can write into it (mode ${(stats.mode & 0o777).toString(8).padStart(4, '0')})`,
    );
  }
  try {
    fs.accessSync(dir, fs.constants.W_OK | fs.constants.X_OK);
  } catch (error) {
    refuse('this process cannot write into it', error);
  }
}

/**
 * The pid files of the workers, `<pidDir>/<name>-worker-<slot>.pid`: written when a worker is
 * ready, replaced when a replacement of its slot is ready, removed when the worker exits (only
 * while it still names that worker) and at the master's end. A failure is logged, never thrown:
 * these files serve monitors, and a full disk must not take a worker down.
 */
export class WorkerPidFiles {
  readonly #pidDir: PidDir;
  readonly #log: Logger;
  /** The pid each slot's file was last written with. */
  readonly #written = new Map<number, number>();

  constructor(pidDir: PidDir, log: Logger) {
    this.#pidDir = pidDir;
    this.#log = log;
  }

  /**
   * Removes the worker files a previous master of this name left behind (it was killed before it
   * could): called once this master owns the master's pid file, so none of them is current.
   */
  removeStale(): void {
    const pattern = new RegExp(`^${escapeRegExp(this.#pidDir.name)}-worker-\\d+\\.pid$`);
    let entries: string[];
    try {
      entries = fs.readdirSync(this.#pidDir.dir);
    } catch {
      return;
    }
    for (const entry of entries) {
      if (!pattern.test(entry)) continue;
      try {
        fs.rmSync(path.join(this.#pidDir.dir, entry), { force: true });
      } catch (error) {
        this.#log.warn(`could not remove the stale pid file ${entry}`, { err: error });
      }
    }
  }

  /** The file of `slot`. */
  fileOf(slot: number): string {
    return path.join(this.#pidDir.dir, `${this.#pidDir.name}-worker-${String(slot)}.pid`);
  }

  /** The worker of `slot` is ready: its file now names `pid`. */
  write(slot: number, pid: number | undefined): void {
    if (pid === undefined) return;
    const file = this.fileOf(slot);
    // Written whole to a new file, then renamed over the old one: a reader sees the old pid or
    // the new one, never an empty file; `wx` is O_CREAT|O_EXCL, which refuses a symbolic link
    // where the file should be, and rename() replaces a link rather than follow it.
    const temporary = `${file}.${String(process.pid)}.tmp`;
    try {
      fs.rmSync(temporary, { force: true });
      fs.writeFileSync(temporary, `${String(pid)}\n`, { flag: 'wx', mode: 0o644 });
      fs.renameSync(temporary, file);
      this.#written.set(slot, pid);
    } catch (error) {
      fs.rmSync(temporary, { force: true });
      this.#log.warn(`could not write the pid file ${file} of worker ${String(slot)}`, {
        slot,
        pid,
        err: error,
      });
    }
  }

  /** The worker `pid` of `slot` exited: its file goes, unless a replacement's pid is in it. */
  remove(slot: number, pid: number | undefined): void {
    if (pid === undefined || this.#written.get(slot) !== pid) return;
    this.#written.delete(slot);
    const file = this.fileOf(slot);
    try {
      if (Number.parseInt(fs.readFileSync(file, 'utf8'), 10) === pid) fs.rmSync(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      this.#log.warn(`could not remove the pid file ${file} of worker ${String(slot)}`, {
        slot,
        pid,
        err: error,
      });
    }
  }

  /** The master ends: every file it wrote that still names its worker goes. */
  removeAll(): void {
    for (const [slot, pid] of [...this.#written]) this.remove(slot, pid);
  }
}
