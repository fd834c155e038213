import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CliFailure } from '../src/cli/exit-codes';
import {
  assertSafeControlSocket,
  controlSocketPath,
  defaultName,
  defaultPidFile,
  ensureRunDir,
  fileSafeName,
  isAlive,
  livePid,
  runDir,
  unsafeDirReason,
} from '../src/cli/paths';

const tempDirs: string[] = [];

afterEach(() => {
  for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function makeTempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lastcall-paths-'));
  tempDirs.push(dir);
  return dir;
}

function writePackageJson(dir: string, content: unknown): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'package.json'),
    typeof content === 'string' ? content : JSON.stringify(content),
  );
}

/** The folders from `dir` up to the root that hold a package.json. */
function packageJsonsAbove(dir: string): string[] {
  const found: string[] = [];
  for (let current = dir; ; current = path.dirname(current)) {
    if (fs.existsSync(path.join(current, 'package.json'))) found.push(current);
    if (path.dirname(current) === current) return found;
  }
}

/** The pid of a process that has exited: `node -e ""`, run to its end. */
function deadPid(): number {
  const result = spawnSync(process.execPath, ['-e', ''], { timeout: 10_000 });
  expect(result.status).toBe(0);
  expect(result.pid).toBeGreaterThan(0);
  return result.pid;
}

describe('runDir', () => {
  it('is LASTCALL_RUN_DIR, resolved', () => {
    expect(runDir({ LASTCALL_RUN_DIR: '/var/run/lastcall' })).toBe('/var/run/lastcall');
    expect(runDir({ LASTCALL_RUN_DIR: 'run' })).toBe(path.resolve('run'));
  });

  it('is lastcall-<uid> under the temp folder by default, and for an empty LASTCALL_RUN_DIR', () => {
    const expected = path.join(os.tmpdir(), `lastcall-${String(process.getuid?.())}`);
    expect(runDir({})).toBe(expected);
    expect(runDir({ LASTCALL_RUN_DIR: '' })).toBe(expected);
    expect(runDir({ XDG_RUNTIME_DIR: 'relative/xdg' })).toBe(expected);
  });

  it('is lastcall under $XDG_RUNTIME_DIR when that is set, after LASTCALL_RUN_DIR', () => {
    expect(runDir({ XDG_RUNTIME_DIR: '/run/user/1000' })).toBe('/run/user/1000/lastcall');
    expect(runDir({ XDG_RUNTIME_DIR: '/run/user/1000', LASTCALL_RUN_DIR: '/srv/run' })).toBe(
      '/srv/run',
    );
  });
});

describe('ensureRunDir and unsafeDirReason', () => {
  const failureOf = (make: () => void): CliFailure => {
    try {
      make();
    } catch (error) {
      if (error instanceof CliFailure) return error;
      throw error;
    }
    throw new Error('did not throw');
  };

  it('makes the folder, and its missing parents, with mode 0700', () => {
    const dir = path.join(makeTempDir(), 'a', 'b', 'run');
    const umask = process.umask(0);
    try {
      ensureRunDir(dir);
    } finally {
      process.umask(umask);
    }
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.dirname(dir)).mode & 0o777).toBe(0o700);
    expect(unsafeDirReason(dir)).toBeUndefined();
    expect(() => {
      ensureRunDir(dir);
    }).not.toThrow();
  });

  it.each([
    [
      'others can write into it',
      (dir: string) => fs.chmodSync(dir, 0o777),
      /other users can write into it \(mode 0777\)/,
    ],
    ['its group can write into it', (dir: string) => fs.chmodSync(dir, 0o770), /mode 0770/],
  ])('refuses an existing folder when %s', (_what, spoil, reason) => {
    const dir = path.join(makeTempDir(), 'run');
    fs.mkdirSync(dir, { mode: 0o700 });
    spoil(dir);
    const failure = failureOf(() => {
      ensureRunDir(dir);
    });
    expect(failure.exitCode).toBe(11);
    expect(failure.message).toMatch(
      new RegExp(`^LASTCALL_ERR_LASTCALL_UNSAFE_RUN_DIR: the run folder ${dir} is not safe`),
    );
    expect(failure.message).toMatch(reason);
  });

  it('refuses a symlink to a folder of ours, and a file', () => {
    const base = makeTempDir();
    fs.mkdirSync(path.join(base, 'real'), { mode: 0o700 });
    fs.symlinkSync(path.join(base, 'real'), path.join(base, 'link'));
    fs.writeFileSync(path.join(base, 'file'), '');
    expect(unsafeDirReason(path.join(base, 'link'))).toBe('it is a symbolic link');
    expect(unsafeDirReason(path.join(base, 'file'))).toBe('it is not a folder');
    expect(failureOf(() => ensureRunDir(path.join(base, 'link'))).exitCode).toBe(11);
  });

  const isRoot = process.getuid?.() === 0;
  (isRoot ? it : it.failing)(
    'refuses a folder another user made first (needs root to chown)',
    () => {
      const dir = path.join(makeTempDir(), 'run');
      fs.mkdirSync(dir, { mode: 0o700 });
      fs.chownSync(dir, 65534, 65534);
      expect(unsafeDirReason(dir)).toMatch(/^it belongs to uid 65534, not to this user/);
      expect(failureOf(() => ensureRunDir(dir)).exitCode).toBe(11);
    },
  );
});

