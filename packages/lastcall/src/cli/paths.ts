import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CliFailure, EXIT } from './exit-codes';

/** The longest unix socket path every platform takes (sun_path is 104 bytes on macOS). */
const MAX_SOCKET_PATH = 100;

/**
 * Where masters keep their pid files and control sockets: `LASTCALL_RUN_DIR`, else
 * `$XDG_RUNTIME_DIR/lastcall` (a per-user folder that systemd makes 0700 and empties at logout),
 * else `<tmpdir>/lastcall-<uid>`. Per user, so that two users' masters never meet; see
 * {@link ensureRunDir} for the rules a folder must meet before it is used.
 */
export function runDir(env: NodeJS.ProcessEnv = process.env): string {
  const given = env['LASTCALL_RUN_DIR'];
  if (given !== undefined && given !== '') return path.resolve(given);
  const xdg = env['XDG_RUNTIME_DIR'];
  if (xdg !== undefined && path.isAbsolute(xdg)) return path.join(xdg, 'lastcall');
  const uid =
    typeof process.getuid === 'function' ? String(process.getuid()) : os.userInfo().username;
  return path.join(os.tmpdir(), `lastcall-${uid}`);
}

/**
 * Why `dir` may not hold a control socket, or `undefined` when it may: it must be a real folder
 * (not a symlink), owned by this user, and writable by nobody else. Another local user who made
 * `<tmpdir>/lastcall-<uid>` first, or who can write into it, could otherwise put a socket of their
 * own where `lastcall reload` looks, and answer "reloaded" while nothing restarted.
 */
export function unsafeDirReason(dir: string): string | undefined {
  let stats: fs.Stats;
  try {
    stats = fs.lstatSync(dir);
  } catch (error) {
    return `it cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`;
  }
  if (stats.isSymbolicLink()) return 'it is a symbolic link';
  if (!stats.isDirectory()) return 'it is not a folder';
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  if (uid !== undefined && stats.uid !== uid) {
    return `it belongs to uid ${String(stats.uid)}, not to this user (uid ${String(uid)})`;
  }
  if ((stats.mode & 0o022) !== 0) {
    return `other users can write into it (mode ${(stats.mode & 0o777).toString(8).padStart(4, '0')})`;
  }
  return undefined;
}

/**
 * Makes `dir` (mode 0700, parents as needed) unless it exists, then checks it with
 * {@link unsafeDirReason}; throws a {@link CliFailure} (exit 11,
 * `LASTCALL_ERR_LASTCALL_UNSAFE_RUN_DIR`) naming the folder, the reason and the fix when it may
 * not be used.
 */
export function ensureRunDir(dir: string): void {
  try {
    fs.mkdirSync(path.dirname(dir), { recursive: true, mode: 0o700 });
    fs.mkdirSync(dir, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw unsafeRunDir(dir, `it cannot be made (${(error as Error).message})`);
    }
  }
  const reason = unsafeDirReason(dir);
  if (reason !== undefined) throw unsafeRunDir(dir, reason);
}

/**
 * Checks, before a command connects, that `socketPath` is where only this user could have put
 * it: its folder passes {@link unsafeDirReason} and the socket is a socket of this user. A
 * missing folder or socket passes (the connection then fails as "not running").
 */
export function assertSafeControlSocket(socketPath: string): void {
  const dir = path.dirname(socketPath);
  if (!fs.existsSync(dir)) return;
  const reason = unsafeDirReason(dir);
  if (reason !== undefined) throw unsafeRunDir(dir, reason);
  let stats: fs.Stats;
  try {
    stats = fs.lstatSync(socketPath);
  } catch {
    return;
  }
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  if (!stats.isSocket()) throw unsafeRunDir(dir, `${socketPath} is not a socket`);
  if (uid !== undefined && stats.uid !== uid) {
    throw unsafeRunDir(dir, `${socketPath} belongs to uid ${String(stats.uid)}`);
  }
}

/** The failure of a run folder that may not be used, as the command line reports it. */
function unsafeRunDir(dir: string, reason: string): CliFailure {
  return new CliFailure(
    EXIT.unsafeRunDir,
    `LASTCALL_ERR_LASTCALL_UNSAFE_RUN_DIR: the run folder ${dir} is not safe to use: ${reason}. ` +
      'It must be a folder of this user that no one else can write into: remove it (or fix its ' +
      'owner and mode), or set LASTCALL_RUN_DIR to a folder of your own',
  );
}

