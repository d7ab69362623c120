/**
 * BackupSession: one backup of one snapshot, from `begin` to `finish` or `abort`.
 *
 * Order of writes (the durability contract, docs/durability.md):
 *   1. chunks (ChunkStore.insert; fsynced one by one at `file`),
 *   2. indexes and blobs (atomic writes; fsynced at `file`),
 *   3. `finish`: at `filesystem` one syncfs(2) on the datastore's filesystem,
 *   4. then the manifest `index.json.blob`, written atomically and made durable (file + directory
 *      fsync) at `filesystem` and `file`,
 *   5. only then does `finish` resolve, and the server acknowledges.
 * The client's manifest blob is held in memory until step 4, so no manifest is ever visible before
 * the data it references is on disk. Any failure, including a failed fsync or syncfs, removes the
 * snapshot directory and propagates: a failed backup never leaves a manifest behind.
 *
 * At `finish` the manifest must describe this snapshot and list only files written in this session,
 * with their real sizes and checksums (`manifest-check.ts`); otherwise no snapshot is left.
 *
 * No squatting: when the session created its group and ends without a snapshot (failed or
 * aborted), it removes the group again, so an empty group owned by the failed caller never stays.
 *
 * Locks held for the whole session: the group (exclusive), the new snapshot (exclusive) and the
 * previous snapshot (shared, so prune cannot remove the base of an incremental backup).
 */
import { join } from 'node:path';
import { type GroupRef, type SnapshotRef } from '../core/backup-ref.ts';
import { sha256, toHex } from '../core/digest.ts';
import { fail, isHoldfastError, toHoldfastError } from '../core/errors.ts';
import { parseAuthId } from '../core/names.ts';
import { decodeManifestBlob, encodeManifestBlob } from '../format/manifest.ts';
import type { HeldLock } from '../storage/locker.ts';
import type { Datastore } from './datastore.ts';
import { DynamicIndexWriter, FixedIndexWriter, type CloseParams, type IndexWriter } from './index-writers.ts';
import { groupDir, MANIFEST_NAME, snapshotDir } from './layout.ts';
import { checkManifest, type WrittenFile } from './manifest-check.ts';
import { findPrevious } from './previous.ts';

export interface BeginBackupOptions {
  readonly owner: string;
  /** whether `authId` may back up into a group owned by `owner` (token of the same user, …) */
  readonly ownerMatches?: (owner: string) => boolean;
  /**
   * A sync may write a snapshot older than the group's newest (re-pulling one whose local copy
   * failed verification); a backup never may (BACKUP_TIME_NOT_NEWER).
   */
  readonly allowOlder?: boolean;
  /** TEST ONLY: deliberate breaks of the durability contract for the crash explorer's mutation test. */
  readonly testOnly?: BackupTestOnly;
}

/**
 * TEST ONLY. Switches that break the write order on purpose, so the crash explorer (test/crash)
 * can show that it catches the break. Production code never sets them.
 */
export interface BackupTestOnly {
  /** Upstream PBS's order: the manifest is written without fsync *before* the syncfs. */
  readonly manifestBeforeSync?: boolean;
}

export interface UploadStats {
  count: number;
  size: number;
  compressedSize: number;
  duplicates: number;
  repaired: number;
}

const MAX_WRITERS = 256;

export class BackupSession {
  readonly store: Datastore;
  readonly ref: SnapshotRef;
  readonly previous: SnapshotRef | undefined;
  readonly stats: UploadStats = { count: 0, size: 0, compressedSize: 0, duplicates: 0, repaired: 0 };
  /** digest hex → plaintext size: chunks the client may reference without uploading */
  readonly known = new Map<string, number>();
  readonly #locks: HeldLock[];
  readonly #writers = new Map<number, IndexWriter>();
  /** file name → size and csum of what this session wrote, for the manifest check */
  readonly #written = new Map<string, WrittenFile>();
  readonly #createdGroup: boolean;
  #nextWid = 1;
  #files = 0;
  #manifestBlob: Uint8Array | undefined;
  #state: 'active' | 'finishing' | 'finished' | 'aborted' = 'active';

  readonly #writerDone: () => void;
  readonly #testOnly: BackupTestOnly;
  /** the store's count of failed deferred chunk writes when this backup began */
  readonly #chunkFailuresAtStart: number;

