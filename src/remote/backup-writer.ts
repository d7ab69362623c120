/**
 * BackupWriter: the client side of one backup session (PBS §6.2 "Client behavior").
 *
 * 1. Asks for the previous snapshot; if there is one, downloads its manifest and, per archive,
 *    its index, checks the index against the manifest's size and csum, and adds its digests to
 *    the known set. Known chunks are never uploaded again.
 * 2. Streams each archive: chunks are hashed, known ones only appended, new ones encoded on
 *    workers and uploaded, with at most `window` chunks in flight. Chunks live in the writer's
 *    `buffers` (window of them, reused), so memory is bounded and no chunk is allocated afresh;
 *    sources that read into those buffers themselves (images) save a copy too.
 * 3. Closes each index with its count, size and csum, uploads the manifest, then `finish`.
 *    `finish` resolves only once the server made the snapshot durable for its sync level.
 */
import { fail } from '../core/errors.ts';
import { traceMark } from '../core/trace-timing.ts';
import { sha256, toHex } from '../core/digest.ts';
import { dynamicIndexCsum, parseDynamicIndex } from '../format/dynamic-index.ts';
import { fixedIndexCsum, parseFixedIndex, FIXED_CHUNK_SIZE } from '../format/fixed-index.ts';
import { decodeManifestBlob, encodeManifestBlob, signManifest, type Manifest, type ManifestFile } from '../format/manifest.ts';
import { encodeBlob } from '../format/blob.ts';
import type { CryptConfig } from '../format/crypt-config.ts';
import type { BackupType } from '../core/backup-ref.ts';
import { ChunkBuffers, isChunkBuffer, type ChunkBuffer } from './chunk-buffers.ts';
import type { ChunkEncoder } from './chunk-encoder.ts';
import type { ProtocolTransport } from './protocol-transport.ts';

export interface ArchiveStats {
  readonly archive: string;
  readonly size: number;
  readonly chunks: number;
  readonly uploadedChunks: number;
  readonly uploadedBytes: number;
  readonly uploadedCompressed: number;
  readonly reusedChunks: number;
}

export type ProgressEvent = { readonly type: 'bytes'; readonly archive: string; readonly done: number; readonly total: number | undefined };

export interface BackupWriterOptions {
  readonly backupType: BackupType;
  readonly backupId: string;
  readonly backupTime: number;
  readonly encoder: ChunkEncoder;
  readonly crypt?: CryptConfig;
  /** chunks in flight (read, hashing, encoding, uploading); bounds chunk memory to window × chunk size */
  readonly window?: number;
  readonly onProgress?: (e: ProgressEvent) => void;
  /**
   * Called as soon as the server names the previous snapshot's time, before its manifest is
   * downloaded: a caller that will read that snapshot can open its session meanwhile.
   */
  readonly onPreviousTime?: (backupTime: number) => void;
}

interface Entry {
  readonly offset: number;
  readonly size: number;
  /** the chunk's digest, once it is known to the server (uploaded, or known before) */
  readonly stored: Promise<Uint8Array>;
}

/**
 * A chunk of the previous snapshot's index reused by digest (split pxar payload streams): it is
 * appended to the index without being read or uploaded, so it must be known from that index.
 */
export interface KnownChunk {
  readonly known: Uint8Array;
  readonly size: number;
}

function isKnownChunk(x: Uint8Array | ChunkBuffer | KnownChunk): x is KnownChunk {
  return 'known' in x;
}

type UploadStats = { -readonly [K in keyof ArchiveStats]: ArchiveStats[K] };

const APPEND_BATCH = 128;
export const DEFAULT_WINDOW = 6;

export class BackupWriter {
  readonly #t: ProtocolTransport;
  readonly #o: BackupWriterOptions;
  readonly #known = new Set<string>();
  readonly #inflight = new Map<string, Promise<void>>();
  /** per archive, the download and check of the previous snapshot's index (once) */
  readonly #previousLoads = new Map<string, Promise<void>>();
  readonly #files: ManifestFile[] = [];
  readonly #window: number;
  #previous: Manifest | undefined;
  #previousOtherKey = false;
  /** Where chunks in flight live; a source may read straight into them (see `uploadArchive`). */
  readonly buffers: ChunkBuffers;

