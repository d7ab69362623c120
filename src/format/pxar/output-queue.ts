/**
 * An append-only byte output that tracks its stream position and hands out pieces in order.
 * Small writes (headers, names) are packed into segments so a consumer (the chunker) sees few,
 * reasonably sized buffers; large writes (file data) are queued by reference without copying, so
 * a writer must not reuse a buffer it has passed to `write` until the piece has been taken.
 */

const DEFAULT_SEGMENT = 64 * 1024;

export class OutputQueue {
  readonly #segmentSize: number;
  #ready: Uint8Array[] = [];
  #segment: Uint8Array;
  #used = 0;
  #position = 0;

  constructor(segmentSize = DEFAULT_SEGMENT) {
    this.#segmentSize = segmentSize;
    this.#segment = new Uint8Array(segmentSize);
  }

  /** Bytes written so far (the stream offset of the next write). */
  get position(): number {
    return this.#position;
  }

  write(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.#position += bytes.length;
    if (bytes.length >= this.#segmentSize / 4) {
      this.#sealSegment();
      this.#ready.push(bytes);
      return;
    }
    if (this.#used + bytes.length > this.#segmentSize) this.#sealSegment();
    this.#segment.set(bytes, this.#used);
    this.#used += bytes.length;
    if (this.#used === this.#segmentSize) this.#sealSegment();
  }

  /** Moves a partly filled segment to the ready list (call before taking the final pieces). */
  flush(): void {
    this.#sealSegment();
  }

  /**
   * Moves the position on by `bytes` without queueing anything: the caller supplies those bytes
   * itself (e.g. re-used chunks) between the pieces taken before and after this call.
   */
  advance(bytes: number): void {
    this.#sealSegment();
    this.#position += bytes;
  }

  /** Removes and returns the pieces completed so far, oldest first. */
  take(): Uint8Array[] {
    const out = this.#ready;
    this.#ready = [];
    return out;
  }

  #sealSegment(): void {
    if (this.#used === 0) return;
    this.#ready.push(this.#segment.subarray(0, this.#used));
    this.#segment = new Uint8Array(this.#segmentSize);
    this.#used = 0;
  }
}