  private constructor(store: Datastore, ref: SnapshotRef, previous: SnapshotRef | undefined, locks: HeldLock[], writerDone: () => void, testOnly: BackupTestOnly, createdGroup: boolean) {
    this.#createdGroup = createdGroup;
    this.store = store;
    this.ref = ref;
    this.previous = previous;
    this.#locks = locks;
    this.#writerDone = writerDone;
    this.#testOnly = testOnly;
    this.#chunkFailuresAtStart = store.chunkWriteFailures();
  }

  static async begin(store: Datastore, ref: SnapshotRef, opts: BeginBackupOptions): Promise<BackupSession> {
    store.assertWritable();
    if (!(await store.namespaceExists(ref.ns))) throw fail('NOT_FOUND', `namespace '${ref.ns}' does not exist`, { ns: ref.ns });
    const locks: HeldLock[] = [];
    let createdGroup = false;
    try {
      createdGroup = await lockGroup(store, ref, locks);
      await checkOwner(store, ref, opts, createdGroup);
      const newest = await findPrevious(store, ref);
      if (newest && ref.time <= newest.time && opts.allowOlder !== true) {
        throw fail('BACKUP_TIME_NOT_NEWER', `backup time ${ref.time} is not newer than the previous snapshot ${store.show(newest)}`, { time: ref.time, previous: newest.time });
      }
      const sdir = snapshotDir(store.base, ref);
      try {
        await store.durability.makeDirectory(sdir);
      } catch (e) {
        if (isHoldfastError(e, 'ALREADY_EXISTS')) throw fail('ALREADY_EXISTS', `backup directory ${store.show(ref)} already exists`, { snapshot: store.show(ref) });
        throw e;
      }
      locks.push(await store.locker.lockDir(sdir, 'exclusive', `snapshot ${store.show(ref)}`));
      const previous = newest && (await lockPrevious(store, ref, newest, locks));
      return new BackupSession(store, ref, previous, locks, store.writerStarted(), opts.testOnly ?? {}, createdGroup);
    } catch (e) {
      if (createdGroup && locks.length > 0) await removeGroupIfEmpty(store, ref);
      for (const l of locks.reverse()) await l.release();
      throw e;
    }
  }

  get dir(): string {
    return snapshotDir(this.store.base, this.ref);
  }

  get state(): string {
    return this.#state;
  }

  /**
   * Stores an uploaded chunk. The caller (server) has already checked the digest and size against
   * the plaintext for unencrypted chunks and fixed the CRC; `blobSha256` is the blob's SHA-256 when
   * the check computed it (ChunkStore.insert).
   */
  async insertChunk(digestHex: string, blob: Uint8Array, plainSize: number, blobSha256?: string): Promise<void> {
    this.#assertActive();
    const r = await this.store.chunks.insert(digestHex, blob, blobSha256);
    this.stats.count++;
    this.stats.size += plainSize;
    this.stats.compressedSize += blob.length;
    if (r.duplicate) this.stats.duplicates++;
    if (r.repaired) this.stats.repaired++;
    this.known.set(digestHex, plainSize);
  }

  createFixedIndex(archiveName: string, size: number | undefined, reuse?: readonly Uint8Array[]): number {
    return this.#addWriter(new FixedIndexWriter(archiveName, size, reuse));
  }

  createDynamicIndex(archiveName: string): number {
    return this.#addWriter(new DynamicIndexWriter(archiveName));
  }

  /** Appends known chunks to an open index; every digest must have been uploaded or registered. */
  appendToIndex(wid: number, digests: readonly string[], offsets: readonly number[]): void {
    const w = this.#writer(wid);
    if (digests.length !== offsets.length) throw fail('PROTOCOL_ERROR', 'digest-list and offset-list differ in length', { digests: digests.length, offsets: offsets.length });
    digests.forEach((hex, i) => {
      const size = this.known.get(hex);
      if (size === undefined) throw fail('UNKNOWN_CHUNK', `no such chunk ${hex}`, { digest: hex, archive: w.archiveName });
      w.append(Buffer.from(hex, 'hex'), offsets[i] ?? 0, size);
    });
  }

  /** Throws UNKNOWN_WRITER unless `wid` names an open index writer (chunk uploads name one). */
  assertWriter(wid: number): void {
    this.#writer(wid);
  }

  async closeIndex(wid: number, p: CloseParams): Promise<void> {
    const w = this.#writer(wid);
    const { bytes, size, csumHex } = w.close(p);
    this.#writers.delete(wid);
    await this.store.writeMeta(join(this.dir, w.archiveName), bytes);
    this.#written.set(w.archiveName, { size, csumHex });
    this.#files++;
  }

