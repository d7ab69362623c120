/**
 * S3ChunkBackend: the ChunkBackend port (chunk-backend.ts) on an S3 bucket, one object per chunk,
 * keyed as PBS keys them: `<store>/.chunks/<first 4 hex>/<digest>`, quarantined copies beside
 * them as `<digest>.<n>.bad`. Several stores can share a bucket; each owns its `<store>/` prefix,
 * and `<store>/.holdfast-chunk-store` says that a store was made there (init/open).
 *
 * Writes. `put` is a conditional PUT (If-None-Match: *) with Content-MD5 and resolves only after
 * a 2xx, or a 412 from an object whose ETag is the MD5 of these very bytes (the same chunk stored
 * before, by us or a racing writer). A 412 from other bytes (a broken copy ChunkStore chose to
 * replace) is answered by an unconditional PUT, so `put` replaces as the port requires. A failed
 * or unknown PUT rejects (OBJECT_STORE_ERROR): nothing is acknowledged that the store did not
 * confirm. An acknowledged PUT is as durable as the object store makes it, so the `durable` flag
 * changes nothing and `flush` has no objects to wait for (flushScope 'store').
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
import { atomicWrite } from '../storage/atomic-write.ts';
import type { Fs } from '../storage/fs-port.ts';
import type { ChunkBackend, ChunkBackendUsage, ChunkEntry, ChunkObjectStat, PutOptions, StorageCounters } from './chunk-backend.ts';
import { CHUNK_DIR, digestOfName, isBadChunkName, isChunkName } from './chunk-path.ts';
import { md5Of, type S3Objects } from './s3-client.ts';

export interface S3ChunkBackendDeps {
  readonly objects: S3Objects;
  /** the datastore's name: the key prefix of everything it stores */
  readonly store: string;
  /** the local fs that holds the marker directory */
  readonly fs: Fs;
  /** local directory for GC marker files (inside the datastore's cache directory) */
  readonly markerDir: string;
}

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
  readonly #objects: S3Objects;
  readonly #fs: Fs;
  readonly #store: string;
  readonly #markerDir: string;
  readonly #madeDirs = new Set<string>();
  #marksSinceFlush = false;

  constructor(deps: S3ChunkBackendDeps) {
    if (!STORE_NAME.test(deps.store)) throw fail('INVALID_ARGUMENT', `'${deps.store}' cannot be an S3 store prefix`, { store: deps.store });
    this.#objects = deps.objects;
    this.#fs = deps.fs;
    this.#store = deps.store;
    this.#markerDir = deps.markerDir;
    this.location = `${deps.objects.location}/${deps.store}`;
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

  async put(digest: string, bytes: Uint8Array, _options: PutOptions): Promise<void> {
    checkDigest(digest);
    const key = this.#objectKey(digest);
    if ((await this.#objects.putIfAbsent(key, bytes)) === 'exists') {
      const head = await this.#objects.head(key);
      if (head === undefined || head.etag !== md5Of(bytes).hex) await this.#objects.put(key, bytes);
    }
    await this.#setMarker(digest, undefined);
  }

  async get(key: string): Promise<Uint8Array> {
    const bytes = await this.#objects.get(this.#objectKey(checkKey(key)));
    if (bytes === undefined) throw fail('NOT_FOUND', `chunk ${key} is not in ${this.location}`, { key, location: this.location });
    return bytes;
  }

  async stat(key: string): Promise<ChunkObjectStat | undefined> {
    const head = await this.#objects.head(this.#objectKey(checkKey(key)));
    if (head === undefined) return undefined;
    return { size: head.size, markMs: (await this.#markerTime(key)) ?? head.lastModifiedMs };
  }

  async mark(key: string, atMs?: number): Promise<boolean> {
    checkKey(key);
    if ((await this.#markerTime(key)) === undefined && (await this.#objects.head(this.#objectKey(key))) === undefined) return false;
    await this.#setMarker(key, atMs);
    return true;
  }

  async remove(key: string): Promise<boolean> {
    const objectKey = this.#objectKey(checkKey(key));
    const existed = (await this.#objects.head(objectKey)) !== undefined;
    if (existed) await this.#objects.delete(objectKey);
    await this.#dropMarker(key);
    return existed;
  }

  async quarantine(digest: string, _options: PutOptions): Promise<string | undefined> {
    checkDigest(digest);
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

  async *list(): AsyncGenerator<ChunkEntry> {
    const prefix = `${this.#store}/${CHUNK_DIR}/`;
    for await (const o of this.#objects.list(prefix)) {
      const rest = o.key.slice(prefix.length);
      const slash = rest.indexOf('/');
      const name = rest.slice(slash + 1);
      const kind = isChunkName(name) ? 'chunk' : isBadChunkName(name) ? 'bad' : undefined;
      // a key that is not ours, or in the wrong prefix "directory", is not part of the store
      if (kind === undefined || rest.slice(0, slash) !== name.slice(0, 4)) continue;
      yield { key: name, kind, digest: digestOfName(name), size: o.size, markMs: (await this.#markerTime(name)) ?? o.lastModifiedMs };
    }
  }

  /** Objects are durable once acknowledged; marks are made durable by one syncfs of the cache. */
  async flush(): Promise<void> {
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

function checkDigest(digest: string): string {
  if (!isChunkName(digest)) throw fail('INVALID_ARGUMENT', `'${digest.slice(0, 80)}' is not a chunk digest (64 lower-case hex)`, { key: digest.slice(0, 80) });
  return digest;
}

function checkKey(key: string): string {
  if (!isChunkName(key) && !isBadChunkName(key)) throw fail('INVALID_ARGUMENT', `'${key.slice(0, 80)}' is not a key of this chunk store`, { key: key.slice(0, 80) });
  return key;
}
