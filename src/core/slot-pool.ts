/**
 * SlotPool: a fixed number of reusable byte buffers for chunks in flight.
 *
 * Why: a backup moves thousands of 4 MiB chunks. A fresh buffer per chunk costs a zero-filled
 * mmap (page faults, kernel zeroing) and leaves garbage that the GC collects late, so RSS swings by
 * tens of MiB and a sixth of the CPU went to allocation and GC. A pool of `count` buffers bounds
 * the memory of chunks in flight to about `count` × chunk size, and waiting for a free slot is the
 * pipeline's back-pressure.
 *
 * Slots are SharedArrayBuffers, so a worker thread can hash, compress or check a chunk in place:
 * posting a view of one to a worker shares it instead of copying or detaching it.
 *
 * Invariants: at most `count` leases are out at once; waiters are served first come, first served;
 * a released lease's bytes must not be touched again. A slot grown past `keepBytes` (a rare
 * oversized chunk) is dropped on release rather than kept for the pool's life.
 */

export interface SlotLease {
  /** `length` bytes of the slot (contents undefined until written). */
  readonly bytes: Uint8Array;
  /**
   * Returns the slot. `reuse: false` drops its memory instead: for a buffer that something else
   * (a socket write that was cut short) may still read.
   */
  release(opts?: { readonly reuse?: boolean }): void;
}

export class SlotPool {
  readonly count: number;
  readonly keepBytes: number;
  readonly #free: SharedArrayBuffer[] = [];
  readonly #waiters: { readonly length: number; readonly resolve: (l: SlotLease) => void }[] = [];
  #out = 0;

  constructor(count: number, keepBytes: number) {
    if (!Number.isSafeInteger(count) || count < 1) throw new RangeError(`slot count must be a positive integer, got ${count}`);
    this.count = count;
    this.keepBytes = keepBytes;
  }

  /** Leases currently out. */
  get inUse(): number {
    return this.#out;
  }

  /** A lease of `length` bytes; waits while all `count` slots are out. */
  acquire(length: number): Promise<SlotLease> {
    if (!Number.isSafeInteger(length) || length < 0) return Promise.reject(new RangeError(`slot length must be a non-negative integer, got ${length}`));
    if (this.#out < this.count && this.#waiters.length === 0) return Promise.resolve(this.#lease(length));
    return new Promise((resolve) => this.#waiters.push({ length, resolve }));
  }

  #lease(length: number): SlotLease {
    this.#out++;
    let buffer = this.#takeFree(length);
    let released = false;
    return {
      bytes: new Uint8Array(buffer, 0, length),
      release: (opts) => {
        if (released) return;
        released = true;
        this.#out--;
        if (opts?.reuse !== false && buffer.byteLength <= this.keepBytes) this.#free.push(buffer);
        buffer = EMPTY;
        this.#wake();
      },
    };
  }

  /**
   * A free buffer big enough, else a new one. New buffers get `keepBytes` when that is enough, so
   * chunks of varying size reuse them; pages never written are never resident, so the unused
   * tail costs address space only. A smaller free buffer is dropped to make room, not kept.
   */
  #takeFree(length: number): SharedArrayBuffer {
    const i = this.#free.findIndex((b) => b.byteLength >= length);
    if (i >= 0) return this.#free.splice(i, 1)[0]!;
    this.#free.pop();
    return new SharedArrayBuffer(Math.max(length <= this.keepBytes ? this.keepBytes : length, 1));
  }

  #wake(): void {
    while (this.#out < this.count) {
      const w = this.#waiters.shift();
      if (!w) return;
      w.resolve(this.#lease(w.length));
    }
  }
}

const EMPTY = new SharedArrayBuffer(0);
