/**
 * BufferPool: reused memory for chunk-sized byte buffers that pass through quickly: the answers a
 * restore receives (remote/restore-reader.ts) and the chunk files a reader session sends
 * (server/protocol/reader-protocol.ts). A fresh 4 MiB buffer per chunk was measured as a large
 * share of a restore's CPU beyond the decoding itself, on both sides: malloc, page faults on new
 * pages, and the garbage collections that external memory growth triggers.
 *
 * Ownership: `take` hands a buffer to one holder; the holder either gives it back with `give`,
 * once nothing refers to its bytes any more, or keeps it for good (it is then never given back).
 * A buffer given back is handed out again, whole, by a later `take`: whoever gives one back must
 * hold no view of it. Contents are undefined; every user overwrites what it reads.
 *
 * `aligned` pools hand out buffers that start at a page-aligned address (core/aligned-pool.ts):
 * the reader session's, so that a chunk file is read with O_DIRECT straight into the buffer it is
 * sent from (storage/direct-io.ts) rather than through an aligned buffer and a copy. Their length
 * stays a whole number of MiB, which also gives a direct read its room to round up to a page.
 */
import { ALIGN, alignedOffset } from './aligned-pool.ts';

const MIB = 1024 * 1024;

export class BufferPool {
  readonly #free: Uint8Array[] = [];
  readonly #keep: number;
  readonly #aligned: boolean;

  /** `keep`: how many idle buffers are kept for reuse; more given back are dropped. */
  constructor(keep: number, opts: { readonly aligned?: boolean } = {}) {
    this.#keep = keep;
    this.#aligned = opts.aligned === true;
  }

  /** Idle buffers held for reuse. */
  get idle(): number {
    return this.#free.length;
  }

  /** A buffer of at least `length` bytes: the smallest idle one that fits, else a new one (a whole number of MiB). */
  take(length: number): Uint8Array {
    let best = -1;
    for (const [i, b] of this.#free.entries()) {
      if (b.byteLength >= length && (best < 0 || b.byteLength < this.#free[best]!.byteLength)) best = i;
    }
    if (best >= 0) return this.#free.splice(best, 1)[0]!;
    const size = Math.ceil(Math.max(length, 1) / MIB) * MIB;
    const b = Buffer.allocUnsafeSlow(this.#aligned ? size + ALIGN : size); // a buffer of its own: byteOffset 0
    return new Uint8Array(b.buffer, this.#aligned ? alignedOffset(b.buffer) : 0, size);
  }

  /** Gives a buffer from `take` back; the caller must hold no view of it any more. */
  give(buffer: Uint8Array): void {
    if (this.#free.length < this.#keep) this.#free.push(buffer);
  }
}
