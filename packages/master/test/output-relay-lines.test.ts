import { LineSplitter, MAX_LINE_BYTES } from '../src/primary/line-splitter';

/** What the splitter gives for `chunks`, then at the end, each block as text. */
function split(chunks: (string | Buffer)[], maxLineBytes?: number): string[] {
  const splitter = new LineSplitter(maxLineBytes);
  const blocks: string[] = [];
  for (const chunk of chunks) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    for (const block of splitter.push(bytes)) blocks.push(block.toString('utf8'));
  }
  const last = splitter.end();
  if (last !== undefined) blocks.push(last.toString('utf8'));
  return blocks;
}

describe('LineSplitter', () => {
  it('gives the whole lines of a chunk as one block and holds the rest', () => {
    expect(split(['one\ntwo\nthr', 'ee\nfour\n'])).toEqual(['one\ntwo\n', 'three\n', 'four\n']);
  });

  it('gives nothing for a chunk without a newline, and ends the last line at the end', () => {
    const splitter = new LineSplitter();
    expect(splitter.push(Buffer.from('no newline yet'))).toEqual([]);
    expect(splitter.end()?.toString()).toBe('no newline yet\n');
    expect(splitter.end()).toBeUndefined();
  });

  it('keeps a line of exactly maxLineBytes whole, with no empty line after it', () => {
    expect(split(['a'.repeat(5), 'a'.repeat(5), '\nb\n'], 10)).toEqual([
      `${'a'.repeat(10)}\n`,
      'b\n',
    ]);
  });

  it('splits a long line inside one chunk, and leaves the short lines around it in blocks', () => {
    expect(split([`x\ny\n${'z'.repeat(25)}\nw\nv\n`], 10)).toEqual([
      'x\ny\n',
      `${'z'.repeat(10)}\n`,
      `${'z'.repeat(10)}\n`,
      'zzzzz\n',
      'w\nv\n',
    ]);
  });

  it('splits a multi-megabyte line without newlines as it comes, piece by piece', () => {
    const splitter = new LineSplitter();
    const chunk = Buffer.alloc(MAX_LINE_BYTES, 'q');
    let pieces = 0;
    for (let index = 0; index < 48; index += 1) {
      for (const block of splitter.push(chunk)) {
        expect(block.length).toBe(MAX_LINE_BYTES + 1);
        expect(block[MAX_LINE_BYTES]).toBe(0x0a);
        pieces += 1;
      }
    }
    // 3 MiB of one line: 47 pieces are out, the 48th waits (it might be exactly the limit).
    expect(pieces).toBe(47);
    expect(splitter.end()?.length).toBe(MAX_LINE_BYTES + 1);
  });

  it('cuts before a UTF-8 character, never through it', () => {
    // 'é' is 2 bytes, '€' 3, '😀' 4; each starts at byte 9 so the limit of 10 falls inside it.
    for (const character of ['é', '€', '😀']) {
      const line = `${'a'.repeat(9)}${character}${'b'.repeat(5)}`;
      const blocks = split([`${line}\n`], 10);
      expect(blocks).toEqual([`${'a'.repeat(9)}\n`, `${character}${'b'.repeat(5)}\n`]);
      for (const block of blocks) expect(block).not.toContain('\ufffd');
    }
  });

  it('cuts invalid UTF-8 (a run of continuation bytes) at the limit', () => {
    const bytes = Buffer.concat([Buffer.from('aaaaaa'), Buffer.alloc(10, 0x80), Buffer.from('\n')]);
    const splitter = new LineSplitter(10);
    const blocks = splitter.push(bytes);
    expect(blocks.map((block) => block.length)).toEqual([11, 7]);
  });
});
