/**
 * RestoreReader: the client side of a reader session (PBS §6.3). It downloads the manifest
 * (checking its signature when a key is given), then streams an archive's plaintext in order.
 *
 * Invariant: no byte reaches the caller unless its chunk decrypted (when encrypted) and hashed to
 * the digest the index names, with the size the index implies; and the index itself matched the
 * manifest's csum and size. Restore either yields correct data or fails with a coded error; it
 * never yields wrong bytes. (A chunk's CRC is not checked: the digest already proves the chunk,
 * see DecodeChunkOptions.crc.)
 *
 * Memory: chunk answers are received into pooled buffers (BufferPool) and decoded into pooled
 * buffers (compressed or encrypted chunks); a plain chunk is yielded as a view of the buffer it
 * arrived in. The buffer the plaintext lies in then belongs to the caller and is never reused,
 * unless the caller asked to `recycle` (see `stream`); the other goes back at once.
 *
 * Decoding (digest check, zstd, decryption) runs on worker threads when `open` is asked to
 * (`workers`), which borrow both buffers by transfer (chunk-decoder.ts); `close` stops them.
 */
import { BufferPool } from '../core/buffer-pool.ts';
import { fail, HoldfastError, isHoldfastError, toHoldfastError } from '../core/errors.ts';
import { toHex } from '../core/digest.ts';
import { blobHeader, decodeBlob, ENCRYPTED_HEADER_SIZE } from '../format/blob.ts';
import { CLIENT_LOG_BLOB_NAME } from '../core/names.ts';
import type { CryptConfig } from '../format/crypt-config.ts';
import { dynamicIndexCsum, parseDynamicIndex } from '../format/dynamic-index.ts';
import { fixedIndexCsum, parseFixedIndex } from '../format/fixed-index.ts';
import { decodeManifestBlob, verifyManifestSignature, type Manifest } from '../format/manifest.ts';
import { inlineChunkDecoder, pooledChunkDecoder, type ChunkDecoder } from './chunk-decoder.ts';
import { readAheadFor, type ReadAhead } from './link-target.ts';
import type { ProtocolTransport } from './protocol-transport.ts';
import { fetchInOrder } from './read-ahead.ts';
import type { ByteRange, PositionedPiece } from '../format/pxar/ranged-payload.ts';

/** Idle receive buffers kept: about the chunks a default read-ahead keeps in flight. */
const RECEIVE_BUFFERS_KEPT = 12;

export interface ChunkRef {
  readonly digest: Uint8Array;
  readonly size: number;
}

/** A chunk and the offset of its first byte in the archive. */
interface PlacedChunk extends ChunkRef {
  readonly offset: number;
}

function withOffsets(chunks: readonly ChunkRef[]): PlacedChunk[] {
  let offset = 0;
  return chunks.map((c) => {
    const placed = { ...c, offset };
    offset += c.size;
    return placed;
  });
}

interface FetchedChunk {
  readonly data: Uint8Array;
  /** the pooled buffer `data` lives in, given back once the caller is done with it (`recycle`) */
  readonly holds?: Uint8Array;
}

export class RestoreReader {
  readonly #t: ProtocolTransport;
  readonly #crypt: CryptConfig | undefined;
  readonly #readAhead: ReadAhead;
  readonly #buffers: BufferPool;
  readonly #decoder: ChunkDecoder;
  readonly manifest: Manifest;

  private constructor(t: ProtocolTransport, manifest: Manifest, crypt: CryptConfig | undefined, readAhead: ReadAhead, workers: boolean) {
    this.#t = t;
    this.manifest = manifest;
    this.#crypt = crypt;
    this.#readAhead = readAhead;
    this.#buffers = new BufferPool(RECEIVE_BUFFERS_KEPT);
    this.#decoder = workers ? pooledChunkDecoder(crypt) : inlineChunkDecoder(crypt);
  }

  /**
   * `readAhead`: how many chunks `stream` keeps requested (default: sized for DEFAULT_LINK_TARGET).
   * `manifest`: the snapshot's manifest when the caller holds it already (a backup session's
   * `previous` download of the same snapshot), which spares a round trip; its signature is checked
   * all the same, and every index still has to match it.
   * `workers`: decode chunks on worker threads (a restore; not worth their start-up for the few
   * chunks of a previous metadata archive). The caller then calls `close` when done.
   */
  static async open(t: ProtocolTransport, crypt?: CryptConfig, o: { readonly readAhead?: ReadAhead; readonly manifest?: Manifest; readonly workers?: boolean } = {}): Promise<RestoreReader> {
    const manifest = o.manifest ?? decodeManifestBlob(await t.download('download', { 'file-name': 'index.json.blob' }));
    if (crypt && manifest.signature !== null) verifyManifestSignature(manifest, crypt);
    return new RestoreReader(t, manifest, crypt, o.readAhead ?? readAheadFor(), o.workers === true);
  }

  /** Stops the decoding workers, if any (the transport is the caller's to close). */
  close(): Promise<void> {
    return this.#decoder.close();
  }

