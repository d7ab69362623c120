/**
 * SlotPool: a fixed number of reusable byte buffers for chunks in flight.
 *
 * Why: a backup moves thousands of 4 MiB chunks. A fresh buffer per chunk costs a zero-filled
 * mmap (page faults, kernel zeroing) and leaves garbage that the GC collects late, so RSS swings by
 * tens of MiB and a sixth of the CPU went to allocation and GC. A pool of `count` buffers bounds
 * the memory of chunks in flight, and waiting for a free slot is the pipeline's back-pressure.
 *
 * Every buffer has room for `capacity` bytes, so none is ever dropped and reallocated: a dropped
 * buffer lingers until a GC notices it (a SharedArrayBuffer seen by a worker until both threads'
 * GCs do), and with dynamic chunk sizes that piled up to hundreds of MiB. Pages a buffer never
 * wrote are never resident, so what a buffer costs is the largest length it was leased for; a
 * lease therefore gets the free buffer that has already been used for the most similar length
 * (best fit), which keeps large leases in the same few buffers.
 *
 * `align` (a power of two) makes every lease's bytes start at an address aligned to it: each buffer
 * is then `align` bytes larger and views start at its first aligned byte (core/aligned-pool.ts).
 * The server's upload slots are page-aligned so that a chunk file is written from the slot itself
 * with O_DIRECT (storage/direct-io.ts), not copied into an aligned buffer first.
 *
 * `shared` buffers are SharedArrayBuffers: a worker thread can hash or encode a chunk in place,
 * and posting a view shares it. Unshared ones are ArrayBuffers, for a worker to borrow by
 * transfer (`adopt` takes the buffer back), so no other thread keeps a reference afterwards.
 *
 * Invariants: at most `count` leases are out at once; waiters are served first come, first served;
 * a released lease's bytes must not be touched again. `trim()` drops the free buffers, so a pool
 * that served many sessions gives its memory back once they are gone.
 */
import { alignedOffset } from './aligned-pool.ts';

export interface SlotPoolOptions {
  /** SharedArrayBuffers (default) or ArrayBuffers */
  readonly shared?: boolean;
  /** leases start at an address aligned to this power of two (default 1: no constraint) */
  readonly align?: number;
}

export interface SlotLease {
  /** `length` bytes of the slot (contents undefined until written). */
  readonly bytes: Uint8Array;
  /**
   * Takes the slot's buffer back after a worker borrowed it by transfer: `buffer` is the same
   * memory, arrived back as a new ArrayBuffer object; `bytes` then views it.
   */
  adopt(buffer: ArrayBufferLike): void;
  /**
   * Returns the slot. `reuse: false` drops its memory instead: for a buffer that something else
   * (a socket write that was cut short, a worker that kept it) may still read or own.
   */
  release(opts?: { readonly reuse?: boolean }): void;
}

interface Slot {
  buffer: ArrayBufferLike;
  /** where the views start: the first aligned byte, or 0 */
  skip: number;
  /** the largest length it was leased for: its resident part */
  used: number;
}

export class SlotPool {
  readonly count: number;
  readonly capacity: number;
  readonly #shared: boolean;
  readonly #align: number;
  readonly #free: Slot[] = [];
  readonly #waiters: { readonly length: number; readonly resolve: (l: SlotLease) => void }[] = [];
  #out = 0;

