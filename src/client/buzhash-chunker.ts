/**
 * The PBS dynamic chunker (pbs-format.md §7.2): a Buzhash over a 64-byte window with casync's
 * table, cutting after a byte when `(h & mask) >= mask - 2` (mask = 2·avg − 1) once the chunk has
 * at least min = avg/4 bytes, and always at max = avg·4. Boundaries depend only on the bytes,
 * never on how they are split into buffers.
 *
 * Streaming contract of `scan(buf)`: it consumes `buf` and returns the offset just after the
 * boundary (1..buf.length) if a chunk ends inside it, or 0 if none does (0 can never be a
 * boundary: a chunk has at least one byte). After a boundary the chunker starts a new chunk, and
 * the caller continues with `buf.subarray(offset)`; bytes after the boundary were not consumed.
 * The remainder at end of stream is the last chunk.
 *
 * Speed: the hot loop reads the leaving byte from `buf` itself (64 bytes back) instead of a ring
 * buffer, skips the break test below min, and bounds the loop at max; the ring is touched only for
 * the first 64 bytes of each call. State lives in numbers and one 64-byte ring: no per-byte
 * allocation. Bytes below min are not rolled at all: the hash depends on the last 64 bytes only,
 * so it is recomputed from the 64 before the first tested byte. The loop itself runs in native
 * code when the addon is built (buzhash-native.ts, ~2.8× the JS loop), else in JS (`jsRoll`).
 *
 * `PayloadChunker` adds upstream's suggested boundaries (file starts in split pxar payload
 * streams, §7.2): a suggestion is used when the chunk it makes is within [min, max].
 */
import { fail } from '../core/errors.ts';
import { nativeRoll, type RollFn } from './buzhash-native.ts';

export const DEFAULT_AVG_CHUNK_SIZE = 4 * 1024 * 1024;
const WINDOW = 64;

