import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { copyToStderr, isNonBlocking, stderrKind } from '../src/stderr-copy';
import { drainFifo } from './run-fixture';

let dir: string;
const cleanups: (() => void)[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'last-ditch-stderr-'));
});

afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A FIFO with a non-blocking reader that the test reads only when it wants to. */
function makeFifo(): { file: string; reader: number } {
  const file = path.join(dir, `fifo-${String(cleanups.length)}`);
  execFileSync('mkfifo', [file]);
  const reader = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  cleanups.push(() => {
    fs.closeSync(reader);
  });
  return { file, reader };
}

function openWriter(file: string, isBlocking: boolean): number {
  const fd = fs.openSync(
    file,
    isBlocking ? fs.constants.O_WRONLY : fs.constants.O_WRONLY | fs.constants.O_NONBLOCK,
  );
  return fd;
}

/** Writes into the FIFO until it is full; returns how many bytes that took. */
function fill(file: string): number {
  const fd = openWriter(file, false);
  let total = 0;
  try {
    for (;;) total += fs.writeSync(fd, Buffer.alloc(4096, '.'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
  } finally {
    fs.closeSync(fd);
  }
  return total;
}

function readAll(reader: number): string {
  return drainFifo(reader).toString('latin1');
}

describe('copyToStderr', () => {
  it('writes a regular file whole before it returns', async () => {
    const file = path.join(dir, 'stderr.txt');
    const fd = fs.openSync(file, 'w');
    cleanups.push(() => {
      fs.closeSync(fd);
    });
    expect(stderrKind(fd)).toBe('file');
    const text = `${'y'.repeat(100_000)}\n`;
    const done = copyToStderr({ full: text, short: 'short\n' }, 1000, { fd });
    expect(fs.readFileSync(file, 'utf8')).toBe(text);
    await expect(done).resolves.toBe(true);
  });

  it("writes through Node's stream on a FIFO with room, what fits before it returns", async () => {
    const { file, reader } = makeFifo();
    const fd = openWriter(file, false);
    const stream = new net.Socket({ fd, readable: false, writable: true });
    cleanups.push(() => stream.destroy());
    expect(stderrKind(fd)).toBe('fifo');
    expect(isNonBlocking(fd)).toBe(true);
    const text = `${'z'.repeat(10_000)}\n`;
    const done = copyToStderr({ full: text, short: 'short\n' }, 1000, { fd, stream: () => stream });
    expect(readAll(reader)).toBe(text);
    await expect(done).resolves.toBe(true);
  });

  it('gives up at the timeout on a full FIFO and writes nothing into it', async () => {
    const { file, reader } = makeFifo();
    const filled = fill(file);
    const fd = openWriter(file, false);
    const stream = new net.Socket({ fd, readable: false, writable: true });
    cleanups.push(() => stream.destroy());
    const done = copyToStderr({ full: `${'z'.repeat(10_000)}\n`, short: 's\n' }, 200, {
      fd,
      stream: () => stream,
    });
    await expect(done).resolves.toBe(false);
    expect(readAll(reader)).toBe('.'.repeat(filled));
  });

  it('writes only the short form, in one write, to a blocking FIFO without a stream', async () => {
    const { file, reader } = makeFifo();
    const fd = openWriter(file, true);
    cleanups.push(() => {
      fs.closeSync(fd);
    });
    expect(isNonBlocking(fd)).toBe(false);
    const done = copyToStderr({ full: `${'z'.repeat(10_000)}\n`, short: 'short\n' }, 1000, { fd });
    await expect(done).resolves.toBe(false);
    expect(readAll(reader)).toBe('short\n');
  });

  it('writes a copy of at most 4 KiB whole to a blocking FIFO without a stream', async () => {
    const { file, reader } = makeFifo();
    const fd = openWriter(file, true);
    cleanups.push(() => {
      fs.closeSync(fd);
    });
    const text = `${'w'.repeat(4000)}\n`;
    await expect(copyToStderr({ full: text, short: 'short\n' }, 1000, { fd })).resolves.toBe(true);
    expect(readAll(reader)).toBe(text);
  });

  it('returns at once from a full, blocking FIFO without a stream, writing nothing', async () => {
    const { file, reader } = makeFifo();
    const filled = fill(file);
    const fd = openWriter(file, true);
    cleanups.push(() => {
      fs.closeSync(fd);
    });
    const done = copyToStderr({ full: 'full\n', short: 'short\n' }, 1000, { fd });
    await expect(done).resolves.toBe(false);
    expect(readAll(reader)).toBe('.'.repeat(filled));
  });

  it('says false for a descriptor that is not open', async () => {
    const fd = fs.openSync(path.join(dir, 'gone'), 'w');
    fs.closeSync(fd);
    expect(stderrKind(fd)).toBe('closed');
    await expect(copyToStderr({ full: 'x\n', short: 'x\n' }, 1000, { fd })).resolves.toBe(false);
  });
});
