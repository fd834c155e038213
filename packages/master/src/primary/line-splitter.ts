/** The longest line relayed whole, in bytes without its newline; longer lines are split. */
export const MAX_LINE_BYTES = 64 * 1024;

const NEWLINE = 0x0a;
const NEWLINE_BUFFER = Buffer.from('\n');

/**
 * Cuts a byte stream into whole lines. {@link LineSplitter.push} returns blocks of whole lines,
 * each ending with a newline, in order; the bytes after the last newline wait for the next chunk.
 * A line longer than `maxLineBytes` (without its newline) is split plainly into pieces of at most
 * `maxLineBytes` bytes, each given a newline, cut before a UTF-8 character rather than through
 * it; a piece is written as soon as it is complete, so a line without end is never held whole.
 */
export class LineSplitter {
  readonly #maxLineBytes: number;
  #held: Buffer[] = [];
  #heldBytes = 0;

  constructor(maxLineBytes = MAX_LINE_BYTES) {
    this.#maxLineBytes = maxLineBytes;
  }

  /** The whole lines `chunk` completes, as blocks of whole lines; empty when there are none. */
  push(chunk: Buffer): Buffer[] {
    const blocks: Buffer[] = [];
    const last = chunk.lastIndexOf(NEWLINE);
    if (last === -1) {
      this.#hold(chunk, blocks);
      return blocks;
    }
    let start = 0;
    if (this.#heldBytes > 0) {
      const first = chunk.indexOf(NEWLINE);
      this.#hold(chunk.subarray(0, first), blocks);
      this.#emitHeld(blocks);
      start = first + 1;
    }
    if (last >= start) this.#addWhole(chunk.subarray(start, last + 1), blocks);
    if (last + 1 < chunk.length) this.#hold(chunk.subarray(last + 1), blocks);
    return blocks;
  }

  /** The last line when it has no newline (given one), at the end of the stream. */
  end(): Buffer | undefined {
    if (this.#heldBytes === 0) return undefined;
    const blocks: Buffer[] = [];
    this.#emitHeld(blocks);
    return blocks[0];
  }

  /** Adds bytes of an unfinished line; writes the pieces of it that are complete. */
  #hold(bytes: Buffer, blocks: Buffer[]): void {
    if (bytes.length === 0) return;
    this.#held.push(bytes);
    this.#heldBytes += bytes.length;
    if (this.#heldBytes <= this.#maxLineBytes) return;
    // Only once the line is known to be longer than the limit: a line of exactly the limit
    // that ends in the next chunk stays whole, with no empty line after it.
    let rest = Buffer.concat(this.#held, this.#heldBytes);
    while (rest.length > this.#maxLineBytes) {
      const cut = pieceEnd(rest, this.#maxLineBytes);
      blocks.push(Buffer.concat([rest.subarray(0, cut), NEWLINE_BUFFER]));
      rest = rest.subarray(cut);
    }
    // A copy, so that the rest of a large chunk is not kept alive through a view of it.
    this.#held = [Buffer.from(rest)];
    this.#heldBytes = rest.length;
  }

  #emitHeld(blocks: Buffer[]): void {
    this.#held.push(NEWLINE_BUFFER);
    blocks.push(Buffer.concat(this.#held, this.#heldBytes + 1));
    this.#held = [];
    this.#heldBytes = 0;
  }

  /** `whole` ends with a newline; any line in it longer than the limit is split. */
  #addWhole(whole: Buffer, blocks: Buffer[]): void {
    if (whole.length <= this.#maxLineBytes + 1) {
      blocks.push(whole);
      return;
    }
    let runStart = 0;
    let lineStart = 0;
    while (lineStart < whole.length) {
      const newline = whole.indexOf(NEWLINE, lineStart);
      if (newline - lineStart > this.#maxLineBytes) {
        if (lineStart > runStart) blocks.push(whole.subarray(runStart, lineStart));
        this.#hold(whole.subarray(lineStart, newline), blocks);
        this.#emitHeld(blocks);
        runStart = newline + 1;
      }
      lineStart = newline + 1;
    }
    if (runStart < whole.length) blocks.push(whole.subarray(runStart));
  }
}

/** Where to end a piece of at most `limit` bytes of `bytes`: before a UTF-8 character, not in it. */
function pieceEnd(bytes: Buffer, limit: number): number {
  let cut = limit;
  // A continuation byte (10xxxxxx) at the cut belongs to the character before it; UTF-8 has at
  // most three of them, so an invalid run is cut at the limit anyway. A piece is never empty.
  const lowest = Math.max(1, limit - 3);
  while (cut > lowest && ((bytes[cut] ?? 0) & 0xc0) === 0x80) cut -= 1;
  return ((bytes[cut] ?? 0) & 0xc0) === 0x80 ? limit : cut;
}
