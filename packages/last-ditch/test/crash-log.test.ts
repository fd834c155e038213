import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { appendCrashLog, CRASH_LOG_DIR_MODE, CRASH_LOG_MODE } from '../src/crash-log';

let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'last-ditch-log-'));
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('appendCrashLog', () => {
  it('creates missing folders 0700 and the file 0600, and appends the line as it is', () => {
    const file = path.join(dir, 'x', 'y', 'crash.log');
    expect(appendCrashLog(file, '{"a":1}\n')).toEqual({});
    expect(appendCrashLog(file, '{"b":2}\n')).toEqual({});
    expect(fs.readFileSync(file, 'utf8')).toBe('{"a":1}\n{"b":2}\n');
    expect(fs.statSync(file).mode & 0o777).toBe(CRASH_LOG_MODE);
    expect(fs.statSync(path.join(dir, 'x')).mode & 0o777).toBe(CRASH_LOG_DIR_MODE);
    expect(fs.statSync(path.join(dir, 'x', 'y')).mode & 0o777).toBe(CRASH_LOG_DIR_MODE);
  });

  it('leaves the mode of a folder that already existed alone', () => {
    fs.chmodSync(dir, 0o755);
    expect(appendCrashLog(path.join(dir, 'crash.log'), 'line\n')).toEqual({});
    expect(fs.statSync(dir).mode & 0o777).toBe(0o755);
  });

  it('makes an existing 0644 file of ours 0600 and keeps what it held', () => {
    const file = path.join(dir, 'crash.log');
    fs.writeFileSync(file, 'old\n');
    fs.chmodSync(file, 0o644);
    expect(appendCrashLog(file, 'new\n')).toEqual({});
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(file, 'utf8')).toBe('old\nnew\n');
  });

  it('refuses a symlink at the path and leaves its target untouched', () => {
    const target = path.join(dir, 'target');
    fs.writeFileSync(target, 'keep\n');
    const file = path.join(dir, 'crash.log');
    fs.symlinkSync(target, file);
    expect(appendCrashLog(file, 'line\n')).toEqual({
      error: `LASTCALL_ERR_LAST_DITCH_CRASH_LOG_REFUSED: ${file} is a symbolic link; last-ditch does not follow one (O_NOFOLLOW)`,
    });
    expect(fs.readFileSync(target, 'utf8')).toBe('keep\n');
  });

  it('refuses a dangling symlink without creating its target', () => {
    const target = path.join(dir, 'elsewhere');
    const file = path.join(dir, 'crash.log');
    fs.symlinkSync(target, file);
    expect(appendCrashLog(file, 'line\n').error).toMatch(
      /^LASTCALL_ERR_LAST_DITCH_CRASH_LOG_REFUSED:/,
    );
    expect(fs.existsSync(target)).toBe(false);
  });

  it('refuses a FIFO at the path at once instead of waiting for a reader', () => {
    const file = path.join(dir, 'crash.log');
    execFileSync('mkfifo', [file]);
    expect(appendCrashLog(file, 'line\n')).toEqual({
      error: `LASTCALL_ERR_LAST_DITCH_CRASH_LOG_REFUSED: ${file} is not a regular file; last-ditch writes only to one`,
    });
  });

  it('refuses a FIFO that has a reader, and writes nothing into it', () => {
    const file = path.join(dir, 'crash.log');
    execFileSync('mkfifo', [file]);
    const reader = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    try {
      expect(appendCrashLog(file, 'line\n').error).toBe(
        `LASTCALL_ERR_LAST_DITCH_CRASH_LOG_REFUSED: ${file} is not a regular file; last-ditch writes only to one`,
      );
      expect(fs.readSync(reader, Buffer.alloc(16))).toBe(0);
    } finally {
      fs.closeSync(reader);
    }
  });

  it('says why when the path is a folder or under a file', () => {
    expect(appendCrashLog(dir, 'line\n').error).toMatch(/^EISDIR: /);
    const blocker = path.join(dir, 'file');
    fs.writeFileSync(blocker, '');
    expect(appendCrashLog(path.join(blocker, 'crash.log'), 'line\n').error).toMatch(/^EEXIST: /);
  });
});
