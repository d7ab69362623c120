/**
 * S3ChunkBackend: the ChunkBackend port (chunk-backend.ts) on an S3 bucket, one object per chunk,
 * keyed as PBS keys them: `<store>/.chunks/<first 4 hex>/<digest>`, quarantined copies beside
 * them as `<digest>.<n>.bad`. Several stores can share a bucket; each owns its `<store>/` prefix,
 * and `<store>/.holdfast-chunk-store` says that a store was made there (init/open).
 *
 * Writes. A chunk is stored by a conditional PUT (If-None-Match: *) with a signed payload
 * SHA-256, done after a 2xx, or a 412 from an object whose ETag is the MD5 of these very bytes
 * (the same chunk stored before, by us or a racing writer). A 412 from other bytes (a broken copy ChunkStore chose to
 * replace) is answered by an unconditional PUT, so `put` replaces as the port requires. A failed
 * or unknown PUT is a failure (OBJECT_STORE_ERROR): nothing counts as stored that the store did
 * not confirm. An acknowledged PUT is as durable as the object store makes it.
 *
 * Deferred puts (the port's contract). A durable put (the `file` level) resolves only after its
 * PUT. A non-durable put starts the PUT and resolves at once, so a backup's uploads are not bound
 * by the PUT latency; at most `putConcurrency` PUTs are pending (a further put waits for one to
 * end: bounded memory, the bytes are held until then). While pending, the key answers from
 * memory as stored and marked now (GC never sweeps it); `remove` and `quarantine` of it, and a
 * new put of it, wait for the PUT first. A failed pending PUT is undone (key and marker go) and
 * counted (`failedDeferredPuts`), and a `settle`/`flush` that waited for it rejects; `flush` =
 * `settle` + the marker sync (flushScope 'store').
 *
 * Marks. S3 has no atime, so GC marks live in a local directory (`markerDir`, in the datastore's
 * cache): an empty marker file per key, whose atime is the mark time. `stat`/`list` take the mark
 * time from the marker, else from the object's Last-Modified (the put time). A put or a
 * quarantine of a key leaves its marker at "now", so a chunk a backup just wrote never looks old
 * to GC. Marks are a cache: an existing marker counts as "the object exists" for `mark` (GC's
 * mark phase would otherwise HEAD every chunk); without one, `mark` asks the store.
 *
 * Quarantine is a server-side copy to the `.bad` key and a delete of the chunk. A crash between
 * the two leaves both; the next verify quarantines the chunk again.
 */
import { join } from 'node:path';
import { fail, isHoldfastError } from '../core/errors.ts';
import { SlotPool } from '../core/slot-pool.ts';
import { MAX_CHUNK_SIZE } from '../format/blob.ts';
import { atomicWrite } from '../storage/atomic-write.ts';
import type { Fs } from '../storage/fs-port.ts';
import type { ChunkBackend, ChunkBackendUsage, ChunkEntry, ChunkObjectStat, PutOptions, StorageCounters } from './chunk-backend.ts';
import { CHUNK_DIR, digestOfName, isBadChunkName, isChunkName } from './chunk-path.ts';
import { md5Of, type S3Objects } from './s3-client.ts';
import { DeferredPuts } from './s3-deferred-puts.ts';
import { copyBytes } from '../core/byte-copy.ts';

export interface S3ChunkBackendDeps {
  readonly objects: S3Objects;
  /** the datastore's name: the key prefix of everything it stores */
  readonly store: string;
  /** the local fs that holds the marker directory */
  readonly fs: Fs;
  /** local directory for GC marker files (inside the datastore's cache directory) */
  readonly markerDir: string;
  /** most chunk PUTs pending after their put resolved (non-durable puts); 0: none (default 8) */
  readonly putConcurrency?: number;
}

export const DEFAULT_PUT_CONCURRENCY = 8;

const STORE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const STORE_MARKER = '.holdfast-chunk-store';
const MAX_BAD = 10;

