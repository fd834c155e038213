import type { Readable, Writable } from 'node:stream';

/** How much of a worker's stderr is kept for crash and abort reports. */
export const TAIL_BYTES = 64 * 1024;

/**
 * Copies a worker's output stream to `target` whole lines at a time, so that the lines of two
 * workers never interleave mid-line, and keeps the last {@link TAIL_BYTES} of it. A last line
 * without a newline is written when the stream ends.
 */
export class OutputTail {
  #partial = '';
  #tail = '';

  constructor(source: Readable, target: Writable) {
    source.setEncoding('utf8');
    source.on('data', (chunk: string) => {
      this.#keep(chunk);
      const text = this.#partial + chunk;
      const end = text.lastIndexOf('\n');
      if (end === -1) {
        // A worker writing megabytes without a newline must not grow the master without bound.
        if (text.length > TAIL_BYTES) {
          target.write(text);
          this.#partial = '';
        } else {
          this.#partial = text;
        }
        return;
      }
      this.#partial = text.slice(end + 1);
      target.write(text.slice(0, end + 1));
    });
    source.on('end', () => {
      if (this.#partial === '') return;
      target.write(`${this.#partial}\n`);
      this.#partial = '';
    });
  }

  /** The last {@link TAIL_BYTES} (about: counted in UTF-16 units) of the output. */
  get text(): string {
    return lastBytes(this.#tail);
  }

  #keep(chunk: string): void {
    this.#tail += chunk;
    if (this.#tail.length > 2 * TAIL_BYTES) this.#tail = this.#tail.slice(-TAIL_BYTES);
  }
}

/** The last {@link TAIL_BYTES} of `text`. */
export function lastBytes(text: string): string {
  return text.length > TAIL_BYTES ? text.slice(-TAIL_BYTES) : text;
}