/** casync's `buzhash_table`, the same 256 values PBS uses. */
// prettier-ignore
const TABLE = Int32Array.from([
  0x458be752, 0xc10748cc, 0xfbbcdbb8, 0x6ded5b68, 0xb10a82b5, 0x20d75648, 0xdfc5665f, 0xa8428801,
  0x7ebf5191, 0x841135c7, 0x65cc53b3, 0x280a597c, 0x16f60255, 0xc78cbc3e, 0x294415f5, 0xb938d494,
  0xec85c4e6, 0xb7d33edc, 0xe549b544, 0xfdeda5aa, 0x882bf287, 0x3116737c, 0x05569956, 0xe8cc1f68,
  0x0806ac5e, 0x22a14443, 0x15297e10, 0x50d090e7, 0x4ba60f6f, 0xefd9f1a7, 0x5c5c885c, 0x82482f93,
  0x9bfd7c64, 0x0b3e7276, 0xf2688e77, 0x8fad8abc, 0xb0509568, 0xf1ada29f, 0xa53efdfe, 0xcb2b1d00,
  0xf2a9e986, 0x6463432b, 0x95094051, 0x5a223ad2, 0x9be8401b, 0x61e579cb, 0x1a556a14, 0x5840fdc2,
  0x9261ddf6, 0xcde002bb, 0x52432bb0, 0xbf17373e, 0x7b7c222f, 0x2955ed16, 0x9f10ca59, 0xe840c4c9,
  0xccabd806, 0x14543f34, 0x1462417a, 0x0d4a1f9c, 0x087ed925, 0xd7f8f24c, 0x7338c425, 0xcf86c8f5,
  0xb19165cd, 0x9891c393, 0x325384ac, 0x0308459d, 0x86141d7e, 0xc922116a, 0xe2ffa6b6, 0x53f52aed,
  0x2cd86197, 0xf5b9f498, 0xbf319c8f, 0xe0411fae, 0x977eb18c, 0xd8770976, 0x9833466a, 0xc674df7f,
  0x8c297d45, 0x8ca48d26, 0xc49ed8e2, 0x7344f874, 0x556f79c7, 0x6b25eaed, 0xa03e2b42, 0xf68f66a4,
  0x8e8b09a2, 0xf2e0e62a, 0x0d3a9806, 0x9729e493, 0x8c72b0fc, 0x160b94f6, 0x450e4d3d, 0x7a320e85,
  0xbef8f0e1, 0x21d73653, 0x4e3d977a, 0x1e7b3929, 0x1cc6c719, 0xbe478d53, 0x8d752809, 0xe6d8c2c6,
  0x275f0892, 0xc8acc273, 0x4cc21580, 0xecc4a617, 0xf5f7be70, 0xe795248a, 0x375a2fe9, 0x425570b6,
  0x8898dcf8, 0xdc2d97c4, 0x0106114b, 0x364dc22f, 0x1e0cad1f, 0xbe63803c, 0x5f69fac2, 0x4d5afa6f,
  0x1bc0dfb5, 0xfb273589, 0x0ea47f7b, 0x3c1c2b50, 0x21b2a932, 0x6b1223fd, 0x2fe706a8, 0xf9bd6ce2,
  0xa268e64e, 0xe987f486, 0x3eacf563, 0x1ca2018c, 0x65e18228, 0x2207360a, 0x57cf1715, 0x34c37d2b,
  0x1f8f3cde, 0x93b657cf, 0x31a019fd, 0xe69eb729, 0x8bca7b9b, 0x4c9d5bed, 0x277ebeaf, 0xe0d8f8ae,
  0xd150821c, 0x31381871, 0xafc3f1b0, 0x927db328, 0xe95effac, 0x305a47bd, 0x426ba35b, 0x1233af3f,
  0x686a5b83, 0x50e072e5, 0xd9d3bb2a, 0x8befc475, 0x487f0de6, 0xc88dff89, 0xbd664d5e, 0x971b5d18,
  0x63b14847, 0xd7d3c1ce, 0x7f583cf3, 0x72cbcb09, 0xc0d0a81c, 0x7fa3429b, 0xe9158a1b, 0x225ea19a,
  0xd8ca9ea3, 0xc763b282, 0xbb0c6341, 0x020b8293, 0xd4cd299d, 0x58cfa7f8, 0x91b4ee53, 0x37e4d140,
  0x95ec764c, 0x30f76b06, 0x5ee68d24, 0x679c8661, 0xa41979c2, 0xf2b61284, 0x4fac1475, 0x0adb49f9,
  0x19727a23, 0x15a7e374, 0xc43a18d5, 0x3fb1aa73, 0x342fc615, 0x924c0793, 0xbee2d7f0, 0x8a279de9,
  0x4aa2d70c, 0xe24dd37f, 0xbe862c0b, 0x177c22c2, 0x5388e5ee, 0xcd8a7510, 0xf901b4fd, 0xdbc13dbc,
  0x6c0bae5b, 0x64efe8c7, 0x48b02079, 0x80331a49, 0xca3d8ae6, 0xf3546190, 0xfed7108b, 0xc49b941b,
  0x32baf4a9, 0xeb833a4a, 0x88a3f1a5, 0x3a91ce0a, 0x3cc27da1, 0x7112e684, 0x4a3096b1, 0x3794574c,
  0xa3c8b6f3, 0x1d213941, 0x6e0a2e00, 0x233479f1, 0x0f4cd82f, 0x6093edd2, 0x5d7d209e, 0x464fe319,
  0xd4dcac9e, 0x0db845cb, 0xfb5e4bc3, 0xe0256ce1, 0x09fb4ed1, 0x0914be1e, 0xa5bdb2c3, 0xc6eb57bb,
  0x30320350, 0x3f397e91, 0xa67791bc, 0x86bc0e2c, 0xefa0a7e2, 0xe9ff7543, 0xe733612c, 0xd185897b,
  0x329e5388, 0x91dd236b, 0x2ecb0d93, 0xf4d82a3d, 0x35b5c03f, 0xe4e606f0, 0x05b21843, 0x37b45964,
  0x5eff22f4, 0x6027f4cc, 0x77178b3c, 0xae507131, 0x7bf7cabc, 0xf9c18d66, 0x593ade65, 0xd95ddf11,
]);

export interface ChunkerLimits {
  readonly avg: number;
  readonly min: number;
  readonly max: number;
}

