/**
 * Datastore: one PBS-layout datastore opened over the `Fs`, `Locker` and `ChunkBackend` ports. It
 * owns the chunk store, answers listings, reads snapshot files, and starts backups
 * (backup-session.ts). It does not expose its `Fs` or the sync policy: every metadata write goes
 * through `durability` (durability.ts), which alone decides the syncs.
 *
 * Which operations may run alongside which:
 * | a \ b            | backup (other group) | backup (same group) | reader | prune/forget | GC        | verify |
 * | backup           | yes                  | no (group lock)     | yes    | yes*         | yes (atime)| yes   |
 * | reader           | yes                  | yes                 | yes    | no (snapshot lock) | yes | yes   |
 * | group move       | yes                  | no (group lock)     | no (snapshot lock) | no | yes (move journal) | no |
 * (*) the backup's previous snapshot is share-locked, so prune skips it.
 *
 * Snapshots without a manifest are unfinished: listings never report them as finished, and
 * `cleanupUnfinished` removes those nobody holds a lock on (leftovers of a crash).
 */
import { join, relative } from 'node:path';
import { checkNamespace, formatTime, isBackupType, isSnapshotTimeName, parseTime, type GroupRef, type SnapshotRef } from '../core/backup-ref.ts';
import { fail, isHoldfastError, toHoldfastError, type HoldfastError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { SyncLevel } from '../core/sync-level.ts';
import { decodeManifestBlob, encodeManifestBlob, type Manifest } from '../format/manifest.ts';
import { KeyedMutex } from '../core/keyed-mutex.ts';
import { CLIENT_LOG_BLOB_NAME } from '../core/names.ts';
import type { ChunkBackend, StorageCounters } from '../chunks/chunk-backend.ts';
import type { ContentMirror } from '../chunks/content-mirror.ts';
import { ChunkStore } from '../chunks/chunk-store.ts';
import { LocalChunkBackend } from '../chunks/local-chunk-backend.ts';
import { CountingFs } from '../storage/counting-fs.ts';
import type { Fs, SyncCounts } from '../storage/fs-port.ts';
import type { Locker } from '../storage/locker.ts';
import { readTextIfExists } from '../storage/read-text.ts';
import { Durability } from './durability.ts';
import { MoveJournals } from './move-journal.ts';
import { groupDir, MANIFEST_NAME, NAMESPACE_MARKER_NAME, NOTES_NAME, nsDir, OWNER_NAME, PROTECTED_NAME, snapshotDir } from './layout.ts';

/** Holdfast's own marker (ignored by PBS): present while a server has the store open. */
export const IN_USE_MARKER = '.holdfast-in-use';

export interface DatastoreDeps {
  readonly name: string;
  readonly base: string;
  readonly fs: Fs;
  readonly locker: Locker;
  readonly log: Logger;
  readonly syncLevel: SyncLevel;
  /**
   * Where the chunks live, built over the datastore's own (sync-counting) `Fs` so that chunk
   * syncs count and a failed one stops the store; default: the local `.chunks` layout under `base`.
   */
  readonly makeBackend?: (fs: Fs, base: string) => ChunkBackend;
  /** where the metadata is copied besides `base` (chunks/content-mirror.ts); default none */
  readonly mirror?: ContentMirror;
  /** releases the storage's resources (sockets) once the store is closed */
  readonly onClose?: () => void;
}

const localBackend = (fs: Fs, base: string): ChunkBackend => new LocalChunkBackend({ fs, base });

/** Receives a warning about a directory entry that a listing skipped. */
export type ListingWarn = (msg: string) => void;

export interface SnapshotInfo {
  readonly ref: SnapshotRef;
  readonly finished: boolean;
  readonly protected: boolean;
  /** whether the client's log was added (`client.log.blob`, not in the manifest) */
  readonly hasClientLog: boolean;
}

export class Datastore {
  readonly name: string;
  readonly base: string;
  readonly #fs: CountingFs;
  /** every metadata write, create and remove, with the syncs the level asks for */
  readonly durability: Durability;
  readonly locker: Locker;
  readonly log: Logger;
  readonly chunks: ChunkStore;
  readonly #backend: ChunkBackend;
  #syncLevel: SyncLevel;
  /** set by `markInUse` when the previous user of the store did not close it cleanly */
  #uncleanShutdown = false;
  /** the first fsync/syncfs failure on this store in this process, if any (see `assertWritable`) */
  #syncFailure: HoldfastError | undefined;
  /** snapshots proven intact (or finished) since this process opened the store */
  readonly trusted = new Set<string>();
  /** start times (ms) of the backups writing into this store now; GC clamps its cutoff to them */
  readonly #writers = new Map<number, number>();
  readonly #manifestMutex = new KeyedMutex();
  /** snapshot moves, as garbage collection must hear of them (move-journal.ts) */
  readonly moves = new MoveJournals();
  #nextWriter = 1;
  readonly #warn: ListingWarn = (m) => this.log.warn(m);
  readonly #onClose: () => void;

  constructor(deps: DatastoreDeps) {
    this.name = deps.name;
    this.base = deps.base;
    this.#fs = deps.fs instanceof CountingFs ? deps.fs : new CountingFs(deps.fs);
    this.locker = deps.locker;
    this.log = deps.log;
    this.#syncLevel = deps.syncLevel;
    this.#fs.onSyncError = (e) => {
      this.#syncFailure ??= toHoldfastError(e, 'SYNC_FAILED');
    };
    const backend = (deps.makeBackend ?? localBackend)(this.#fs, deps.base);
    this.durability = new Durability({
      fs: this.#fs,
      base: deps.base,
      level: () => this.#syncLevel,
      flushChunks: () => backend.flush(),
      settleChunks: async () => backend.settle?.(),
      flushCoversBase: backend.flushScope === 'filesystem',
      ...(deps.mirror ? { mirror: deps.mirror } : {}),
      warn: (m) => this.log.warn(`datastore ${this.name}: ${m}`),
    });
    this.#backend = backend;
    this.#onClose = deps.onClose ?? (() => undefined);
    this.chunks = new ChunkStore({ backend, durableWrites: () => this.durability.chunkWritesDurable, writebackWrites: () => this.durability.chunkWritesStartWriteback, log: deps.log });
  }

  get syncLevel(): SyncLevel {
    return this.#syncLevel;
  }

  /** The sync calls made through this datastore so far. */
  syncCounts(): SyncCounts {
    return this.#fs.snapshot();
  }

  /** The chunk storage's request and byte counters (an object store's), or undefined. */
  storageCounters(): StorageCounters | undefined {
    return this.#backend.counters?.();
  }

  /** The seconds those sync calls took, by kind. */
  syncSeconds(): SyncCounts {
    return this.#fs.secondsSnapshot();
  }

  /** Snapshots in every namespace, finished or not. */
  async countSnapshots(): Promise<number> {
    let n = 0;
    for (const ns of await this.listNamespaces()) for (const g of await this.listGroups(ns)) n += (await this.listSnapshots(g)).length;
    return n;
  }

  /**
   * Switches the sync level of an open store. Leaving `filesystem` or `none` first syncs the
   * filesystem: whatever the old level left unsynced must be on disk before the new level promises
   * anything, since a backup at `file` reuses chunks it did not write itself (beyond upstream, which
   * syncs only when leaving `filesystem`; the crash explorer found the none → file hole).
   */
  async setSyncLevel(level: SyncLevel): Promise<void> {
    if (level === this.#syncLevel) return;
    if (this.#syncLevel !== 'file') await this.durability.syncEverything();
    this.#syncLevel = level;
  }

  get uncleanShutdown(): boolean {
    return this.#uncleanShutdown;
  }

  /**
   * Records that a server uses this store. The marker survives a crash (it is written durably), so
   * the next `markInUse` learns the store was not closed cleanly: chunks written before the crash
   * may then be broken at any level that did not sync them, and a snapshot is checked chunk by
   * chunk before a backup reuses it as its base (see previous.ts).
   */
  async markInUse(): Promise<boolean> {
    const marker = join(this.base, IN_USE_MARKER);
    this.#uncleanShutdown = (await this.#fs.stat(marker)) !== undefined;
    if (!this.#uncleanShutdown) await this.durability.writeDurably(marker, Buffer.from(`${process.pid}\n`));
    return this.#uncleanShutdown;
  }

  /**
   * After a failed fsync or syncfs the kernel may already have dropped the dirty pages it could not
   * write, while reads still return them from the page cache: anything written since the last
   * successful sync may be gone from the disk without the process noticing (fsyncgate). So after
   * the first sync failure the store acknowledges nothing more: every new backup is refused until
   * the server restarts, and the restart treats the store as not closed cleanly (its snapshots are
   * checked chunk by chunk before reuse).
   */
  assertWritable(): void {
    const f = this.#syncFailure;
    if (f) {
      throw fail('SYNC_FAILED', `an earlier fsync/syncfs on datastore '${this.name}' failed (${f.message}); new backups are refused until the server restarts — check the disk first`, {
        store: this.name,
        first: f.message,
      });
    }
  }

  /**
   * Clean close: the marker goes only after everything this level promises is on disk. Then the
   * storage's resources are released; the store is not used afterwards.
   */
  async markClosed(): Promise<void> {
    try {
      const marker = join(this.base, IN_USE_MARKER);
      if (this.#syncFailure || !(await this.#fs.stat(marker))) return;
      await this.durability.syncEverything();
      await this.durability.removeDurably(marker);
    } finally {
      this.#onClose();
    }
  }

  /** Registers a running writer (a backup); call the returned function when it ends. */
  writerStarted(startMs = Date.now()): () => void {
    const id = this.#nextWriter++;
    this.#writers.set(id, startMs);
    return () => this.#writers.delete(id);
  }

  /**
   * How many deferred chunk writes have failed in this process (ChunkBackend.failedDeferredPuts). A
   * backup takes it at its start and checks it after its barrier (`assertChunksStored`): a write
   * that failed in between may be of a chunk the backup reused, and its barrier may not be the one
   * that was told.
   */
  chunkWriteFailures(): number {
    return this.#backend.failedDeferredPuts?.() ?? 0;
  }

  /**
   * Waits for the deferred chunk writes pending now, whatever their outcome: a failure is counted
   * (and fails the backups that were running), so the waiter (a failing backup) needs no verdict.
   */
  async chunkWritesDone(): Promise<void> {
    await this.#backend.settle?.().catch(() => undefined);
  }

  /** OBJECT_STORE_ERROR when a deferred chunk write failed since `chunkWriteFailures()` was `since`. */
  assertChunksStored(since: number): void {
    const now = this.chunkWriteFailures();
    if (now > since) {
      throw fail('OBJECT_STORE_ERROR', `${now - since} chunk write(s) to ${this.#backend.location} failed during this backup; it may have reused one of those chunks, so it is not acknowledged`, {
        store: this.name,
        failed: now - since,
      });
    }
  }

  /** The start time (ms) of the oldest running writer, if any. */
  oldestWriter(): number | undefined {
    let oldest: number | undefined;
    for (const t of this.#writers.values()) if (oldest === undefined || t < oldest) oldest = t;
    return oldest;
  }

  /** Writes a small metadata file with the durability the level asks for. */
  async writeMeta(path: string, data: Uint8Array | string): Promise<void> {
    await this.durability.writeMetadata(path, data);
  }

  async namespaceExists(ns: string): Promise<boolean> {
    const st = await this.#fs.stat(nsDir(this.base, checkNamespace(ns)));
    return st?.isDirectory === true;
  }

  /**
   * Makes namespace `ns` (its parent must exist): its directory, and its record in the content
   * mirror, so an empty namespace survives a re-attach. A failed mirror write undoes the directory.
   */
  async createNamespace(ns: string): Promise<void> {
    checkNamespace(ns);
    if (ns === '') return;
    const parent = ns.includes('/') ? ns.slice(0, ns.lastIndexOf('/')) : '';
    if (!(await this.namespaceExists(parent))) throw fail('NOT_FOUND', `parent namespace '${parent}' does not exist`, { ns: parent });
    const dir = nsDir(this.base, ns);
    await this.#fs.mkdir(join(dir, '..'), { recursive: true });
    try {
      await this.durability.makeDirectory(dir);
    } catch (e) {
      if (isHoldfastError(e, 'ALREADY_EXISTS')) throw fail('ALREADY_EXISTS', `namespace '${ns}' exists already`, { ns });
      throw e;
    }
    try {
      await this.durability.writeMirrorRecord(join(dir, NAMESPACE_MARKER_NAME));
    } catch (e) {
      await this.#fs.rmdir(dir).catch(() => undefined); // never acknowledged: the namespace was not made
      throw e;
    }
    await this.durability.directoryChanged(join(dir, '..', '..'));
  }

  /**
   * Deletes namespace `ns` and every namespace below it, deepest first, with their mirror records;
   * only when none of them holds a backup group (NAMESPACE_NOT_EMPTY, and nothing is removed).
   * A backup that makes a group meanwhile wins: rmdir removes only empty directories. Resolves the
   * namespaces deleted; the root namespace cannot be deleted.
   */
  async deleteNamespace(ns: string): Promise<string[]> {
    if (checkNamespace(ns) === '') throw fail('INVALID_ARGUMENT', 'the root namespace cannot be deleted', { param: 'ns' });
    if (!(await this.namespaceExists(ns))) throw fail('NOT_FOUND', `namespace '${ns}' does not exist`, { ns });
    const all = await this.listNamespaces(ns);
    for (const sub of all) {
      const group = (await this.listGroups(sub))[0];
      if (group) throw fail('NAMESPACE_NOT_EMPTY', `namespace '${ns}' is not empty: it holds backup group ${this.#show(group)}`, { ns, group: this.#show(group) });
    }
    for (const sub of [...all].reverse()) {
      const dir = nsDir(this.base, sub);
      try {
        await this.durability.removeEmptyDirectory(dir);
      } catch (e) {
        if (isHoldfastError(e, 'DIRECTORY_NOT_EMPTY')) throw fail('NAMESPACE_NOT_EMPTY', `namespace '${sub}' is not empty: a backup is writing into it`, { ns: sub }, e);
        throw e;
      }
      await this.durability.removeMirrorRecord(join(dir, NAMESPACE_MARKER_NAME));
    }
    return all;
  }

  /**
   * All namespaces below (and including) `parent`, depth-first, in API form. Listings skip what
   * they cannot use (see `#directories`), reporting it through `warn` (default: the store's log).
   */
  async listNamespaces(parent = '', warn: ListingWarn = this.#warn): Promise<string[]> {
    const out = [parent];
    const nsRoot = join(nsDir(this.base, parent), 'ns');
    for (const name of await this.#directories(nsRoot, (await this.#readdirOrEmpty(nsRoot)).sort(), warn)) {
      out.push(...(await this.listNamespaces(parent === '' ? name : `${parent}/${name}`, warn)));
    }
    return out;
  }

  async listGroups(ns: string, warn: ListingWarn = this.#warn): Promise<GroupRef[]> {
    const out: GroupRef[] = [];
    const dir = nsDir(this.base, checkNamespace(ns));
    const types = (await this.#readdirOrEmpty(dir)).filter(isBackupType).sort();
    for (const type of await this.#directories(dir, types, warn)) {
      const tdir = join(dir, type);
      for (const id of await this.#directories(tdir, (await this.#readdirOrEmpty(tdir)).sort(), warn)) out.push({ ns, type, id });
    }
    return out;
  }

  /** Snapshots of a group, oldest first, finished or not. */
  async listSnapshots(g: GroupRef, warn: ListingWarn = this.#warn): Promise<SnapshotInfo[]> {
    const dir = groupDir(this.base, g);
    const out: SnapshotInfo[] = [];
    const names = (await this.#readdirOrEmpty(dir)).filter(isSnapshotTimeName).sort();
    for (const name of await this.#directories(dir, names, warn)) {
      let files: string[];
      try {
        files = await this.#fs.readdir(join(dir, name));
      } catch (e) {
        if (isHoldfastError(e, 'NOT_FOUND')) continue; // removed by a concurrent prune since the stat
        throw e;
      }
      const ref: SnapshotRef = { ...g, time: parseTime(name) };
      out.push({ ref, finished: files.includes(MANIFEST_NAME), protected: files.includes(PROTECTED_NAME), hasClientLog: files.includes(CLIENT_LOG_BLOB_NAME) });
    }
    return out;
  }

  async snapshotExists(s: SnapshotRef): Promise<boolean> {
    return (await this.#fs.stat(snapshotDir(this.base, s)))?.isDirectory === true;
  }

  async readManifest(s: SnapshotRef): Promise<Manifest> {
    return decodeManifestBlob(await this.readSnapshotFile(s, MANIFEST_NAME));
  }

  /**
   * Read-modify-write of a finished snapshot's manifest (notes, verify state). Serialised per
   * snapshot in this process; the new manifest replaces the old atomically, durably at the levels
   * that promise a durable manifest.
   */
  async updateManifest(s: SnapshotRef, fn: (m: Manifest) => void): Promise<Manifest> {
    return this.#manifestMutex.run(this.#show(s), async () => {
      const m = await this.readManifest(s);
      fn(m);
      await this.durability.writeManifest(join(snapshotDir(this.base, s), MANIFEST_NAME), encodeManifestBlob(m));
      return m;
    });
  }

  /** Raw bytes of a file in a snapshot (index, blob or manifest). */
  async readSnapshotFile(s: SnapshotRef, fileName: string): Promise<Uint8Array> {
    if (fileName.includes('/') || fileName.startsWith('.')) throw fail('INVALID_NAME', `file name '${fileName}' is not allowed`, { value: fileName });
    return this.#fs.readFile(join(snapshotDir(this.base, s), fileName));
  }

  /** The names of the files in a snapshot directory; none when it is gone (a concurrent prune). */
  async listSnapshotFiles(s: SnapshotRef): Promise<string[]> {
    try {
      return await this.#fs.readdir(snapshotDir(this.base, s));
    } catch (e) {
      if (isHoldfastError(e, 'NOT_FOUND')) return [];
      throw e;
    }
  }

  /** A store-level metadata file (`.gc-status`) as text; undefined when absent. */
  async readStoreFile(name: string): Promise<string | undefined> {
    if (name.includes('/')) throw fail('INVALID_NAME', `file name '${name}' is not allowed`, { value: name });
    return readTextIfExists(this.#fs, join(this.base, name));
  }

  async getOwner(g: GroupRef): Promise<string | undefined> {
    return (await readTextIfExists(this.#fs, join(groupDir(this.base, g), OWNER_NAME)))?.trim();
  }

  async setOwner(g: GroupRef, owner: string): Promise<void> {
    await this.writeMeta(join(groupDir(this.base, g), OWNER_NAME), `${owner}\n`);
  }

  async setProtected(s: SnapshotRef, on: boolean): Promise<void> {
    const lock = await this.locker.lockDir(snapshotDir(this.base, s), 'exclusive', `snapshot ${this.#show(s)}`);
    try {
      const path = join(snapshotDir(this.base, s), PROTECTED_NAME);
      if (on) await this.writeMeta(path, '');
      else await this.durability.removeFile(path);
    } finally {
      await lock.release();
    }
  }

  /**
   * Adds the client's log (`client.log.blob`, PBS's `upload-backup-log`) to a finished snapshot,
   * once: under the snapshot's exclusive lock, so it cannot race a forget or a second upload;
   * NOT_FOUND for a snapshot that is not there (or not finished), ALREADY_EXISTS when it has a log.
   * The caller has checked that `bytes` are a blob. Written like notes: atomically, and durably
   * at the levels that sync metadata files.
   */
  async addClientLog(s: SnapshotRef, bytes: Uint8Array): Promise<void> {
    const dir = snapshotDir(this.base, s);
    if (!(await this.snapshotExists(s))) throw fail('NOT_FOUND', `snapshot ${this.#show(s)} does not exist`, { snapshot: this.#show(s) });
    const lock = await this.locker.lockDir(dir, 'exclusive', `snapshot ${this.#show(s)}`);
    try {
      const files = await this.listSnapshotFiles(s);
      if (!files.includes(MANIFEST_NAME)) throw fail('NOT_FOUND', `snapshot ${this.#show(s)} does not exist`, { snapshot: this.#show(s) });
      if (files.includes(CLIENT_LOG_BLOB_NAME)) throw fail('ALREADY_EXISTS', `snapshot ${this.#show(s)} already contains a log`, { snapshot: this.#show(s) });
      await this.writeMeta(join(dir, CLIENT_LOG_BLOB_NAME), bytes);
    } finally {
      await lock.release();
    }
  }

  /** A group's notes; undefined when it has none. */
  async getGroupNotes(g: GroupRef): Promise<string | undefined> {
    return readTextIfExists(this.#fs, join(groupDir(this.base, g), NOTES_NAME));
  }

  async setGroupNotes(g: GroupRef, notes: string): Promise<void> {
    await this.writeMeta(join(groupDir(this.base, g), NOTES_NAME), notes);
  }

  /** Removes a snapshot under its exclusive lock; refuses a protected one unless forced. */
  async deleteSnapshot(s: SnapshotRef, opts: { readonly force?: boolean } = {}): Promise<void> {
    const dir = snapshotDir(this.base, s);
    if (!(await this.snapshotExists(s))) throw fail('NOT_FOUND', `snapshot ${this.#show(s)} does not exist`, { snapshot: this.#show(s) });
    const lock = await this.locker.lockDir(dir, 'exclusive', `snapshot ${this.#show(s)}`);
    try {
      if (!opts.force && (await this.#fs.stat(join(dir, PROTECTED_NAME)))) {
        throw fail('PROTECTED', `snapshot ${this.#show(s)} is protected`, { snapshot: this.#show(s) });
      }
      await this.durability.removeSnapshot(dir, MANIFEST_NAME);
    } finally {
      await lock.release();
    }
  }

  /**
   * Moves a snapshot into group `to` (another namespace), keeping its time; group-move.ts holds the
   * locks and makes the checks. Every GC marking at the time hears of it (MoveJournals).
   */
  async moveSnapshot(s: SnapshotRef, to: GroupRef): Promise<SnapshotRef> {
    const target: SnapshotRef = { ns: to.ns, type: to.type, id: to.id, time: s.time };
    await this.moves.moving(to, () => this.durability.moveSnapshot(snapshotDir(this.base, s), snapshotDir(this.base, target), MANIFEST_NAME));
    return target;
  }

  /** Removes unfinished snapshot dirs that no running backup holds (crash leftovers). */
  async cleanupUnfinished(g: GroupRef): Promise<SnapshotRef[]> {
    const removed: SnapshotRef[] = [];
    for (const info of await this.listSnapshots(g)) {
      if (info.finished) continue;
      const dir = snapshotDir(this.base, info.ref);
      let lock;
      try {
        lock = await this.locker.lockDir(dir, 'exclusive', 'snapshot');
      } catch (e) {
        if (isHoldfastError(e, 'LOCKED') || isHoldfastError(e, 'NOT_FOUND')) continue; // in use, or gone already
        throw e;
      }
      try {
        await this.durability.discard(dir);
        removed.push(info.ref);
      } finally {
        await lock.release();
      }
    }
    return removed;
  }

  show(s: SnapshotRef | GroupRef): string {
    return this.#show(s);
  }

  #show(s: SnapshotRef | GroupRef): string {
    const ns = s.ns === '' ? '' : `ns/${s.ns}/`;
    const time = 'time' in s ? `/${formatTime(s.time)}` : '';
    return `${ns}${s.type}/${s.id}${time}`;
  }

  /**
   * The entries of `dir` among `names` that are directories. An entry that is not a directory
   * cannot be a namespace, group or snapshot: it is skipped with a warning that names it, never a
   * failure of the whole listing (nor of the GC, verify, prune or backup that lists). One that
   * vanished meanwhile (a concurrent prune or forget) is skipped silently. Any other error
   * propagates: GC must never take an unreadable snapshot for an absent one, or it would sweep the
   * chunks that snapshot still references.
   */
  async #directories<T extends string>(dir: string, names: readonly T[], warn: ListingWarn): Promise<T[]> {
    const out: T[] = [];
    for (const name of names) {
      const st = await this.#fs.stat(join(dir, name));
      if (st === undefined) continue;
      if (st.isDirectory) out.push(name);
      else warn(`datastore ${this.name}: skipping '${relative(this.base, join(dir, name))}': not a directory`);
    }
    return out;
  }

  /** The names in `dir`; none when it does not exist or is not a directory (see `#directories`). */
  async #readdirOrEmpty(dir: string): Promise<string[]> {
    if ((await this.#fs.stat(dir))?.isDirectory !== true) return [];
    try {
      return await this.#fs.readdir(dir);
    } catch (e) {
      if (isHoldfastError(e, 'NOT_FOUND')) return [];
      throw e;
    }
  }
}