describe('assertSafeControlSocket', () => {
  it('passes a missing folder and a missing socket, and refuses what is not a socket', () => {
    const dir = path.join(makeTempDir(), 'run');
    expect(() => {
      assertSafeControlSocket(path.join(dir, 'shop.sock'));
    }).not.toThrow();
    fs.mkdirSync(dir, { mode: 0o700 });
    expect(() => {
      assertSafeControlSocket(path.join(dir, 'shop.sock'));
    }).not.toThrow();
    fs.writeFileSync(path.join(dir, 'shop.sock'), '');
    expect(() => {
      assertSafeControlSocket(path.join(dir, 'shop.sock'));
    }).toThrow(/shop\.sock is not a socket/);
    fs.chmodSync(dir, 0o757);
    expect(() => {
      assertSafeControlSocket(path.join(dir, 'other.sock'));
    }).toThrow(/other users can write into it \(mode 0757\)/);
  });
});

describe('fileSafeName', () => {
  it.each([
    ['@acme/shop', 'acme-shop'],
    ['shop', 'shop'],
    ['a.b_c-d9', 'a.b_c-d9'],
    ['my app!', 'my-app'],
    ['../../etc/passwd', 'etc-passwd'],
    ['.hidden', 'hidden'],
    ['name-', 'name'],
    ['a  /\\  b', 'a-b'],
    ['café', 'caf'],
    ['', 'app'],
    ['@', 'app'],
    ['///', 'app'],
    ['日本', 'app'],
  ])('makes %j into %j', (name, expected) => {
    expect(fileSafeName(name)).toBe(expected);
  });
});

describe('defaultPidFile', () => {
  it('is <run dir>/<file-safe name>.pid', () => {
    expect(defaultPidFile('@acme/shop', { LASTCALL_RUN_DIR: '/run/lc' })).toBe(
      '/run/lc/acme-shop.pid',
    );
  });
});

describe('controlSocketPath', () => {
  const env = { LASTCALL_RUN_DIR: '/run/lc' };

  it('is beside a pid file in the run folder, x.pid → x.sock', () => {
    expect(controlSocketPath('/run/lc/shop.pid', env)).toBe('/run/lc/shop.sock');
    expect(controlSocketPath('/run/lc/shop', env)).toBe('/run/lc/shop.sock');
  });

  it('is in the run folder, under a hash, for a pid file anywhere else', () => {
    for (const pidFile of ['/tmp/shop.pid', '/run/lc/shop.pid.d/x.pid', '/var/run/shop.pid']) {
      const socket = controlSocketPath(pidFile, env);
      expect(path.dirname(socket)).toBe('/run/lc');
      expect(path.basename(socket)).toMatch(/^[0-9a-f]{16}\.sock$/);
    }
    expect(controlSocketPath('/tmp/shop.pid', env)).not.toBe(
      controlSocketPath('/tmp/cart.pid', env),
    );
  });

  it('resolves a relative pid file', () => {
    const relative = { LASTCALL_RUN_DIR: 'run' };
    expect(controlSocketPath('run/shop.pid', relative)).toBe(path.resolve('run/shop.sock'));
  });

  it('falls back to a hashed name in the run folder for a path too long for a unix socket', () => {
    const env = { LASTCALL_RUN_DIR: '/run/lc' };
    const longPidFile = `/srv/${'deep/'.repeat(30)}shop.pid`;
    const socket = controlSocketPath(longPidFile, env);
    expect(path.dirname(socket)).toBe('/run/lc');
    expect(path.basename(socket)).toMatch(/^[0-9a-f]{16}\.sock$/);
    expect(Buffer.byteLength(socket)).toBeLessThanOrEqual(100);
    expect(controlSocketPath(longPidFile, env)).toBe(socket);
    expect(controlSocketPath(longPidFile.replace('shop', 'cart'), env)).not.toBe(socket);
  });

  it('stays within 100 bytes in the default run folder', () => {
    const socket = controlSocketPath(`/srv/${'x'.repeat(200)}.pid`, {});
    expect(path.dirname(socket)).toBe(runDir({}));
    expect(Buffer.byteLength(socket)).toBeLessThanOrEqual(100);
  });

  it('counts bytes, not characters', () => {
    // 50 two-byte characters: 58 characters beside the pid file, but 108 bytes.
    const pidFile = `/r/${'é'.repeat(50)}.pid`;
    expect(Buffer.byteLength(`/r/${'é'.repeat(50)}.sock`)).toBe(108);
    const socket = controlSocketPath(pidFile, { LASTCALL_RUN_DIR: '/run/lc' });
    expect(path.dirname(socket)).toBe('/run/lc');
  });

  it('keeps a path of exactly 100 bytes beside the pid file', () => {
    const dir = '/run/lc';
    const base = `${dir}/${'a'.repeat(100 - dir.length - '/'.length - '.sock'.length)}`;
    expect(Buffer.byteLength(`${base}.sock`)).toBe(100);
    expect(controlSocketPath(`${base}.pid`, env)).toBe(`${base}.sock`);
    expect(controlSocketPath(`${base}a.pid`, env)).toMatch(/^\/run\/lc\/[0-9a-f]{16}\.sock$/);
  });
});

