/**
 * The crash log's rules, on real files, in a real crashing child: a symlink is refused (and that
 * is said on stderr), an existing 0644 file becomes 0600, a folder last-ditch creates is 0700,
 * and any thrown value, hostile ones included, gives a whole, redacted entry.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { jsonLines, killFixtures, makeTempDir, runFixture } from './run-fixture';

afterEach(killFixtures);

const ENV_SECRET = 'env-secret-41c9e2';

describe('the crash log of a crashing child', () => {
  it('refuses a symlink at its path, leaves the target untouched and reports on stderr', async () => {
    const dir = makeTempDir();
    const target = path.join(dir, 'target.txt');
    fs.writeFileSync(target, 'do not touch\n');
    const crashLog = path.join(dir, 'crash.log');
    fs.symlinkSync(target, crashLog);
    const run = await runFixture(
      { mode: 'throw', message: 'through a link', options: { stderr: false } },
      { env: { LASTCALL_CRASH_LOG: crashLog } },
    );
    expect(run.code).toBe(1);
    expect(fs.readFileSync(target, 'utf8')).toBe('do not touch\n');
    expect(fs.lstatSync(crashLog).isSymbolicLink()).toBe(true);
    expect(run.stderr).toContain(
      `last-ditch: could not write the crash log ${crashLog} (LASTCALL_ERR_LAST_DITCH_CRASH_LOG_REFUSED: ${crashLog} is a symbolic link; last-ditch does not follow one (O_NOFOLLOW)); the report follows on stderr\n`,
    );
    const entries = jsonLines(run.stderr);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ error: { name: 'Error', message: 'through a link' } });
  });

  it('makes an existing 0644 crash log 0600 and appends a whole line after the old one', async () => {
    const dir = makeTempDir();
    const crashLog = path.join(dir, 'crash.log');
    fs.writeFileSync(crashLog, '{"old":true}\n', { mode: 0o644 });
    fs.chmodSync(crashLog, 0o644);
    const run = await runFixture(
      { mode: 'throw', message: 'mode check' },
      { env: { LASTCALL_CRASH_LOG: crashLog } },
    );
    expect(run.code).toBe(1);
    expect(fs.statSync(crashLog).mode & 0o777).toBe(0o600);
    const lines = fs.readFileSync(crashLog, 'utf8').split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe('{"old":true}');
    expect(JSON.parse(lines[1] ?? '')).toMatchObject({ error: { message: 'mode check' } });
    expect(lines[2]).toBe('');
  });

  it('creates missing folders 0700 and the file 0600', async () => {
    const dir = makeTempDir();
    const crashLog = path.join(dir, 'a', 'b', 'crash.log');
    const run = await runFixture(
      { mode: 'throw', message: 'fresh' },
      { env: { LASTCALL_CRASH_LOG: crashLog } },
    );
    expect(run.code).toBe(1);
    expect(fs.statSync(path.join(dir, 'a')).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.join(dir, 'a', 'b')).mode & 0o777).toBe(0o700);
    expect(fs.statSync(crashLog).mode & 0o777).toBe(0o600);
    expect(jsonLines(fs.readFileSync(crashLog, 'utf8'))).toHaveLength(1);
  });

  it.each([
    {
      thrown: 'proxy',
      error: {
        name: 'NonError',
        thrownType: 'object (Proxy)',
        value: { '[properties threw]': '[REDACTED] leaked?' },
      },
    },
    {
      thrown: 'revoked-proxy',
      error: { name: 'NonError', thrownType: 'object (Proxy)' },
    },
    {
      thrown: 'throwing-name',
      error: { name: '[unprintable object: [REDACTED] leaked?]', message: '[REDACTED] leaked?' },
    },
  ])(
    'writes a whole, redacted entry for a thrown $thrown and no raw fallback line',
    async ({ thrown, error }) => {
      const dir = makeTempDir();
      const crashLog = path.join(dir, 'crash.log');
      const run = await runFixture(
        { mode: 'throw', thrown, message: `${ENV_SECRET} leaked?` },
        { env: { LASTCALL_CRASH_LOG: crashLog, SHOP_API_TOKEN: ENV_SECRET } },
      );
      expect(run.code).toBe(1);
      const text = fs.readFileSync(crashLog, 'utf8');
      const entries = jsonLines(text);
      expect(entries).toHaveLength(1);
      expect(entries[0]).toMatchObject({ origin: 'uncaughtException', error });
      expect(jsonLines(run.stderr)).toEqual(entries);
      expect(run.stderr).not.toContain('could not build the crash report');
      expect(text).not.toContain(ENV_SECRET);
      expect(run.stderr).not.toContain(ENV_SECRET);
    },
  );
});
