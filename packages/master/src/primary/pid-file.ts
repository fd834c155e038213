import * as fs from 'node:fs';
import { MasterError } from '../errors';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, it is someone else's.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Writes this process's pid to `file`, created exclusively. A file naming a live process is
 * refused (`LASTCALL_ERR_MASTER_PID_FILE_IN_USE`: another master runs); a stale one (its process
 * is gone) is replaced. Any other failure is `LASTCALL_ERR_MASTER_PID_FILE_FAILED`.
 */
export function writePidFile(file: string): void {
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      fs.writeFileSync(file, `${String(process.pid)}\n`, { flag: 'wx' });
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new MasterError(
          'LASTCALL_ERR_MASTER_PID_FILE_FAILED',
          `cannot write the pid file ${file}: ${(error as Error).message}`,
          { cause: error },
        );
      }
    }
    const pid = Number.parseInt(readOrEmpty(file), 10);
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
      throw new MasterError(
        'LASTCALL_ERR_MASTER_PID_FILE_IN_USE',
        `the pid file ${file} names process ${String(pid)}, which is running: is another master running?`,
      );
    }
    fs.rmSync(file, { force: true });
  }
  throw new MasterError(
    'LASTCALL_ERR_MASTER_PID_FILE_FAILED',
    `cannot write the pid file ${file}: it keeps coming back`,
  );
}

/** Removes `file` when it still names this process. Never throws. */
export function removePidFile(file: string): void {
  try {
    if (Number.parseInt(readOrEmpty(file), 10) === process.pid) fs.rmSync(file, { force: true });
  } catch {
    // Exiting anyway: a pid file left behind is stale, and the next start replaces it.
  }
}

function readOrEmpty(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
