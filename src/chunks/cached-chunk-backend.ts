/**
 * CachedChunkBackend: a ChunkBackend wrapper that keeps a local copy of the chunks it has put or
 * fetched, up to a capacity in bytes, evicting the least recently used. It wraps a remote backend
 * (an object store) whose every GET costs a request; reads are served from the cache when it holds
 * the chunk (`getStored`, for verify, always asks the inner backend). Everything else (stat, marks, list, remove, quarantine, flush) is the inner
 * backend's: the cache never decides whether a chunk exists, is marked, or goes.
 *
 * Layout: `<dir>/<first 4 hex>/<digest>`, each file written atomically without fsync: the cache is
 * a copy, never the only one. Copies are written and read with O_DIRECT where the filesystem
 * allows it, as the local store's chunks are (storage/direct-io.ts): through the page cache, the
 * kernel's copies of each chunk into fresh pages cost the server 2.4 CPU-s per GiB ingested and
 * restored (perf, docs/benchmarks.md), more than the SHA-256 that checks it. So a cached copy is trusted only after its blob CRC checks out; a
 * torn or empty copy (a crash) is dropped and the chunk fetched again. That matters to verify,
 * which must judge the stored chunk and not a broken cache file.
 *
 * Order: `put` stores in the inner backend first and caches after it resolved, so nothing is
 * ever readable from the cache that the inner backend has not acknowledged (a deferred put, see
 * chunk-backend.ts, counts as acknowledged; if its write fails later, the copy stays until evicted
 * or overwritten, harmless: existence is the inner backend's answer, and no finished snapshot
 * references it). A failed cache write
 * is reported through `warn` and otherwise ignored (the chunk is safe in the inner backend).
 *
 * The recency order lives in memory (a Map in access order); at the first use it is rebuilt from
 * the files' atimes and the cache trimmed to capacity, and debris (temp files) is removed.
 */
import { join } from 'node:path';
import { isHoldfastError, toHoldfastError } from '../core/errors.ts';
import { verifyBlobCrc } from '../format/blob.ts';
import { atomicWrite, isTempName } from '../storage/atomic-write.ts';
import type { Fs } from '../storage/fs-port.ts';
import type { ChunkBackend, ChunkBackendUsage, ChunkEntry, ChunkObjectStat, InitProgress, PutOptions, StorageCounters } from './chunk-backend.ts';
import { isChunkName } from './chunk-path.ts';

export interface CachedChunkBackendDeps {
  readonly inner: ChunkBackend;
  /** the fs that holds the cache directory */
  readonly fs: Fs;
  readonly dir: string;
  /** most bytes of chunk copies kept */
  readonly capacityBytes: number;
  readonly warn?: (msg: string) => void;
}

export class CachedChunkBackend implements ChunkBackend {
  readonly #inner: ChunkBackend;
  readonly #fs: Fs;
  readonly #dir: string;
  readonly #capacity: number;
  readonly #warn: (msg: string) => void;
  /** digest → size, in access order (first = least recently used) */
  readonly #lru = new Map<string, number>();
  readonly #madeDirs = new Set<string>();
  #bytes = 0;
  #hits = 0;
  #misses = 0;
  #loaded: Promise<void> | undefined;

  constructor(deps: CachedChunkBackendDeps) {
    this.#inner = deps.inner;
    this.#fs = deps.fs;
    this.#dir = deps.dir;
    this.#capacity = deps.capacityBytes;
    this.#warn = deps.warn ?? (() => undefined);
  }

  get location(): string {
    return this.#inner.location;
  }

  get putSkipsIdentical(): boolean {
    return this.#inner.putSkipsIdentical === true; // put goes to the inner backend first
  }

  get wantsSha256(): boolean {
    return this.#inner.wantsSha256 === true; // put hands its options to the inner backend
  }

  get flushScope(): ChunkBackend['flushScope'] {
    return this.#inner.flushScope;
  }

  /** Bytes held in the cache now. */
  get cachedBytes(): number {
    return this.#bytes;
  }

  async init(onProgress?: InitProgress): Promise<void> {
    await this.#inner.init(onProgress);
    await this.#fs.mkdir(this.#dir, { recursive: true, mode: 0o700 });
  }

  async open(): Promise<void> {
    await this.#inner.open();
    await this.#ready();
  }

  async put(digest: string, bytes: Uint8Array, options: PutOptions): Promise<void | 'unchanged'> {
    const result = await this.#inner.put(digest, bytes, options);
    await this.#ready();
    await this.#store(digest, bytes);
    return result;
  }

  async get(key: string, into?: Uint8Array): Promise<Uint8Array> {
    if (!isChunkName(key)) return this.#inner.get(key, into);
    await this.#ready();
    const cached = await this.#readCached(key, into);
    if (cached) {
      this.#hits++;
      return cached;
    }
    this.#misses++;
    const bytes = await this.#inner.get(key, into);
    await this.#store(key, bytes);
    return bytes;
  }

  /** The inner backend's bytes, cache untouched (a broken stored copy must not reach the cache). */
  getStored(key: string): Promise<Uint8Array> {
    return this.#inner.getStored ? this.#inner.getStored(key) : this.#inner.get(key);
  }