  private constructor(t: ProtocolTransport, o: BackupWriterOptions) {
    this.#t = t;
    this.#o = o;
    this.#window = o.window ?? DEFAULT_WINDOW;
    this.buffers = new ChunkBuffers(this.#window);
  }

  static async start(t: ProtocolTransport, o: BackupWriterOptions): Promise<BackupWriter> {
    const w = new BackupWriter(t, o);
    const prevTime = await t.call('GET', 'previous_backup_time');
    traceMark('writer: previous time');
    if (typeof prevTime === 'number') {
      o.onPreviousTime?.(prevTime);
      const m = decodeManifestBlob(await t.download('previous', { 'archive-name': 'index.json.blob' }));
      const fp = m.unprotected['key-fingerprint'];
      const mine = o.crypt?.fingerprint();
      // A previous snapshot made with another key (or none) cannot share chunks with this one.
      if ((fp ?? undefined) === mine) w.#previous = m;
      else w.#previousOtherKey = true;
    }
    return w;
  }

  get previousManifest(): Manifest | undefined {
    return this.#previous;
  }

  /** True when a previous snapshot exists but was made with another key (or none): nothing is reused. */
  get previousUsesOtherKey(): boolean {
    return this.#previousOtherKey;
  }

  /**
   * Starts downloading the previous snapshot's indexes of `archives` now, concurrently, instead of
   * one by one as each archive's upload begins (a round trip each). A failure surfaces when that
   * archive is uploaded, as it would have without the prefetch.
   */
  prefetchPrevious(archives: readonly string[]): void {
    for (const a of archives) this.#loadPrevious(a).catch(() => undefined);
  }

  /** Registers the previous snapshot's chunks of `archive` as known, after checking its csum; once per archive. */
  #loadPrevious(archive: string): Promise<void> {
    let load = this.#previousLoads.get(archive);
    if (load === undefined) {
      load = this.#downloadPrevious(archive);
      this.#previousLoads.set(archive, load);
    }
    return load;
  }

