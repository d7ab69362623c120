/**
 * The backup (writer) protocol of one HTTP/2 session (PBS §6.2), independent of the transport:
 * `dispatch(method, path, query, body)` serves the endpoints a PBS client calls after the upgrade.
 * The crash explorer drives this same class without any sockets.
 *
 * Invariants: a chunk enters the store only after `ChunkChecker` checked it; an index entry
 * references only chunks uploaded in this session or registered from the previous snapshot's
 * index; `finish` answers only after the datastore's durability step for its level.
 *
 * Memory: chunk bodies land in upload buffers from the server's one UploadMemory (a cap across
 * all sessions, at most PER_SESSION_UPLOADS in flight per session), read straight from the
 * stream, lent to a worker for the check and written from there. More concurrent uploads wait
 * for a buffer, which leaves their bodies to HTTP/2 flow control.
 */
import { fail } from '../../core/errors.ts';
import { toHex } from '../../core/digest.ts';
import { FIXED_CHUNK_SIZE, parseFixedIndex } from '../../format/fixed-index.ts';
import { verifyBlobCrc, MAX_CHUNK_SIZE } from '../../format/blob.ts';
import type { ChunkChecker } from '../../chunks/chunk-check.ts';
import type { BackupSession } from '../../datastore/backup-session.ts';
import { indexChunks } from '../../datastore/index-files.ts';
import { digestHex, int, optInt, optStr, str, type Query } from './params.ts';
import type { RequestBody } from './request-body.ts';
import { UploadMemory, type UploadSlots } from './upload-memory.ts';
import { MIN_UPLOAD_MEMORY } from '../server-limits.ts';

export class BackupProtocol {
  readonly session: BackupSession;
  readonly #checker: ChunkChecker;
  readonly #slots: UploadSlots;

  /** Without `slots` (tools, the crash explorer) the session gets an UploadMemory of its own. */
  constructor(session: BackupSession, checker: ChunkChecker, slots: UploadSlots = new UploadMemory(MIN_UPLOAD_MEMORY).session()) {
    this.session = session;
    this.#checker = checker;
    this.#slots = slots;
  }

  /** The session ended; its upload buffers go back to the server's pool. */
  close(): void {
    this.#slots.close();
  }

  async dispatch(method: string, path: string, q: Query, body: RequestBody): Promise<unknown> {
    const route = `${method} ${path.replace(/^\/+/, '')}`;
    switch (route) {
      case 'GET previous_backup_time':
        return this.session.previous?.time ?? null;
      case 'GET previous':
        return this.previous(str(q, 'archive-name'));
      case 'POST dynamic_index':
        return this.session.createDynamicIndex(archive(q, '.didx'));
      case 'POST fixed_index':
        return this.createFixedIndex(archive(q, '.fidx'), optInt(q, 'size', 1), optStr(q, 'reuse-csum'));
      case 'POST dynamic_chunk':
      case 'POST fixed_chunk':
        return this.uploadChunk(route === 'POST fixed_chunk', q, body);
      case 'PUT dynamic_index':
      case 'PUT fixed_index':
        this.appendIndex(await body.bytes());
        return null;
      case 'POST dynamic_close':
      case 'POST fixed_close':
        await this.session.closeIndex(int(q, 'wid', 1), { chunkCount: int(q, 'chunk-count'), size: int(q, 'size'), csumHex: digestHex(q, 'csum') });
        return null;
      case 'POST blob':
        return this.uploadBlob(str(q, 'file-name'), int(q, 'encoded-size', 12, MAX_CHUNK_SIZE + 44), await body.bytes());
      case 'POST finish':
        await this.session.finish();
        return null;
      case 'POST speedtest':
        await body.bytes();
        return null;
      default:
        throw fail('NOT_FOUND', `no backup protocol endpoint '${route}'`, { method, path });
    }
  }

  /** Streams a file of the previous snapshot; an index registers all its chunks as known. */
  async previous(archiveName: string): Promise<Uint8Array> {
    const prev = this.session.previous;
    if (!prev) throw fail('NOT_FOUND', 'no valid previous backup', {});
    const bytes = await this.session.store.readSnapshotFile(prev, archiveName);
    if (archiveName.endsWith('.didx') || archiveName.endsWith('.fidx')) {
      for (const c of indexChunks(archiveName, bytes)) this.session.known.set(c.digest, c.size);
    }
    return bytes;
  }

