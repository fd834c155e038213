/**
 * The exit codes of the `lastcall` command, documented in the README. Scripts branch on them:
 * each failure a caller can act on has its own.
 */
export const EXIT = {
  /** Done. */
  ok: 0,
  /** Anything not listed below: a bug, an unreadable answer from the master. */
  failed: 1,
  /** A wrong command, flag or flag value; usage is printed. */
  usage: 2,
  /** `start`: the script does not exist. */
  scriptNotFound: 3,
  /** `start`: a worker or the heartbeat could not listen, the address is in use. */
  portInUse: 4,
  /** `reload`, `stop`, `status`: no master runs under that name (or pid file). */
  notRunning: 5,
  /** `reload`: the rolling restart aborted (a bad build); the old workers go on serving. */
  reloadAborted: 6,
  /** `start`: no worker became ready within `readyTimeout`. */
  startFailed: 7,
  /** `start`: a master with that pid file runs already. */
  alreadyRunning: 8,
  /** `start`: the configuration (file or flags) is not valid. */
  badConfig: 9,
  /** `reload`, `stop`: the master did not finish within `--timeout`. */
  timeout: 10,
  /**
   * Any command: the run folder (control socket, default pid files) is not this user's own, or
   * others can write into it (`LASTCALL_ERR_LASTCALL_UNSAFE_RUN_DIR`).
   */
  unsafeRunDir: 11,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A failure the command line reports as one line and one exit code. */
export class CliFailure extends Error {
  readonly exitCode: ExitCode;

  constructor(exitCode: ExitCode, message: string) {
    super(message);
    this.name = 'CliFailure';
    this.exitCode = exitCode;
  }
}
