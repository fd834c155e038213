import { OutputTail, TAIL_BYTES } from '../src/primary/output-tail';

describe('OutputTail', () => {
  it('is empty before anything is kept', () => {
    expect(new OutputTail().text).toBe('');
  });

  it('keeps the bytes as they came, partial last line included', () => {
    const tail = new OutputTail();
    tail.keep(Buffer.from('one\ntw'));
    tail.keep(Buffer.from('o\nthree'));
    expect(tail.text).toBe('one\ntwo\nthree');
  });

  it('keeps the last TAIL_BYTES only, across the ring', () => {
    const tail = new OutputTail();
    for (let index = 0; index < 300; index += 1) {
      tail.keep(Buffer.from(`${String(index).padStart(1023, '.')}\n`));
    }
    expect(tail.text).toHaveLength(TAIL_BYTES);
    expect(tail.text.startsWith(`${'236'.padStart(1023, '.')}\n`)).toBe(true);
    expect(tail.text.endsWith(`${'299'.padStart(1023, '.')}\n`)).toBe(true);
  });

  it('keeps the end of a chunk larger than TAIL_BYTES', () => {
    const tail = new OutputTail();
    tail.keep(Buffer.from('abc'));
    tail.keep(Buffer.from(`${'x'.repeat(TAIL_BYTES)}end`));
    expect(tail.text).toBe(`${'x'.repeat(TAIL_BYTES - 3)}end`);
  });

  it('leaves out a character cut at the start of the tail', () => {
    const tail = new OutputTail();
    // 'é' is two bytes: the tail starts one byte into it.
    tail.keep(Buffer.from(`é${'a'.repeat(TAIL_BYTES - 1)}`));
    expect(tail.text).toBe('a'.repeat(TAIL_BYTES - 1));
  });
});
