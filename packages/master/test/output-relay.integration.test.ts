/**
 * A master (test/fixtures/output-flood-master.js, a real process loading the built package) whose
 * three workers flood its stdout and stderr as fast as they can while serving HTTP: slot 0 100-byte
 * lines on stderr, slot 1 on stdout, slot 2 lines of 8 MiB without newlines on stderr. The test
 * reads the master's stdout and stderr at 1 MiB/s each, never faster, for 20 s, and samples the
 * master's RSS from /proc.
 */
import type { Readable } from 'node:stream';
import { Pool } from 'undici';
import type { WorkerInfo } from '../src/types';
import {
  ask,
  nextMessage,
  readAtRate,
  sampleRss,
  sleep,
  spawnIpcMaster,
  stopAfterTest,
} from './support';

const MIB = 1024 * 1024;
const FLOOD_MS = 20_000;
const READ_BYTES_PER_SECOND = MIB;
const RSS_GROWTH_LIMIT = 64 * MIB;
const MAX_PIECE = 64 * 1024;
const MODES = ['stderr', 'stdout', 'long-line'];

const FLOOD_LINE = /^(stderr|stdout) \d+ \d{6} x+$/;
const LOG_LINE = /^\d{4}-\d\d-\d\dT\S+ (TRACE|DEBUG|INFO|WARN|ERROR|FATAL)\s/;
const DROP_LOG =
  /dropped (\d+) lines \((\d+) bytes\) of worker (\d+)'s (stdout|stderr): the master's (stdout|stderr) is not keeping up/;

/** A drop the master logged. */
interface LoggedDrop {
  lines: number;
  workerId: number;
  stream: string;
  target: string;
}

/** What a slow reader saw, line by line, in bounded memory. */
interface Reading {
  bytes: number;
  floodLines: Record<string, number>;
  pieces: number;
  longestLine: number;
  drops: LoggedDrop[];
  unexpected: string[];
}

/** Reads `stream` at `bytesPerSecond` at most, line by line, in bounded memory. */
function readSlowly(stream: Readable, bytesPerSecond: number): { reading: Reading; stop(): void } {
  const reading: Reading = {
    bytes: 0,
    floodLines: {},
    pieces: 0,
    longestLine: 0,
    drops: [],
    unexpected: [],
  };
  let partial = '';
  const classify = (line: string): void => {
    reading.longestLine = Math.max(reading.longestLine, Buffer.byteLength(line));
    const flood = FLOOD_LINE.exec(line);
    if (flood !== null && line.length === 99) {
      const name = flood[1] ?? '';
      reading.floodLines[name] = (reading.floodLines[name] ?? 0) + 1;
    } else if (/^y+$/.test(line)) {
      reading.pieces += 1;
    } else if (LOG_LINE.test(line)) {
      const drop = DROP_LOG.exec(line);
      if (drop !== null) {
        reading.drops.push({
          lines: Number(drop[1]),
          workerId: Number(drop[3]),
          stream: drop[4] ?? '',
          target: drop[5] ?? '',
        });
      }
    } else if (reading.unexpected.length < 5) {
      reading.unexpected.push(line.slice(0, 200));
    }
  };
  const stop = readAtRate(stream, bytesPerSecond, (chunk) => {
    reading.bytes += chunk.length;
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) classify(line);
    if (partial.length > 4 * MAX_PIECE) {
      reading.longestLine = Math.max(reading.longestLine, partial.length);
      partial = '';
    }
  });
  return { reading, stop };
}

/** What the app answered during the flood. */
interface Answers {
  at: number[];
  failures: string[];
  latest: Map<number, { mode: string; written: number; ms: number; backlog: number }>;
}

/** `loops` request loops, each request on a new connection (so cluster spreads them). */
function requestLoops(port: number, loops: number): { answers: Answers; stop(): Promise<void> } {
  const pool = new Pool(`http://127.0.0.1:${String(port)}`, {
    connections: loops,
    headersTimeout: 5000,
    bodyTimeout: 5000,
  });
  const answers: Answers = { at: [], failures: [], latest: new Map() };
  let isRunning = true;
  const loop = async (): Promise<void> => {
    while (isRunning) {
      try {
        const response = await pool.request({ path: '/', method: 'GET', reset: true });
        const body = (await response.body.json()) as {
          pid: number;
          mode: string;
          written: number;
          ms: number;
          backlog: number;
        };
        if (response.statusCode !== 200) throw new Error(`status ${String(response.statusCode)}`);
        answers.at.push(Date.now());
        answers.latest.set(body.pid, body);
      } catch (error) {
        const { code, message } = error as NodeJS.ErrnoException;
        answers.failures.push(code ?? message);
      }
      await sleep(20);
    }
  };
  const running = Array.from({ length: loops }, () => loop());
  let stopped: Promise<void> | undefined;
  return {
    answers,
    stop: () => {
      isRunning = false;
      stopped ??= Promise.all(running).then(() => pool.close());
      return stopped;
    },
  };
}

