import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_MAX_STRING_LENGTH, LastDitch, MAX_ENTRY_BYTES } from '../src/index';
import type { ReportInfo } from '../src/index';
import { fitEntry, SHORT_ENTRY_BYTES } from '../src/entry-size';
import { MAX_ENTRIES, MAX_VALUES, MORE_PROPERTIES } from '../src/plain-copy';

let dir: string;
const SECRET = 'caps-secret-7d21aa90';

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'last-ditch-caps-'));
  process.env['CAPS_TEST_TOKEN'] = SECRET;
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
  delete process.env['CAPS_TEST_TOKEN'];
});

/** Reports `error` into a fresh crash log and returns the line written and its entry. */
async function reportLine(
  error: unknown,
  info?: ReportInfo,
  options: { maxStringLength?: number } = {},
): Promise<{ line: string; entry: Record<string, unknown> }> {
  const crashLog = path.join(dir, `crash-${String(Math.random()).slice(2)}.log`);
  await new LastDitch({ crashLog, stderr: false, appName: 'shop', ...options }).report(error, info);
  const line = fs.readFileSync(crashLog, 'utf8');
  expect(line.endsWith('\n')).toBe(true);
  expect(line.indexOf('\n')).toBe(line.length - 1);
  expect(Buffer.byteLength(line)).toBeLessThanOrEqual(MAX_ENTRY_BYTES);
  return { line, entry: JSON.parse(line) as Record<string, unknown> };
}

function marker(count: number): string {
  return `…[${String(count)} more characters]`;
}

describe('the documented caps', () => {
  it('are 32 KiB per string and 256 KiB per entry', () => {
    expect(DEFAULT_MAX_STRING_LENGTH).toBe(32_768);
    expect(MAX_ENTRY_BYTES).toBe(262_144);
    expect(SHORT_ENTRY_BYTES).toBe(4096);
    expect(MAX_ENTRIES).toBe(100);
  });

  it('cuts a long message and a long stack, the marker counting every character cut', async () => {
    const error = new Error('m'.repeat(100_000));
    error.stack = `Error: ${'s'.repeat(1_000_000)}`;
    const { entry } = await reportLine(error);
    const serialized = entry['error'] as { message: string; stack: string };
    expect(serialized.message).toBe(`${'m'.repeat(32_768)}${marker(100_000 - 32_768)}`);
    expect(serialized.stack).toBe(`Error: ${'s'.repeat(32_768 - 7)}${marker(1_000_007 - 32_768)}`);
  });

  it('honours a smaller maxStringLength', async () => {
    const { entry } = await reportLine(new Error('abcdefghij'), undefined, { maxStringLength: 4 });
    expect((entry['error'] as { message: string }).message).toBe(`abcd${marker(6)}`);
  });

  it('redacts a secret that straddles the cut instead of keeping half of it', async () => {
    const message = `${'x'.repeat(32_768 - 5)}${SECRET} tail`;
    const { line, entry } = await reportLine(new Error(message));
    const redacted = `${'x'.repeat(32_768 - 5)}[REDACTED] tail`;
    expect((entry['error'] as { message: string }).message).toBe(
      `${redacted.slice(0, 32_768)}${marker(redacted.length - 32_768)}`,
    );
    expect(line).not.toContain(SECRET.slice(0, 5));
  });

  it('keeps the first 99 of thousands of keys and counts the rest', async () => {
    const extra = Object.fromEntries(
      Array.from({ length: 5000 }, (_, index) => [`k${String(index)}`, index]),
    );
    const { entry } = await reportLine(new Error('keys'), { extra });
    const copied = entry['extra'] as Record<string, unknown>;
    expect(Object.keys(copied)).toHaveLength(100);
    expect(copied['k98']).toBe(98);
    expect(copied['k99']).toBeUndefined();
    expect(copied[MORE_PROPERTIES]).toBe(4901);
  });

  it('keeps the first 99 items of a long array and counts the rest', async () => {
    const { entry } = await reportLine(new Error('items'), {
      extra: { list: Array.from({ length: 1000 }, (_, index) => index) },
    });
    const list = (entry['extra'] as { list: unknown[] }).list;
    expect(list).toHaveLength(100);
    expect(list[98]).toBe(98);
    expect(list[99]).toBe('[901 more items]');
  });

  it('stops a deep object at 10 levels', async () => {
    let deep: Record<string, unknown> = { end: true };
    for (let level = 0; level < 50; level += 1) deep = { next: deep };
    const { entry } = await reportLine(new Error('deep'), { extra: { deep } });
    let cursor: unknown = (entry['extra'] as Record<string, unknown>)['deep'];
    let levels = 0;
    while (typeof cursor === 'object' && cursor !== null) {
      cursor = (cursor as Record<string, unknown>)['next'];
      levels += 1;
    }
    expect(cursor).toBe('[too deep]');
    expect(levels).toBe(9);
  });

  it('stops a long cause chain at MAX_CAUSE_DEPTH', async () => {
    let error = new Error('root');
    for (let index = 0; index < 200; index += 1)
      error = new Error(`e${String(index)}`, { cause: error });
    const { entry } = await reportLine(error);
    let cursor: unknown = entry['error'];
    let depth = 0;
    while (typeof cursor === 'object' && cursor !== null) {
      cursor = (cursor as { cause?: unknown }).cause;
      depth += 1;
    }
    expect(depth).toBe(9);
    expect(cursor).toBe('[cause chain truncated]');
  });

  it('holds a huge object to 256 KiB, keeping the error whole and saying what was cut', async () => {
    const row = Object.fromEntries(
      Array.from({ length: 100 }, (_, index) => [`c${String(index)}`, 'v'.repeat(10_000)]),
    );
    const extra = Object.fromEntries(
      Array.from({ length: 100 }, (_, index) => [`r${String(index)}`, row]),
    );
    const { entry } = await reportLine(new Error('huge'), { extra });
    expect(entry['error']).toMatchObject({ name: 'Error', message: 'huge' });
    expect(entry['truncated']).toEqual({
      maxBytes: MAX_ENTRY_BYTES,
      originalBytes: expect.any(Number) as unknown,
    });
    expect((entry['truncated'] as { originalBytes: number }).originalBytes).toBeGreaterThan(
      MAX_ENTRY_BYTES,
    );
    expect(JSON.stringify(entry['extra'])).toMatch(/more characters\]|more properties/);
  });

  it(`copies at most ${String(MAX_VALUES)} values of one report`, async () => {
    const extra = Array.from({ length: 100 }, () =>
      Array.from({ length: 100 }, (_, index) => ({ index })),
    );
    const { line } = await reportLine(new Error('many'), { extra: { extra } });
    const copiedObjects = line.split('{"index":').length - 1;
    expect(copiedObjects).toBeGreaterThan(MAX_VALUES - 200);
    expect(copiedObjects).toBeLessThan(MAX_VALUES);
    expect(line).toMatch(/"\[\d+ more items\]"/);
  });
});

