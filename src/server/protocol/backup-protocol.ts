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
import { argsFromSearchParams, digest, digestList, int, intList, requiredInt, requiredText, text, type Args } from '../../core/args.ts';
import { checkArchiveName, protocolArgs, SessionNames, type IndexKind } from './params.ts';
import type { RequestBody } from './request-body.ts';
import { UploadMemory, type UploadSlots } from './upload-memory.ts';
import { MIN_UPLOAD_MEMORY } from '../server-limits.ts';

export class BackupProtocol {
  readonly session: BackupSession;
  readonly #checker: ChunkChecker;
  readonly #slots: UploadSlots;

  readonly #names = new SessionNames();

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

  /**
   * `query` is the URL's; endpoints whose body is not raw data also take their parameters from a
   * JSON or form body (`protocolArgs`), as PBS's handler does.
   */
  async dispatch(method: string, path: string, query: Args | URLSearchParams, body: RequestBody): Promise<unknown> {
    const q = query instanceof URLSearchParams ? argsFromSearchParams(query) : query;
    const route = `${method} ${path.replace(/^\/+/, '')}`;
    switch (route) {
      case 'GET previous_backup_time':
        return this.session.previous?.time ?? null;
      case 'GET previous':
        return this.previous(requiredText(q, 'archive-name'));
      case 'POST dynamic_index': {
        const name = archive(await protocolArgs(q, body), '.didx');
        return this.#open('dynamic', name, async () => this.session.createDynamicIndex(name));
      }
      case 'POST fixed_index': {
        const a = await protocolArgs(q, body);
        const name = archive(a, '.fidx');
        return this.#open('fixed', name, () => this.createFixedIndex(name, int(a, 'size', { min: 1 }), text(a, 'reuse-csum')));
      }
      case 'POST dynamic_chunk':
      case 'POST fixed_chunk':
        return this.uploadChunk(route === 'POST fixed_chunk', q, body);
      case 'PUT dynamic_index':
      case 'PUT fixed_index':
        this.appendIndex(route === 'PUT fixed_index' ? 'fixed' : 'dynamic', await protocolArgs(q, body, 'json'));
        return null;
      case 'POST dynamic_close':
      case 'POST fixed_close': {
        const a = await protocolArgs(q, body);
        await this.session.closeIndex(requiredInt(a, 'wid', { min: 1 }), { chunkCount: requiredInt(a, 'chunk-count'), size: requiredInt(a, 'size'), csumHex: digest(a, 'csum') });
        return null;
      }
      case 'POST blob':
        return this.uploadBlob(requiredText(q, 'file-name'), requiredInt(q, 'encoded-size', { min: 12, max: MAX_CHUNK_SIZE + 44 }), await body.bytes());
      case 'POST finish':
        await protocolArgs(q, body);
        await this.session.finish();
        return null;
      case 'POST speedtest':
        await body.bytes();
        return null;
      default:
        throw fail('NOT_FOUND', `no backup protocol endpoint '${route}'`, { method, path });
    }
  }

  /** Opens an index writer under a name not yet used in this session. */
  async #open(kind: IndexKind, name: string, create: () => Promise<number>): Promise<number> {
    this.#names.claim(name);
    try {
      const wid = await create();
      this.#names.opened(wid, kind);
      return wid;
    } catch (e) {
      this.#names.release(name);
      throw e;
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

  async uploadChunk(fixed: boolean, q: Args, body: RequestBody): Promise<string> {
    this.session.assertWriter(requiredInt(q, 'wid', { min: 1 }));
    const digestHex = digest(q, 'digest');
    const size = requiredInt(q, 'size', { min: 1 });
    const encodedSize = requiredInt(q, 'encoded-size', { min: 13 });
    if (size > MAX_CHUNK_SIZE || encodedSize > MAX_CHUNK_SIZE + 44) {
      throw fail('CHUNK_TOO_LARGE', `chunk of ${size} bytes (${encodedSize} encoded) exceeds the ${MAX_CHUNK_SIZE}-byte protocol limit`, { size, encodedSize, digest: digestHex });
    }
    if (fixed && size > FIXED_CHUNK_SIZE) throw fail('INVALID_ARGUMENT', `fixed chunk of ${size} bytes exceeds the ${FIXED_CHUNK_SIZE}-byte chunk size`, { size, digest: digestHex });
    const slot = await this.#slots.acquire(encodedSize);
    try {
      const received = slot.bytes.subarray(0, await body.into(slot.bytes));
      const checked = await this.#checker.check({ digestHex, size, encodedSize, bytes: received }, slot, { blobSha256: this.session.store.chunks.wantsBlobSha256 });
      await this.session.insertChunk(digestHex, checked.bytes, size, checked.blobSha256);
    } finally {
      slot.release();
    }
    return digestHex;
  }

  /** `PUT *_index`: known chunks appended to an open writer of the same kind. */
  appendIndex(kind: IndexKind, a: Args): void {
    const wid = requiredInt(a, 'wid', { min: 1 });
    const digests = digestList(a, 'digest-list');
    const offsets = intList(a, 'offset-list');
    this.#names.assertKind(wid, kind);
    this.session.appendToIndex(wid, digests, offsets);
  }

  async uploadBlob(fileName: string, encodedSize: number, bytes: Uint8Array): Promise<null> {
    checkArchiveName(fileName, '.blob', 'file-name');
    if (bytes.length !== encodedSize) throw fail('SIZE_MISMATCH', `blob body has ${bytes.length} bytes, encoded-size says ${encodedSize}`, { got: bytes.length, encodedSize });
    verifyBlobCrc(bytes);
    this.#names.claim(fileName);
    try {
      await this.session.writeBlob(fileName, bytes);
    } catch (e) {
      this.#names.release(fileName);
      throw e;
    }
    return null;
  }
}

function archive(a: Args, ext: string): string {
  return checkArchiveName(requiredText(a, 'archive-name'), ext);
}