/** min/max for an average; the average must be a power of two in 256 B..256 MiB. */
export function chunkerLimits(avg: number): ChunkerLimits {
  if (!Number.isInteger(avg) || avg < 256 || avg > 2 ** 28 || (avg & (avg - 1)) !== 0) {
    throw fail('INVALID_ARGUMENT', `chunk size average ${avg} must be a power of two in 256..${2 ** 28}`, { value: avg });
  }
  return { avg, min: avg / 4, max: avg * 4 };
}

export const CHUNKER_IMPLS = ['auto', 'js'] as const;
export type ChunkerImpl = (typeof CHUNKER_IMPLS)[number];

/**
 * The JS hot loop; native/buzhash.c is the same loop in C, with the same contract: hash bytes
 * [from, untested) untested and [untested, stop) tested; the offset after the first breaking byte,
 * or 0 with the hash left in `state[0]`. Requires 64 <= from.
 */
export function jsRoll(buf: Uint8Array, from: number, untested: number, stop: number, mask: number, threshold: number, state: Int32Array): number {
  // a local alias spares the loop the module binding's checks (measured: ~15% faster)
  const table = TABLE;
  let h = state[0]!;
  let i = from;
  if (untested - i > WINDOW) {
    // The hash is a function of the last 64 bytes alone (a rotation by 64 is the identity on 32
    // bits), so bytes far before `untested` need not be rolled: hash the 64 before it afresh.
    h = 0;
    for (i = untested - WINDOW; i < untested; i++) h = ((h << 1) | (h >>> 31)) ^ table[buf[i]!]!;
  }
  for (; i < untested; i++) h = ((h << 1) | (h >>> 31)) ^ table[buf[i - WINDOW]!]! ^ table[buf[i]!]!;
  for (; i < stop; i++) {
    h = ((h << 1) | (h >>> 31)) ^ table[buf[i - WINDOW]!]! ^ table[buf[i]!]!;
    if ((h & mask) >= threshold) return i + 1;
  }
  state[0] = h;
  return 0;
}

export class BuzhashChunker {
  readonly limits: ChunkerLimits;
  readonly #mask: number;
  readonly #threshold: number;
  /** Bytes of the current chunk seen so far; also the window fill while < 64. */
  #chunkSize = 0;
  #hash = 0;
  /** ring[p & 63] = byte at chunk position p, for the last 64 positions. */
  readonly #ring = new Uint8Array(WINDOW);
  /** The hash across a call of `#roll`. */
  readonly #state = new Int32Array(1);
  readonly #roll: RollFn;

  /** `impl`: `auto` uses the native loop when it is built (buzhash-native.ts), `js` never does. */
  constructor(avg: number = DEFAULT_AVG_CHUNK_SIZE, impl: ChunkerImpl = 'auto') {
    this.limits = chunkerLimits(avg);
    this.#roll = impl === 'auto' ? (nativeRoll ?? jsRoll) : jsRoll;
    this.#mask = 2 * avg - 1;
    this.#threshold = this.#mask - 2;
  }

  /** Bytes of the current, unfinished chunk. */
  get pending(): number {
    return this.#chunkSize;
  }

  reset(): void {
    this.#chunkSize = 0;
    this.#hash = 0;
  }