/** The object that says a store was made under the prefix `<store>/`. */
export function storeMarkerKey(store: string): string {
  return `${store}/${STORE_MARKER}`;
}

export class S3ChunkBackend implements ChunkBackend {
  readonly location: string;
  readonly flushScope = 'store' as const;
  /**
   * A put sets the chunk's marker (now) first and then PUTs with If-None-Match; after a 412 it
   * compares the stored ETag with the bytes' MD5 and rewrites only a different object. So the
   * chunk store skips the HEAD it would otherwise send before every new chunk (as PBS does).
   */
  readonly putSkipsIdentical = true;
  /** Each chunk PUT signs the SHA-256 of its body; one the caller computed saves a pass over it. */
  readonly wantsSha256 = true;
  readonly #objects: S3Objects;
  readonly #fs: Fs;
  readonly #store: string;
  readonly #markerDir: string;
  readonly #madeDirs = new Set<string>();
  readonly #deferred: DeferredPuts;
  /** the pending PUTs' copies of their chunks (one slot per PUT that may be pending) */
  readonly #copies: SlotPool;
  #marksSinceFlush = false;

  constructor(deps: S3ChunkBackendDeps) {
    if (!STORE_NAME.test(deps.store)) throw fail('INVALID_ARGUMENT', `'${deps.store}' cannot be an S3 store prefix`, { store: deps.store });
    this.#objects = deps.objects;
    this.#fs = deps.fs;
    this.#store = deps.store;
    this.#markerDir = deps.markerDir;
    this.location = `${deps.objects.location}/${deps.store}`;
    const putConcurrency = deps.putConcurrency ?? DEFAULT_PUT_CONCURRENCY;
    this.#deferred = new DeferredPuts(putConcurrency, (digest) => this.#dropMarker(digest));
    this.#copies = new SlotPool(Math.max(1, putConcurrency), MAX_CHUNK_SIZE + 64 * 1024, { shared: true });
  }

  async init(): Promise<void> {
    const body = Buffer.from(`${JSON.stringify({ created: new Date().toISOString() })}\n`);
    if ((await this.#objects.putIfAbsent(this.#storeMarkerKey(), body)) === 'exists') {
      throw fail('ALREADY_EXISTS', `an S3 chunk store exists already at ${this.location}`, { location: this.location });
    }
    await this.#fs.mkdir(this.#markerDir, { recursive: true, mode: 0o700 });
  }

  async open(): Promise<void> {
    if ((await this.#objects.head(this.#storeMarkerKey())) === undefined) {
      throw fail('NOT_FOUND', `no S3 chunk store at ${this.location}`, { location: this.location });
    }
    await this.#fs.mkdir(this.#markerDir, { recursive: true, mode: 0o700 });
  }

  async put(digest: string, bytes: Uint8Array, options: PutOptions): Promise<void | 'unchanged'> {
    checkDigest(digest);
    const pending = this.#deferred.bytesOf(digest);
    if (pending !== undefined && !options.durable && sameBytes(pending, bytes)) {
      // A PUT of these very bytes is under way (another session's upload): mark, and let it land.
      // Should it fail, every session's settle() fails with it (deferred puts, chunk-backend.ts).
      await this.#setMarker(digest, undefined);
      return 'unchanged';
    }
    await this.#deferred.settled(digest);
    if (options.durable || !this.#deferred.enabled) {
      await this.#putObject(digest, bytes, options.sha256);
      await this.#setMarker(digest, undefined);
      return;
    }
    await this.#setMarker(digest, undefined); // before the key answers as stored: GC sees it new
    // The caller's buffer (an upload slot) is reused once put resolves, so the pending PUT needs
    // its own copy; in one of a fixed set of shared buffers, reused from PUT to PUT (a fresh
    // SharedArrayBuffer per chunk, seen by the hashing worker, lived until both threads' GCs ran:
    // a 1 GiB ingest held ~1 GiB of them).
    const lease = bytes.byteLength <= this.#copies.capacity ? await this.#copies.acquire(bytes.byteLength) : undefined;
    const own = lease?.bytes ?? sharedCopy(bytes);
    if (lease) copyBytes(own, bytes); // native memcpy: V8's copy into shared memory is 3× slower (core/byte-copy.ts)
    await this.#deferred.start(digest, own, () =>
      this.#putObject(digest, own, options.sha256).then(
        () => lease?.release(),
        (e: unknown) => {
          lease?.release({ reuse: false }); // a failed request may still have a reader of it
          throw e;
        },
      ),
    );
  }