describe('a master whose stdout and stderr are read at 1 MiB/s while its workers flood them', () => {
  it('stays within 64 MiB of RSS growth, keeps answering, and counts and logs the drops', async () => {
    const child = spawnIpcMaster('output-flood-master.js', { FLOOD_MODES: JSON.stringify(MODES) });
    const masterPid = child.pid ?? 0;
    const stdout = readSlowly(child.stdout as Readable, READ_BYTES_PER_SECOND);
    const stderr = readSlowly(child.stderr as Readable, READ_BYTES_PER_SECOND);
    const started = await nextMessage(child, 'started', 15_000);
    const workerPids = started['pids'] as number[];
    const rss = sampleRss(masterPid);
    const { baseline } = rss;
    const floodStart = Date.now();
    const load = requestLoops(started['port'] as number, 4);
    stopAfterTest(load.stop);
    await sleep(FLOOD_MS);
    const floodEnd = Date.now();
    const highest = rss.stop();
    await load.stop();
    // The drop lines of the last seconds may still wait in the master's stderr; asked after the
    // readers stop, the status counts every drop a log line read so far reports.
    await sleep(2000);
    stdout.stop();
    stderr.stop();
    const status = (await ask(child, 'status'))['status'] as WorkerInfo[];

    const { answers } = load;
    const perSecond = Array.from({ length: Math.floor((floodEnd - floodStart) / 1000) }, () => 0);
    for (const at of answers.at) {
      const second = Math.floor((at - floodStart) / 1000);
      if (second < perSecond.length) perSecond[second] = (perSecond[second] ?? 0) + 1;
    }
    const rates = [...answers.latest.values()].map(
      ({ mode, written, ms, backlog }) =>
        `${mode} ${(written / MIB / (ms / 1000)).toFixed(1)} MiB/s (${(backlog / MIB).toFixed(1)} MiB waiting in it)`,
    );
    console.log(
      `master RSS ${(baseline / MIB).toFixed(1)} MiB at start, highest ${(highest / MIB).toFixed(1)} MiB ` +
        `(+${((highest - baseline) / MIB).toFixed(1)} MiB); workers wrote ${rates.join(', ')}; ` +
        `${String(answers.at.length)} requests answered; read ${(stdout.reading.bytes / MIB).toFixed(1)} ` +
        `MiB of stdout and ${(stderr.reading.bytes / MIB).toFixed(1)} MiB of stderr; dropped ` +
        status.map((worker) => `${String(worker.droppedOutput?.lines)} lines`).join(', '),
    );

    expect(highest - baseline).toBeLessThan(RSS_GROWTH_LIMIT);
    expect(answers.failures).toEqual([]);
    expect(perSecond.filter((count) => count === 0)).toEqual([]);
    expect(new Set(answers.latest.keys())).toEqual(new Set(workerPids));

    expect(status.map((worker) => worker.slot)).toEqual([0, 1, 2]);
    for (const worker of status) {
      expect(worker.droppedOutput?.lines).toBeGreaterThan(0);
      expect(worker.droppedOutput?.bytes).toBeGreaterThan(0);
    }
    const [stderrWorker, stdoutWorker, longLineWorker] = status;
    const logged = (worker: WorkerInfo | undefined, stream: string): number =>
      stderr.reading.drops
        .filter((drop) => drop.workerId === worker?.id && drop.stream === stream)
        .reduce((sum, drop) => sum + drop.lines, 0);
    for (const [worker, stream] of [
      [stderrWorker, 'stderr'],
      [stdoutWorker, 'stdout'],
      [longLineWorker, 'stderr'],
    ] as const) {
      expect(logged(worker, stream)).toBeGreaterThan(0);
      expect(logged(worker, stream)).toBeLessThanOrEqual(worker?.droppedOutput?.lines ?? 0);
    }
    expect(stderr.reading.drops.every((drop) => drop.stream === drop.target)).toBe(true);

    expect(stderr.reading.unexpected).toEqual([]);
    expect(stdout.reading.unexpected).toEqual([]);
    expect(stderr.reading.longestLine).toBeLessThanOrEqual(MAX_PIECE);
    expect(stderr.reading.floodLines['stderr']).toBeGreaterThan(0);
    expect(stderr.reading.pieces).toBeGreaterThan(0);
    expect(stdout.reading.floodLines['stdout']).toBeGreaterThan(0);
  }, 40_000);
});