  constructor(count: number, capacity: number, opts: SlotPoolOptions = {}) {
    if (!Number.isSafeInteger(count) || count < 1) throw new RangeError(`slot count must be a positive integer, got ${count}`);
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`slot capacity must be a positive integer, got ${capacity}`);
    const align = opts.align ?? 1;
    if (!Number.isSafeInteger(align) || align < 1 || (align & (align - 1)) !== 0) throw new RangeError(`slot alignment must be a power of two, got ${align}`);
    this.count = count;
    this.capacity = capacity;
    this.#shared = opts.shared ?? true;
    this.#align = align;
  }

  /** Leases currently out. */
  get inUse(): number {
    return this.#out;
  }

  /** A lease of `length` bytes (at most `capacity`); waits while all `count` slots are out. */
  acquire(length: number): Promise<SlotLease> {
    if (!Number.isSafeInteger(length) || length < 0 || length > this.capacity) {
      return Promise.reject(new RangeError(`slot length must be an integer in 0..${this.capacity}, got ${length}`));
    }
    if (this.#out < this.count && this.#waiters.length === 0) return Promise.resolve(this.#lease(length));
    return new Promise((resolve) => this.#waiters.push({ length, resolve }));
  }

  /** Acquires waiting for a slot. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /** Drops every free buffer (leases out are untouched and still come back). */
  trim(): void {
    this.#free.splice(0);
  }

  #lease(length: number): SlotLease {
    this.#out++;
    const slot = this.#bestFit(length) ?? this.#newSlot();
    slot.used = Math.max(slot.used, length);
    let bytes = new Uint8Array(slot.buffer, slot.skip, length);
    let released = false;
    return {
      get bytes() {
        return bytes;
      },
      adopt: (buffer) => {
        if (buffer.byteLength !== this.#bufferBytes) throw new RangeError(`adopted buffer has ${buffer.byteLength} bytes, the slot ${this.#bufferBytes}`);
        slot.buffer = buffer;
        bytes = new Uint8Array(buffer, slot.skip, length);
      },
      release: (opts) => {
        if (released) return;
        released = true;
        this.#out--;
        if (opts?.reuse !== false && slot.buffer.byteLength === this.#bufferBytes) this.#free.push(slot);
        this.#wake();
      },
    };
  }

  /** Bytes of each buffer: the capacity, plus room to start at an aligned byte. */
  get #bufferBytes(): number {
    return this.#align > 1 ? this.capacity + this.#align : this.capacity;
  }

  #newSlot(): Slot {
    const buffer = this.#shared ? new SharedArrayBuffer(this.#bufferBytes) : new ArrayBuffer(this.#bufferBytes);
    return { buffer, skip: this.#align > 1 ? alignedOffset(buffer, this.#align) : 0, used: 0 };
  }

  /**
   * The free slot whose used part is the smallest that holds `length`, else the one with the
   * largest used part (it grows least). Undefined when none is free: only then is a slot made,
   * so there are never more than `count`.
   */
  #bestFit(length: number): Slot | undefined {
    let best: Slot | undefined;
    for (const s of this.#free) {
      if (!best) best = s;
      else if (s.used >= length) best = best.used >= length && best.used <= s.used ? best : s;
      else if (best.used < length && s.used > best.used) best = s;
    }
    if (best) this.#free.splice(this.#free.indexOf(best), 1);
    return best;
  }

  #wake(): void {
    while (this.#out < this.count) {
      const w = this.#waiters.shift();
      if (!w) return;
      w.resolve(this.#lease(w.length));
    }
  }
}

/**
 * Slot pools by size: a lease comes from the first tier whose capacity holds it. With chunks of
 * 4 MiB mostly and up to 16 MiB rarely, a few large slots beside many 4 MiB ones bound memory at
 * Σ count × capacity (the large slots would otherwise each end up resident at up to 16 MiB).
 */
export class TieredSlotPool {
  readonly #tiers: readonly SlotPool[];

  constructor(tiers: readonly { readonly count: number; readonly capacity: number }[], opts: SlotPoolOptions = {}) {
    if (tiers.length === 0) throw new RangeError('a tiered slot pool needs at least one tier');
    this.#tiers = [...tiers].sort((a, b) => a.capacity - b.capacity).map((t) => new SlotPool(t.count, t.capacity, opts));
  }

  /** The largest length a lease may have. */
  get capacity(): number {
    return this.#tiers.at(-1)!.capacity;
  }

  get inUse(): number {
    return this.#tiers.reduce((n, t) => n + t.inUse, 0);
  }

  get waiting(): number {
    return this.#tiers.reduce((n, t) => n + t.waiting, 0);
  }

  /** The most memory the pool's slots can hold resident. */
  get maxBytes(): number {
    return this.#tiers.reduce((n, t) => n + t.count * t.capacity, 0);
  }

  trim(): void {
    for (const t of this.#tiers) t.trim();
  }

  acquire(length: number): Promise<SlotLease> {
    const tier = this.#tiers.find((t) => t.capacity >= length) ?? this.#tiers.at(-1)!;
    return tier.acquire(length);
  }
}

/**
 * A counting gate: at most `count` holders at once, later ones wait first come, first served.
 * `enter` resolves with the function that leaves (idempotent).
 */
export class Gate {
  readonly #count: number;
  readonly #waiters: (() => void)[] = [];
  #inside = 0;

  constructor(count: number) {
    if (!Number.isSafeInteger(count) || count < 1) throw new RangeError(`gate count must be a positive integer, got ${count}`);
    this.#count = count;
  }

  get inside(): number {
    return this.#inside;
  }

  async enter(): Promise<() => void> {
    if (this.#inside < this.#count && this.#waiters.length === 0) this.#inside++;
    else await new Promise<void>((resolve) => this.#waiters.push(resolve)); // #leave counted us in
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.#leave();
    };
  }

  #leave(): void {
    const next = this.#waiters.shift();
    if (next) next(); // the place passes on: #inside stays
    else this.#inside--;
  }
}