  /** See the module comment: boundary offset within `buf`, or 0. */
  scan(buf: Uint8Array): number {
    const n = buf.length;
    let i = 0;
    if (this.#chunkSize < WINDOW) {
      i = this.#fill(buf);
      if (this.#chunkSize < WINDOW) return 0;
    }
    if (i < WINDOW && i < n) {
      const end = this.#rollFromRing(buf, i);
      if (end !== 0) return end;
      i = Math.min(n, WINDOW);
    }
    if (i >= n) return 0;
    const end = this.#rollFromBuffer(buf, i);
    if (end !== 0) return end;
    this.#saveTail(buf);
    return 0;
  }

  /** Hashes the first bytes of a chunk into the window; no break test happens here. */
  #fill(buf: Uint8Array): number {
    const take = Math.min(buf.length, WINDOW - this.#chunkSize);
    let h = this.#hash;
    for (let i = 0; i < take; i++) {
      const b = buf[i]!;
      this.#ring[this.#chunkSize + i] = b;
      h = ((h << 1) | (h >>> 31)) ^ TABLE[b]!;
    }
    this.#hash = h;
    this.#chunkSize += take;
    return take;
  }

  /** Rolls bytes buf[from..min(64, n)) whose leaving byte precedes `buf` (so sits in the ring). */
  #rollFromRing(buf: Uint8Array, from: number): number {
    const { min, max } = this.limits;
    const stop = Math.min(buf.length, WINDOW);
    let h = this.#hash;
    let size = this.#chunkSize;
    for (let i = from; i < stop; i++) {
      const b = buf[i]!;
      const slot = size & (WINDOW - 1);
      h = ((h << 1) | (h >>> 31)) ^ TABLE[this.#ring[slot]!]! ^ TABLE[b]!;
      this.#ring[slot] = b;
      size += 1;
      if (size >= min && (size >= max || (h & this.#mask) >= this.#threshold)) return this.#cut(i + 1);
    }
    this.#hash = h;
    this.#chunkSize = size;
    return 0;
  }

  /** The hot loop, for i >= 64 (the leaving byte is buf[i - 64]), in JS or native code. */
  #rollFromBuffer(buf: Uint8Array, from: number): number {
    const { min, max } = this.limits;
    const n = buf.length;
    // bytes that end before min are hashed but never tested
    const untested = Math.min(n, from + Math.max(0, min - 1 - this.#chunkSize));
    const sizeAtTested = this.#chunkSize + (untested - from);
    const stop = Math.min(n, untested + (max - sizeAtTested));
    this.#state[0] = this.#hash;
    const end = this.#roll(buf, from, untested, stop, this.#mask, this.#threshold, this.#state);
    if (end !== 0) return this.#cut(end);
    const size = sizeAtTested + (stop - untested);
    if (size >= max) return this.#cut(stop);
    this.#hash = this.#state[0]!;
    this.#chunkSize = size;
    return 0;
  }

  /** Keeps the last 64 bytes of `buf` (all in the current chunk) for the next call. */
  #saveTail(buf: Uint8Array): void {
    const from = Math.max(0, buf.length - WINDOW);
    const firstPos = this.#chunkSize - (buf.length - from);
    for (let j = from; j < buf.length; j++) this.#ring[(firstPos + j - from) & (WINDOW - 1)] = buf[j]!;
  }

  #cut(offset: number): number {
    this.reset();
    return offset;
  }
}

/** Where the caller's buffer stands: `base` = stream offset where the current chunk starts,
 * `total` = bytes of the current chunk buffered so far, including the buffer being scanned. */
export interface ScanContext {
  readonly base: number;
  readonly total: number;
}

/**
 * A chunker that prefers suggested boundaries (absolute stream offsets, queued in order with
 * `suggest`). The data passed to `scan` is the tail of the caller's current chunk buffer.
 * Per suggestion: one behind the scanned data, or one giving a chunk below min, is dropped; one
 * beyond the buffered data, or one giving a chunk above max, waits while the hash decides; one
 * at the start of the data is dropped (the bytes before it were already scanned without a cut);
 * otherwise the chunk is cut there.
 */
export class PayloadChunker {
  readonly #chunker: BuzhashChunker;
  readonly #queue: number[] = [];
  #current: number | undefined;

  constructor(avg: number = DEFAULT_AVG_CHUNK_SIZE, impl: ChunkerImpl = 'auto') {
    this.#chunker = new BuzhashChunker(avg, impl);
  }

  get limits(): ChunkerLimits {
    return this.#chunker.limits;
  }

  suggest(boundary: number): void {
    this.#queue.push(boundary);
  }

  reset(): void {
    this.#chunker.reset();
  }

  scan(data: Uint8Array, ctx: ScanContext): number {
    const dataStart = ctx.total - data.length;
    const { min, max } = this.#chunker.limits;
    for (;;) {
      const boundary = this.#current ?? this.#queue.shift();
      if (boundary === undefined) return this.#chunker.scan(data);
      this.#current = boundary;
      const size = boundary - ctx.base;
      const behind = size < dataStart;
      const ahead = !behind && size > ctx.total;
      if (ahead) return this.#chunker.scan(data);
      if (behind || size < min) {
        this.#current = undefined;
        continue;
      }
      if (size > max) return this.#chunker.scan(data);
      this.#current = undefined;
      if (size === dataStart) return this.#chunker.scan(data);
      this.#chunker.reset();
      return size - dataStart;
    }
  }
}
