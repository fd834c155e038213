import { PassThrough } from 'node:stream';
import type { Writable } from 'node:stream';
import type { Logger } from '@lastcall/log-shim';
import { OutputRelay } from '../src/primary/output-relay';
import type { OutputRelayOptions } from '../src/primary/output-relay';
import { SlowStream, lines, recordingLogger, sleep, turn } from './unit-support';

function relay(
  source: PassThrough,
  target: Writable,
  options: Partial<OutputRelayOptions> = {},
): OutputRelay {
  return new OutputRelay(source, target, {
    name: "worker 1's stderr",
    targetName: "the master's stderr",
    logger: recordingLogger().logger,
    ...options,
  });
}

describe('OutputRelay', () => {
  it('writes whole lines only, and a last line without a newline at the end', async () => {
    const source = new PassThrough();
    const target = new SlowStream(1 << 20);
    target.release(true);
    const output = relay(source, target, { keepTail: true });
    source.write('one\ntw');
    source.write('o\nthr');
    source.end('ee');
    await new Promise((resolve) => source.on('end', resolve));
    await turn();
    expect(target.taken.map(String)).toEqual(['one\n', 'two\n', 'three\n']);
    expect(output.tail).toBe('one\ntwo\nthree');
    expect(output.dropped).toEqual({ lines: 0, bytes: 0 });
  });

  it('never interleaves the lines of two workers mid-line', async () => {
    const target = new SlowStream(1 << 20);
    target.release(true);
    const first = new PassThrough();
    const second = new PassThrough();
    relay(first, target);
    relay(second, target);
    for (let index = 0; index < 50; index += 1) {
      first.write(`first ${String(index)} `);
      second.write(`second ${String(index)} `);
      await turn();
      first.write('end\n');
      second.write('end\n');
      await turn();
    }
    const written = target.text.split('\n').filter((line) => line !== '');
    expect(written).toHaveLength(100);
    for (const line of written) expect(line).toMatch(/^(first|second) \d+ end$/);
  });

  it('pauses the worker while the target is full and loses nothing after the drain', async () => {
    const source = new PassThrough();
    const target = new SlowStream(16);
    const output = relay(source, target, { pauseLimit: 60_000 });
    source.write(lines(0, 2));
    await turn();
    expect(target.writableNeedDrain).toBe(true);
    expect(source.isPaused()).toBe(true);
    source.write(lines(2, 100));
    await turn();
    expect(target.text).toBe(lines(0, 2));
    target.release(true);
    await turn();
    await turn();
    expect(source.isPaused()).toBe(false);
    expect(target.text).toBe(lines(0, 102));
    expect(output.dropped).toEqual({ lines: 0, bytes: 0 });
  });

  it('pauses every relay into a full target, also one that has not written yet', async () => {
    const target = new SlowStream(16);
    const first = new PassThrough();
    const second = new PassThrough();
    relay(first, target, { pauseLimit: 60_000 });
    relay(second, target, { pauseLimit: 60_000 });
    first.write(lines(0, 2));
    await turn();
    second.write('second 1\nsecond 2\n');
    await turn();
    expect(second.isPaused()).toBe(true);
    expect(target.text).toBe(lines(0, 2));
    target.release(true);
    await turn();
    expect(first.isPaused()).toBe(false);
    expect(second.isPaused()).toBe(false);
    expect(target.text).toBe(`${lines(0, 2)}second 1\nsecond 2\n`);
  });

  it('reads on after the pause limit, keeps bufferBytes of whole lines and drops the rest', async () => {
    const source = new PassThrough();
    const target = new SlowStream(16);
    const output = relay(source, target, { pauseLimit: 50, bufferBytes: 105 });
    source.write(lines(0, 2));
    await turn();
    source.write(lines(2, 50));
    await sleep(50 * 4);
    expect(source.isPaused()).toBe(false);
    // 105 bytes of room hold 10 lines of 10 bytes: lines 2 to 11; 12 to 51 are dropped.
    expect(output.dropped).toEqual({ lines: 40, bytes: 400 });
    target.release(true);
    await turn();
    expect(target.text).toBe(lines(0, 12));
    source.write(lines(52, 1));
    await turn();
    expect(target.text).toBe(`${lines(0, 12)}${lines(52, 1)}`);
  });

  it('reads no faster than dropReadRate from all its workers together once overloaded', async () => {
    const target = new SlowStream(16);
    const first = new PassThrough();
    const second = new PassThrough();
    const settings = { pauseLimit: 20, bufferBytes: 0, dropReadRate: 1000 };
    const firstOutput = relay(first, target, settings);
    const secondOutput = relay(second, target, settings);
    first.write(lines(0, 2));
    await sleep(20 * 4);
    for (let index = 0; index < 15; index += 1) first.write(lines(2 + 10 * index, 10));
    await turn();
    await turn();
    // 1000 bytes a second, a full second's worth at first: 10 chunks of 100 bytes, then the 11th
    // overdraws and pauses the worker for 100 ms.
    expect(firstOutput.dropped).toEqual({ lines: 110, bytes: 1100 });
    expect(first.isPaused()).toBe(true);
    second.write(lines(0, 10));
    await turn();
    await turn();
    expect(secondOutput.dropped).toEqual({ lines: 10, bytes: 100 });
    expect(second.isPaused()).toBe(true);
    // The 4 chunks left (400 bytes) after the 200 bytes overdrawn: at most 0.6 s.
    await sleep(600 * 4);
    expect(firstOutput.dropped).toEqual({ lines: 150, bytes: 1500 });
    expect(first.isPaused()).toBe(false);
    expect(second.isPaused()).toBe(false);
  });

  it('logs the dropped count at most once per reportInterval, with its fields', async () => {
    const { logger, warnings } = recordingLogger();
    const source = new PassThrough();
    const target = new SlowStream(16);
    const output = relay(source, target, {
      logger,
      pauseLimit: 20,
      bufferBytes: 0,
      reportInterval: 400,
      fields: { slot: 0, pid: 1234 },
    });
    source.write(lines(0, 2));
    await sleep(20 * 4);
    source.write(lines(2, 3));
    await sleep(50);
    expect(warnings).toEqual([
      {
        message:
          "dropped 3 lines (30 bytes) of worker 1's stderr: the master's stderr is not keeping up",
        fields: { slot: 0, pid: 1234, lines: 3, bytes: 30, totalLines: 3, totalBytes: 30 },
      },
    ]);
    source.write(lines(5, 4));
    await sleep(50);
    source.write(lines(9, 1));
    await sleep(50);
    expect(warnings).toHaveLength(1);
    await sleep(400 * 2);
    expect(warnings[1]).toEqual({
      message:
        "dropped 5 lines (50 bytes) of worker 1's stderr: the master's stderr is not keeping up",
      fields: { slot: 0, pid: 1234, lines: 5, bytes: 50, totalLines: 8, totalBytes: 80 },
    });
    expect(warnings).toHaveLength(2);
    expect(output.dropped).toEqual({ lines: 8, bytes: 80 });
  });

  it('pauses again when the target fills after it has kept up for the pause limit', async () => {
    const source = new PassThrough();
    const target = new SlowStream(16);
    const output = relay(source, target, { pauseLimit: 50, bufferBytes: 0 });
    source.write(lines(0, 2));
    await sleep(50 * 4);
    expect(source.isPaused()).toBe(false);
    target.release();
    await sleep(50 * 4);
    source.write(lines(2, 2));
    await turn();
    expect(source.isPaused()).toBe(true);
    expect(output.dropped).toEqual({ lines: 0, bytes: 0 });
    target.release(true);
    await turn();
    expect(target.text).toBe(lines(0, 4));
  });

  it('splits a line longer than maxLineBytes, also one that never ends', async () => {
    const source = new PassThrough();
    const target = new SlowStream(1 << 20);
    target.release(true);
    relay(source, target, { maxLineBytes: 10 });
    source.write('a'.repeat(7));
    source.write('a'.repeat(18));
    await turn();
    expect(target.text).toBe(`${'a'.repeat(10)}\n${'a'.repeat(10)}\n`);
    source.write(`bbb\n${'c'.repeat(10)}\n${'d'.repeat(21)}\n`);
    await turn();
    expect(target.text.split('\n')).toEqual([
      'a'.repeat(10),
      'a'.repeat(10),
      'aaaaabbb',
      'c'.repeat(10),
      'd'.repeat(10),
      'd'.repeat(10),
      'd',
      '',
    ]);
  });

  it('keeps the stderr tail of every byte read, dropped lines included', async () => {
    const source = new PassThrough();
    const target = new SlowStream(16);
    const output = relay(source, target, { pauseLimit: 20, bufferBytes: 0, keepTail: true });
    source.write(lines(0, 2));
    await sleep(20 * 4);
    source.write('Error: the last words\n');
    await turn();
    expect(output.dropped).toEqual({ lines: 1, bytes: 22 });
    expect(output.tail).toBe(`${lines(0, 2)}Error: the last words\n`);
  });

  it('drops and counts what comes after the target is closed, and says so', async () => {
    const { logger, warnings } = recordingLogger();
    const source = new PassThrough();
    const target = new SlowStream(1 << 20);
    target.release(true);
    target.on('error', () => undefined);
    const output = relay(source, target, { logger });
    target.destroy();
    source.write(lines(0, 3));
    await sleep(50);
    expect(output.dropped).toEqual({ lines: 3, bytes: 30 });
    expect(warnings.map((warning) => warning.message)).toEqual([
      "dropped 3 lines (30 bytes) of worker 1's stderr: the master's stderr is closed",
    ]);
  });

  it('does not throw when the logger throws', async () => {
    const throwing = recordingLogger().logger;
    const logger: Logger = {
      ...throwing,
      warn: () => {
        throw new Error('the logger failed');
      },
    };
    const source = new PassThrough();
    const target = new SlowStream(1 << 20);
    target.on('error', () => undefined);
    const output = relay(source, target, { logger });
    target.destroy();
    source.write(lines(0, 1));
    await sleep(50);
    expect(output.dropped).toEqual({ lines: 1, bytes: 10 });
  });

  it('writes the last line of a worker that ends while paused, after the drain', async () => {
    const source = new PassThrough();
    const target = new SlowStream(16);
    relay(source, target, { pauseLimit: 60_000 });
    source.write(lines(0, 2));
    await turn();
    source.end('last words');
    await turn();
    target.release(true);
    await new Promise((resolve) => source.on('end', resolve));
    await turn();
    expect(target.text).toBe(`${lines(0, 2)}last words\n`);
  });
});
