/**
 * A crash log on a real, nearly full file system (a 64 KiB tmpfs, which needs root): an entry
 * that does not fit is rolled back, so the file keeps only whole lines; the report goes to
 * stderr and to the result's `crashLogError`; the next entry that fits is a whole line.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { jsonLines, killFixtures, runFixture } from './run-fixture';

afterEach(killFixtures);

let mountPoint: string | undefined;

beforeAll(() => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'last-ditch-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0700', 'tmpfs', dir], {
      stdio: 'pipe',
    });
    mountPoint = dir;
  } catch (error) {
    fs.rmdirSync(dir);
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim() ?? String(error);
    throw new Error(
      `this test needs a real full file system: "mount -t tmpfs -o size=64k tmpfs ${dir}" failed (${stderr}); run it as root, or in a container with CAP_SYS_ADMIN`,
    );
  }
});

afterAll(() => {
  if (mountPoint === undefined) return;
  execFileSync('umount', [mountPoint]);
  fs.rmdirSync(mountPoint);
});

/** The mounted tmpfs; beforeAll failed the test if there is none. */
function mounted(): string {
  if (mountPoint === undefined) throw new Error('the tmpfs is not mounted');
  return mountPoint;
}

/** Fills the file system, then frees `bytes` again. */
function fillLeaving(bytes: number): void {
  const filler = path.join(mounted(), 'filler');
  const fd = fs.openSync(filler, 'w');
  const chunk = Buffer.alloc(4096, 'f');
  try {
    for (;;) {
      if (fs.writeSync(fd, chunk) < chunk.length) break;
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  }
  fs.ftruncateSync(fd, Math.max(0, fs.fstatSync(fd).size - bytes));
  fs.closeSync(fd);
}

describe('a crash log on a full disk', () => {
  it('rolls back the entry that does not fit, reports it, and keeps only whole lines', async () => {
    const crashLog = path.join(mounted(), 'crash.log');
    const env = { LASTCALL_CRASH_LOG: crashLog, LASTCALL_APP_NAME: 'shop' };

    const first = await runFixture({ mode: 'throw', message: 'first, fits' }, { env });
    expect(first.code).toBe(1);
    const firstLine = fs.readFileSync(crashLog, 'utf8');
    expect(jsonLines(firstLine)).toHaveLength(1);

    fillLeaving(8192);
    const big = await runFixture({ mode: 'throw', messageSize: 20_000 }, { env });
    expect(big.code).toBe(1);
    expect(fs.readFileSync(crashLog, 'utf8')).toBe(firstLine);
    expect(big.stderr).toMatch(
      /last-ditch: could not write the crash log .*crash\.log \(LASTCALL_ERR_LAST_DITCH_CRASH_LOG_SHORT_WRITE: wrote \d+ of \d+ bytes \(the disk is full\?\); the partial line was rolled back\); the report follows on stderr\n/,
    );
    const fromStderr = jsonLines(big.stderr);
    expect(fromStderr).toHaveLength(1);
    expect((fromStderr[0]?.['error'] as { message: string }).message).toBe('x'.repeat(20_000));

    const reported = await runFixture({ mode: 'report', messageSize: 20_000 }, { env });
    expect(reported.code).toBe(0);
    const result = jsonLines(reported.stdout).find((line) => line['event'] === 'reported')?.[
      'result'
    ] as { crashLog?: string; crashLogError: string; stderr: boolean };
    expect(result.crashLog).toBeUndefined();
    expect(result.crashLogError).toMatch(
      /^LASTCALL_ERR_LAST_DITCH_CRASH_LOG_SHORT_WRITE: wrote \d+ of \d+ bytes/,
    );
    expect(result.stderr).toBe(true);
    expect(fs.readFileSync(crashLog, 'utf8')).toBe(firstLine);

    const next = await runFixture({ mode: 'throw', message: 'next, fits again' }, { env });
    expect(next.code).toBe(1);
    const text = fs.readFileSync(crashLog, 'utf8');
    expect(text.startsWith(firstLine)).toBe(true);
    const lines = text.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('');
    expect(JSON.parse(lines[1] ?? '')).toMatchObject({
      app: 'shop',
      error: { message: 'next, fits again' },
    });
  });
});