  /** Looks an archive up by its full name (`root.pxar.didx`) or its short name (`root.pxar`). */
  fileEntry(name: string): Manifest['files'][number] {
    const f = this.manifest.files.find((x) => x.filename === name || x.filename === `${name}.didx` || x.filename === `${name}.fidx` || x.filename === `${name}.blob`);
    if (!f) throw fail('NOT_FOUND', `archive '${name}' is not in this snapshot (has ${this.manifest.files.map((x) => x.filename).join(', ')})`, { archive: name });
    // checked per archive, not per snapshot: an encrypted snapshot's rsa-encrypted.key.blob is
    // plain, so it can be fetched to recover the very key that is missing
    if (f.cryptMode === 'encrypt' && !this.#crypt) throw fail('KEY_REQUIRED', `archive ${f.filename} is encrypted; pass --keyfile`, { archive: f.filename });
    return f;
  }

  /**
   * The split archive (`NAME.mpxar.didx` + `NAME.ppxar.didx`) that `name` (`NAME.pxar`,
   * `NAME.mpxar`, `NAME.ppxar`, with or without `.didx`) names, or undefined when the snapshot
   * holds no such pair (or holds a unified `NAME.pxar.didx`, which then wins).
   */
  splitArchive(name: string): { readonly metadata: string; readonly payload: string } | undefined {
    const base = name.replace(/\.didx$/, '').replace(/\.(m|p)?pxar$/, '');
    const has = (f: string): boolean => this.manifest.files.some((x) => x.filename === f);
    if (name.replace(/\.didx$/, '').endsWith('.pxar') && has(`${base}.pxar.didx`)) return undefined;
    const metadata = `${base}.mpxar.didx`;
    const payload = `${base}.ppxar.didx`;
    return has(metadata) && has(payload) ? { metadata, payload } : undefined;
  }

  async readBlob(name: string): Promise<Uint8Array> {
    const f = this.fileEntry(name);
    const bytes = await this.#t.download('download', { 'file-name': f.filename });
    if (bytes.length !== f.size) throw fail('SIZE_MISMATCH', `${f.filename} has ${bytes.length} bytes, the manifest says ${f.size}`, { archive: f.filename });
    try {
      return decodeBlob(bytes, this.#crypt);
    } catch (e) {
      const err = toHoldfastError(e);
      throw new HoldfastError(err.code, `${f.filename}: ${err.message}`, { ...err.details, archive: f.filename }, e);
    }
  }

  /**
   * The snapshot's client log (`client.log.blob`), which is added after the backup and so is not
   * in the manifest: its CRC (and, encrypted, its tag) is all there is to check it by. NOT_FOUND
   * when the snapshot has none.
   */
  async readClientLog(): Promise<Uint8Array> {
    let bytes: Uint8Array;
    try {
      bytes = await this.#t.download('download', { 'file-name': CLIENT_LOG_BLOB_NAME });
    } catch (e) {
      if (isHoldfastError(e, 'NOT_FOUND')) throw fail('NOT_FOUND', 'this snapshot has no client log (holdfast snapshot upload-log adds one)', { archive: CLIENT_LOG_BLOB_NAME }, e);
      throw e;
    }
    if (blobHeader(bytes).encrypted && !this.#crypt) throw fail('KEY_REQUIRED', `${CLIENT_LOG_BLOB_NAME} is encrypted; pass --keyfile`, { archive: CLIENT_LOG_BLOB_NAME });
    try {
      return decodeBlob(bytes, this.#crypt);
    } catch (e) {
      const err = toHoldfastError(e);
      throw new HoldfastError(err.code, `${CLIENT_LOG_BLOB_NAME}: ${err.message}`, { ...err.details, archive: CLIENT_LOG_BLOB_NAME }, e);
    }
  }

  /** The chunk list of an index archive, checked against the manifest. */
  async chunkList(name: string): Promise<{ readonly chunks: ChunkRef[]; readonly size: number; readonly fixed: boolean }> {
    const f = this.fileEntry(name);
    const bytes = await this.#t.download('download', { 'file-name': f.filename });
    let chunks: ChunkRef[];
    let csum: Uint8Array;
    let size: number;
    const fixed = f.filename.endsWith('.fidx');
    if (fixed) {
      const idx = parseFixedIndex(bytes);
      ({ csum, size } = fixedIndexCsum(idx.digests, idx.size));
      chunks = idx.digests.map((digest, i) => ({ digest, size: Math.min(idx.chunkSize, idx.size - i * idx.chunkSize) }));
    } else {
      const entries = parseDynamicIndex(bytes).entries;
      ({ csum, size } = dynamicIndexCsum(entries));
      let start = 0;
      chunks = entries.map((e) => {
        const r = { digest: e.digest, size: e.end - start };
        start = e.end;
        return r;
      });
    }
    if (toHex(csum) !== f.csum || size !== f.size) {
      throw fail('INDEX_MISMATCH', `index ${f.filename} does not match the manifest (csum or size differ)`, { archive: f.filename });
    }
    return { chunks, size, fixed };
  }

  /**
   * Yields the archive's plaintext chunk by chunk, with chunks requested ahead as `readAhead`
   * says (enough bytes in flight to keep a long link busy; see link-target.ts).
   *
   * `recycle`: each yielded chunk is valid only until the caller asks for the next one (or ends
   * the loop); its memory is then reused for a later chunk. Only for a caller that is done with
   * every byte of a chunk, and holds no view of it, before it asks for the next (an image written
   * to a file); a pxar decoder, which keeps views across chunks, must not use it.
   */
  async *stream(name: string, readAhead: ReadAhead = this.#readAhead, o: { readonly recycle?: boolean } = {}): AsyncGenerator<Uint8Array> {
    const { chunks } = await this.chunkList(name);
    for await (const piece of this.#fetchAll(name, withOffsets(chunks), readAhead, o.recycle === true)) yield piece.bytes;
  }

  /**
   * Like `stream`, but only the chunks that hold a byte of `ranges` (byte ranges of the
   * archive's plaintext, in order and apart), each with its offset: the rest of the archive is
   * never fetched. A partial restore reads a split archive's payload this way (ranged-payload.ts).
   */
  async *streamRanges(name: string, ranges: readonly ByteRange[], o: { readonly recycle?: boolean } = {}): AsyncGenerator<PositionedPiece> {
    const { chunks } = await this.chunkList(name);
    let r = 0;
    const picked = withOffsets(chunks).filter((c) => {
      while (r < ranges.length && ranges[r]!.end <= c.offset) r++;
      return r < ranges.length && ranges[r]!.start < c.offset + c.size;
    });
    yield* this.#fetchAll(name, picked, this.#readAhead, o.recycle === true);
  }

  /**
   * One chunk of archive `name`, checked, in memory of its own (random access: archive-access.ts).
   * A chunk that fails is named by archive and digest (chunkError).
   */
  async chunk(name: string, c: ChunkRef): Promise<Uint8Array> {
    const archive = this.fileEntry(name).filename;
    try {
      return (await this.#fetchChunk(c, false)).data;
    } catch (e) {
      throw chunkError(archive, c.digest, e);
    }
  }

  /** The chunks `refs` of archive `name`, fetched ahead and yielded in order with their offsets. */
  async *#fetchAll(name: string, refs: readonly PlacedChunk[], readAhead: ReadAhead, recycle: boolean): AsyncGenerator<PositionedPiece> {
    const archive = this.fileEntry(name).filename;
    const fetchOne = (c: PlacedChunk): Promise<FetchedChunk & { readonly offset: number }> =>
      this.#fetchChunk(c, recycle).then(
        (f) => ({ ...f, offset: c.offset }),
        (e: unknown) => {
          throw chunkError(archive, c.digest, e);
        },
      );
    for await (const chunk of fetchInOrder(refs, fetchOne, readAhead)) {
      yield { offset: chunk.offset, bytes: chunk.data };
      if (chunk.holds !== undefined) this.#buffers.give(chunk.holds); // the caller asked for the next
    }
  }

  /**
   * One chunk, checked. Its blob is at most the plaintext plus the largest header (compression is
   * only kept when it does not grow the data), so it fits the buffer taken for it. On failure the
   * buffers are dropped, not reused: nothing then proves the transport is done writing into them.
   * The buffer the plaintext lies in goes to the caller (with `recycle`, back to the pool once the
   * caller is done: `holds`); the other one goes back at once.
   */
  async #fetchChunk(c: ChunkRef, recycle: boolean): Promise<FetchedChunk> {
    const into = this.#buffers.take(c.size + ENCRYPTED_HEADER_SIZE);
    let raw = await this.#t.download('chunk', { digest: toHex(c.digest) }, into);
    if (raw.buffer !== into.buffer) {
      // the transport gathered the answer itself (longer than announced, or not announced): its
      // memory may be shared with other Buffers, so it is copied into one the decoder may take
      this.#buffers.give(into);
      const own = this.#buffers.take(raw.length);
      own.set(raw);
      raw = own.subarray(0, raw.length);
    }
    const d = await this.#decoder.decode(raw, c, this.#buffers.take(c.size));
    const back = [new Uint8Array(d.raw.buffer), new Uint8Array(d.output.buffer)]; // whole again
    const holds = back.find((b) => b.buffer === d.data.buffer);
    for (const b of back) if (b !== holds) this.#buffers.give(b);
    return recycle && holds !== undefined ? { data: d.data, holds } : { data: d.data };
  }
}

/**
 * A failed chunk as the user needs it: named by archive and digest. A chunk the server does not
 * have is MISSING_CHUNK, an integrity error (exit 6) like a corrupt one: the snapshot references
 * data the datastore lost, which is not the same as naming something that does not exist.
 */
export function chunkError(archive: string, digest: Uint8Array, e: unknown): HoldfastError {
  const err = toHoldfastError(e);
  const hex = toHex(digest);
  const code = err.code === 'NOT_FOUND' ? 'MISSING_CHUNK' : err.code;
  const what = code === 'MISSING_CHUNK' ? 'is missing from the datastore' : `failed: ${err.message}`;
  return new HoldfastError(code, `${archive}: chunk ${hex} ${what}`, { ...err.details, archive, digest: hex }, e);
}
