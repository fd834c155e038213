import * as fs from 'node:fs';
import * as path from 'node:path';
import { jsonLines, killFixtures, makeTempDir, runFixture } from './run-fixture';

afterEach(killFixtures);

describe('a crash in a child process that installed the handlers', () => {
  it('leaves one complete JSON line (mode 0600) in the crash log and exits 1', async () => {
    const dir = makeTempDir();
    const crashLog = path.join(dir, 'nested', 'crash.log');
    const run = await runFixture(
      { mode: 'throw', message: 'kaboom in a timer' },
      { env: { LASTCALL_CRASH_LOG: crashLog, LASTCALL_APP_NAME: 'shop' } },
    );
    expect(run.code).toBe(1);
    const text = fs.readFileSync(crashLog, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    const entries = jsonLines(text);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      level: 'fatal',
      origin: 'uncaughtException',
      app: 'shop',
      pid: expect.any(Number) as unknown,
      role: 'master',
      node: process.version,
      error: { name: 'Error', message: 'kaboom in a timer' },
    });
    expect(fs.statSync(crashLog).mode & 0o777).toBe(0o600);
    expect(jsonLines(run.stderr)[0]?.['id']).toBe(entries[0]?.['id']);
  });

  it('cuts a 4 MiB message to 32 KiB with a marker and copies the same line to stderr', async () => {
    const dir = makeTempDir();
    const crashLog = path.join(dir, 'crash.log');
    const size = 4 * 1024 * 1024;
    const kept = 32 * 1024;
    const run = await runFixture(
      { mode: 'throw', messageSize: size },
      { env: { LASTCALL_CRASH_LOG: crashLog } },
    );
    expect(run.code).toBe(1);
    const logText = fs.readFileSync(crashLog, 'utf8');
    expect(Buffer.byteLength(logText)).toBeLessThanOrEqual(256 * 1024);
    const fromLog = jsonLines(logText);
    expect((fromLog[0]?.['error'] as { message: string }).message).toBe(
      `${'x'.repeat(kept)}…[${String(size - kept)} more characters]`,
    );
    expect(jsonLines(run.stderr)).toEqual(fromLog);
  });

  it('holds an entry over 256 KiB to 256 KiB, the message first, the stack cut with a marker', async () => {
    const dir = makeTempDir();
    const crashLog = path.join(dir, 'crash.log');
    const run = await runFixture(
      { mode: 'report', messageSize: 200_000, options: { maxStringLength: 1024 * 1024 } },
      { env: { LASTCALL_CRASH_LOG: crashLog } },
    );
    expect(run.code).toBe(0);
    const logText = fs.readFileSync(crashLog, 'utf8');
    expect(Buffer.byteLength(logText)).toBeLessThanOrEqual(256 * 1024);
    const entry = jsonLines(logText)[0];
    const error = entry?.['error'] as { message: string; stack: string };
    expect(error.message).toBe('x'.repeat(200_000));
    expect(error.stack).toMatch(/^Error: x+…\[\d+ more characters\]$/);
    expect(entry?.['truncated']).toEqual({
      maxBytes: 256 * 1024,
      originalBytes: expect.any(Number) as unknown,
    });
  });

  it('falls back to stderr, says so, and still exits 1 when the crash log cannot be written', async () => {
    const dir = makeTempDir();
    const blocker = path.join(dir, 'a-file');
    fs.writeFileSync(blocker, '');
    const run = await runFixture(
      { mode: 'throw', message: 'no disk', options: { stderr: false } },
      { env: { LASTCALL_CRASH_LOG: path.join(blocker, 'crash.log') } },
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('last-ditch: could not write the crash log');
    expect(jsonLines(run.stderr)).toEqual([
      expect.objectContaining({
        error: expect.objectContaining({ message: 'no disk' }) as unknown,
      }),
    ]);
  });
});
