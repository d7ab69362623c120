/**
 * BackupWriter: the client side of one backup session (PBS §6.2 "Client behavior").
 *
 * 1. Asks for the previous snapshot; if there is one, downloads its manifest and, per archive,
 *    its index, checks the index against the manifest's size and csum, and adds its digests to
 *    the known set. Known chunks are never uploaded again.
 * 2. Streams each archive: chunks are hashed, known ones only appended, new ones encoded on
 *    workers and uploaded, with at most `window` chunks in flight (bounded memory).
 * 3. Closes each index with its count, size and csum, uploads the manifest, then `finish`.
 *    `finish` resolves only once the server made the snapshot durable for its sync level.
 */
import { fail } from '../core/errors.ts';
import { sha256, toHex } from '../core/digest.ts';
import { dynamicIndexCsum, parseDynamicIndex } from '../format/dynamic-index.ts';
import { fixedIndexCsum, parseFixedIndex, FIXED_CHUNK_SIZE } from '../format/fixed-index.ts';
import { decodeManifestBlob, encodeManifestBlob, signManifest, type Manifest, type ManifestFile } from '../format/manifest.ts';
import { encodeBlob } from '../format/blob.ts';
import type { CryptConfig } from '../format/crypt-config.ts';
import type { BackupType } from '../core/backup-ref.ts';
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
  /** chunks in flight per archive (hashing/encoding/uploading); bounds memory to about window × 4 MiB × 2 */
  readonly window?: number;
  readonly onProgress?: (e: ProgressEvent) => void;
}

interface Entry {
  readonly digestHex: string;
  readonly offset: number;
  readonly size: number;
  readonly done: Promise<void>;
}

const APPEND_BATCH = 128;

export class BackupWriter {
  readonly #t: ProtocolTransport;
  readonly #o: BackupWriterOptions;
  readonly #known = new Set<string>();
  readonly #inflight = new Map<string, Promise<void>>();
  readonly #files: ManifestFile[] = [];
  #previous: Manifest | undefined;

  private constructor(t: ProtocolTransport, o: BackupWriterOptions) {
    this.#t = t;
    this.#o = o;
  }

  static async start(t: ProtocolTransport, o: BackupWriterOptions): Promise<BackupWriter> {
    const w = new BackupWriter(t, o);
    const prevTime = await t.call('GET', 'previous_backup_time');
    if (typeof prevTime === 'number') {
      const m = decodeManifestBlob(await t.download('previous', { 'archive-name': 'index.json.blob' }));
      const fp = m.unprotected['key-fingerprint'];
      const mine = o.crypt?.fingerprint();
      // A previous snapshot made with another key (or none) cannot share chunks with this one.
      if ((fp ?? undefined) === mine) w.#previous = m;
    }
    return w;
  }

  get previousManifest(): Manifest | undefined {
    return this.#previous;
  }

  /** Registers the previous snapshot's chunks of `archive` as known, after checking its csum. */
  async #loadPrevious(archive: string): Promise<void> {
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

  /** Uploads one archive from a stream of chunks (already cut: 4 MiB pieces for `.fidx`). */
  async uploadArchive(archive: string, chunks: AsyncIterable<Uint8Array>, opts: { readonly size?: number } = {}): Promise<ArchiveStats> {
    const fixed = archive.endsWith('.fidx');
    if (!fixed && !archive.endsWith('.didx')) throw fail('INVALID_NAME', `archive '${archive}' must end in .fidx or .didx`, { value: archive });
    await this.#loadPrevious(archive);
    const kind = fixed ? 'fixed' : 'dynamic';
    const wid = (await this.#t.call('POST', `${kind}_index`, { 'archive-name': archive, size: fixed ? opts.size : undefined })) as number;
    const stats = { archive, size: 0, chunks: 0, uploadedChunks: 0, uploadedBytes: 0, uploadedCompressed: 0, reusedChunks: 0 };
    const window = this.#o.window ?? 4;
    const queue: Entry[] = [];
    const batch: Entry[] = [];
    const dyn: { end: number; digest: Uint8Array }[] = [];
    const fix: Uint8Array[] = [];
    const flush = async (): Promise<void> => {
      if (batch.length === 0) return;
      const items = batch.splice(0);
      await this.#t.call('PUT', `${kind}_index`, undefined, Buffer.from(JSON.stringify({ wid, 'digest-list': items.map((e) => e.digestHex), 'offset-list': items.map((e) => e.offset) })));
    };
    const drainOne = async (): Promise<void> => {
      const e = queue.shift()!;
      await e.done;
      batch.push(e);
      if (batch.length >= APPEND_BATCH) await flush();
    };
    for await (const data of chunks) {
      if (fixed && data.length > FIXED_CHUNK_SIZE) throw fail('INVALID_ARGUMENT', `fixed chunk of ${data.length} bytes exceeds 4 MiB`, {});
      const offset = stats.size;
      stats.size += data.length;
      stats.chunks++;
      const size = data.length;
      const encoded = await this.#o.encoder.encode(data, (d) => this.#known.has(toHex(d)) || this.#inflight.has(toHex(d)));
      const digestHex = toHex(encoded.digest);
      if (fixed) fix.push(encoded.digest);
      else dyn.push({ end: stats.size, digest: encoded.digest });
      let done: Promise<void>;
      if (encoded.blob) {
        const blob = encoded.blob;
        done = this.#t.call('POST', `${kind}_chunk`, { wid, digest: digestHex, size, 'encoded-size': blob.length }, blob).then(() => {
          this.#known.add(digestHex);
          this.#inflight.delete(digestHex);
        });
        this.#inflight.set(digestHex, done);
        stats.uploadedChunks++;
        stats.uploadedBytes += size;
        stats.uploadedCompressed += blob.length;
      } else {
        done = this.#inflight.get(digestHex) ?? Promise.resolve();
        stats.reusedChunks++;
      }
      done.catch(() => undefined); // observed when drained; avoids an unhandled rejection meanwhile
      queue.push({ digestHex, offset, size, done });
      this.#o.onProgress?.({ type: 'bytes', archive, done: stats.size, total: opts.size });
      while (queue.length >= window) await drainOne();
    }
    while (queue.length > 0) await drainOne();
    await flush();
    const csum = toHex(fixed ? fixedIndexCsum(fix, stats.size).csum : dynamicIndexCsum(dyn).csum);
    await this.#t.call('POST', `${kind}_close`, { wid, 'chunk-count': stats.chunks, size: stats.size, csum });
    this.#files.push({ filename: archive, cryptMode: this.#o.crypt ? 'encrypt' : 'none', size: stats.size, csum });
    return stats;
  }

  /** Uploads a small file as a blob (`NAME.conf` → `NAME.conf.blob`). */
  async uploadBlob(fileName: string, data: Uint8Array): Promise<void> {
    const blob = this.#o.crypt ? encodeBlob(data, { compress: true, crypt: this.#o.crypt }) : encodeBlob(data, { compress: true });
    await this.#t.call('POST', 'blob', { 'file-name': fileName, 'encoded-size': blob.length }, blob);
    this.#files.push({ filename: fileName, cryptMode: this.#o.crypt ? 'encrypt' : 'none', size: blob.length, csum: toHex(sha256(blob)) });
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
    await this.#t.call('POST', 'finish');
    return manifest;
  }
}