  /** Stores an uploaded blob; the manifest is only remembered until `finish`. */
  async writeBlob(fileName: string, blob: Uint8Array): Promise<void> {
    this.#assertActive();
    if (fileName === MANIFEST_NAME) {
      decodeManifestBlob(blob); // reject a manifest that does not parse now, not at finish
      this.#manifestBlob = blob;
    } else {
      await this.store.writeMeta(join(this.dir, fileName), blob);
      this.#written.set(fileName, { size: blob.length, csumHex: toHex(sha256(blob)) });
    }
    this.#files++;
  }

  /** Makes the snapshot durable per the sync level and visible; resolves only when it is both. */
  async finish(): Promise<void> {
    this.#assertActive();
    this.#state = 'finishing';
    try {
      if (this.#writers.size > 0) throw fail('PROTOCOL_ERROR', `${this.#writers.size} index writer(s) still open`, { open: [...this.#writers.values()].map((w) => w.archiveName) });
      if (this.#files === 0) throw fail('PROTOCOL_ERROR', 'no files were uploaded', {});
      if (!this.#manifestBlob) throw fail('PROTOCOL_ERROR', `no ${MANIFEST_NAME} was uploaded`, {});
      if (this.previous && !(await this.store.snapshotExists(this.previous))) {
        throw fail('ABORTED', `the base snapshot ${this.store.show(this.previous)} vanished during the backup`, {});
      }
      const manifest = decodeManifestBlob(this.#manifestBlob);
      checkManifest(manifest, this.ref, this.#written);
      manifest.unprotected['chunk_upload_stats'] = {
        count: this.stats.count,
        size: this.stats.size,
        compressed_size: this.stats.compressedSize,
        duplicates: this.stats.duplicates,
      };
      const durability = this.store.durability;
      const path = join(this.dir, MANIFEST_NAME);
      if (this.#testOnly.manifestBeforeSync === true) {
        await durability.writeManifest(path, encodeManifestBlob(manifest), { unsynced: true });
        await durability.barrier();
      } else {
        await durability.barrier();
        this.store.assertWritable(); // a concurrent backup's failed sync may have lost chunks this one reuses
        this.store.assertChunksStored(this.#chunkFailuresAtStart); // or a failed deferred write of one
        await durability.writeManifest(path, encodeManifestBlob(manifest));
      }
      this.#state = 'finished';
      this.store.trusted.add(this.store.show(this.ref));
    } catch (e) {
      await this.#discard();
      throw e;
    } finally {
      await this.#release();
    }
  }

  /** Drops the unfinished snapshot. Safe to call in any state; a finished snapshot is kept. */
  async abort(): Promise<void> {
    if (this.#state === 'finished' || this.#state === 'aborted') return;
    await this.#discard();
    await this.#release();
  }

  async #discard(): Promise<void> {
    this.#state = 'aborted';
    this.#writers.clear();
    await this.store.durability.discard(this.dir);
    if (this.#createdGroup) await removeGroupIfEmpty(this.store, this.ref);
    await this.store.chunkWritesDone(); // so a retry after this backup's task ended finds its chunks stored or missing, not pending
  }

  async #release(): Promise<void> {
    this.#writerDone();
    for (const l of this.#locks.splice(0).reverse()) await l.release();
  }

  #addWriter(w: IndexWriter): number {
    this.#assertActive();
    if (!/^[^/]+\.(fidx|didx)$/.test(w.archiveName) || w.archiveName.startsWith('.')) {
      throw fail('INVALID_NAME', `archive name '${w.archiveName}' is not allowed`, { value: w.archiveName });
    }
    if (this.#nextWid > MAX_WRITERS) throw fail('PROTOCOL_ERROR', `too many index writers (max ${MAX_WRITERS})`, {});
    const wid = this.#nextWid++;
    this.#writers.set(wid, w);
    return wid;
  }

  #writer(wid: number): IndexWriter {
    this.#assertActive();
    const w = this.#writers.get(wid);
    if (!w) throw fail('UNKNOWN_WRITER', `no open index writer with wid ${wid}`, { wid });
    return w;
  }

  #assertActive(): void {
    if (this.#state !== 'active') throw fail('PROTOCOL_ERROR', `backup session is ${this.#state}`, { state: this.#state });
  }
}

/**
 * Removes a group this session created when it holds no snapshot (no squatting). Runs under the
 * group lock. A failure is logged, not thrown: the backup's own outcome is what the caller reports,
 * and an empty group left behind is only what there was before this rule.
 */
async function removeGroupIfEmpty(store: Datastore, g: GroupRef): Promise<void> {
  try {
    if ((await store.listSnapshots(g)).length > 0) return;
    await store.durability.discard(groupDir(store.base, g));
    store.log.info(`removed the empty new group ${store.show(g)} of a backup that did not finish`);
  } catch (e) {
    store.log.warn(`could not remove the empty new group ${store.show(g)}: ${toHoldfastError(e).message}`);
  }
}

/**
 * Creates the group directory if needed and locks it. A concurrent removal of the (empty) group
 * between the two makes the lock fail NOT_FOUND; the group is then made anew, a bounded number of
 * times. Returns whether this call created the group.
 */
export async function lockGroup(store: Datastore, g: GroupRef, locks: HeldLock[]): Promise<boolean> {
  const gdir = groupDir(store.base, g);
  for (let attempt = 1; ; attempt++) {
    const created = await ensureDir(store, gdir);
    try {
      locks.push(await store.locker.lockDir(gdir, 'exclusive', `backup group ${store.show(g)}`));
      return created;
    } catch (e) {
      if (!isHoldfastError(e, 'NOT_FOUND') || attempt === 3) throw e;
    }
  }
}

/**
 * Share-locks the base snapshot so prune cannot remove it while the client references its chunks.
 * Prune takes no group lock, so the base found a moment ago may be gone (NOT_FOUND: look again —
 * prune only removes older snapshots, so the next base is still older than the new one) or being
 * removed right now (LOCKED: back up without a base; the client then uploads every chunk, which is
 * slower but never wrong).
 */
async function lockPrevious(store: Datastore, ref: SnapshotRef, first: SnapshotRef, locks: HeldLock[]): Promise<SnapshotRef | undefined> {
  let candidate: SnapshotRef | undefined = first;
  for (let attempt = 1; candidate !== undefined; attempt++) {
    try {
      locks.push(await store.locker.lockDir(snapshotDir(store.base, candidate), 'shared', `snapshot ${store.show(candidate)}`));
      return candidate;
    } catch (e) {
      if (isHoldfastError(e, 'LOCKED')) {
        store.log.warn(`backup ${store.show(ref)}: the previous snapshot ${store.show(candidate)} is being removed; backing up without a base`);
        return undefined;
      }
      if (!isHoldfastError(e, 'NOT_FOUND') || attempt === 5) throw e;
    }
    candidate = await findPrevious(store, ref);
  }
  return undefined;
}

/** mkdir -p of a group dir; at `file` level each new level's parent is fsynced. */
async function ensureDir(store: Datastore, dir: string): Promise<boolean> {
  try {
    await store.durability.makeDirectory(dir);
    return true;
  } catch (e) {
    if (isHoldfastError(e, 'ALREADY_EXISTS')) return false;
    if (!isHoldfastError(e, 'NOT_FOUND')) throw e;
  }
  await ensureDir(store, join(dir, '..'));
  return ensureDir(store, dir);
}

function isAuthId(s: string): boolean {
  try {
    parseAuthId(s);
    return true;
  } catch {
    return false;
  }
}

async function checkOwner(store: Datastore, g: GroupRef, opts: BeginBackupOptions, createdGroup: boolean): Promise<void> {
  const owner = await store.getOwner(g);
  if (owner === undefined || createdGroup || !isAuthId(owner)) {
    // An owner file that is not an auth id is what a crash leaves of an unsynced one (empty or
    // garbage at `none` and `filesystem`); refusing would lock the group for good.
    if (owner !== undefined && !createdGroup) store.log.warn(`the owner file of ${store.show(g)} is unreadable after a crash; ${opts.owner} takes the group over`);
    await store.setOwner(g, opts.owner);
    return;
  }
  const matches = opts.ownerMatches ?? ((o: string) => o === opts.owner);
  const group = store.show({ ns: g.ns, type: g.type, id: g.id }); // g may be a snapshot: name the group
  if (!matches(owner)) throw fail('OWNER_MISMATCH', `backup group ${group} is owned by ${owner}, not ${opts.owner} (an owner of the group or an admin can hand it over: holdfast change-owner)`, { owner, authId: opts.owner });
}
