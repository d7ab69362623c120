/**
 * Durability: the one place that turns a datastore's sync level into fsync/syncfs calls. Every
 * write, create and remove of a datastore's metadata goes through an operation named after its
 * intent; no other module asks which level is set (see docs/durability.md for each promise).
 *
 * | operation            | none | filesystem                   | file                          |
 * | chunk put            | —    | — (the barrier covers it)    | fsync file + prefix dir       |
 * | writeMetadata        | —    | —                            | fsync file + dir              |
 * | writeManifest        | —    | fsync file + dir             | fsync file + dir              |
 * | makeDirectory/remove | —    | —                            | fsync parent dir              |
 * | moveTargetReady      | —    | syncfs of the metadata fs    | syncfs of the metadata fs     |
 * | moveSnapshot         | —    | fsync both parent dirs       | fsync both parent dirs        |
 * | removeEmptyDirectory | —    | —                            | fsync parent dir              |
 * | barrier              | settle | one syncfs (backend flush) | settle (each write was synced) |
 * | metadataBarrier      | —    | syncfs of the metadata fs    | —                             |
 * | chunkRemovalsDone    | —    | —                            | backend flush                 |
 * | syncEverything, writeDurably, removeDurably: at every level (level switches, in-use marker) |
 *
 * Chunk puts are the backend's (ChunkStore asks `chunkWritesDurable`). "settle" is the backend's
 * write barrier for deferred puts (ChunkBackend.settle; S3): at every level a backup's chunks must
 * be stored before its manifest, whatever the level says about power loss. A failed sync propagates
 * and is never retried: the caller fails its operation (and the Datastore stops acknowledging).
 *
 * The content mirror (chunks/content-mirror.ts; none for a local store): every metadata write
 * and remove here is also applied to the mirror, and the write resolves only when the mirror has
 * it too. The manifest goes to the mirror before the local file, so a failed mirror write leaves
 * no manifest anywhere; removals go local first, the manifest before the rest of its snapshot.
 * `discard` (what was never acknowledged) tries the mirror but only warns when it cannot.
 * `writeMirrorRecord`/`removeMirrorRecord` touch the mirror only: records (an empty namespace's
 * marker) that the local tree keeps as directories.
 */
import { dirname, join, relative, sep } from 'node:path';
import { fail, isHoldfastError, toHoldfastError } from '../core/errors.ts';
import { NO_MIRROR, type ContentMirror } from '../chunks/content-mirror.ts';
import { writePolicy, type SyncLevel, type WritePolicy } from '../core/sync-level.ts';
import { atomicWrite } from '../storage/atomic-write.ts';
import type { Fs } from '../storage/fs-port.ts';
import { removeTree } from '../storage/remove-tree.ts';

export interface DurabilityDeps {
  /** the datastore's metadata filesystem */
  readonly fs: Fs;
  readonly base: string;
  readonly level: () => SyncLevel;
  /** the chunk backend's barrier (ChunkBackend.flush) */
  readonly flushChunks: () => Promise<void>;
  /** the chunk backend's write barrier (ChunkBackend.settle); absent: puts complete as they resolve */
  readonly settleChunks?: () => Promise<void>;
  /** whether that flush syncs the filesystem under `base` too (ChunkBackend.flushScope) */
  readonly flushCoversBase: boolean;
  /** the second copy of the metadata (default: none) */
  readonly mirror?: ContentMirror;
  /** where `discard` reports a mirror copy it could not remove */
  readonly warn?: (msg: string) => void;
}

export class Durability {
  readonly #deps: DurabilityDeps;
  readonly #fs: Fs;
  readonly #mirror: ContentMirror;

  constructor(deps: DurabilityDeps) {
    this.#deps = deps;
    this.#fs = deps.fs;
    this.#mirror = deps.mirror ?? NO_MIRROR;
  }

  get #policy(): WritePolicy {
    return writePolicy(this.#deps.level());
  }

  /** Whether each chunk put must be durable on its own. */
  get chunkWritesDurable(): boolean {
    return this.#policy.fsyncChunks;
  }

  /**
   * Whether chunk puts should start their writeback at once: the finish barrier (syncfs) will
   * have to write them, and started early that overlaps the rest of the backup instead of
   * following it (the kernel would otherwise hold them until its dirty limits are reached).
   */
  get chunkWritesStartWriteback(): boolean {
    return this.#policy.syncfsAtFinish;
  }

