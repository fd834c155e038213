import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** The longest unix socket path every platform takes (sun_path is 104 bytes on macOS). */
const MAX_SOCKET_PATH = 100;

/**
 * Where masters keep their pid files and control sockets: `LASTCALL_RUN_DIR`, else
 * `<tmpdir>/lastcall-<uid>`. Per user, so that two users' masters never meet.
 */
export function runDir(env: NodeJS.ProcessEnv = process.env): string {
  const given = env['LASTCALL_RUN_DIR'];
  if (given !== undefined && given !== '') return path.resolve(given);
  const uid =
    typeof process.getuid === 'function' ? String(process.getuid()) : os.userInfo().username;
  return path.join(os.tmpdir(), `lastcall-${uid}`);
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
 * The control socket of the master whose pid file is `pidFile`: next to it (`x.pid` →
 * `x.sock`), or, when that path is too long for a unix socket, in the run folder under a hash
 * of the pid file's path. The master and the commands that talk to it compute the same path.
 */
export function controlSocketPath(pidFile: string, env: NodeJS.ProcessEnv = process.env): string {
  const absolute = path.resolve(pidFile);
  const beside = `${absolute.replace(/\.pid$/, '')}.sock`;
  if (Buffer.byteLength(beside) <= MAX_SOCKET_PATH) return beside;
  const hash = createHash('sha256').update(absolute).digest('hex').slice(0, 16);
  return path.join(runDir(env), `${hash}.sock`);
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
  return entries
    .filter((entry) => entry.endsWith('.pid'))
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
