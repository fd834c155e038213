import { EventEmitter } from 'node:events';
import type { ChildProcess } from 'node:child_process';
import { PassThrough } from 'node:stream';
import type { Logger } from '@lastcall/log-shim';
import { MasterError } from '../src/errors';
import { LineSink } from '../src/primary/line-sink';
import { MAX_LINE_BYTES } from '../src/primary/line-splitter';
import { readOptions } from '../src/primary/options';
import { OutputRelay } from '../src/primary/output-relay';
import { WorkerOutput } from '../src/primary/worker-output';
import type { OutputLineInfo } from '../src/types';
import { SlowStream, lines, recordingLogger, sleep, turn } from './unit-support';

const STDOUT_INFO: OutputLineInfo = { slot: 2, id: 7, pid: 4242, stream: 'stdout' };

/** A child process as WorkerOutput sees it: a pid, a stdout and a stderr. */
function fakeChild(pid = 4242): { child: ChildProcess; stdout: PassThrough; stderr: PassThrough } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const child = Object.assign(new EventEmitter(), { pid, stdout, stderr });
  return { child: child as unknown as ChildProcess, stdout, stderr };
}

function readOutput(output: unknown, logger?: Logger): 'inherit' | LineSink {
  return readOptions({
    ...(logger === undefined ? {} : { logger }),
    output: output as 'inherit',
  }).output;
}