  /** An index, blob, owner, notes or status file, replaced atomically. */
  async writeMetadata(path: string, data: Uint8Array | string): Promise<void> {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    await atomicWrite(this.#fs, path, bytes, { durable: this.#policy.fsyncFiles });
    if (this.#mirror.active) await this.#mirror.fileWritten(this.#rel(path), bytes);
  }

  /**
   * A snapshot's manifest, replaced atomically; durable at the levels that promise it before the
   * backup is acknowledged. `unsynced` is for the crash explorer's deliberate break only.
   */
  async writeManifest(path: string, bytes: Uint8Array, testOnly: { readonly unsynced?: boolean } = {}): Promise<void> {
    if (this.#mirror.active) await this.#mirror.fileWritten(this.#rel(path), bytes);
    await atomicWrite(this.#fs, path, bytes, { durable: this.#policy.durableManifest && testOnly.unsynced !== true });
  }

  /** A file that must be durable whatever the level (the in-use marker). */
  async writeDurably(path: string, bytes: Uint8Array): Promise<void> {
    await atomicWrite(this.#fs, path, bytes, { durable: true });
  }

  /** mkdir; its entry in the parent is made durable at `file`. ALREADY_EXISTS/NOT_FOUND propagate. */
  async makeDirectory(dir: string): Promise<void> {
    await this.#fs.mkdir(dir, { mode: 0o755 });
    await this.directoryChanged(dirname(dir));
  }

  /** Unlinks a file if present (false when absent); the removal is durable at `file`. */
  async removeFile(path: string): Promise<boolean> {
    try {
      await this.#fs.unlink(path);
    } catch (e) {
      if (isHoldfastError(e, 'NOT_FOUND')) {
        if (this.#mirror.active) await this.#mirror.fileRemoved(this.#rel(path));
        return false;
      }
      throw e;
    }
    await this.directoryChanged(dirname(path));
    if (this.#mirror.active) await this.#mirror.fileRemoved(this.#rel(path));
    return true;
  }

  /** Unlinks a file and makes that durable whatever the level (the in-use marker). */
  async removeDurably(path: string): Promise<void> {
    await this.#fs.unlink(path);
    await this.#fs.fsyncDir(dirname(path));
  }

  /**
   * Removes a snapshot directory: the manifest first (once it is gone the snapshot is unfinished,
   * whatever else remains), then the rest; each step durable at `file`.
   */
  async removeSnapshot(dir: string, manifestName: string): Promise<void> {
    await this.removeFile(join(dir, manifestName));
    await removeTree(this.#fs, dir);
    await this.directoryChanged(dirname(dir));
    if (this.#mirror.active) await this.#mirror.treeRemoved(this.#rel(dir));
  }

  /**
   * Moves a snapshot directory to `to`, which must not exist (rename(2) would replace an empty
   * directory; the caller holds both groups' locks and checked). The mirror gets the snapshot's
   * files at the new place first, the manifest last, so a failure leaves at most an unfinished
   * copy there; then the local rename, made durable where a manifest is (both parents fsynced at
   * `filesystem` and `file`: a move is acknowledged on its own, not at a backup's barrier); only
   * then does the mirror's old copy go, so the mirror holds the snapshot at every moment.
   */
  async moveSnapshot(from: string, to: string, manifestName: string): Promise<void> {
    if (this.#mirror.active) {
      const names = (await this.#fs.readdir(from)).sort((a, b) => Number(a === manifestName) - Number(b === manifestName));
      for (const name of names) await this.#mirror.fileWritten(this.#rel(join(to, name)), await this.#fs.readFile(join(from, name)));
    }
    await this.#fs.rename(from, to);
    if (this.#policy.durableManifest) {
      // the new name first: a crash between the two leaves the snapshot under both names (the
      // old one still listed), never under neither, as the old directory's sync alone could
      await this.#fs.fsyncDir(dirname(to));
      await this.#fs.fsyncDir(dirname(from));
    }
    if (this.#mirror.active) await this.#mirror.treeRemoved(this.#rel(from));
  }

  /**
   * A record only the mirror keeps (an empty namespace's marker): locally the directory is the
   * record, so nothing is written here. Resolves when the mirror has it.
   */
  async writeMirrorRecord(path: string): Promise<void> {
    if (this.#mirror.active) await this.#mirror.fileWritten(this.#rel(path), new Uint8Array(0));
  }

  /** Removes a record only the mirror keeps (see `writeMirrorRecord`). */
  async removeMirrorRecord(path: string): Promise<void> {
    if (this.#mirror.active) await this.#mirror.fileRemoved(this.#rel(path));
  }

  /**
   * rmdir of `dir` and of its entries, which must be empty directories (DIRECTORY_NOT_EMPTY when
   * one is not, and rmdir never removes anything that is not empty); durable at `file`.
   */
  async removeEmptyDirectory(dir: string): Promise<void> {
    for (const name of await this.#fs.readdir(dir)) await this.#fs.rmdir(join(dir, name));
    await this.#fs.rmdir(dir);
    await this.directoryChanged(dirname(dir));
  }

  /** `rm -r` without syncs: for what was never acknowledged (an unfinished snapshot, an empty new group). */
  async discard(path: string): Promise<void> {
    await removeTree(this.#fs, path);
    if (!this.#mirror.active) return;
    try {
      await this.#mirror.treeRemoved(this.#rel(path));
    } catch (e) {
      // never acknowledged and without a manifest: an unfinished leftover, removed by a later
      // cleanup; failing here would hide the error that made the caller discard
      this.#deps.warn?.(`could not remove the mirror copy of ${this.#rel(path)}: ${toHoldfastError(e).message}`);
    }
  }

  /**
   * Removes an acknowledged directory that no longer holds a snapshot (an emptied group: its
   * owner and notes): `rm -r`, then the parent's entry durable at `file`; the mirror follows, and
   * a failure there propagates (unlike `discard`, this was acknowledged).
   */
  async removeTree(dir: string): Promise<void> {
    await removeTree(this.#fs, dir);
    await this.directoryChanged(dirname(dir));
    if (this.#mirror.active) await this.#mirror.treeRemoved(this.#rel(dir));
  }

  /**
   * rmdir of an empty directory (a namespace's): false when it is absent; DIRECTORY_NOT_EMPTY
   * when something is still inside, so nothing is ever removed along with it. Durable at `file`.
   */
  async rmdirDurably(dir: string): Promise<boolean> {
    try {
      await this.#fs.rmdir(dir);
    } catch (e) {
      if (isHoldfastError(e, 'NOT_FOUND')) return false;
      throw e;
    }
    await this.directoryChanged(dirname(dir));
    return true;
  }

  /**
   * The backup barrier, before its manifest: at `filesystem` the backend's flush (one syncfs
   * locally), which makes every chunk and metadata write before it durable; at the other levels
   * the backend's settle (deferred chunk writes stored).
   */
  async barrier(): Promise<void> {
    if (this.#policy.syncfsAtFinish) await this.#syncAll();
    else await this.#deps.settleChunks?.();
  }

  /**
   * Before the first snapshot of a group move is renamed: the target group as the move made it
   * (its namespace's and its own directories, owner and notes) durable wherever a move is, so a
   * moved snapshot never lands in a directory a crash can take away, nor in a group without owner.
   * One syncfs per group moved, not an fsync of each directory up the tree per snapshot.
   */
  async moveTargetReady(): Promise<void> {
    if (this.#policy.durableManifest) await this.#fs.syncfs(this.#deps.base);
  }

  /** At `filesystem`, makes metadata removals (prune, forget) durable before chunks go (GC). */
  async metadataBarrier(): Promise<void> {
    if (this.#policy.syncfsAtFinish) await this.#fs.syncfs(this.#deps.base);
  }

  /** After GC removed chunks: at `file`, their removal is made durable (the backend's flush). */
  async chunkRemovalsDone(): Promise<void> {
    if (this.#policy.fsyncFiles) await this.#deps.flushChunks();
  }

  /** Everything written so far durable, whatever the level (level switch, clean close). */
  async syncEverything(): Promise<void> {
    await this.#syncAll();
  }

  async #syncAll(): Promise<void> {
    await this.#deps.flushChunks();
    if (!this.#deps.flushCoversBase) await this.#fs.syncfs(this.#deps.base);
  }

  /** `path` relative to the base, `/`-separated: the mirror's name for it. */
  #rel(path: string): string {
    const rel = relative(this.#deps.base, path);
    if (rel === '' || rel.startsWith('..') || rel.startsWith(sep)) throw fail('INVALID_ARGUMENT', `'${path}' is not inside the datastore ${this.#deps.base}`, { path });
    return rel.split(sep).join('/');
  }

  /** After a change to `dir`'s entries made elsewhere (a recursive mkdir): durable at `file`. */
  async directoryChanged(dir: string): Promise<void> {
    if (this.#policy.fsyncFiles) await this.#fs.fsyncDir(dir);
  }
}
