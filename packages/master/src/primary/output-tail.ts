/** How much of a worker's stderr is kept for crash and abort reports. */
export const TAIL_BYTES = 64 * 1024;

/**
 * The last {@link TAIL_BYTES} of a worker's output, in a ring of that size: each chunk is copied
 * in, so that keeping the tail never holds on to the chunks themselves (a stream's chunks can be
 * views of larger buffers).
 */
export class OutputTail {
  #ring: Buffer | undefined;
  /** Where the next byte goes. */
  #end = 0;
  #size = 0;

  /** Adds `chunk` (every byte read, also the lines the relay dropped). */
  keep(chunk: Buffer): void {
    if (chunk.length === 0) return;
    const ring = (this.#ring ??= Buffer.allocUnsafe(TAIL_BYTES));
    const kept = chunk.length > TAIL_BYTES ? chunk.subarray(chunk.length - TAIL_BYTES) : chunk;
    const first = Math.min(kept.length, TAIL_BYTES - this.#end);
    kept.copy(ring, this.#end, 0, first);
    kept.copy(ring, 0, first);
    this.#end = (this.#end + kept.length) % TAIL_BYTES;
    this.#size = Math.min(TAIL_BYTES, this.#size + kept.length);
  }

  /** The last {@link TAIL_BYTES} bytes kept, as UTF-8 (a character cut at the start is left out). */
  get text(): string {
    const ring = this.#ring;
    if (ring === undefined) return '';
    const bytes =
      this.#size < TAIL_BYTES
        ? ring.subarray(0, this.#size)
        : Buffer.concat([ring.subarray(this.#end), ring.subarray(0, this.#end)]);
    let start = 0;
    // UTF-8 continuation bytes (10xxxxxx) at the start belong to a character cut off the tail.
    while (start < 3 && start < bytes.length && ((bytes[start] ?? 0) & 0xc0) === 0x80) start += 1;
    return bytes.subarray(start).toString('utf8');
  }
}
