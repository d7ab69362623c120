/**
 * AlignedPool: a bounded set of page-aligned buffers for I/O that bypasses the page cache
 * (O_DIRECT). O_DIRECT needs the buffer's address, the file offset and the length aligned to the
 * device's logical block size, and a JS ArrayBuffer is only 16-byte aligned, so each buffer is
 * the aligned part of an ArrayBuffer one alignment larger, found with the native addon's
 * `misalign` (V8 never moves an ArrayBuffer's memory). Without the addon the memory comes from
 * aligned_alloc(3) through koffi, loaded then: loading koffi cost 15–40 ms of every restore start.
 * Users: the server's chunk files (storage/direct-io.ts) and a restore's file data
 * (client/restore-sink.ts), each with a pool of its own.
 *
 * `alignedOffset` and `isAligned` serve buffers that are not from this pool: the server's upload
 * slots and reader buffers start at an aligned address (core/slot-pool.ts, core/buffer-pool.ts),
 * so that storage/direct-io.ts can write and read a chunk in place instead of through a copy.
 * Without the addon there is no cheap way to know an address: both then say "not aligned", and
 * every direct write and read takes the copying path, which is correct, only slower.
 *
 * Invariants:
 * - At most `max` buffers ever exist, each `size` bytes; they are never freed, so no view can
 *   outlive its memory. A `take` beyond `max` waits for a `give`, first come, first served: that
 *   wait is the back-pressure of whoever writes through the pool.
 * - A buffer given back must not be touched again by its giver; contents are undefined.
 */
import { createRequire } from 'node:module';
import type koffiModule from 'koffi';
import { nativeFunction } from './native-addon.ts';

/** Alignment that satisfies O_DIRECT on every common device (logical blocks of 512 or 4096). */
export const ALIGN = 4096;

const misalign = nativeFunction<(bytes: Uint8Array, alignment: number) => number>('misalign');

/**
 * `size` bytes of memory whose first byte is aligned to `alignment` (a power of two dividing
 * `size`), as a Uint8Array. The caller keeps it for the life of the process (the koffi memory is
 * never freed).
 */
export function alignedBuffer(alignment: number, size: number): Uint8Array {
  if (misalign !== undefined) {
    const whole = new Uint8Array(new ArrayBuffer(size + alignment));
    const skip = (alignment - misalign(whole, alignment)) % alignment;
    return whole.subarray(skip, skip + size);
  }
  return koffiAlignedBuffer(alignment, size);
}

/**
 * Where, in `buffer`, the first byte aligned to `alignment` is: the offset a view must start at
 * for its address to be aligned, or 0 without the addon (the view is then simply not aligned).
 * A buffer transferred to a worker and back is the same memory, so the answer does not change.
 */
export function alignedOffset(buffer: ArrayBufferLike, alignment: number = ALIGN): number {
  if (misalign === undefined || buffer.byteLength === 0) return 0;
  return (alignment - misalign(new Uint8Array(buffer, 0, 1), alignment)) % alignment;
}

/** Whether `bytes` starts at an address aligned to `alignment` (false when the addon cannot tell). */
export function isAligned(bytes: Uint8Array, alignment: number = ALIGN): boolean {
  return misalign !== undefined && bytes.byteLength > 0 && misalign(bytes, alignment) === 0;
}

let alignedAlloc: ((alignment: number, size: number) => Uint8Array) | undefined;

/** aligned_alloc(3) through koffi, for when the addon is not built. */
export function koffiAlignedBuffer(alignment: number, size: number): Uint8Array {
  alignedAlloc ??= (() => {
    const koffi = createRequire(import.meta.url)('koffi') as typeof koffiModule;
    const fn = koffi.load('libc.so.6').func('void *aligned_alloc(size_t alignment, size_t size)');
    return (a: number, n: number): Uint8Array => {
      const ptr: unknown = fn(a, n);
      if (ptr === null) throw new Error(`aligned_alloc(${a}, ${n}) failed with errno ${koffi.errno()}`);
      return new Uint8Array(koffi.view(ptr, n));
    };
  })();
  return alignedAlloc(alignment, size);
}

export class AlignedPool {
  readonly max: number;
  readonly size: number;
  readonly #free: Uint8Array[] = [];
  readonly #waiting: ((b: Uint8Array) => void)[] = [];
  #made = 0;

  constructor(max: number, size: number) {
    if (!Number.isSafeInteger(max) || max < 1) throw new RangeError(`aligned pool size must be a positive integer, got ${max}`);
    if (size % ALIGN !== 0 || size <= 0) throw new RangeError(`aligned buffers must be a positive multiple of ${ALIGN} bytes, got ${size}`);
    this.max = max;
    this.size = size;
  }

  /** A free buffer, a new one while fewer than `max` exist, or the next one given back. */
  take(): Promise<Uint8Array> {
    const b = this.#free.pop();
    if (b) return Promise.resolve(b);
    if (this.#made < this.max) {
      this.#made++;
      return Promise.resolve(alignedBuffer(ALIGN, this.size));
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  give(b: Uint8Array): void {
    const next = this.#waiting.shift();
    if (next) next(b);
    else this.#free.push(b);
  }

  /** Buffers made so far and free now (tests, status). */
  stats(): { readonly made: number; readonly free: number; readonly max: number } {
    return { made: this.#made, free: this.#free.length, max: this.max };
  }
}
