/**
 * The `output` option with real processes: a master (test/fixtures/output-log-master.js, loading
 * the built package) whose two workers (output-lines-worker.js) write known lines on stdout and
 * stderr, with `output: 'log'` and a real winston logger writing JSON to the master's stdout, with
 * a function, and with `'inherit'`; a worker that crashes at start in `'log'` mode; and a flood
 * in `'log'` mode while the master's stdout is read at 1 MiB/s.
 */
import type { ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import type { WorkerInfo } from '../src/types';
import { ask, nextMessage, readAtRate, sampleRss, sleep, spawnIpcMaster } from './support';

const MIB = 1024 * 1024;
const LINE_COUNT = 300;
const FLOOD_MS = 5000;
/**
 * Measured: +40–70 MiB within seconds, then flat for 40 s (garbage of the records V8 has not
 * collected yet); +260 MiB in 5 s when the sink ignores its streams' backpressure.
 */
const RSS_GROWTH_LIMIT = 96 * MIB;
const RAW_LINE = /^(out|err) \d \d+$/;
const DROP_WARNING = "the master's logger is not keeping up";

/** Everything a stream says, kept whole (the small tests only). */
function collect(stream: Readable): { text: () => string; lines: () => string[] } {
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  const text = (): string => Buffer.concat(chunks).toString('utf8');
  return {
    text,
    lines: () =>
      text()
        .split('\n')
        .filter((line) => line !== ''),
  };
}

function startFixture(env: Record<string, string>): ChildProcess {
  return spawnIpcMaster('output-log-master.js', env);
}

/** Waits until `check()` is true, polling every 50 ms, for at most `ms`. */
async function until(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (check()) return true;
    await sleep(50);
  }
  return check();
}

/** The lines each worker writes, by slot. */
function expectedLines(slots: number): string[] {
  const lines: string[] = [];
  for (let slot = 0; slot < slots; slot += 1) {
    for (let n = 0; n < LINE_COUNT; n += 1) lines.push(`out ${String(slot)} ${String(n)}`);
    for (let n = 0; n < LINE_COUNT; n += 1) lines.push(`err ${String(slot)} ${String(n)}`);
  }
  return lines;
}

interface WinstonRecord {
  level: string;
  message: string;
  slot?: number;
  pid?: number;
  stream?: string;
}

function parseRecords(lines: string[]): { records: WinstonRecord[]; other: string[] } {
  const records: WinstonRecord[] = [];
  const other: string[] = [];
  for (const line of lines) {
    try {
      records.push(JSON.parse(line) as WinstonRecord);
    } catch {
      other.push(line);
    }
  }
  return { records, other };
}

function counts(values: string[]): Map<string, number> {
  const map = new Map<string, number>();
  for (const value of values) map.set(value, (map.get(value) ?? 0) + 1);
  return map;
}

