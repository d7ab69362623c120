/**
 * The `Fs` port: the syscall-level surface that every byte Holdfast stores goes through.
 *
 * Two adapters implement it: `NodeFs` (node:fs plus a native syncfs) and the power-loss simulator
 * in `testing/`. Wrappers (counting, fault injection) implement it too and stack in one place.
 *
 * Contract (every adapter, checked by the contract suite in test/contract):
 * - Paths are absolute. Errors are HoldfastErrors: ENOENT → NOT_FOUND, EEXIST → ALREADY_EXISTS,
 *   ENOTEMPTY → DIRECTORY_NOT_EMPTY, a failing fsync/syncfs → SYNC_FAILED, others → IO_ERROR; the
 *   errno string is in `details.errno`.
 * - `write` at a position never reports a short write: it writes all bytes or throws.
 * - `read` may return fewer bytes than asked only at end of file.
 * - Nothing is durable until `FileHandle.sync` (file data and size), `fsyncDir` (the directory's
 *   entries: creates, renames, unlinks) or `syncfs` (everything on the filesystem) returns.
 * - A failed sync is reported once and never retried by the adapter: the caller fails its operation.
 *   What it covered may be lost for good even though reads still return it (Linux marks the dirty
 *   pages clean after EIO, so a later sync that succeeds proves nothing); the simulator does this.
 * - `readdir` yields each entry once, in no particular order, without `.` and `..`.
 */

export interface FileStat {
  readonly size: number;
  readonly isFile: boolean;
  readonly isDirectory: boolean;
  readonly isSymlink: boolean;
  readonly ino: number;
  readonly mode: number;
  /** atime/mtime in milliseconds since the epoch. */
  readonly atimeMs: number;
  readonly mtimeMs: number;
}

export type OpenMode =
  /** read only; the file must exist */
  | 'r'
  /** create or truncate, write only */
  | 'w'
  /** create exclusively (fails with ALREADY_EXISTS), write only */
  | 'wx'
  /**
   * as 'wx', bypassing the page cache where the adapter and filesystem can (O_DIRECT; see
   * storage/direct-io.ts), for data that is written once and rarely read back. Each write
   * must start at a multiple of 4096 and end the file (in practice: one write of the whole
   * content at 0). Durability is as for 'wx': nothing is durable before a sync. Adapters without
   * direct I/O, and filesystems that refuse it, write through the cache.
   */
  | 'wx-direct'
  /** read and write; the file must exist */
  | 'r+';

export interface FileHandle {
  /** Writes all of `data` at `position`. */
  write(data: Uint8Array, position: number): Promise<void>;
  /** Reads up to `length` bytes at `position`; returns fewer only at end of file. */
  read(position: number, length: number): Promise<Uint8Array>;
  truncate(length: number): Promise<void>;
  stat(): Promise<FileStat>;
  /** fsync(2): makes this file's data and size durable. */
  sync(): Promise<void>;
  /**
   * Starts writing this file's dirty pages to the device without waiting for them
   * (sync_file_range SYNC_FILE_RANGE_WRITE): a hint that proves nothing about durability, so a
   * later barrier (syncfs) has less left to write. Adapters without such a call do nothing.
   */
  startWriteback(): Promise<void>;
  close(): Promise<void>;
}

export interface ReadFileOptions {
  /**
   * Read around the page cache where the adapter and filesystem can (O_DIRECT; see
   * storage/direct-io.ts), for data read once (chunks). Same result; adapters may ignore it.
   */
  readonly direct?: boolean;
}

export interface Fs {
  open(path: string, mode: OpenMode, perm?: number): Promise<FileHandle>;
  /**
   * Whole file; a convenience over open/read/close. With `into`, a file that fits is read into it
   * and the result is a view of it (the caller's buffer, reused at the caller's will); a larger
   * file is read as without it. An adapter may ignore `into`.
   */
  readFile(path: string, into?: Uint8Array, options?: ReadFileOptions): Promise<Uint8Array>;
  /** lstat(2); resolves undefined when the path does not exist. */
  stat(path: string): Promise<FileStat | undefined>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  /** mkdir(2); with `recursive`, creates missing parents and tolerates an existing directory. */
  mkdir(path: string, options?: { readonly recursive?: boolean; readonly mode?: number }): Promise<void>;
  rmdir(path: string): Promise<void>;
  readdir(path: string): Promise<string[]>;
  /**
   * Sets atime to now (or to `atimeMs` when given) and leaves mtime alone (utimensat with
   * UTIME_NOW or an explicit time, and UTIME_OMIT). Does not follow a final symlink.
   */
  touchAtime(path: string, atimeMs?: number): Promise<void>;
  /** fsync(2) of a directory: makes its entries durable. */
  fsyncDir(path: string): Promise<void>;
  /** syncfs(2) on the filesystem that holds `path`. */
  syncfs(path: string): Promise<void>;
}

/** The sync calls a test can count, by kind. */
export interface SyncCounts {
  fsyncFile: number;
  fsyncDir: number;
  syncfs: number;
}
