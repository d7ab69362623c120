/**
 * SimKernel: the synchronous core of the power-loss simulator. Every call applies at once to the
 * volatile image with POSIX semantics (what the process sees) and records the micro-ops it implies
 * in the pending log (what a crash may or may not keep); syncs move ops into the durable image.
 *
 * Each call runs to completion without awaiting, so calls from concurrent async code interleave
 * only between calls, as syscalls do. Inode numbers are never reused.
 */
import type { FileStat, OpenMode } from '../fs-port.ts';
import { PendingLog, type DurableSnapshot, type SyncScope } from './pending-log.ts';
import type { PendingOp } from './pending-ops.ts';
import { applyPiece, Image, readRange, setFileSize, splitIntoPieces, type DirInode, type FileInode, type Inode, type InodeKind, type InodeTemplate } from './sim-image.ts';
import { lookup, resolve, resolveDir, resolveParent, simError, splitPath } from './sim-namespace.ts';

const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const DIR_SIZE = 4096;

/** What a crash explorer needs to rebuild the filesystem later: the durable image and the log. */
export interface KernelSnapshot extends DurableSnapshot {
  readonly nextIno: number;
}

export interface KernelOptions {
  readonly now: () => number;
  readonly ignoreAtime: boolean;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export class SimKernel {
  readonly #volatile: Image;
  readonly #log: PendingLog;
  readonly #options: KernelOptions;
  readonly #templates = new Map<number, InodeTemplate>();
  #nextIno: number;
  #seq = 0;

  /** Starts with `image` both visible and durable (a fresh filesystem or a post-crash state). */
  constructor(image: Image, nextIno: number, options: KernelOptions) {
    this.#volatile = image.fork();
    this.#log = new PendingLog(image.fork());
    this.#nextIno = nextIno;
    this.#options = options;
  }

  /** How many mutating calls have started. */
  get opCount(): number {
    return this.#seq;
  }

  get pendingCount(): number {
    return this.#log.size;
  }

  /** Starts the next mutating call; its ops carry the returned sequence number. */
  beginOp(): number {
    return ++this.#seq;
  }

  snapshot(): KernelSnapshot {
    return { ...this.#log.snapshot(), nextIno: this.#nextIno };
  }

  // ---- files ----

  /** Opens (creating or truncating as the mode says) and returns the inode number. */
  open(path: string, mode: OpenMode, perm: number): number {
    if (mode === 'r' || mode === 'r+') {
      const inode = resolve(this.#volatile, path, 'open');
      if (inode.kind !== 'file') throw simError('EISDIR', 'open', path);
      return inode.ino;
    }
    const { parent, name, existing } = resolveParent(this.#volatile, path, 'open');
    if (existing === undefined) return this.#createEntry(parent, name, 'file', perm, path).ino;
    if (mode === 'wx') throw simError('EEXIST', 'open', path);
    if (existing.kind !== 'file') throw simError('EISDIR', 'open', path);
    if (existing.size > 0) this.truncate(existing.ino, 0, path);
    return existing.ino;
  }

  read(ino: number, position: number, length: number): Uint8Array {
    return readRange(this.#file(ino), position, length);
  }

  write(ino: number, data: Uint8Array, position: number, path: string): void {
    if (position < 0 || !Number.isSafeInteger(position)) throw simError('EINVAL', 'write', path);
    if (data.length === 0) return;
    const file = this.#writableFile(ino);
    const inode = this.#templateOf(file);
    const mtimeMs = this.#options.now();
    const end = position + data.length;
    if (end > file.size) {
      this.#record({ kind: 'size', inode, size: end, cause: 'write', mtimeMs, path });
      file.size = end;
    }
    for (const piece of splitIntoPieces(position, new Uint8Array(data))) {
      applyPiece(file, piece);
      this.#record({ kind: 'data', inode, piece, mtimeMs, path });
    }
    file.mtimeMs = mtimeMs;
  }

  truncate(ino: number, length: number, path: string): void {
    if (length < 0 || !Number.isSafeInteger(length)) throw simError('EINVAL', 'truncate', path);
    const file = this.#writableFile(ino);
    const mtimeMs = this.#options.now();
    setFileSize(file, length);
    file.mtimeMs = mtimeMs;
    this.#record({ kind: 'size', inode: this.#templateOf(file), size: length, cause: 'truncate', mtimeMs, path });
  }

  statIno(ino: number): FileStat {
    const inode = this.#volatile.get(ino);
    if (inode === undefined) throw simError('EBADF', 'fstat', `ino ${ino}`);
    return toStat(inode);
  }

  // ---- namespace ----

  stat(path: string): FileStat | undefined {
    const inode = lookup(this.#volatile, path, 'stat');
    return inode === undefined ? undefined : toStat(inode);
  }

  readdir(path: string): string[] {
    return [...resolveDir(this.#volatile, path, 'readdir').entries.keys()];
  }

  mkdir(path: string, recursive: boolean, perm: number): void {
    if (!recursive) {
      const { parent, name, existing } = resolveParent(this.#volatile, path, 'mkdir');
      if (existing !== undefined) throw simError('EEXIST', 'mkdir', path);
      this.#createEntry(parent, name, 'dir', perm, path);
      return;
    }
    let dir = resolveDir(this.#volatile, '/', 'mkdir');
    const names = splitPath(path, 'mkdir');
    for (const [i, name] of names.entries()) {
      const ino = dir.entries.get(name);
      const next = ino === undefined ? this.#createEntry(dir, name, 'dir', perm, path) : this.#volatile.get(ino);
      if (next?.kind !== 'dir') throw simError(i === names.length - 1 ? 'EEXIST' : 'ENOTDIR', 'mkdir', path);
      dir = next;
    }
  }

  unlink(path: string): void {
    const { parent, name, existing } = resolveParent(this.#volatile, path, 'unlink');
    if (existing === undefined) throw simError('ENOENT', 'unlink', path);
    if (existing.kind === 'dir') throw simError('EISDIR', 'unlink', path);
    this.#removeEntry(parent, name, existing.ino, path);
  }

  rmdir(path: string): void {
    const { parent, name, existing } = resolveParent(this.#volatile, path, 'rmdir');
    if (name === '') throw simError('EBUSY', 'rmdir', path);
    if (existing === undefined) throw simError('ENOENT', 'rmdir', path);
    if (existing.kind !== 'dir') throw simError('ENOTDIR', 'rmdir', path);
    if (existing.entries.size > 0) throw simError('ENOTEMPTY', 'rmdir', path);
    this.#removeEntry(parent, name, existing.ino, path);
  }

  rename(from: string, to: string): void {
    const src = resolveParent(this.#volatile, from, 'rename');
    if (src.existing === undefined) throw simError('ENOENT', 'rename', from);
    const dst = resolveParent(this.#volatile, to, 'rename');
    if (src.name === '' || dst.name === '') throw simError('EBUSY', 'rename', to);
    const moving = src.existing;
    if (dst.existing === moving) return;
    checkRenameTarget(moving, dst.existing, from, to);
    const replaced = dst.existing;
    const timeMs = this.#options.now();
    if (replaced !== undefined) {
      this.#record({ kind: 'unlink', dir: this.#templateOf(dst.parent), name: dst.name, ino: replaced.ino, timeMs, path: to });
    }
    this.#writableDir(dst.parent.ino).entries.set(dst.name, moving.ino);
    this.#record({
      kind: 'link',
      dir: this.#templateOf(dst.parent),
      name: dst.name,
      inode: this.#templateOf(moving),
      replaces: replaced?.kind === 'file' && moving.kind === 'file',
      timeMs,
      path: to,
    });
    this.#writableDir(src.parent.ino).entries.delete(src.name);
    this.#record({ kind: 'unlink', dir: this.#templateOf(src.parent), name: src.name, ino: moving.ino, timeMs, path: from });
  }

  /** Sets atime to `atimeMs` or now; a filesystem that ignores atime updates accepts the call and keeps the old. */
  touchAtime(path: string, atimeMs = this.#options.now()): void {
    const inode = resolve(this.#volatile, path, 'utimensat');
    if (this.#options.ignoreAtime) return;
    const writable = this.#volatile.writable(inode.ino);
    if (writable !== undefined) writable.atimeMs = atimeMs;
    this.#record({ kind: 'atime', inode: this.#templateOf(inode), atimeMs, path });
  }

  // ---- durability ----

  /** The scope fsyncDir(path) covers. Lookup errors name 'open', as NodeFs opens the directory first. */
  dirScope(path: string): SyncScope {
    return { kind: 'dir', ino: resolveDir(this.#volatile, path, 'open').ino };
  }

  /** The scope syncfs(path) covers: the whole filesystem, once `path` is known to exist. */
  fsScope(path: string): SyncScope {
    resolve(this.#volatile, path, 'open');
    return { kind: 'all' };
  }

  /** Makes the scope durable, or with `failed` drops it for good (see PendingLog). */
  sync(scope: SyncScope, failed: boolean): void {
    if (failed) this.#log.lose(scope);
    else this.#log.persist(scope);
  }

  // ---- helpers ----

  #createEntry(parent: DirInode, name: string, kind: InodeKind, perm: number, path: string): Inode {
    const timeMs = this.#options.now();
    const template: InodeTemplate = { kind, ino: this.#nextIno++, perm: perm & 0o7777, timeMs };
    this.#templates.set(template.ino, template);
    const inode = this.#volatile.create(template);
    const dir = this.#writableDir(parent.ino);
    dir.entries.set(name, template.ino);
    dir.mtimeMs = timeMs;
    this.#record({ kind: 'link', dir: this.#templateOf(parent), name, inode: template, replaces: false, timeMs, path });
    return inode;
  }

  #removeEntry(parent: DirInode, name: string, ino: number, path: string): void {
    const timeMs = this.#options.now();
    const dir = this.#writableDir(parent.ino);
    dir.entries.delete(name);
    dir.mtimeMs = timeMs;
    this.#record({ kind: 'unlink', dir: this.#templateOf(parent), name, ino, timeMs, path });
  }

  #record(op: DistributiveOmit<PendingOp, 'id' | 'seq'>): void {
    this.#log.record({ ...op, id: this.#log.nextId(), seq: this.#seq });
  }

  #templateOf(inode: Inode): InodeTemplate {
    let template = this.#templates.get(inode.ino);
    if (template === undefined) {
      template = { kind: inode.kind, ino: inode.ino, perm: inode.perm, timeMs: inode.mtimeMs };
      this.#templates.set(inode.ino, template);
    }
    return template;
  }

  #file(ino: number): FileInode {
    const inode = this.#volatile.get(ino);
    if (inode?.kind !== 'file') throw simError('EBADF', 'read', `ino ${ino}`);
    return inode;
  }

  #writableFile(ino: number): FileInode {
    const inode = this.#volatile.writable(ino);
    if (inode?.kind !== 'file') throw simError('EBADF', 'write', `ino ${ino}`);
    return inode;
  }

  #writableDir(ino: number): DirInode {
    const inode = this.#volatile.writable(ino);
    if (inode?.kind !== 'dir') throw simError('ENOTDIR', 'dir', `ino ${ino}`);
    return inode;
  }
}

function checkRenameTarget(moving: Inode, target: Inode | undefined, from: string, to: string): void {
  if (moving.kind === 'dir') {
    const fromNames = splitPath(from, 'rename');
    const toNames = splitPath(to, 'rename');
    if (toNames.length > fromNames.length && fromNames.every((n, i) => toNames[i] === n)) {
      throw simError('EINVAL', 'rename', to);
    }
  }
  if (target === undefined) return;
  if (moving.kind === 'file' && target.kind === 'dir') throw simError('EISDIR', 'rename', to);
  if (moving.kind === 'dir' && target.kind === 'file') throw simError('ENOTDIR', 'rename', to);
  if (target.kind === 'dir' && target.entries.size > 0) throw simError('ENOTEMPTY', 'rename', to);
}

function toStat(inode: Inode): FileStat {
  const isFile = inode.kind === 'file';
  return {
    size: isFile ? inode.size : DIR_SIZE,
    isFile,
    isDirectory: !isFile,
    isSymlink: false,
    ino: inode.ino,
    mode: (isFile ? S_IFREG : S_IFDIR) | inode.perm,
    atimeMs: inode.atimeMs,
    mtimeMs: inode.mtimeMs,
  };
}