  async createFixedIndex(name: string, size: number | undefined, reuseCsum: string | undefined): Promise<number> {
    if (reuseCsum === undefined) return this.session.createFixedIndex(name, size);
    const prev = this.session.previous;
    if (!prev || size === undefined) throw fail('PROTOCOL_ERROR', 'reuse-csum needs a size and a previous backup', {});
    const idx = parseFixedIndex(await this.session.store.readSnapshotFile(prev, name));
    if (toHex(idx.csum) !== reuseCsum) throw fail('INDEX_MISMATCH', `${name}: previous csum ${toHex(idx.csum)} differs from reuse-csum ${reuseCsum}`, { archive: name });
    if (Math.ceil(size / FIXED_CHUNK_SIZE) !== idx.digests.length) throw fail('INDEX_MISMATCH', `${name}: previous index has ${idx.digests.length} chunks, size ${size} needs another count`, { archive: name });
    return this.session.createFixedIndex(name, size, idx.digests);
  }

  async uploadChunk(fixed: boolean, q: Query, body: RequestBody): Promise<string> {
    this.session.assertWriter(int(q, 'wid', 1));
    const digest = digestHex(q, 'digest');
    const size = int(q, 'size', 1);
    const encodedSize = int(q, 'encoded-size', 13);
    if (size > MAX_CHUNK_SIZE || encodedSize > MAX_CHUNK_SIZE + 44) {
      throw fail('CHUNK_TOO_LARGE', `chunk of ${size} bytes (${encodedSize} encoded) exceeds the ${MAX_CHUNK_SIZE}-byte protocol limit`, { size, encodedSize, digest });
    }
    if (fixed && size > FIXED_CHUNK_SIZE) throw fail('INVALID_ARGUMENT', `fixed chunk of ${size} bytes exceeds the ${FIXED_CHUNK_SIZE}-byte chunk size`, { size, digest });
    const slot = await this.#slots.acquire(encodedSize);
    try {
      const received = slot.bytes.subarray(0, await body.into(slot.bytes));
      const checked = await this.#checker.check({ digestHex: digest, size, encodedSize, bytes: received }, slot);
      await this.session.insertChunk(digest, checked, size);
    } finally {
      slot.release();
    }
    return digest;
  }

  appendIndex(body: Uint8Array): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(body).toString('utf8'));
    } catch (e) {
      throw fail('INVALID_ARGUMENT', 'index append body is not JSON', {}, e);
    }
    const p = parsed as { wid?: unknown; 'digest-list'?: unknown; 'offset-list'?: unknown };
    const wid = p.wid;
    const digests = p['digest-list'];
    const offsets = p['offset-list'];
    if (typeof wid !== 'number' || !Array.isArray(digests) || !Array.isArray(offsets)) {
      throw fail('INVALID_ARGUMENT', 'index append body needs wid, digest-list and offset-list', {});
    }
    if (!digests.every((d) => typeof d === 'string' && /^[0-9a-f]{64}$/.test(d)) || !offsets.every((o) => Number.isSafeInteger(o) && (o as number) >= 0)) {
      throw fail('INVALID_ARGUMENT', 'digest-list must hold hex digests and offset-list non-negative integers', {});
    }
    this.session.appendToIndex(wid, digests as string[], offsets as number[]);
  }

  async uploadBlob(fileName: string, encodedSize: number, bytes: Uint8Array): Promise<null> {
    if (!/^[A-Za-z0-9_][A-Za-z0-9._-]*\.blob$/.test(fileName)) throw fail('INVALID_NAME', `blob name '${fileName}' is not allowed`, { value: fileName });
    if (bytes.length !== encodedSize) throw fail('SIZE_MISMATCH', `blob body has ${bytes.length} bytes, encoded-size says ${encodedSize}`, { got: bytes.length, encodedSize });
    verifyBlobCrc(bytes);
    await this.session.writeBlob(fileName, bytes);
    return null;
  }
}

function archive(q: Query, ext: string): string {
  const name = str(q, 'archive-name');
  if (!name.endsWith(ext) || !/^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(name)) throw fail('INVALID_NAME', `archive name '${name}' must be a safe name ending in ${ext}`, { value: name });
  return name;
}