describe("output: 'log' with a winston logger", () => {
  it('turns each worker line into exactly one record with slot, pid and stream, and prints no raw line', async () => {
    const child = startFixture({ OUTPUT_MODE: 'log', LINE_COUNT: String(LINE_COUNT) });
    const stdout = collect(child.stdout as Readable);
    const stderr = collect(child.stderr as Readable);
    await nextMessage(child, 'started', 20_000);
    const lineRecords = (): WinstonRecord[] =>
      parseRecords(stdout.lines()).records.filter((record) => record.stream !== undefined);
    const expected = expectedLines(2);
    // Two bearer lines come on top of the numbered ones.
    expect(await until(() => lineRecords().length >= expected.length + 2, 20_000)).toBe(true);
    await sleep(500);
    const status = (await ask(child, 'status'))['status'] as WorkerInfo[];
    const pidOfSlot = new Map(status.map((worker) => [worker.slot, worker.pid]));

    const { records, other } = parseRecords(stdout.lines());
    const fromWorkers = records.filter((record) => record.stream !== undefined);
    expect(fromWorkers).toHaveLength(expected.length + 2);
    const numbered = fromWorkers.filter((record) => RAW_LINE.test(record.message));
    expect(counts(numbered.map((record) => record.message))).toEqual(counts(expected));
    for (const record of numbered) {
      const [stream, slot] = record.message.split(' ');
      expect(record.stream).toBe(stream === 'out' ? 'stdout' : 'stderr');
      expect(record.level).toBe(stream === 'out' ? 'info' : 'warn');
      expect(record.slot).toBe(Number(slot));
      expect(record.pid).toBe(pidOfSlot.get(Number(slot)));
    }
    const bearer = fromWorkers.filter((record) => record.message.startsWith('calling with'));
    expect(bearer.map((record) => record.message)).toEqual([
      'calling with Authorization: [REDACTED]',
      'calling with Authorization: [REDACTED]',
    ]);
    expect(stdout.text() + stderr.text()).not.toContain('s3cr3t-token');
    expect(other).toEqual([]);
    expect(stderr.lines().filter((line) => RAW_LINE.test(line))).toEqual([]);
  }, 60_000);

  it("keeps a crashed worker's stderr for the start error, and logs its line once", async () => {
    const child = startFixture({
      OUTPUT_MODE: 'log',
      LINES_MODE: 'crash',
      WORKERS: '1',
      READY_TIMEOUT: '3000',
    });
    const stdout = collect(child.stdout as Readable);
    const stderr = collect(child.stderr as Readable);
    const failed = await nextMessage(child, 'start-failed', 20_000);
    expect(failed['code']).toBe('LASTCALL_ERR_MASTER_START_FAILED');
    const failures = failed['failures'] as { pid: number; stderrTail: string }[];
    expect(failures).toHaveLength(1);
    const pid = failures[0]?.pid ?? 0;
    expect(failures[0]?.stderrTail).toBe(`boom before listen ${String(pid)}\n`);
    const boom = (): WinstonRecord[] =>
      parseRecords(stdout.lines()).records.filter((record) =>
        record.message.startsWith('boom before listen'),
      );
    expect(await until(() => boom().length > 0, 10_000)).toBe(true);
    await sleep(500);
    expect(boom()).toEqual([
      expect.objectContaining({
        level: 'warn',
        message: `boom before listen ${String(pid)}`,
        slot: 0,
        pid,
        stream: 'stderr',
      }),
    ]);
    expect(stderr.text()).not.toContain('boom before listen');
    expect(parseRecords(stdout.lines()).other).toEqual([]);
  }, 60_000);
});

describe('output: a function', () => {
  it('gets every line exactly once with slot, id, pid and stream, and nothing is printed raw', async () => {
    const child = startFixture({ OUTPUT_MODE: 'function', LINE_COUNT: String(LINE_COUNT) });
    const stdout = collect(child.stdout as Readable);
    const stderr = collect(child.stderr as Readable);
    await nextMessage(child, 'started', 20_000);
    const expected = expectedLines(2);
    let reply: Record<string, unknown> = {};
    const isComplete = async (): Promise<boolean> => {
      reply = await ask(child, 'lines');
      return (reply['count'] as number) >= expected.length + 2;
    };
    const deadline = Date.now() + 20_000;
    while (!(await isComplete()) && Date.now() < deadline) await sleep(100);
    await sleep(500);
    reply = await ask(child, 'lines');
    const status = (await ask(child, 'status'))['status'] as WorkerInfo[];
    const bySlot = new Map(status.map((worker) => [worker.slot, worker]));

    const got = reply['lines'] as {
      line: string;
      info: { slot: number; id: number; pid: number; stream: string };
    }[];
    expect(reply['count']).toBe(expected.length + 2);
    const numbered = got.filter(({ line }) => RAW_LINE.test(line));
    expect(counts(numbered.map(({ line }) => line))).toEqual(counts(expected));
    for (const { line, info } of numbered) {
      const [stream, slot] = line.split(' ');
      const worker = bySlot.get(Number(slot));
      expect(info).toEqual({
        slot: Number(slot),
        id: worker?.id,
        pid: worker?.pid,
        stream: stream === 'out' ? 'stdout' : 'stderr',
      });
    }
    // The function is the app's own: what it receives is the raw line, secrets and all.
    expect(
      got.filter(({ line }) => line.startsWith('calling with')).map(({ info }) => info.stream),
    ).toEqual(['stderr', 'stderr']);
    expect(stdout.lines().filter((line) => RAW_LINE.test(line))).toEqual([]);
    expect(stderr.lines().filter((line) => RAW_LINE.test(line))).toEqual([]);
    expect(stdout.text() + stderr.text()).not.toContain('s3cr3t-token');
  }, 60_000);
});

