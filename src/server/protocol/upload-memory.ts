/**
 * UploadMemory: the one pool of chunk upload buffers shared by every backup session of a server,
 * so their memory has one cap however many sessions run (issue #11: 30 sessions with 8 stalled
 * 4 MiB uploads each once took 1.1 GB, held per session).
 *
 * - The cap is split into buffers of 4 MiB (fixed chunks, most dynamic ones) and a few of 16 MiB
 *   (the largest dynamic chunks), each with a little slack for the blob header.
 * - One session has at most PER_SESSION_UPLOADS uploads in flight, so it cannot take every buffer.
 * - An upload past either bound waits (first come, first served) without reading its body, which
 *   leaves it to HTTP/2 flow control: the client cannot send more than the stream window.
 * - When the last session closes, the free buffers are dropped and `onIdle` runs (the server
 *   passes `releaseMemory`: a full GC and malloc_trim), so the memory goes back to the system
 *   instead of staying with the process after a burst of sessions.
 */
import { Gate, TieredSlotPool, type SlotLease } from '../../core/slot-pool.ts';
import { ALIGN } from '../../core/aligned-pool.ts';
import { MAX_CHUNK_SIZE } from '../../format/blob.ts';
import { FIXED_CHUNK_SIZE } from '../../format/fixed-index.ts';

/** Uploads of one session that are read, checked and written at once. */
export const PER_SESSION_UPLOADS = 8;
const BLOB_SLACK = 64;
const SMALL = FIXED_CHUNK_SIZE + BLOB_SLACK;
const LARGE = MAX_CHUNK_SIZE + BLOB_SLACK;
/** The share of the cap kept for 16 MiB buffers (at least two of them). */
const LARGE_SHARE = 8;

export interface UploadSlots {
  /** A buffer of `length` bytes; waits for the session's and the server's bounds. */
  acquire(length: number): Promise<SlotLease>;
  /** The session ended: its uploads have all settled. */
  close(): void;
}

/** What `GET /nodes/{node}/status` reports of the pool. */
export interface UploadMemoryStats {
  readonly maxBytes: number;
  /** buffers leased to uploads now */
  readonly slotsInUse: number;
  /** uploads waiting for a buffer (their bodies unread) */
  readonly waiting: number;
  /** backup sessions holding the pool */
  readonly sessions: number;
  /** times the memory was given back after the last session closed (`onIdle` settled) */
  readonly releases: number;
}

export class UploadMemory {
  readonly #pool: TieredSlotPool;
  readonly #onIdle: () => Promise<void>;
  #sessions = 0;
  #releases = 0;

  constructor(capBytes: number, opts: { readonly onIdle?: () => Promise<void> } = {}) {
    this.#onIdle = opts.onIdle ?? (() => Promise.resolve());
    const large = Math.max(2, Math.floor(capBytes / LARGE_SHARE / LARGE));
    const small = Math.max(PER_SESSION_UPLOADS, Math.floor((capBytes - large * LARGE) / SMALL));
    // Unshared: the checker borrows a buffer by transfer and hands it back, so no other thread
    // holds its memory afterwards (a SharedArrayBuffer would live until the worker's GC).
    // Page-aligned: the chunk file is written from the slot itself (storage/direct-io.ts).
    this.#pool = new TieredSlotPool(
      [
        { count: small, capacity: SMALL },
        { count: large, capacity: LARGE },
      ],
      { shared: false, align: ALIGN },
    );
  }

  /** The most memory the buffers can hold. */
  get maxBytes(): number {
    return this.#pool.maxBytes;
  }

  get inUse(): number {
    return this.#pool.inUse;
  }

  stats(): UploadMemoryStats {
    return { maxBytes: this.maxBytes, slotsInUse: this.#pool.inUse, waiting: this.#pool.waiting, sessions: this.#sessions, releases: this.#releases };
  }

  /** The upload buffers of one more session. */
  session(): UploadSlots {
    this.#sessions++;
    const gate = new Gate(PER_SESSION_UPLOADS);
    let closed = false;
    return {
      acquire: async (length) => {
        const leave = await gate.enter();
        try {
          const lease = await this.#pool.acquire(length);
          return {
            get bytes() {
              return lease.bytes;
            },
            adopt: (b) => lease.adopt(b),
            release: (o) => {
              lease.release(o);
              leave();
            },
          };
        } catch (e) {
          leave();
          throw e;
        }
      },
      close: () => {
        if (closed) return;
        closed = true;
        if (--this.#sessions === 0) {
          this.#pool.trim();
          void this.#onIdle().finally(() => this.#releases++);
        }
      },
    };
  }
}