describe('defaultName', () => {
  it('is LASTCALL_APP_NAME first, trimmed, then THEHELP_APP_NAME', () => {
    const cwd = makeTempDir();
    writePackageJson(cwd, { name: 'from-package' });
    expect(defaultName(cwd, { LASTCALL_APP_NAME: ' shop ', THEHELP_APP_NAME: 'old' })).toBe('shop');
    expect(defaultName(cwd, { LASTCALL_APP_NAME: '  ', THEHELP_APP_NAME: 'old' })).toBe('old');
    expect(defaultName(cwd, { THEHELP_APP_NAME: 'old' })).toBe('old');
  });

  it('is the name of the package.json in cwd', () => {
    const cwd = makeTempDir();
    writePackageJson(cwd, { name: '@acme/shop' });
    expect(defaultName(cwd, {})).toBe('@acme/shop');
  });

  it('is the name of the nearest package.json upward, skipping ones without a name', () => {
    const root = makeTempDir();
    writePackageJson(root, { name: 'root-app' });
    writePackageJson(path.join(root, 'a'), { private: true });
    writePackageJson(path.join(root, 'a', 'b'), '{ not json');
    const cwd = path.join(root, 'a', 'b', 'c');
    fs.mkdirSync(cwd, { recursive: true });
    expect(defaultName(cwd, {})).toBe('root-app');
    writePackageJson(path.join(root, 'a'), { name: 'nearer' });
    expect(defaultName(cwd, {})).toBe('nearer');
  });

  it("is the folder's name when no package.json is found upward", () => {
    const cwd = path.join(makeTempDir(), 'my-service');
    fs.mkdirSync(cwd);
    // The walk goes up to the root: this machine's temp folder must have no package.json above.
    expect(packageJsonsAbove(cwd)).toEqual([]);
    expect(defaultName(cwd, {})).toBe('my-service');
  });
});

describe('livePid and isAlive', () => {
  it('is undefined for a missing pid file', () => {
    expect(livePid(path.join(makeTempDir(), 'none.pid'))).toBeUndefined();
  });

  it.each(['', 'garbage', '12abc', '0', '-1', '1.5', '\n'])(
    'is undefined for a pid file holding %j',
    (content) => {
      const file = path.join(makeTempDir(), 'app.pid');
      fs.writeFileSync(file, content);
      expect(livePid(file)).toBeUndefined();
    },
  );

  it('is undefined for the pid of a process that has exited', () => {
    const pid = deadPid();
    const file = path.join(makeTempDir(), 'app.pid');
    fs.writeFileSync(file, `${String(pid)}\n`);
    expect(isAlive(pid)).toBe(false);
    expect(livePid(file)).toBeUndefined();
  });

  it('is the pid of a live process, as Master writes it', () => {
    const file = path.join(makeTempDir(), 'app.pid');
    fs.writeFileSync(file, `${String(process.pid)}\n`);
    expect(isAlive(process.pid)).toBe(true);
    expect(livePid(file)).toBe(process.pid);
  });
});
