import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { removePidFile, writePidFile } from '../src/primary/pid-file';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'master-pid-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('the pid file', () => {
  it('is written with this pid and removed by it', () => {
    const file = path.join(dir, 'master.pid');
    writePidFile(file);
    expect(fs.readFileSync(file, 'utf8')).toBe(`${String(process.pid)}\n`);
    removePidFile(file);
    expect(fs.existsSync(file)).toBe(false);
  });

  it('is refused when it names a running process', () => {
    const file = path.join(dir, 'master.pid');
    fs.writeFileSync(file, `${String(process.ppid)}\n`);
    expect(() => {
      writePidFile(file);
    }).toThrow(expect.objectContaining({ code: 'LASTCALL_ERR_MASTER_PID_FILE_IN_USE' }) as Error);
    expect(fs.readFileSync(file, 'utf8')).toBe(`${String(process.ppid)}\n`);
  });

  it('replaces one whose process is gone, or that holds no pid', () => {
    for (const stale of ['2147483646\n', 'garbage']) {
      const file = path.join(dir, 'master.pid');
      fs.writeFileSync(file, stale);
      writePidFile(file);
      expect(fs.readFileSync(file, 'utf8')).toBe(`${String(process.pid)}\n`);
      fs.rmSync(file);
    }
  });

  it('fails with a coded error when it cannot be written', () => {
    expect(() => {
      writePidFile(path.join(dir, 'no', 'such', 'folder', 'master.pid'));
    }).toThrow(expect.objectContaining({ code: 'LASTCALL_ERR_MASTER_PID_FILE_FAILED' }) as Error);
  });

  it('is left alone at removal when it names another process', () => {
    const file = path.join(dir, 'master.pid');
    fs.writeFileSync(file, `${String(process.ppid)}\n`);
    removePidFile(file);
    expect(fs.existsSync(file)).toBe(true);
  });
});
