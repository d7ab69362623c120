/**
 * ChunkBuffers: the client's reusable memory for chunks in flight, `count` buffers in shared memory
 * (see core/slot-pool.ts for why). Each buffer keeps BLOB_HEADROOM bytes in front of the chunk so
 * the encoder can build the blob in place: no allocation and, for incompressible data, no copy
 * between reading a chunk from disk and handing its blob to the socket.
 *
 * Ownership: whoever holds a ChunkBuffer releases it exactly once; a source that yields one hands
 * it to the consumer. Waiting in `take` is the pipeline's back-pressure.
 */
import { TieredSlotPool, type SlotLease } from '../core/slot-pool.ts';
import { BLOB_HEADROOM, MAX_CHUNK_SIZE } from '../format/blob.ts';
import { FIXED_CHUNK_SIZE } from '../format/fixed-index.ts';
import { copyBytes } from '../core/byte-copy.ts';

export interface ChunkBuffer {
  /** Shared memory: BLOB_HEADROOM bytes of headroom, then the chunk. */
  readonly region: Uint8Array;
  /** The chunk itself: `region[BLOB_HEADROOM..]`. */
  readonly data: Uint8Array;
  /** See SlotLease.release: `reuse: false` when a socket may still read the region. */
  release(opts?: { readonly reuse?: boolean }): void;
}

export interface GrowingChunk {
  /** Room for the largest chunk (16 MiB). */
  readonly room: Uint8Array;
  /** The first `length` bytes of `room` as a chunk; the GrowingChunk is used up. */
  seal(length: number): ChunkBuffer;
  /** Gives the buffer back unsealed. */
  release(): void;
}

/** Buffers for chunks over 4 MiB (dynamic chunks reach 16 MiB; images never go there). */
const LARGE_BUFFERS = 2;

export class ChunkBuffers {
  readonly #slots: TieredSlotPool;
  readonly count: number;

  /** `count` buffers of up to 4 MiB, plus two of up to 16 MiB for larger chunks. */
  constructor(count: number) {
    this.count = count;
    this.#slots = new TieredSlotPool([
      { count, capacity: FIXED_CHUNK_SIZE + BLOB_HEADROOM },
      { count: LARGE_BUFFERS, capacity: MAX_CHUNK_SIZE + BLOB_HEADROOM },
    ]);
  }

  /** The most memory these buffers can hold: count × 4 MiB + 2 × 16 MiB (and headroom). */
  get maxBytes(): number {
    return this.#slots.maxBytes;
  }

  /** Buffers currently held by someone. */
  get inUse(): number {
    return this.#slots.inUse;
  }

  /** A buffer for a chunk of `length` bytes (contents undefined); waits while all are in use. */
  async take(length: number): Promise<ChunkBuffer> {
    return wrap(await this.#slots.acquire(BLOB_HEADROOM + length), length);
  }

  /**
   * A buffer for a chunk whose length is not known yet (the dynamic chunker's current chunk):
   * write into `room`, then `seal` it as a chunk of the bytes written, without a copy.
   */
  async growing(): Promise<GrowingChunk> {
    const lease = await this.#slots.acquire(BLOB_HEADROOM + MAX_CHUNK_SIZE);
    return {
      room: lease.bytes.subarray(BLOB_HEADROOM),
      seal: (length) => wrap({ bytes: lease.bytes.subarray(0, BLOB_HEADROOM + length), adopt: () => undefined, release: (o) => lease.release(o) }, length),
      release: () => lease.release(),
    };
  }

  /**
   * The first `length` bytes of a growing chunk as a chunk. Over a fixed chunk's size it is sealed
   * in place (it needs the large slot anyway); smaller, it is copied into a slot of its size, so
   * the few large slots keep serving as growing room. `consumed` says whether `g` was used up.
   */
  async cut(g: GrowingChunk, length: number): Promise<{ readonly chunk: ChunkBuffer; readonly consumed: boolean }> {
    if (length > FIXED_CHUNK_SIZE) return { chunk: g.seal(length), consumed: true };
    const chunk = await this.take(length);
    copyBytes(chunk.data, g.room.subarray(0, length));
    return { chunk, consumed: false };
  }

  /** A buffer holding a copy of `data`. */
  async copyOf(data: Uint8Array): Promise<ChunkBuffer> {
    const b = await this.take(data.byteLength);
    copyBytes(b.data, data);
    return b;
  }
}

function wrap(lease: SlotLease, length: number): ChunkBuffer {
  return { region: lease.bytes, data: lease.bytes.subarray(BLOB_HEADROOM, BLOB_HEADROOM + length), release: (o) => lease.release(o) };
}

export function isChunkBuffer(x: Uint8Array | ChunkBuffer): x is ChunkBuffer {
  return !(x instanceof Uint8Array);
}