describe("output: 'inherit'", () => {
  it("prints each raw line once on the master's stdout or stderr, as before", async () => {
    const child = startFixture({ OUTPUT_MODE: 'inherit', LINE_COUNT: String(LINE_COUNT) });
    const stdout = collect(child.stdout as Readable);
    const stderr = collect(child.stderr as Readable);
    await nextMessage(child, 'started', 20_000);
    const raw = (): string[] =>
      [...stdout.lines(), ...stderr.lines()].filter((line) => RAW_LINE.test(line));
    const expected = expectedLines(2);
    expect(await until(() => raw().length >= expected.length, 20_000)).toBe(true);
    await sleep(500);
    expect(counts(raw())).toEqual(counts(expected));
    expect(stdout.lines().every((line) => line.startsWith('out '))).toBe(true);
    expect(stderr.lines().filter((line) => line.startsWith('out '))).toEqual([]);
  }, 60_000);
});

/** Reads `stream` at most `bytesPerSecond`, counting bytes and lines, keeping nothing. */
function readSlowly(
  stream: Readable,
  bytesPerSecond: number,
): { counted: { bytes: number; records: number; dropWarnings: number }; stop(): void } {
  const counted = { bytes: 0, records: 0, dropWarnings: 0 };
  let recent = '';
  const stop = readAtRate(stream, bytesPerSecond, (chunk) => {
    counted.bytes += chunk.length;
    const text = recent + chunk.toString('latin1');
    counted.dropWarnings += text.split(DROP_WARNING).length - 1;
    recent = text.slice(-DROP_WARNING.length + 1);
    for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1))
      counted.records += 1;
  });
  return { counted, stop };
}

describe("output: 'log' under a flood", () => {
  it('stays within 96 MiB of RSS growth while its stdout is read at 1 MiB/s, and counts the drops', async () => {
    const child = startFixture({
      OUTPUT_MODE: 'log',
      WORKER: 'flood',
      WORKERS: '2',
      FLOOD_MODES: JSON.stringify(['stdout', 'stderr']),
    });
    const masterPid = child.pid ?? 0;
    const stdout = readSlowly(child.stdout as Readable, MIB);
    const stderr = readSlowly(child.stderr as Readable, MIB);
    await nextMessage(child, 'started', 20_000);
    const rss = sampleRss(masterPid);
    const { baseline } = rss;
    await sleep(FLOOD_MS);
    const highest = rss.stop();
    const status = (await ask(child, 'status'))['status'] as WorkerInfo[];
    console.log(
      `'log' flood: master RSS ${(baseline / MIB).toFixed(1)} MiB at start, highest ` +
        `${(highest / MIB).toFixed(1)} MiB; read ${(stdout.counted.bytes / MIB).toFixed(1)} MiB ` +
        `(${String(stdout.counted.records)} records) of stdout; dropped ` +
        status.map((worker) => `${String(worker.droppedOutput?.lines)} lines`).join(', '),
    );
    expect(highest - baseline).toBeLessThan(RSS_GROWTH_LIMIT);
    expect(stdout.counted.records).toBeGreaterThan(1000);
    expect(status).toHaveLength(2);
    for (const worker of status) expect(worker.droppedOutput?.lines).toBeGreaterThan(0);
    expect(stderr.counted.dropWarnings).toBeGreaterThan(0);
  }, 60_000);
});