  async #putObject(digest: string, bytes: Uint8Array, sha256: string | undefined): Promise<void> {
    const key = this.#objectKey(digest);
    if ((await this.#objects.putIfAbsent(key, bytes, sha256)) === 'exists') {
      const head = await this.#objects.head(key);
      if (head === undefined || head.etag !== md5Of(bytes).hex) await this.#objects.put(key, bytes, sha256);
    }
  }

  async get(key: string, into?: Uint8Array): Promise<Uint8Array> {
    const pending = this.#deferred.bytesOf(checkKey(key));
    if (pending) return pending.slice(); // a copy: the pending bytes' buffer is reused after the PUT
    const bytes = await this.#objects.get(this.#objectKey(key), into);
    if (bytes === undefined) throw fail('NOT_FOUND', `chunk ${key} is not in ${this.location}`, { key, location: this.location });
    return bytes;
  }

  async stat(key: string): Promise<ChunkObjectStat | undefined> {
    const pending = this.#deferred.bytesOf(checkKey(key));
    if (pending) return { size: pending.length, markMs: (await this.#markerTime(key)) ?? Date.now() }; // its marker: set at the put
    const head = await this.#objects.head(this.#objectKey(key));
    if (head === undefined) return undefined;
    return { size: head.size, markMs: (await this.#markerTime(key)) ?? head.lastModifiedMs };
  }

  async mark(key: string, atMs?: number): Promise<boolean> {
    checkKey(key);
    const known = this.#deferred.bytesOf(key) !== undefined || (await this.#markerTime(key)) !== undefined;
    if (!known && (await this.#objects.head(this.#objectKey(key))) === undefined) return false;
    await this.#setMarker(key, atMs);
    return true;
  }

  async remove(key: string): Promise<boolean> {
    const objectKey = this.#objectKey(checkKey(key));
    await this.#deferred.settled(key);
    const existed = (await this.#objects.head(objectKey)) !== undefined;
    if (existed) await this.#objects.delete(objectKey);
    await this.#dropMarker(key);
    return existed;
  }

  async quarantine(digest: string, _options: PutOptions): Promise<string | undefined> {
    checkDigest(digest);
    await this.#deferred.settled(digest);
    const taken = new Set(await this.quarantinedCopies(digest));
    let target = `${digest}.${MAX_BAD - 1}.bad`;
    for (let n = 0; n < MAX_BAD; n++) {
      if (!taken.has(`${digest}.${n}.bad`)) {
        target = `${digest}.${n}.bad`;
        break;
      }
    }
    if (!(await this.#objects.copy(this.#objectKey(digest), this.#objectKey(target)))) return undefined;
    await this.#objects.delete(this.#objectKey(digest));
    await this.#dropMarker(digest);
    await this.#setMarker(target, undefined);
    return target;
  }

  async quarantinedCopies(digest: string): Promise<string[]> {
    checkDigest(digest);
    const out: string[] = [];
    for await (const o of this.#objects.list(`${this.#objectKey(digest)}.`)) {
      const name = o.key.slice(o.key.lastIndexOf('/') + 1);
      if (isBadChunkName(name) && digestOfName(name) === digest) out.push(name);
    }
    return out;
  }

  /** The bucket's listing, then the pending keys it did not show (each once, see the contract). */
  async *list(): AsyncGenerator<ChunkEntry> {
    const pending = new Set(this.#deferred.keys());
    const prefix = `${this.#store}/${CHUNK_DIR}/`;
    for await (const o of this.#objects.list(prefix)) {
      const rest = o.key.slice(prefix.length);
      const slash = rest.indexOf('/');
      const name = rest.slice(slash + 1);
      const kind = isChunkName(name) ? 'chunk' : isBadChunkName(name) ? 'bad' : undefined;
      // a key that is not ours, or in the wrong prefix "directory", is not part of the store
      if (kind === undefined || rest.slice(0, slash) !== name.slice(0, 4)) continue;
      pending.delete(name);
      yield { key: name, kind, digest: digestOfName(name), size: o.size, markMs: (await this.#markerTime(name)) ?? o.lastModifiedMs };
    }
    for (const key of pending) {
      const st = await this.stat(key).catch(() => undefined);
      if (st) yield { key, kind: 'chunk', digest: key, ...st };
    }
  }

  /** Waits for the PUTs pending now; rejects when one of them failed. */
  settle(): Promise<void> {
    return this.#deferred.settle();
  }

  failedDeferredPuts(): number {
    return this.#deferred.failures;
  }

  /** Pending PUTs settled (objects are durable once acknowledged); marks: one syncfs of the cache. */
  async flush(): Promise<void> {
    await this.settle();
    if (!this.#marksSinceFlush) return;
    this.#marksSinceFlush = false;
    try {
      await this.#fs.syncfs(this.#markerDir);
    } catch (e) {
      this.#marksSinceFlush = true;
      throw e;
    }
  }

  async usage(): Promise<ChunkBackendUsage | undefined> {
    return undefined; // S3 has no capacity to report
  }

  /** The client's counters: every request of this store, its metadata mirror's included. */
  counters(): StorageCounters {
    return { ...this.#objects.counters?.() };
  }

  #storeMarkerKey(): string {
    return storeMarkerKey(this.#store);
  }

  #objectKey(key: string): string {
    return `${this.#store}/${CHUNK_DIR}/${key.slice(0, 4)}/${key}`;
  }

  #markerPath(key: string): string {
    return join(this.#markerDir, key.slice(0, 4), key);
  }

  async #markerTime(key: string): Promise<number | undefined> {
    return (await this.#fs.stat(this.#markerPath(key)))?.atimeMs;
  }

  async #setMarker(key: string, atMs: number | undefined): Promise<void> {
    const path = this.#markerPath(key);
    const dir = join(this.#markerDir, key.slice(0, 4));
    if (!this.#madeDirs.has(dir)) {
      await this.#fs.mkdir(dir, { recursive: true, mode: 0o700 });
      this.#madeDirs.add(dir);
    }
    if ((await this.#fs.stat(path)) === undefined) await atomicWrite(this.#fs, path, new Uint8Array(0), { durable: false, perm: 0o600 });
    await this.#fs.touchAtime(path, atMs);
    this.#marksSinceFlush = true;
  }

  async #dropMarker(key: string): Promise<void> {
    try {
      await this.#fs.unlink(this.#markerPath(key));
      this.#marksSinceFlush = true;
    } catch (e) {
      if (!isHoldfastError(e, 'NOT_FOUND')) throw e;
    }
  }
}

/**
 * A copy in shared memory: the PUT's hashing worker (s3-payload-hash.ts) then reads it in place
 * instead of being sent a second copy (a 4 MiB copy per chunk is garbage the main thread collects).
 */
function sharedCopy(bytes: Uint8Array): Uint8Array {
  const copy = new Uint8Array(new SharedArrayBuffer(bytes.byteLength));
  copyBytes(copy, bytes);
  return copy;
}

function checkDigest(digest: string): string {
  if (!isChunkName(digest)) throw fail('INVALID_ARGUMENT', `'${digest.slice(0, 80)}' is not a chunk digest (64 lower-case hex)`, { key: digest.slice(0, 80) });
  return digest;
}

function checkKey(key: string): string {
  if (!isChunkName(key) && !isBadChunkName(key)) throw fail('INVALID_ARGUMENT', `'${key.slice(0, 80)}' is not a key of this chunk store`, { key: key.slice(0, 80) });
  return key;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}
