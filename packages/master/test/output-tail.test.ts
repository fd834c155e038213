import { PassThrough, Writable } from 'node:stream';
import { OutputTail, TAIL_BYTES } from '../src/output-tail';

function sink(): { writes: string[]; stream: Writable } {
  const writes: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      writes.push(chunk.toString('utf8'));
      callback();
    },
  });
  return { writes, stream };
}

describe('OutputTail', () => {
  it('writes whole lines only, and a last line without a newline at the end', async () => {
    const source = new PassThrough();
    const { writes, stream } = sink();
    const tail = new OutputTail(source, stream);
    source.write('one\ntw');
    source.write('o\nthr');
    source.end('ee');
    await new Promise((resolve) => source.on('end', resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toEqual(['one\n', 'two\n', 'three\n']);
    expect(tail.text).toBe('one\ntwo\nthree');
  });

  it('keeps the last TAIL_BYTES only', () => {
    const source = new PassThrough();
    const tail = new OutputTail(source, sink().stream);
    for (let index = 0; index < 300; index += 1)
      source.write(`${String(index).padStart(1023, '.')}\n`);
    expect(tail.text.length).toBe(TAIL_BYTES);
    expect(tail.text.endsWith('299\n')).toBe(true);
  });

  it('does not hold a line without newlines longer than TAIL_BYTES', () => {
    const source = new PassThrough();
    const { writes, stream } = sink();
    new OutputTail(source, stream);
    source.write('x'.repeat(TAIL_BYTES + 1));
    expect(writes.join('')).toHaveLength(TAIL_BYTES + 1);
  });
});
