/**
 * ChunkStore: the content-addressed store of DataBlob chunks, over a ChunkBackend (the local
 * `.chunks/XXXX/` layout, memory, S3). It keeps the rules; where the bytes live is the backend's.
 *
 * Invariants:
 * - A chunk appears only by the backend's atomic put. The put is durable on its own when
 *   `durableWrites()` says so (the `file` level); otherwise the backup's barrier (`flush`) makes it
 *   durable before the manifest that references it.
 * - Insert, mark, sweep removal and quarantine of one digest never interleave (KeyedMutex), so GC
 *   cannot remove a chunk between an insert's dedup check and its mark.
 * - Beyond upstream: an existing chunk that is empty, shorter than its blob header or fails its
 *   CRC is broken and is replaced by the new copy, with a warning. Upstream repairs only empty ones.
 * - Chunk poisoning: the server can check an unencrypted chunk against its digest, never an
 *   encrypted one. So an unencrypted upload (checked by the caller) atomically replaces a stored
 *   encrypted copy, with a warning: otherwise anyone could upload garbage "encrypted" under the
 *   digest of data another user backs up later, and that user's backups would fail until GC.
 *   Never the reverse: an encrypted upload does not displace a verified unencrypted copy.
 * - The mark safety check (`checkMarks`, PBS `gc-atime-safety-check`): GC sweeps entries whose
 *   mark is old, so on storage that silently drops marks (some FUSE and network mounts drop
 *   explicit atime updates) it would delete live chunks. Before GC, and when a datastore is
 *   created, we prove marks stick on a real chunk (the all-zero 4 MiB chunk): set an old mark and
 *   read it back, then mark it now and read again. Unlike upstream this needs no one-second sleep;
 *   a backend that drops marks fails the first step, one with coarse timestamps still passes the
 *   second. `noatime`/`relatime` do not matter: they govern implicit atime updates on read.
 */
import { fail, isHoldfastError } from '../core/errors.ts';
import { KeyedMutex } from '../core/keyed-mutex.ts';
import { sha256, toHex } from '../core/digest.ts';
import type { Logger } from '../core/log.ts';
import { blobHeader, encodeBlob, verifyBlobCrc } from '../format/blob.ts';
import type { ChunkBackend, ChunkBackendUsage, ChunkEntry, ChunkObjectStat, PutOptions } from './chunk-backend.ts';

export interface InsertResult {
  /** true when an intact copy was already stored and only its atime was touched */
  readonly duplicate: boolean;
  /** the size of the stored file */
  readonly size: number;
  /** true when a broken existing copy, or an unverifiable (encrypted) one, was replaced */
  readonly repaired: boolean;
}

export type ChunkState = 'missing' | 'broken' | 'intact';

export interface ChunkStoreDeps {
  readonly backend: ChunkBackend;
  /** whether each chunk put must be durable on its own (the sync level's decision) */
  readonly durableWrites: () => boolean;
  /** whether a barrier will follow that needs new chunks on the device (PutOptions.writeback) */
  readonly writebackWrites?: () => boolean;
  readonly log: Logger;
}

const ZERO_CHUNK_SIZE = 4 * 1024 * 1024;
const OLD_MARK_MS = 1_000_000_000_000; // 2001-09-09

export class ChunkStore {
  readonly #deps: ChunkStoreDeps;
  readonly #backend: ChunkBackend;
  readonly mutex = new KeyedMutex();

  constructor(deps: ChunkStoreDeps) {
    this.#deps = deps;
    this.#backend = deps.backend;
  }

  /** Where the chunks are, for messages. */
  get location(): string {
    return this.#backend.location;
  }

  /** Whether `insert` would use the blob's SHA-256 (the backend hashes what it stores; see ChunkBackend.wantsSha256). */
  get wantsBlobSha256(): boolean {
    return this.#backend.wantsSha256 === true;
  }

