/**
 * The reader protocol of one HTTP/2 session (PBS §6.3): `download` streams a snapshot file and,
 * for an index, allows the chunks it lists; `chunk` serves only allowed chunks, so a reader of one
 * snapshot cannot fetch another snapshot's data by guessing digests. The session holds a shared
 * lock on the snapshot so prune and forget cannot remove it meanwhile.
 */
import { fail } from '../../core/errors.ts';
import type { SnapshotRef } from '../../core/backup-ref.ts';
import type { Datastore } from '../../datastore/datastore.ts';
import { snapshotDir } from '../../datastore/layout.ts';
import { indexChunks } from '../../datastore/index-files.ts';
import type { HeldLock } from '../../storage/locker.ts';
import { argsFromSearchParams, digest, requiredText, type Args } from '../../core/args.ts';

export class ReaderProtocol {
  readonly store: Datastore;
  readonly ref: SnapshotRef;
  readonly #allowed = new Set<string>();
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

  async download(fileName: string): Promise<Uint8Array> {
    const bytes = await this.store.readSnapshotFile(this.ref, fileName);
    if (fileName.endsWith('.didx') || fileName.endsWith('.fidx')) for (const c of indexChunks(fileName, bytes)) this.#allowed.add(c.digest);
    return bytes;
  }

  async chunk(digest: string): Promise<Uint8Array> {
    if (!this.#allowed.has(digest)) throw fail('CHUNK_NOT_ALLOWED', `download chunk ${digest} not allowed: no index downloaded in this session lists it`, { digest });
    return this.store.chunks.read(digest);
  }

  async close(): Promise<void> {
    await this.#lock.release();
  }
}
