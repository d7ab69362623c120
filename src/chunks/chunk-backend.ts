/**
 * The chunk-backend port: where a datastore's chunk bytes live. `ChunkStore` keeps the rules
 * (dedup, CRC checks, the poisoning rule, per-digest locking) and reaches storage only through
 * this port; GC, verify and admin never build a chunk path. Adapters: `LocalChunkBackend` (the
 * PBS `.chunks/XXXX/` layout on the `Fs` port), `MemoryChunkBackend` (tests), and S3.
 *
 * Keys. A chunk's key is its digest as 64 lowercase hex characters. `list()` also yields keys of
 * quarantined copies (`kind: 'bad'`) and of debris (`kind: 'temp'`: interrupted writes); their
 * spelling is the adapter's own, and callers only pass them back to `stat`, `mark` and `remove`.
 *
 * Contract (every adapter; test/contract/chunk-backend.contract.ts checks it):
 * - Errors are HoldfastErrors. `get` of a missing key is NOT_FOUND; a read shorter than the stored
 *   object is an error, never a short result. A failed sync/upload rejects (SYNC_FAILED, IO_ERROR);
 *   an adapter never retries a failed durable write and then reports success for it.
 * - A put is atomic: a reader sees no object, the old one or the complete new one, never a part.
 *   `put` replaces an existing object of that key (ChunkStore uses this to repair broken copies).
 * - Durability: `put(…, { durable: true })` and `quarantine(…, { durable: true })` resolve only
 *   when the result survives a power loss. Non-durable puts, marks, removes and quarantines become
 *   durable at the next `flush()` that starts after they resolved.
 * - Deferred puts (an adapter with `settle`; S3): a non-durable put may resolve before the storage
 *   has the object, its write still pending. From then on the adapter answers for the key as if
 *   stored (stat, get, mark, list; GC sees it marked now, so never sweeps it). `settle()` and
 *   `flush()` wait for every put pending when they start. A pending write that fails is undone:
 *   the key is missing again (a later put stores it anew), the failure is counted in
 *   `failedDeferredPuts()`, and a `settle`/`flush` that waited for it rejects. A caller that may
 *   have relied on the key (a backup that wrote it or deduplicated against it) compares the count
 *   from its start with the count after its barrier: a write may fail before any barrier waits.
 * - `list()` yields every key stored when it started and not removed while it ran exactly once,
 *   in no particular order; keys added or removed while it runs may or may not appear (once).
 * - Marks: `mark(key)` records "in use now"; `stat(key).markMs` is the time of the last mark, or of
 *   the put when never marked. For `temp` entries `markMs` is the time they were last written.
 *   GC sweeps entries whose `markMs` is older than its cutoff, so an adapter whose marks do not
 *   stick must fail `ChunkStore.checkMarks` (the atime safety check), never lose marks silently.
 * - Methods may run concurrently for different keys. For one key the caller (ChunkStore's
 *   KeyedMutex) serialises; still, concurrent puts of the same digest and bytes must both resolve
 *   and leave one intact object.
 */

/** The kinds of entry a backend holds: live chunks, quarantined copies, and debris. */
export const CHUNK_ENTRY_KINDS = ['chunk', 'bad', 'temp'] as const;
export type ChunkEntryKind = (typeof CHUNK_ENTRY_KINDS)[number];

export interface ChunkObjectStat {
  /** stored size in bytes (the encoded DataBlob) */
  readonly size: number;
  /** ms since the epoch of the last mark (see the contract) */
  readonly markMs: number;
}

export interface ChunkEntry extends ChunkObjectStat {
  readonly key: string;
  readonly kind: ChunkEntryKind;
  /** the chunk digest (hex) this entry holds a copy of; undefined for debris */
  readonly digest: string | undefined;
}

export interface PutOptions {
  /** resolve only when the bytes survive a power loss (local: fsync file and directory) */
  readonly durable: boolean;
  /**
   * A barrier (`flush`) will have to make these bytes durable: start them on their way to the
   * device now, without waiting (local: sync_file_range), so the barrier has less left to do. A
   * hint; it promises nothing.
   */
  readonly writeback?: boolean;
  /**
   * The SHA-256 (lowercase hex) of exactly `bytes`, when the caller has it (`wantsSha256`): the
   * backend uses it instead of hashing the bytes again. It must be right: S3 checks the signed
   * payload hash against the body and refuses a PUT whose bytes differ, so a wrong value fails
   * the put; it never stores other bytes.
   */
  readonly sha256?: string;
}

/** Space of the storage under the store, for status pages; bytes. */
export interface ChunkBackendUsage {
  readonly total: number;
  readonly used: number;
  readonly avail: number;
}

/**
 * Request and byte counters of a backend that bills per request (S3: get, put, post, head,
 * delete, uploadBytes, downloadBytes) and of the cache in front of it (cacheHits, cacheMisses).
 * Monotonic since the backend was made.
 */