  async #downloadPrevious(archive: string): Promise<void> {
    const entry = this.#previous?.files.find((f) => f.filename === archive);
    if (!entry) return;
    const bytes = await this.#t.download('previous', { 'archive-name': archive });
    let digests: Uint8Array[];
    let csum: Uint8Array;
    let size: number;
    if (archive.endsWith('.didx')) {
      const entries = parseDynamicIndex(bytes).entries;
      ({ csum, size } = dynamicIndexCsum(entries));
      digests = entries.map((e) => e.digest);
    } else {
      const idx = parseFixedIndex(bytes);
      digests = [...idx.digests];
      ({ csum, size } = fixedIndexCsum(digests, idx.size));
    }
    if (toHex(csum) !== entry.csum || size !== entry.size) {
      throw fail('INDEX_MISMATCH', `previous index ${archive} does not match the previous manifest`, { archive });
    }
    for (const d of digests) this.#known.add(toHex(d));
  }

  /**
   * Uploads one archive from a stream of chunks (already cut: 4 MiB pieces for `.fidx`). A chunk
   * is a plain array (copied into a buffer of `buffers`) or a buffer taken from `buffers`, which
   * this writer then owns and releases.
   */
  async uploadArchive(archive: string, chunks: AsyncIterable<Uint8Array | ChunkBuffer | KnownChunk>, opts: { readonly size?: number } = {}): Promise<ArchiveStats> {
    const fixed = archive.endsWith('.fidx');
    if (!fixed && !archive.endsWith('.didx')) throw fail('INVALID_NAME', `archive '${archive}' must end in .fidx or .didx`, { value: archive });
    await this.#loadPrevious(archive);
    traceMark(`writer: ${archive} previous index loaded`);
    const kind = fixed ? 'fixed' : 'dynamic';
    const wid = (await this.#t.call('POST', `${kind}_index`, { 'archive-name': archive, size: fixed ? opts.size : undefined })) as number;
    const stats: UploadStats = { archive, size: 0, chunks: 0, uploadedChunks: 0, uploadedBytes: 0, uploadedCompressed: 0, reusedChunks: 0 };
    const queue: Entry[] = [];
    const batch: { digestHex: string; offset: number }[] = [];
    const dyn: { end: number; digest: Uint8Array }[] = [];
    const fix: Uint8Array[] = [];
    const flush = async (): Promise<void> => {
      if (batch.length === 0) return;
      const items = batch.splice(0);
      await this.#t.call('PUT', `${kind}_index`, undefined, Buffer.from(JSON.stringify({ wid, 'digest-list': items.map((e) => e.digestHex), 'offset-list': items.map((e) => e.offset) })));
    };
    // Index entries go out in archive order, each only once its chunk is stored on the server.
    const drainOne = async (): Promise<void> => {
      const e = queue.shift()!;
      const digest = await e.stored;
      if (fixed) fix.push(digest);
      else dyn.push({ end: e.offset + e.size, digest });
      batch.push({ digestHex: toHex(digest), offset: e.offset });
      if (batch.length >= APPEND_BATCH) await flush();
    };
    try {
      for await (const item of chunks) {
        if (isKnownChunk(item)) {
          this.#appendKnown(item, queue, stats);
          while (queue.length >= this.#window) await drainOne();
          continue;
        }
        const chunk = isChunkBuffer(item) ? item : await this.buffers.copyOf(item);
        const size = chunk.data.byteLength;
        if (fixed && size > FIXED_CHUNK_SIZE) {
          chunk.release();
          throw fail('INVALID_ARGUMENT', `fixed chunk of ${size} bytes exceeds 4 MiB`, {});
        }
        const stored = this.#storeChunk(kind, wid, chunk, stats);
        stored.catch(() => undefined); // observed when drained; avoids an unhandled rejection meanwhile
        queue.push({ offset: stats.size, size, stored });
        stats.size += size;
        stats.chunks++;
        this.#o.onProgress?.({ type: 'bytes', archive, done: stats.size, total: opts.size });
        while (queue.length >= this.#window) await drainOne();
      }
      while (queue.length > 0) await drainOne();
    } finally {
      // On failure, let the chunks still in flight settle so their buffers come back.
      await Promise.allSettled(queue.map((e) => e.stored));
    }
    await flush();
    const csum = toHex(fixed ? fixedIndexCsum(fix, stats.size).csum : dynamicIndexCsum(dyn).csum);
    traceMark(`writer: ${archive} closing`);
    await this.#t.call('POST', `${kind}_close`, { wid, 'chunk-count': stats.chunks, size: stats.size, csum });
    this.#files.push({ filename: archive, cryptMode: this.#o.crypt ? 'encrypt' : 'none', size: stats.size, csum });
    return stats;
  }

  #appendKnown(c: KnownChunk, queue: Entry[], stats: UploadStats): void {
    const hex = toHex(c.known);
    if (!this.#known.has(hex)) throw fail('INVALID_ARGUMENT', `reused chunk ${hex} is not in the previous snapshot's index`, { digest: hex });
    queue.push({ offset: stats.size, size: c.size, stored: Promise.resolve(c.known) });
    stats.size += c.size;
    stats.chunks++;
    stats.reusedChunks++;
  }

  /**
   * Hashes one chunk and, unless the server has it already, encodes and uploads it. Resolves with
   * the digest once the server has the chunk; releases the chunk's buffer as early as it can.
   */
  async #storeChunk(kind: 'fixed' | 'dynamic', wid: number, chunk: ChunkBuffer, stats: UploadStats): Promise<Uint8Array> {
    let reusable = true;
    try {
      const { digest, plainCrc } = await this.#o.encoder.digest(chunk);
      const hex = toHex(digest);
      const pending = this.#inflight.get(hex);
      if (this.#known.has(hex) || pending) {
        chunk.release();
        stats.reusedChunks++;
        await pending; // an index may only name a chunk the server has
        return digest;
      }
      const upload = (async (): Promise<void> => {
        const size = chunk.data.byteLength;
        const blob = await this.#o.encoder.encode(chunk, plainCrc);
        stats.uploadedChunks++;
        stats.uploadedBytes += size;
        stats.uploadedCompressed += blob.byteLength;
        try {
          await this.#t.call('POST', `${kind}_chunk`, { wid, digest: hex, size, 'encoded-size': blob.byteLength }, blob);
        } catch (e) {
          reusable = false; // the socket may not be done reading the blob
          throw e;
        }
        this.#known.add(hex);
      })();
      this.#inflight.set(hex, upload);
      try {
        await upload;
      } finally {
        this.#inflight.delete(hex);
      }
      return digest;
    } finally {
      chunk.release({ reuse: reusable });
    }
  }

  /** Uploads a small file as a blob (`NAME.conf` → `NAME.conf.blob`). */
  /**
   * Uploads a small file as a blob, encrypted when the backup is; `plain` stores it unencrypted
   * and uncompressed whatever the backup does (PBS does so for `rsa-encrypted.key.blob`, which
   * must be readable without the key it protects).
   */
  async uploadBlob(fileName: string, data: Uint8Array, opts: { readonly plain?: boolean } = {}): Promise<void> {
    const crypt = opts.plain ? undefined : this.#o.crypt;
    const blob = crypt ? encodeBlob(data, { compress: true, crypt }) : encodeBlob(data, { compress: opts.plain !== true });
    await this.#t.call('POST', 'blob', { 'file-name': fileName, 'encoded-size': blob.length }, blob);
    this.#files.push({ filename: fileName, cryptMode: crypt ? 'encrypt' : 'none', size: blob.length, csum: toHex(sha256(blob)) });
  }

  /** Uploads the manifest and finishes; resolves when the server acknowledged a durable snapshot. */
  async finish(): Promise<Manifest> {
    let manifest: Manifest = {
      backupType: this.#o.backupType,
      backupId: this.#o.backupId,
      backupTime: this.#o.backupTime,
      files: this.#files,
      unprotected: this.#o.crypt ? { 'key-fingerprint': this.#o.crypt.fingerprint() } : {},
      signature: null,
    };
    if (this.#o.crypt) manifest = signManifest(manifest, this.#o.crypt);
    const blob = encodeManifestBlob(manifest);
    await this.#t.call('POST', 'blob', { 'file-name': 'index.json.blob', 'encoded-size': blob.length }, blob);
    traceMark('writer: manifest uploaded');
    await this.#t.call('POST', 'finish');
    return manifest;
  }
}
