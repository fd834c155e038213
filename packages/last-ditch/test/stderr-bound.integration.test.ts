/**
 * A crashing child whose stderr nobody reads (a stalled log shipper) must still exit within
 * last-ditch's `timeout` plus a margin, with the whole, bounded, redacted entry in its crash log.
 * stderr is read only after the child exited.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { jsonLines, killFixtures, makeTempDir, runWithUnreadStderr } from './run-fixture';
import type { UnreadStderr } from './run-fixture';

afterEach(killFixtures);

/** The documented caps: 32 KiB per string (the default), 256 KiB per entry. */
const MAX_STRING_LENGTH = 32 * 1024;
const MAX_ENTRY_BYTES = 256 * 1024;

const TIMEOUT = 1000;
/** Margin over `timeout` for the exit: 4x, on 2 shared cores. */
const MARGIN = 4 * TIMEOUT;

const URL_SECRET = 'url-pw-5e7c1d';
const ENV_SECRET = 'env-secret-9b3f27';
const SIZE = 4 * 1024 * 1024;
const PREFIX = `connect https://admin:${URL_SECRET}@db.internal/x as ${ENV_SECRET} failed `;
/** PREFIX as the redactor leaves it. */
const REDACTED_PREFIX = 'connect https://[REDACTED]@db.internal/x as [REDACTED] failed ';

interface Crash {
  readonly code: number | null;
  readonly exitElapsed: number;
  readonly logText: string;
  readonly stderr: Buffer;
  readonly prefilled: number;
}

async function crashWithUnreadStderr(
  stderr: UnreadStderr,
  extra: Record<string, unknown> = {},
): Promise<Crash> {
  const crashLog = path.join(makeTempDir(), 'crash.log');
  const run = await runWithUnreadStderr(
    {
      mode: 'throw',
      messagePrefix: PREFIX,
      messageSize: SIZE,
      options: { timeout: TIMEOUT },
      ...extra,
    },
    stderr,
    { env: { LASTCALL_CRASH_LOG: crashLog, LASTCALL_APP_NAME: 'shop', DB_PASSWORD: ENV_SECRET } },
  );
  const exit = jsonLines(run.stdout).find((line) => line['event'] === 'exit');
  expect(exit).toMatchObject({ code: 1 });
  return {
    code: run.code,
    exitElapsed: exit?.['elapsed'] as number,
    logText: fs.readFileSync(crashLog, 'utf8'),
    stderr: run.stderr,
    prefilled: run.prefilled,
  };
}

/** The one entry of the crash log: whole, redacted and within the caps. */
function expectBoundedEntry(logText: string): Record<string, unknown> {
  expect(logText.endsWith('\n')).toBe(true);
  expect(logText.split('\n')).toHaveLength(2);
  expect(Buffer.byteLength(logText)).toBeLessThanOrEqual(MAX_ENTRY_BYTES);
  const entry = JSON.parse(logText) as Record<string, unknown>;
  const error = entry['error'] as { name: string; message: string; stack: string };
  const redacted = `${REDACTED_PREFIX}${'x'.repeat(SIZE)}`;
  expect(error.name).toBe('Error');
  expect(error.message).toBe(
    `${redacted.slice(0, MAX_STRING_LENGTH)}…[${String(redacted.length - MAX_STRING_LENGTH)} more characters]`,
  );
  expect(error.stack.startsWith(`Error: ${REDACTED_PREFIX}xxx`)).toBe(true);
  expect(error.stack).toMatch(/…\[\d+ more characters\]$/);
  expect(error.stack.length).toBeLessThan(MAX_STRING_LENGTH + 40);
  expect(logText).not.toContain(URL_SECRET);
  expect(logText).not.toContain(ENV_SECRET);
  return entry;
}

describe('a crash while stderr is a pipe that nobody reads', () => {
  it('exits 1 within the timeout when the FIFO is full and blocking, with the whole entry in the crash log', async () => {
    const crash = await crashWithUnreadStderr('full-fifo');
    expect(crash.code).toBe(1);
    expect(crash.exitElapsed).toBeLessThan(TIMEOUT + MARGIN);
    expectBoundedEntry(crash.logText);
    // Not one byte fitted into the full pipe, so nothing torn went in either.
    expect(crash.prefilled).toBeGreaterThan(0);
    expect(crash.stderr.toString('latin1')).toBe('.'.repeat(crash.prefilled));
  });

  it('exits 1 within the timeout when the app made the full FIFO blocking itself', async () => {
    const crash = await crashWithUnreadStderr('full-fifo', { blockStderr: true });
    expect(crash.code).toBe(1);
    expect(crash.exitElapsed).toBeLessThan(TIMEOUT + MARGIN);
    expectBoundedEntry(crash.logText);
    expect(crash.stderr.toString('latin1')).toBe('.'.repeat(crash.prefilled));
  });

  it.each([{ blockStderr: false }, { blockStderr: true }])(
    "exits 1 within the timeout when Node's stdio socket is full (app made it blocking: $blockStderr)",
    async ({ blockStderr }) => {
      const crash = await crashWithUnreadStderr('socket', { fillStderr: true, blockStderr });
      expect(crash.code).toBe(1);
      expect(crash.exitElapsed).toBeLessThan(TIMEOUT + MARGIN);
      expectBoundedEntry(crash.logText);
      expect(crash.stderr.toString('latin1')).toMatch(/^\.{4096}/);
      expect(crash.stderr.toString('utf8')).not.toContain(URL_SECRET);
    },
  );

  it('copies the same bounded line to an unread stdio socket that has room', async () => {
    const crash = await crashWithUnreadStderr('socket');
    expect(crash.code).toBe(1);
    const entry = expectBoundedEntry(crash.logText);
    expect(crash.stderr.toString('utf8')).toBe(crash.logText);
    expect(entry).toMatchObject({ app: 'shop', origin: 'uncaughtException' });
  });
});