describe('fitEntry', () => {
  const entry = {
    id: 'id-1',
    timestamp: 't',
    level: 'fatal',
    origin: 'manual',
    app: 'shop',
    pid: 1,
    argv: ['node', 'a'.repeat(50_000)],
    error: { name: 'Error', message: 'm'.repeat(3000), stack: 's'.repeat(60_000) },
    extra: { blob: 'b'.repeat(100_000) },
  };

  it('returns an entry that fits as it is', () => {
    const small = { id: 'x', error: { name: 'E', message: 'm' } };
    expect(fitEntry(small, 1000)).toBe(`${JSON.stringify(small)}\n`);
  });

  it('gives the error its share first and marks what it cut', () => {
    const line = fitEntry(entry, 70_000);
    expect(Buffer.byteLength(line)).toBeLessThanOrEqual(70_000);
    const fitted = JSON.parse(line) as typeof entry & { truncated: unknown };
    expect(Object.keys(fitted)).toEqual([...Object.keys(entry), 'truncated']);
    expect(fitted.error.message).toBe('m'.repeat(3000));
    expect(fitted.error.stack).toBe('s'.repeat(60_000));
    const blob = fitted.extra.blob;
    const cut = /…\[(\d+) more characters\]$/.exec(blob);
    expect(cut).not.toBeNull();
    expect(blob.length - (cut?.[0].length ?? 0) + Number(cut?.[1])).toBe(100_000);
    expect(fitted.truncated).toEqual({
      maxBytes: 70_000,
      originalBytes: Buffer.byteLength(`${JSON.stringify(entry)}\n`),
    });
  });

  it('fits the short form for a blocking stderr into 4 KiB', () => {
    const line = fitEntry(entry, SHORT_ENTRY_BYTES);
    expect(Buffer.byteLength(line)).toBeLessThanOrEqual(SHORT_ENTRY_BYTES);
    expect(JSON.parse(line)).toMatchObject({ id: 'id-1', error: { name: 'Error' } });
  });

  it('falls back to the identity of the report when nothing else fits', () => {
    const line = fitEntry(entry, 400);
    expect(Buffer.byteLength(line)).toBeLessThanOrEqual(400);
    expect(JSON.parse(line)).toMatchObject({ id: 'id-1', level: 'fatal', pid: 1 });
  });

  it('never splits a surrogate pair', () => {
    const line = fitEntry({ id: 'x', error: { message: '😀'.repeat(10_000) } }, 2000);
    const message = (JSON.parse(line) as { error: { message: string } }).error.message;
    expect(message).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
  });
});