  /**
   * Stores `blob` (an encoded DataBlob whose CRC is already right) under `digestHex`. The caller
   * has checked digest and size against the plaintext where it could (unencrypted chunks): an
   * unencrypted `blob` counts as verified, and so replaces a stored encrypted copy. `blobSha256`,
   * when given, is the SHA-256 of exactly `blob` (PutOptions.sha256).
   */
  async insert(digestHex: string, blob: Uint8Array, blobSha256?: string): Promise<InsertResult> {
    return this.mutex.run(digestHex, async () => {
      const putOptions: PutOptions = {
        durable: this.#deps.durableWrites(),
        writeback: this.#deps.writebackWrites?.() ?? false,
        ...(blobSha256 !== undefined ? { sha256: blobSha256 } : {}),
      };
      if (this.#backend.putSkipsIdentical === true && !blobHeader(blob).encrypted) {
        // A verified upload on a backend whose put decides as we would (keep identical, replace
        // anything else) and whose stat is a request: no look first. Counted as a duplicate only
        // when the backend knew without a request (a pending PUT of the same bytes); one the
        // object store already held counts as new in the upload statistics.
        const unchanged = (await this.#backend.put(digestHex, blob, putOptions)) === 'unchanged';
        return { duplicate: unchanged, size: blob.length, repaired: false };
      }
      const existing = await this.#backend.stat(digestHex);
      let repaired = false;
      if (existing) {
        const found = await this.#inspect(digestHex, existing.size);
        if (found.state === 'intact' && !replacesUnverified(found.encrypted, blob)) {
          this.#checkCryptClash(digestHex, found.encrypted, blob);
          await this.#backend.mark(digestHex);
          return { duplicate: true, size: existing.size, repaired: false };
        }
        if (found.state === 'intact') this.#deps.log.warn(`chunk ${digestHex} was stored encrypted (unverifiable); replacing it with a verified unencrypted upload`);
        else this.#deps.log.warn(`found broken chunk ${digestHex} (${existing.size} bytes) in ${this.#backend.location}, overwriting`);
        repaired = true;
      }
      await this.#backend.put(digestHex, blob, putOptions);
      return { duplicate: false, size: blob.length, repaired };
    });
  }

  /**
   * Raw blob bytes of a chunk; NOT_FOUND when missing. The caller checks CRC/digest. With `into`,
   * the bytes may be read into it (see ChunkBackend.get).
   */
  async read(digestHex: string, into?: Uint8Array): Promise<Uint8Array> {
    return this.#backend.get(digestHex, into);
  }

  /** Raw blob bytes as the storage holds them, past any cache (verify); NOT_FOUND when missing. */
  async readStored(digestHex: string): Promise<Uint8Array> {
    return this.#backend.getStored ? this.#backend.getStored(digestHex) : this.#backend.get(digestHex);
  }

  /** Whether a chunk is stored and passes its CRC; used to decide re-uploads after a crash. */
  async state(digestHex: string): Promise<ChunkState> {
    let st: ChunkObjectStat | undefined;
    try {
      st = await this.#backend.stat(digestHex);
    } catch (e) {
      if (isHoldfastError(e, 'IO_ERROR') && e.details['notObject'] === true) return 'broken';
      throw e;
    }
    if (!st) return 'missing';
    return (await this.#inspect(digestHex, st.size)).state;
  }

  /** Marks a chunk in use (GC phase 1, dedup). Returns false when the chunk is missing. */
  async touch(digestHex: string): Promise<boolean> {
    return this.mutex.run(digestHex, () => this.#backend.mark(digestHex));
  }

  /** Marks the quarantined copies of a chunk: while it is missing they may be all that is left. */
  async touchQuarantined(digestHex: string): Promise<void> {
    await this.mutex.run(digestHex, async () => {
      for (const key of await this.#backend.quarantinedCopies(digestHex)) await this.#backend.mark(key);
    });
  }

  /**
   * Moves a corrupt chunk aside (local: `<digest>.<n>.bad`) so the next upload of that digest
   * stores a fresh copy. Returns the copy's key, or undefined when the chunk was already gone.
   */
  async quarantine(digestHex: string): Promise<string | undefined> {
    return this.mutex.run(digestHex, () => this.#backend.quarantine(digestHex, { durable: this.#deps.durableWrites() }));
  }

  /** Every entry of the store: chunks, quarantined copies and debris, each once. */
  list(): AsyncIterable<ChunkEntry> {
    return this.#backend.list();
  }

  /**
   * GC's sweep of one listed entry: removes it if its mark is still older than `cutoffMs`,
   * re-checked under the digest's lock so a concurrent insert or mark wins. Resolves what was
   * found, and whether it went; undefined when the entry is gone (or is not an object).
   */
  async sweep(entry: ChunkEntry, cutoffMs: number): Promise<{ readonly removed: boolean; readonly stat: ChunkObjectStat } | undefined> {
    return this.mutex.run(entry.digest ?? entry.key, async () => {
      const stat = await this.#backend.stat(entry.key).catch((e: unknown) => {
        if (isHoldfastError(e, 'IO_ERROR') && e.details['notObject'] === true) return undefined;
        throw e;
      });
      if (!stat) return undefined;
      if (stat.markMs >= cutoffMs) return { removed: false, stat };
      return (await this.#backend.remove(entry.key)) ? { removed: true, stat } : undefined;
    });
  }

  /** The durability barrier for chunk puts and removals (see ChunkBackend.flush). */
  async flush(): Promise<void> {
    await this.#backend.flush();
  }

  /** Space of the storage under the store, or undefined when the backend cannot say. */
  async usage(): Promise<ChunkBackendUsage | undefined> {
    return this.#backend.usage();
  }

  /** The mark safety check (module note); ATIME_UNSUPPORTED when marks do not stick. */
  async checkMarks(): Promise<void> {
    const zero = new Uint8Array(ZERO_CHUNK_SIZE);
    const digest = toHex(sha256(zero));
    await this.insert(digest, encodeBlob(zero, { compress: true }));
    const { old, now } = await this.mutex.run(digest, async () => {
      await this.#backend.mark(digest, OLD_MARK_MS);
      const before = await this.#backend.stat(digest);
      await this.#backend.mark(digest);
      return { old: before, now: await this.#backend.stat(digest) };
    });
    if (!old || !now || Math.abs(old.markMs - OLD_MARK_MS) > 1000 || now.markMs <= old.markMs) {
      throw fail(
        'ATIME_UNSUPPORTED',
        `the storage of ${this.#backend.location} does not store explicit atime updates; garbage collection would delete live chunks (set gc-atime-safety-check=false only if you know better)`,
        { path: this.#backend.location, chunk: digest, set: OLD_MARK_MS, read: old?.markMs },
      );
    }
  }

  async #inspect(digestHex: string, size: number): Promise<{ state: ChunkState; encrypted: boolean }> {
    if (size < 12) return { state: 'broken', encrypted: false };
    try {
      const bytes = await this.#backend.get(digestHex);
      verifyBlobCrc(bytes);
      return { state: 'intact', encrypted: blobHeader(bytes).encrypted };
    } catch (e) {
      if (isHoldfastError(e, 'NOT_FOUND')) return { state: 'missing', encrypted: false };
      if (isHoldfastError(e) && BROKEN_CODES.has(e.code)) return { state: 'broken', encrypted: false };
      throw e;
    }
  }

  /** Upstream's clash rule: an encrypted upload must not dedup against an unencrypted chunk. */
  #checkCryptClash(digestHex: string, storedEncrypted: boolean, incoming: Uint8Array): void {
    const incomingEncrypted = blobHeader(incoming).encrypted;
    if (storedEncrypted !== incomingEncrypted) {
      throw fail('CORRUPT', `chunk ${digestHex} is stored ${storedEncrypted ? 'encrypted' : 'unencrypted'} but was uploaded ${incomingEncrypted ? 'encrypted' : 'unencrypted'}`, {
        digest: digestHex,
      });
    }
  }
}

/** A verified (unencrypted) upload displaces an unverifiable (encrypted) stored copy. */
function replacesUnverified(storedEncrypted: boolean, incoming: Uint8Array): boolean {
  return storedEncrypted && !blobHeader(incoming).encrypted;
}

const BROKEN_CODES: ReadonlySet<string> = new Set(['BAD_CRC', 'BAD_MAGIC', 'TRUNCATED', 'CORRUPT']);