/** A name safe in a file name: `@acme/shop` → `acme-shop`. */
export function fileSafeName(name: string): string {
  const safe = name
    .replace(/^@/, '')
    .replace(/[^\w.-]+/g, '-')
    .replace(/^[.-]+|-+$/g, '');
  return safe === '' ? 'app' : safe;
}

/** The default pid file of the master named `name`. */
export function defaultPidFile(name: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(runDir(env), `${fileSafeName(name)}.pid`);
}

/**
 * The pid file of the master named `name`: `<pidDir>/<name>.pid` when `start` was given a pid
 * folder (`--pid-dir`, `pidDir`), else {@link defaultPidFile}. A relative `pidDir` stays relative.
 */
export function masterPidFile(
  name: string,
  pidDir: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string {
  return pidDir === undefined
    ? defaultPidFile(name, env)
    : path.join(pidDir, `${fileSafeName(name)}.pid`);
}

/**
 * The control socket of the master whose pid file is `pidFile`: next to it (`x.pid` →
 * `x.sock`) when the pid file sits in the run folder; otherwise (a pid file in `/var/run`, in a
 * shared `/tmp`, or a path too long for a unix socket) in the run folder, under a hash of the pid
 * file's path. So the socket is always in the one folder whose safety {@link ensureRunDir} checks.
 * The master and the commands that talk to it compute the same path.
 */
export function controlSocketPath(pidFile: string, env: NodeJS.ProcessEnv = process.env): string {
  const absolute = path.resolve(pidFile);
  const dir = runDir(env);
  const beside = `${absolute.replace(/\.pid$/, '')}.sock`;
  if (path.dirname(beside) === dir && Buffer.byteLength(beside) <= MAX_SOCKET_PATH) return beside;
  const hash = createHash('sha256').update(absolute).digest('hex').slice(0, 16);
  return path.join(dir, `${hash}.sock`);
}

/**
 * The app name when none is given: `LASTCALL_APP_NAME`, `THEHELP_APP_NAME`, the nearest
 * package.json above `cwd`, else the folder's name. Never the CLI's own package.
 */
export function defaultName(cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  for (const key of ['LASTCALL_APP_NAME', 'THEHELP_APP_NAME']) {
    const value = env[key];
    if (value !== undefined && value.trim() !== '') return value.trim();
  }
  let dir = path.resolve(cwd);
  for (;;) {
    const name = packageName(path.join(dir, 'package.json'));
    if (name !== undefined) return name;
    const parent = path.dirname(dir);
    if (parent === dir) return path.basename(path.resolve(cwd)) || 'app';
    dir = parent;
  }
}

function packageName(file: string): string | undefined {
  try {
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: unknown };
    return typeof parsed.name === 'string' && parsed.name.trim() !== '' ? parsed.name : undefined;
  } catch {
    return undefined;
  }
}

/** The pid in `pidFile` when that process is alive; undefined otherwise. */
export function livePid(pidFile: string): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync(pidFile, 'utf8');
  } catch {
    return undefined;
  }
  const pid = Number(text.trim());
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  return isAlive(pid) ? pid : undefined;
}

/**
 * The masters whose default pid files sit in the run folder and whose process is alive, by
 * name, sorted: what `status` names when the one asked for is not running.
 */
export function listRunning(env: NodeJS.ProcessEnv = process.env): { name: string; pid: number }[] {
  const dir = runDir(env);
  let entries: string[];
  try {
    entries = fs.readdirSync(dir);
  } catch {
    return [];
  }
  // `<name>-worker-<slot>.pid` beside `<name>.pid` is a worker's (`--pid-dir`), not a master's.
  const isWorkerFile = (entry: string): boolean => {
    const match = /^(.+)-worker-\d+\.pid$/.exec(entry);
    return match?.[1] !== undefined && entries.includes(`${match[1]}.pid`);
  };
  return entries
    .filter((entry) => entry.endsWith('.pid') && !isWorkerFile(entry))
    .sort()
    .flatMap((entry) => {
      const pid = livePid(path.join(dir, entry));
      return pid === undefined ? [] : [{ name: entry.slice(0, -'.pid'.length), pid }];
    });
}

/** True while a process with this pid exists (EPERM: it exists, under another user). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