export type StorageCounters = Readonly<Record<string, number>>;

export type InitProgress = (done: number, total: number) => void;

export interface ChunkBackend {
  /** Where the chunks are, for messages (a directory, a bucket URL). */
  readonly location: string;
  /**
   * What `flush()` covers. 'filesystem': it syncs the whole filesystem that holds the datastore's
   * base directory (local), so it also makes the datastore's metadata durable. 'store': only this
   * backend's objects; the datastore must sync its own metadata separately.
   */
  readonly flushScope: 'filesystem' | 'store';
  /**
   * True when `put` leaves an existing object with the same bytes alone by itself (a conditional
   * write), marks the object now whether or not it wrote it, and a `stat` costs a request: then
   * ChunkStore.insert stores a verified (unencrypted, digest-checked) chunk without looking first,
   * since what it would decide from a look (keep an identical copy, replace a broken, encrypted or
   * otherwise different one) is what such a `put` does. S3: If-None-Match, then an ETag comparison.
   * Encrypted uploads are always looked at first: they must never displace a verified copy.
   */
  readonly putSkipsIdentical?: boolean;

  /**
   * Whether `put` hashes the bytes it stores (S3: the SigV4 payload SHA-256 of the PUT), so that a
   * caller who computes that hash anyway, more cheaply, should pass it as `PutOptions.sha256`. The
   * server's chunk check does: it reads every byte of an upload already (chunk-check.ts).
   */
  readonly wantsSha256?: boolean;

  /**
   * Creates an empty store (local: `.chunks` and its 65536 prefix dirs), durably whatever the sync
   * level. ALREADY_EXISTS when a store is there; on failure removes what it made.
   */
  init(onProgress?: InitProgress): Promise<void>;
  /** Checks that a store exists and can be used; NOT_FOUND when there is none. */
  open(): Promise<void>;

  /**
   * Stores `bytes` under `digest` atomically, replacing any existing object (see contract). The
   * bytes are borrowed for the call only: once the promise settles the caller reuses the buffer
   * (upload slots, a puller's download buffers), so an adapter that still needs them later (an
   * upload it lets run on) must copy them first. May resolve 'unchanged' when the adapter knows
   * without a request that the object holds (or a pending put will store) these very bytes.
   */
  put(digest: string, bytes: Uint8Array, options: PutOptions): Promise<void | 'unchanged'>;
  /**
   * The whole stored object; NOT_FOUND when missing. With `into`, an object that fits may be read
   * into it (the result is then a view of it); an adapter may ignore `into`.
   */
  get(key: string, into?: Uint8Array): Promise<Uint8Array>;
  /**
   * Like `get`, but the bytes as the authoritative storage holds them, past any cache in front of
   * it (verify judges the stored chunk, not a copy). Absent: `get` is already that.
   */
  getStored?(key: string): Promise<Uint8Array>;
  /**
   * undefined when missing; IO_ERROR with `details.notObject: true` when the key holds something
   * that is not an object (local: a directory where a chunk file belongs).
   */
  stat(key: string): Promise<ChunkObjectStat | undefined>;
  /** Records a mark at now (or at `atMs`, for the safety check); false when the key is missing. */
  mark(key: string, atMs?: number): Promise<boolean>;
  /** Removes the entry; resolves false when it was already gone. Durable at the next flush. */
  remove(key: string): Promise<boolean>;
  /**
   * Moves chunk `digest` aside as a quarantined copy (local: `<digest>.<n>.bad`, n the first free
   * of 0..9, .9 overwritten when all exist) so the next put of the digest stores a fresh copy.
   * Resolves the new entry's key, or undefined when the chunk was missing.
   */
  quarantine(digest: string, options: PutOptions): Promise<string | undefined>;
  /** Keys of the quarantined copies of `digest` (GC keeps them while the chunk is missing). */
  quarantinedCopies(digest: string): Promise<string[]>;
  /** Every entry, each key once (see contract). */
  list(): AsyncIterable<ChunkEntry>;
  /** The durability barrier: everything that resolved before the call is durable when it resolves. */
  flush(): Promise<void>;
  /**
   * The write barrier of an adapter with deferred puts (see contract): resolves when every put
   * that resolved before the call is stored or undone and counted (see the contract; not
   * necessarily durable: that is `flush`); rejects when a write it waited for failed. Absent:
   * puts complete as they resolve.
   */
  settle?(): Promise<void>;
  /** How many deferred puts failed since the adapter was made (see contract); absent: none can. */
  failedDeferredPuts?(): number;
  /** Space of the underlying storage, or undefined when it cannot say. */
  usage(): Promise<ChunkBackendUsage | undefined>;
  /** Request and byte counters, for backends that have them (see StorageCounters). */
  counters?(): StorageCounters;
}
