/**
 * Reads a snapshot's dynamic-index archive (`.didx`) server-side, through the chunk store: the
 * plaintext as a stream, from any offset. This is what file browsing and single-file downloads
 * stand on (server/pxar-browse/).
 *
 * Invariants:
 * - memory is bounded by one chunk (≤ 16 MiB) whatever the archive's size: chunks are read, proven
 *   and yielded one at a time, never gathered;
 * - every chunk is proven against its digest and index size (DIGEST_MISMATCH / SIZE_MISMATCH), so
 *   a damaged store never hands out wrong bytes as a file;
 * - an encrypted archive is refused with KEY_REQUIRED before any chunk is read: the server never
 *   holds a client's key.
 */
import type { SnapshotRef } from '../core/backup-ref.ts';
import { toHex } from '../core/digest.ts';
import { fail, isHoldfastError } from '../core/errors.ts';
import { decodeChunk } from '../format/blob.ts';
import { dynamicChunkStart, parseDynamicIndex, type DynamicEntry } from '../format/dynamic-index.ts';
import type { Datastore } from './datastore.ts';

export class ArchiveReader {
  readonly name: string;
  readonly #store: Datastore;
  readonly #entries: readonly DynamicEntry[];

  private constructor(store: Datastore, name: string, entries: readonly DynamicEntry[]) {
    this.#store = store;
    this.name = name;
    this.#entries = entries;
  }

  /** Opens `fileName` (a `.didx` listed in the snapshot's manifest, not encrypted). */
  static async open(store: Datastore, ref: SnapshotRef, fileName: string): Promise<ArchiveReader> {
    if (!fileName.endsWith('.didx')) throw fail('INVALID_ARGUMENT', `'${fileName}' is not a dynamic-index archive`, { archive: fileName });
    const manifest = await store.readManifest(ref);
    const file = manifest.files.find((f) => f.filename === fileName);
    if (file === undefined) throw fail('NOT_FOUND', `snapshot ${store.show(ref)} has no archive '${fileName}'`, { archive: fileName });
    if (file.cryptMode === 'encrypt') throw fail('KEY_REQUIRED', `archive '${fileName}' is encrypted; only a client with the key can read it`, { archive: fileName });
    const index = parseDynamicIndex(await store.readSnapshotFile(ref, fileName));
    return new ArchiveReader(store, fileName, index.entries);
  }

  get size(): number {
    return this.#entries.at(-1)?.end ?? 0;
  }

  /** The plaintext from `start` (default 0) to the end, one chunk (or its tail) per piece. */
  async *stream(start = 0): AsyncGenerator<Uint8Array> {
    if (!Number.isSafeInteger(start) || start < 0 || start > this.size) throw fail('CORRUPT', `offset ${start} is outside the archive '${this.name}'`, { offset: start, size: this.size });
    for (let i = this.#first(start); i < this.#entries.length; i++) {
      const data = await this.#chunk(i);
      const skip = Math.max(0, start - dynamicChunkStart(this.#entries, i));
      yield skip === 0 ? data : data.subarray(skip);
    }
  }

  /** Exactly `length` bytes from `start`; TRUNCATED when the archive ends first. */
  async *range(start: number, length: number): AsyncGenerator<Uint8Array> {
    if (start + length > this.size) throw fail('TRUNCATED', `archive '${this.name}' ends before ${start + length}`, { size: this.size });
    let left = length;
    if (left === 0) return;
    for await (const piece of this.stream(start)) {
      const take = Math.min(left, piece.length);
      yield take === piece.length ? piece : piece.subarray(0, take);
      left -= take;
      if (left === 0) return;
    }
  }

  /** Index of the chunk holding `offset` (binary search on the chunk ends). */
  #first(offset: number): number {
    let lo = 0;
    let hi = this.#entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.#entries[mid]?.end ?? 0) <= offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  async #chunk(i: number): Promise<Uint8Array> {
    const e = this.#entries[i];
    if (e === undefined) throw fail('INTERNAL', `chunk ${i} out of range`);
    const hex = toHex(e.digest);
    let blob: Uint8Array;
    try {
      blob = await this.#store.chunks.read(hex);
    } catch (err) {
      if (isHoldfastError(err, 'NOT_FOUND')) throw fail('MISSING_CHUNK', `chunk ${hex} of '${this.name}' is missing from the datastore`, { digest: hex, archive: this.name });
      throw err;
    }
    return decodeChunk(blob, { digest: e.digest, size: e.end - dynamicChunkStart(this.#entries, i) });
  }
}