describe('the output option', () => {
  it("is 'inherit' by default and when given so", () => {
    expect(readOptions({}).output).toBe('inherit');
    expect(readOutput('inherit')).toBe('inherit');
  });

  it.each([['file'], [''], [42], [{ stream: 'log' }], [null], [true]])(
    'refuses %p with LASTCALL_ERR_MASTER_INVALID_OPTIONS naming the option',
    (value) => {
      let thrown: unknown;
      try {
        readOutput(value);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(MasterError);
      expect((thrown as MasterError).code).toBe('LASTCALL_ERR_MASTER_INVALID_OPTIONS');
      expect((thrown as MasterError).message).toMatch(
        /^Master: option "output" must be 'inherit', 'log' or a function/,
      );
    },
  );

  it("'log' logs each stdout line at info and each stderr line at warn with slot, pid and stream", () => {
    const { logger, records } = recordingLogger();
    const sink = readOutput('log', logger);
    if (sink === 'inherit') throw new Error('expected a sink');
    sink.deliver(Buffer.from('hello\r\n\nworld\n'), STDOUT_INFO);
    sink.deliver(Buffer.from('oops\n'), { ...STDOUT_INFO, stream: 'stderr' });
    expect(records).toEqual([
      { level: 'info', message: 'hello', fields: { slot: 2, pid: 4242, stream: 'stdout' } },
      { level: 'info', message: 'world', fields: { slot: 2, pid: 4242, stream: 'stdout' } },
      { level: 'warn', message: 'oops', fields: { slot: 2, pid: 4242, stream: 'stderr' } },
    ]);
  });

  it('a function gets every line, empty ones too, with slot, id, pid and stream', () => {
    const calls: [string, OutputLineInfo][] = [];
    const sink = readOutput((line: string, info: OutputLineInfo) => calls.push([line, info]));
    if (sink === 'inherit') throw new Error('expected a sink');
    sink.deliver(Buffer.from('a\n\nb b\n'), STDOUT_INFO);
    expect(calls).toEqual([
      ['a', STDOUT_INFO],
      ['', STDOUT_INFO],
      ['b b', STDOUT_INFO],
    ]);
  });
});

describe('LineSink', () => {
  it('loses only the line a handler threw on, and reports the throws once per interval', async () => {
    const { logger, records } = recordingLogger();
    const seen: string[] = [];
    const sink = new LineSink(
      (line) => {
        if (line.startsWith('bad')) throw new Error(`refused ${line}`);
        seen.push(line);
      },
      { name: 'the output function', logger, reportInterval: 100, watched: [] },
    );
    sink.deliver(Buffer.from('one\nbad 1\ntwo\nbad 2\nthree\n'), STDOUT_INFO);
    expect(seen).toEqual(['one', 'two', 'three']);
    expect(sink.failures).toBe(2);
    await sleep(20);
    expect(records).toHaveLength(1);
    expect(records[0]?.level).toBe('error');
    expect(records[0]?.message).toBe(
      'the output function threw on 2 lines of worker output; those lines are lost',
    );
    expect(records[0]?.fields).toMatchObject({ failures: 2, totalFailures: 2 });
    expect((records[0]?.fields['error'] as Error).message).toBe('refused bad 2');
    sink.deliver(Buffer.from('bad 3\n'), STDOUT_INFO);
    sink.deliver(Buffer.from('bad 4\n'), STDOUT_INFO);
    await sleep(20);
    expect(records).toHaveLength(1);
    await sleep(100 * 2);
    expect(records).toHaveLength(2);
    expect(records[1]?.fields).toMatchObject({ failures: 2, totalFailures: 4 });
  });

  it('is full while a watched stream needs a drain, and drains when it does', async () => {
    const stream = new SlowStream(4);
    const sink = new LineSink(() => undefined, {
      name: 'sink',
      watched: [new PassThrough(), stream],
    });
    expect(sink.writableNeedDrain).toBe(false);
    stream.write('12345');
    expect(sink.writableNeedDrain).toBe(true);
    let drains = 0;
    sink.once('drain', () => (drains += 1));
    await turn();
    expect(drains).toBe(0);
    stream.release(true);
    await turn();
    expect(sink.writableNeedDrain).toBe(false);
    expect(drains).toBe(1);
  });

  it('drains when a full watched stream is destroyed (EPIPE) instead of waiting forever', async () => {
    const stream = new SlowStream(4);
    const sink = new LineSink(() => undefined, { name: 'sink', watched: [stream] });
    stream.write('12345');
    let drains = 0;
    sink.once('drain', () => (drains += 1));
    await turn();
    stream.destroy();
    await turn();
    expect(drains).toBe(1);
  });
});

describe('a relay into a LineSink', () => {
  function sinkRelay(
    source: PassThrough,
    sink: LineSink,
    info: OutputLineInfo,
    options: { pauseLimit?: number; bufferBytes?: number } = {},
  ): OutputRelay {
    return new OutputRelay(source, sink, {
      name: "worker 7's stdout",
      targetName: sink.name,
      logger: recordingLogger().logger,
      keepTail: true,
      ...options,
      write: (block) => {
        sink.deliver(block, info);
      },
    });
  }

  it('hands over whole lines across chunks, and long lines in 64 KiB pieces', async () => {
    const got: string[] = [];
    const sink = new LineSink((line) => got.push(line), { name: 'f', watched: [] });
    const source = new PassThrough();
    const relay = sinkRelay(source, sink, STDOUT_INFO);
    source.write('par');
    source.write('tial\nnext');
    source.write(`\n${'z'.repeat(MAX_LINE_BYTES * 2 + 10)}\n`);
    source.end('last');
    await new Promise((resolve) => source.on('end', resolve));
    await turn();
    expect(got.map((line) => (line.length > 20 ? `z*${String(line.length)}` : line))).toEqual([
      'partial',
      'next',
      `z*${String(MAX_LINE_BYTES)}`,
      `z*${String(MAX_LINE_BYTES)}`,
      'z'.repeat(10),
      'last',
    ]);
    expect(relay.tail).toHaveLength(64 * 1024);
    expect(relay.tail.endsWith(`${'z'.repeat(10)}\nlast`)).toBe(true);
  });

  it('pauses while the stream the sink writes into is full and loses nothing after its drain', async () => {
    const stream = new SlowStream(16);
    const got: string[] = [];
    const sink = new LineSink(
      (line) => {
        got.push(line);
        stream.write(`${line}\n`);
      },
      { name: 'f', watched: [stream] },
    );
    const source = new PassThrough();
    const relay = sinkRelay(source, sink, STDOUT_INFO, { pauseLimit: 60_000 });
    source.write(lines(0, 2));
    await turn();
    expect(sink.writableNeedDrain).toBe(true);
    expect(source.isPaused()).toBe(true);
    source.write(lines(2, 100));
    await turn();
    expect(got).toHaveLength(2);
    stream.release(true);
    await turn();
    await turn();
    expect(got).toEqual(lines(0, 102).trimEnd().split('\n'));
    expect(source.isPaused()).toBe(false);
    expect(relay.dropped).toEqual({ lines: 0, bytes: 0 });
  });

  it('reads on after the pause limit, keeps bufferBytes of whole lines and counts the drops', async () => {
    const stream = new SlowStream(16);
    const got: string[] = [];
    const sink = new LineSink(
      (line) => {
        got.push(line);
        stream.write(`${line}\n`);
      },
      { name: 'f', watched: [stream] },
    );
    const source = new PassThrough();
    const relay = sinkRelay(source, sink, STDOUT_INFO, { pauseLimit: 50, bufferBytes: 105 });
    source.write(lines(0, 2));
    await turn();
    source.write(lines(2, 50));
    await sleep(50 * 4);
    expect(source.isPaused()).toBe(false);
    expect(relay.dropped).toEqual({ lines: 40, bytes: 400 });
    stream.release(true);
    await turn();
    await turn();
    expect(got).toEqual(lines(0, 12).trimEnd().split('\n'));
  });
});

describe('WorkerOutput with a line sink', () => {
  it('sends every line to the sink, none to the master stdout or stderr, and keeps the stderr tail', async () => {
    const got: [string, OutputLineInfo][] = [];
    const sink = new LineSink((line, info) => got.push([line, info]), { name: 'f', watched: [] });
    const { child, stdout, stderr } = fakeChild(4242);
    const written: unknown[] = [];
    const stdoutWrite = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      written.push(chunk);
      return true;
    });
    const stderrWrite = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      written.push(chunk);
      return true;
    });
    try {
      const output = new WorkerOutput(child, { id: 7, slot: 2, output: sink });
      stdout.write('out 1\nout 2\n');
      stderr.write('err 1\n');
      await turn();
      expect(got).toEqual([
        ['out 1', { slot: 2, id: 7, pid: 4242, stream: 'stdout' }],
        ['out 2', { slot: 2, id: 7, pid: 4242, stream: 'stdout' }],
        ['err 1', { slot: 2, id: 7, pid: 4242, stream: 'stderr' }],
      ]);
      expect(output.stderrTail).toBe('err 1\n');
      expect(written).toEqual([]);
    } finally {
      stdoutWrite.mockRestore();
      stderrWrite.mockRestore();
    }
  });

  it("with 'inherit' writes the raw lines to the master's stdout and stderr", async () => {
    const { child, stdout, stderr } = fakeChild();
    const written: string[] = [];
    const stdoutWrite = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      written.push(`out:${String(chunk)}`);
      return true;
    });
    const stderrWrite = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      written.push(`err:${String(chunk)}`);
      return true;
    });
    try {
      const output = new WorkerOutput(child, { id: 1, slot: 0 });
      stdout.write('raw 1\n');
      await turn();
      stderr.write('raw 2\n');
      await turn();
      expect(written).toEqual(['out:raw 1\n', 'err:raw 2\n']);
      expect(output.stderrTail).toBe('raw 2\n');
    } finally {
      stdoutWrite.mockRestore();
      stderrWrite.mockRestore();
    }
  });
});
