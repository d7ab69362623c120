/**
 * ChunkStore: the content-addressed store of DataBlob chunks under `<base>/.chunks`.
 *
 * Layout (PBS-compatible): `.chunks/XXXX/<64 hex digest>`, with the 65536 prefix dirs `0000`..`ffff`
 * created up front; `<digest>.<n>.bad` for chunks verify quarantined; `<digest>.tmp_<rand>` for
 * in-flight inserts (leftovers after a crash are ignored by readers and swept by GC).
 *
 * Invariants:
 * - A chunk file appears under its final name only by rename of a fully written temp file.
 * - At `file` level the temp file is fsynced before the rename and the prefix dir after it, so an
 *   insert that returned is durable. At other levels nothing is synced here.
 * - Insert, touch, sweep-unlink and the quarantine rename of one digest never interleave
 *   (KeyedMutex), so GC cannot unlink a chunk between an insert's dedup check and its touch.
 * - Beyond upstream: an existing chunk that is empty, shorter than its blob header or fails its
 *   CRC is broken and is replaced by the new copy, with a warning. Upstream repairs only empty ones.
 * - Chunk poisoning: the server can check an unencrypted chunk against its digest, never an
 *   encrypted one. So an unencrypted upload (checked by the caller) atomically replaces a stored
 *   encrypted copy, with a warning: otherwise anyone could upload garbage "encrypted" under the
 *   digest of data another user backs up later, and that user's backups would fail until GC.
 *   Never the reverse: an encrypted upload does not displace a verified unencrypted copy.
 */
import { join } from 'node:path';
import { fail, isHoldfastError } from '../core/errors.ts';
import { KeyedMutex } from '../core/keyed-mutex.ts';
import type { Logger } from '../core/log.ts';
import type { WritePolicy } from '../core/sync-level.ts';
import { blobHeader, verifyBlobCrc } from '../format/blob.ts';
import { atomicWrite, isTempName } from '../storage/atomic-write.ts';
import type { Fs } from '../storage/fs-port.ts';
import { chunkPath, CHUNK_DIR, prefixDirs, isChunkName, isBadChunkName } from './chunk-path.ts';

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
  readonly fs: Fs;
  readonly base: string;
  readonly policy: () => WritePolicy;
  readonly log: Logger;
}

export class ChunkStore {
  readonly #deps: ChunkStoreDeps;
  readonly mutex = new KeyedMutex();

  constructor(deps: ChunkStoreDeps) {
    this.#deps = deps;
  }

  get base(): string {
    return this.#deps.base;
  }

  pathOf(digestHex: string): string {
    return chunkPath(this.#deps.base, digestHex);
  }

  /**
   * Stores `blob` (an encoded DataBlob whose CRC is already right) under `digestHex`. The caller
   * has checked digest and size against the plaintext where it could (unencrypted chunks): an
   * unencrypted `blob` counts as verified, and so replaces a stored encrypted copy.
   */
  async insert(digestHex: string, blob: Uint8Array): Promise<InsertResult> {
    return this.mutex.run(digestHex, async () => {
      const path = this.pathOf(digestHex);
      const existing = await this.#deps.fs.stat(path);
      if (existing && !existing.isFile) {
        throw fail('IO_ERROR', `chunk path ${path} exists but is not a regular file`, { path });
      }
      let repaired = false;
      if (existing) {
        const found = await this.#inspect(path, existing.size);
        if (found.state === 'intact' && !replacesUnverified(found.encrypted, blob)) {
          this.#checkCryptClash(digestHex, found.encrypted, blob);
          await this.#deps.fs.touchAtime(path);
          return { duplicate: true, size: existing.size, repaired: false };
        }
        if (found.state === 'intact') this.#deps.log.warn(`chunk ${digestHex} was stored encrypted (unverifiable); replacing it with a verified unencrypted upload`);
        else this.#deps.log.warn(`found broken chunk ${digestHex} (${existing.size} bytes) in ${this.#deps.base}, overwriting`);
        repaired = true;
      }
      await atomicWrite(this.#deps.fs, path, blob, { durable: this.#deps.policy().fsyncChunks });
      return { duplicate: false, size: blob.length, repaired };
    });
  }

  /** Raw blob bytes of a chunk; NOT_FOUND when missing. The caller checks CRC/digest. */
  async read(digestHex: string): Promise<Uint8Array> {
    return this.#deps.fs.readFile(this.pathOf(digestHex));
  }

  /** Whether a chunk is stored and passes its CRC; used to decide re-uploads after a crash. */
  async state(digestHex: string): Promise<ChunkState> {
    const path = this.pathOf(digestHex);
    const st = await this.#deps.fs.stat(path);
    if (!st) return 'missing';
    if (!st.isFile) return 'broken';
    return (await this.#inspect(path, st.size)).state;
  }

  /** Updates the atime of a chunk (GC mark, dedup). Returns false when the chunk is missing. */
  async touch(digestHex: string): Promise<boolean> {
    return this.mutex.run(digestHex, async () => {
      try {
        await this.#deps.fs.touchAtime(this.pathOf(digestHex));
        return true;
      } catch (e) {
        if (isHoldfastError(e, 'NOT_FOUND')) return false;
        throw e;
      }
    });
  }

  /**
   * Renames a corrupt chunk to `<digest>.<n>.bad` (first free n of 0..9; .9 is overwritten when all
   * exist) so the next upload of that digest stores a fresh copy. Returns the new name, or
   * undefined when the chunk was already gone.
   */
  async quarantine(digestHex: string): Promise<string | undefined> {
    return this.mutex.run(digestHex, async () => {
      const path = this.pathOf(digestHex);
      if (!(await this.#deps.fs.stat(path))) return undefined;
      let target = `${path}.9.bad`;
      for (let n = 0; n < 10; n++) {
        const candidate = `${path}.${n}.bad`;
        if (!(await this.#deps.fs.stat(candidate))) {
          target = candidate;
          break;
        }
      }
      await this.#deps.fs.rename(path, target);
      if (this.#deps.policy().fsyncChunks) await this.#deps.fs.fsyncDir(join(this.#deps.base, CHUNK_DIR, digestHex.slice(0, 4)));
      return target;
    });
  }

  /**
   * Yields every chunk-store entry: chunks, `.bad` files and leftover temp files, prefix dir by
   * prefix dir in `0000`..`ffff` order. A missing prefix dir is skipped.
   */
  async *entries(): AsyncGenerator<{ readonly name: string; readonly path: string; readonly kind: 'chunk' | 'bad' | 'temp' }> {
    for (const prefix of prefixDirs()) {
      const dir = join(this.#deps.base, CHUNK_DIR, prefix);
      let names: string[];
      try {
        names = await this.#deps.fs.readdir(dir);
      } catch (e) {
        if (isHoldfastError(e, 'NOT_FOUND')) continue;
        throw e;
      }
      for (const name of names) {
        const kind = isChunkName(name) ? 'chunk' : isBadChunkName(name) ? 'bad' : isTempName(name) ? 'temp' : undefined;
        if (kind) yield { name, path: join(dir, name), kind };
      }
    }
  }

  async #inspect(path: string, size: number): Promise<{ state: ChunkState; encrypted: boolean }> {
    if (size < 12) return { state: 'broken', encrypted: false };
    try {
      const bytes = await this.#deps.fs.readFile(path);
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