  stat(key: string): Promise<ChunkObjectStat | undefined> {
    return this.#inner.stat(key);
  }

  mark(key: string, atMs?: number): Promise<boolean> {
    return this.#inner.mark(key, atMs);
  }

  async remove(key: string): Promise<boolean> {
    const removed = await this.#inner.remove(key);
    if (isChunkName(key)) await this.#drop(key);
    return removed;
  }

  async quarantine(digest: string, options: PutOptions): Promise<string | undefined> {
    const key = await this.#inner.quarantine(digest, options);
    await this.#drop(digest);
    return key;
  }

  quarantinedCopies(digest: string): Promise<string[]> {
    return this.#inner.quarantinedCopies(digest);
  }

  list(): AsyncIterable<ChunkEntry> {
    return this.#inner.list();
  }

  flush(): Promise<void> {
    return this.#inner.flush(); // the cache holds copies only: nothing of it must survive
  }

  async settle(): Promise<void> {
    await this.#inner.settle?.();
  }

  failedDeferredPuts(): number {
    return this.#inner.failedDeferredPuts?.() ?? 0;
  }

  usage(): Promise<ChunkBackendUsage | undefined> {
    return this.#inner.usage();
  }

  counters(): StorageCounters {
    return { ...this.#inner.counters?.(), cacheHits: this.#hits, cacheMisses: this.#misses, cacheBytes: this.#bytes };
  }

  #path(digest: string): string {
    return join(this.#dir, digest.slice(0, 4), digest);
  }

  async #readCached(digest: string, into?: Uint8Array): Promise<Uint8Array | undefined> {
    const size = this.#lru.get(digest);
    if (size === undefined) return undefined;
    try {
      const bytes = await this.#fs.readFile(this.#path(digest), into, { direct: true });
      if (bytes.length !== size) throw new Error(`${bytes.length} bytes, expected ${size}`);
      verifyBlobCrc(bytes);
      this.#lru.delete(digest);
      this.#lru.set(digest, size);
      return bytes;
    } catch (e) {
      if (!isHoldfastError(e, 'NOT_FOUND')) this.#warn(`dropping the broken cached copy of chunk ${digest}: ${toHoldfastError(e).message}`);
      await this.#drop(digest);
      return undefined;
    }
  }

  async #store(digest: string, bytes: Uint8Array): Promise<void> {
    if (bytes.length > this.#capacity) return;
    try {
      const sub = join(this.#dir, digest.slice(0, 4));
      if (!this.#madeDirs.has(sub)) {
        await this.#fs.mkdir(sub, { recursive: true, mode: 0o700 });
        this.#madeDirs.add(sub);
      }
      await atomicWrite(this.#fs, this.#path(digest), bytes, { durable: false, perm: 0o600, direct: true });
    } catch (e) {
      this.#warn(`could not cache chunk ${digest}: ${toHoldfastError(e).message}`);
      await this.#drop(digest);
      return;
    }
    this.#forget(digest);
    this.#lru.set(digest, bytes.length);
    this.#bytes += bytes.length;
    await this.#evict();
  }

  async #evict(): Promise<void> {
    for (const [digest] of this.#lru) {
      if (this.#bytes <= this.#capacity) return;
      await this.#drop(digest);
    }
  }

  #forget(digest: string): void {
    const size = this.#lru.get(digest);
    if (size === undefined) return;
    this.#lru.delete(digest);
    this.#bytes -= size;
  }

  async #drop(digest: string): Promise<void> {
    this.#forget(digest);
    try {
      await this.#fs.unlink(this.#path(digest));
    } catch (e) {
      if (!isHoldfastError(e, 'NOT_FOUND')) this.#warn(`could not remove the cached copy of chunk ${digest}: ${toHoldfastError(e).message}`);
    }
  }

  #ready(): Promise<void> {
    this.#loaded ??= this.#load();
    return this.#loaded;
  }

  /** Rebuilds the recency order from what is on disk (oldest atime first), then trims. */
  async #load(): Promise<void> {
    await this.#fs.mkdir(this.#dir, { recursive: true, mode: 0o700 });
    const found: { digest: string; size: number; atimeMs: number }[] = [];
    for (const sub of await this.#fs.readdir(this.#dir)) {
      const dir = join(this.#dir, sub);
      if (!/^[0-9a-f]{4}$/.test(sub) || !(await this.#fs.stat(dir))?.isDirectory) continue;
      this.#madeDirs.add(dir);
      for (const name of await this.#fs.readdir(dir)) {
        const st = await this.#fs.stat(join(dir, name));
        if (isTempName(name)) await this.#fs.unlink(join(dir, name)).catch(() => undefined);
        else if (st?.isFile === true && isChunkName(name) && name.startsWith(sub)) found.push({ digest: name, size: st.size, atimeMs: st.atimeMs });
      }
    }
    found.sort((a, b) => a.atimeMs - b.atimeMs);
    for (const f of found) {
      this.#lru.set(f.digest, f.size);
      this.#bytes += f.size;
    }
    await this.#evict();
  }
}
