/**
 * Random access to one index archive of a reader session (`holdfast mount`): `read(offset,
 * length)` finds the chunks that hold the bytes (a binary search over the chunk ends), fetches
 * them (RestoreReader.chunk checks each, or whatever `fetch` the caller gives, which must too),
 * and keeps the most recently used ones.
 *
 * - A chunk is fetched once however many readers want it at the same time (one promise per
 *   chunk in flight), and the chunks after the one read are fetched ahead: one after a read
 *   elsewhere (browsing), growing to `MAX_READ_AHEAD` while reads go on in order (`cp` or `tar`
 *   from a mount asks for 128 KiB at a time), so a file read in order rarely waits for the network.
 * - Memory is bounded: at most `cacheChunks` decoded chunks are kept (4 MiB each by default),
 *   plus the ones being fetched. A failed fetch is not cached: the next read asks again.
 * - A read beyond the archive's end is INVALID_ARGUMENT; the bytes returned are always exactly
 *   those asked for, from chunks whose digests were checked (RestoreReader's invariant).
 */
import { fail } from '../core/errors.ts';
import type { RandomAccess } from '../format/pxar/accessor.ts';
import type { ChunkRef, RestoreReader } from './restore-reader.ts';

/** Fetches one chunk of the archive, checked against its digest. */
export type ChunkFetch = (c: ChunkRef) => Promise<Uint8Array>;

export const DEFAULT_CACHE_CHUNKS = 16;
/** Chunks fetched ahead of an in-order reader (16 MiB of 4 MiB chunks; fewer than the cache keeps). */
export const MAX_READ_AHEAD = 4;

export class ArchiveAccess implements RandomAccess {
  readonly size: number;
  readonly #fetchChunk: ChunkFetch;
  readonly #chunks: readonly ChunkRef[];
  /** `#ends[i]`: the offset just after chunk i. */
  readonly #ends: readonly number[];
  readonly #cacheChunks: number;
  /** Chunk index → its bytes (or their fetch), in least- to most-recently-used order. */
  readonly #cache = new Map<number, Promise<Uint8Array>>();
  /** The last chunk a read ended in, and how many reads in a row went on in order. */
  #lastChunk = -1;
  #inOrder = 0;

  constructor(chunks: readonly ChunkRef[], size: number, fetch: ChunkFetch, cacheChunks = DEFAULT_CACHE_CHUNKS) {
    this.#fetchChunk = fetch;
    this.#chunks = chunks;
    this.size = size;
    this.#cacheChunks = Math.max(2 + MAX_READ_AHEAD, cacheChunks);
    let end = 0;
    this.#ends = chunks.map((c) => (end += c.size));
  }

  /**
   * Archive `name` of `reader` (its index is downloaded and checked against the manifest);
   * `fetch`, when given, fetches its chunks instead of `reader` (a mount that reconnects).
   */
  static async open(reader: RestoreReader, name: string, o: { readonly cacheChunks?: number; readonly fetch?: ChunkFetch } = {}): Promise<ArchiveAccess> {
    const { chunks, size } = await reader.chunkList(name);
    return new ArchiveAccess(chunks, size, o.fetch ?? ((c) => reader.chunk(name, c)), o.cacheChunks);
  }

  /** The index of the chunk holding byte `offset` (< size). */
  #chunkAt(offset: number): number {
    let lo = 0;
    let hi = this.#ends.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#ends[mid]! > offset) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  #fetch(i: number): Promise<Uint8Array> {
    const hit = this.#cache.get(i);
    if (hit !== undefined) {
      this.#cache.delete(i); // to the most recent end
      this.#cache.set(i, hit);
      return hit;
    }
    const p = this.#fetchChunk(this.#chunks[i]!);
    this.#cache.set(i, p);
    p.catch(() => {
      if (this.#cache.get(i) === p) this.#cache.delete(i);
    });
    while (this.#cache.size > this.#cacheChunks) this.#cache.delete(this.#cache.keys().next().value!);
    return p;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > this.size) {
      throw fail('INVALID_ARGUMENT', 'read outside the archive', { offset, length, size: this.size });
    }
    if (length === 0) return new Uint8Array(0);
    const first = this.#chunkAt(offset);
    const last = this.#chunkAt(offset + length - 1);
    const parts: Promise<Uint8Array>[] = [];
    for (let i = first; i <= last; i++) parts.push(this.#fetch(i));
    this.#inOrder = first === this.#lastChunk || first === this.#lastChunk + 1 ? this.#inOrder + 1 : 0;
    this.#lastChunk = last;
    // read ahead (after the chunks asked for took their places, so it cannot evict them); a
    // failure surfaces when, if ever, that chunk is read
    const ahead = Math.min(MAX_READ_AHEAD, 1 + (this.#inOrder >> 2));
    for (let i = last + 1; i <= last + ahead && i < this.#chunks.length; i++) {
      if (!this.#cache.has(i)) this.#fetch(i).catch(() => undefined);
    }
    const start = (i: number): number => (i === 0 ? 0 : this.#ends[i - 1]!);
    if (first === last) {
      const bytes = await parts[0]!;
      return bytes.subarray(offset - start(first), offset - start(first) + length);
    }
    const out = new Uint8Array(length);
    for (let i = first; i <= last; i++) {
      const bytes = await parts[i - first]!;
      const from = Math.max(offset, start(i));
      const to = Math.min(offset + length, this.#ends[i]!);
      out.set(bytes.subarray(from - start(i), to - start(i)), from - offset);
    }
    return out;
  }
}
