/**
 * The reader protocol of one HTTP/2 session (PBS §6.3): `download` streams a snapshot file and,
 * for an index, allows the chunks it lists; `chunk` serves only allowed chunks, so a reader of one
 * snapshot cannot fetch another snapshot's data by guessing digests. The session holds a shared
 * lock on the snapshot so prune and forget cannot remove it meanwhile.
 *
 * Memory: over a socket (`dispatchPooled`), a chunk is read into a buffer of a process-wide pool
 * and the buffer goes back once the answer is sent (h2-upgrade.ts decides when that is safe), so
 * serving a restore does not allocate, and later collect, a fresh buffer per chunk.
 */
import { BufferPool } from '../../core/buffer-pool.ts';
import { fail } from '../../core/errors.ts';
import type { SnapshotRef } from '../../core/backup-ref.ts';
import type { Datastore } from '../../datastore/datastore.ts';
import { snapshotDir } from '../../datastore/layout.ts';
import { indexChunks } from '../../datastore/index-files.ts';
import type { HeldLock } from '../../storage/locker.ts';
import { argsFromSearchParams, digest, requiredText, type Args } from '../../core/args.ts';
import { ENCRYPTED_HEADER_SIZE } from '../../format/blob.ts';

/** Idle chunk buffers the server keeps, for all reader sessions together. */
const CHUNK_BUFFERS_KEPT = 16;
/** page-aligned, so a chunk file is read into them with O_DIRECT in place (storage/direct-io.ts) */
const chunkBuffers = new BufferPool(CHUNK_BUFFERS_KEPT, { aligned: true });

/** An answer whose bytes may live in a pooled buffer: `release` gives it back once they are sent. */
export interface PooledAnswer {
  readonly value: Uint8Array | string[];
  readonly release?: () => void;
}

export class ReaderProtocol {
  readonly store: Datastore;
  readonly ref: SnapshotRef;
  /** digest → the chunk's plaintext size, for every chunk an index downloaded here lists */
  readonly #allowed = new Map<string, number>();
  readonly #lock: HeldLock;

  private constructor(store: Datastore, ref: SnapshotRef, lock: HeldLock) {
    this.store = store;
    this.ref = ref;
    this.#lock = lock;
  }

  static async open(store: Datastore, ref: SnapshotRef): Promise<ReaderProtocol> {
    if (!(await store.snapshotExists(ref))) throw fail('NOT_FOUND', `snapshot ${store.show(ref)} does not exist`, { snapshot: store.show(ref) });
    const lock = await store.locker.lockDir(snapshotDir(store.base, ref), 'shared', `snapshot ${store.show(ref)}`);
    return new ReaderProtocol(store, ref, lock);
  }

  /** Every reader endpoint is a GET: its parameters are in the query. */
  async dispatch(method: string, path: string, query: Args | URLSearchParams): Promise<Uint8Array | string[]> {
    const q = query instanceof URLSearchParams ? argsFromSearchParams(query) : query;
    const route = `${method} ${path.replace(/^\/+/, '')}`;
    switch (route) {
      case 'GET download':
        return this.download(requiredText(q, 'file-name'));
      case 'GET chunk':
        return this.chunk(digest(q, 'digest'));
      case 'GET speedtest':
        return new Uint8Array(1024 * 1024);
      default:
        throw fail('NOT_FOUND', `no reader protocol endpoint '${route}'`, { method, path });
    }
  }

  /**
   * `dispatch`, but a chunk is read into a pooled buffer. The caller must call `release` once
   * nothing reads the bytes any more, or never (the buffer is then simply not reused).
   */
  async dispatchPooled(method: string, path: string, query: Args | URLSearchParams): Promise<PooledAnswer> {
    const q = query instanceof URLSearchParams ? argsFromSearchParams(query) : query;
    if (`${method} ${path.replace(/^\/+/, '')}` !== 'GET chunk') return { value: await this.dispatch(method, path, q) };
    const d = digest(q, 'digest');
    // a stored blob is at most the plaintext plus the largest header (compression never grows it)
    const into = chunkBuffers.take(this.#allowedSize(d) + ENCRYPTED_HEADER_SIZE);
    let bytes: Uint8Array;
    try {
      bytes = await this.store.chunks.read(d, into);
    } catch (e) {
      chunkBuffers.give(into); // a read that failed has settled: nothing writes into it any more
      throw e;
    }
    if (bytes.buffer !== into.buffer) {
      chunkBuffers.give(into); // read elsewhere (a larger file, or a backend that ignores `into`)
      return { value: bytes };
    }
    return { value: bytes, release: () => chunkBuffers.give(into) };
  }

  async download(fileName: string): Promise<Uint8Array> {
    const bytes = await this.store.readSnapshotFile(this.ref, fileName);
    if (fileName.endsWith('.didx') || fileName.endsWith('.fidx')) {
      for (const c of indexChunks(fileName, bytes)) this.#allowed.set(c.digest, Math.max(c.size, this.#allowed.get(c.digest) ?? 0));
    }
    return bytes;
  }

  async chunk(digest: string): Promise<Uint8Array> {
    this.#allowedSize(digest);
    return this.store.chunks.read(digest);
  }

  /** The plaintext size of an allowed chunk; CHUNK_NOT_ALLOWED for any other. */
  #allowedSize(digest: string): number {
    const size = this.#allowed.get(digest);
    if (size === undefined) throw fail('CHUNK_NOT_ALLOWED', `download chunk ${digest} not allowed: no index downloaded in this session lists it`, { digest });
    return size;
  }

  async close(): Promise<void> {
    await this.#lock.release();
  }
}
