/**
 * Pending micro-operations: what a mutating call leaves behind until a sync makes it durable,
 * after the ALICE decomposition in crash-model.md §2.6.
 *
 * | call                   | micro-ops                                                         |
 * |------------------------|-------------------------------------------------------------------|
 * | write                  | size(cause 'write') if it grows the file, then one data op per block piece |
 * | truncate, open 'w'     | size(cause 'truncate')                                             |
 * | create, mkdir          | link(dir, name → new inode)                                         |
 * | rename a → b           | [unlink(old b)], link(b → inode), unlink(a)                        |
 * | unlink, rmdir          | unlink(dir, name)                                                  |
 * | touchAtime             | atime                                                              |
 *
 * Replay rules, which make any subset of ops safe to apply in program order:
 * - an op whose inode the image lacks creates it from the op's template (a file created and
 *   written in the same window may keep its data or its later name without its first name);
 * - a link into a directory the image lacks creates that directory as an unreachable orphan,
 *   which becomes visible only if a link to it survives too. That is both what fsync of a
 *   directory does (its entries are durable even while its own name is not) and the one real
 *   dependency ALICE names (an entry in a directory created in the same window needs that
 *   directory's creation to be seen);
 * - an unlink removes the name only if it still points at the op's inode.
 */
import { applyPiece, BLOCK_SIZE, fillHoles, setFileSize, type Image, type InodeTemplate, type Piece } from './sim-image.ts';

interface OpBase {
  /** Unique, increasing in program order. */
  readonly id: number;
  /** The mutating call (SimFs op counter) this op came from; ops of one call share it. */
  readonly seq: number;
  /** The path the call named, for crash reports. */
  readonly path: string;
}

export interface DataOp extends OpBase {
  readonly kind: 'data';
  readonly inode: InodeTemplate;
  readonly piece: Piece;
  readonly mtimeMs: number;
}

export interface SizeOp extends OpBase {
  readonly kind: 'size';
  readonly inode: InodeTemplate;
  readonly size: number;
  /** 'write' = grown by a write (delayed allocation; may come back as garbage); 'truncate' = explicit. */
  readonly cause: 'write' | 'truncate';
  readonly mtimeMs: number;
}

export interface AtimeOp extends OpBase {
  readonly kind: 'atime';
  readonly inode: InodeTemplate;
  readonly atimeMs: number;
}

export interface LinkOp extends OpBase {
  readonly kind: 'link';
  /** The directory that gets the entry. */
  readonly dir: InodeTemplate;
  readonly name: string;
  readonly inode: InodeTemplate;
  /** A rename over an existing name (ext4's auto_da_alloc flushes the data first). */
  readonly replaces: boolean;
  readonly timeMs: number;
}

export interface UnlinkOp extends OpBase {
  readonly kind: 'unlink';
  readonly dir: InodeTemplate;
  readonly name: string;
  readonly ino: number;
  readonly timeMs: number;
}

export type PendingOp = DataOp | SizeOp | AtimeOp | LinkOp | UnlinkOp;
export type EntryOp = LinkOp | UnlinkOp;
export type InodeOp = DataOp | SizeOp | AtimeOp;

/** What a surviving size op that grows a file leaves in the new region when its data is lost. */
export type ExtensionFill = 'zero' | 'garbage';

export function isEntryOp(op: PendingOp): op is EntryOp {
  return op.kind === 'link' || op.kind === 'unlink';
}

/** Ops that `FileHandle.sync` of `ino` makes durable. */
export function isInodeOpOf(op: PendingOp, ino: number): op is InodeOp {
  return !isEntryOp(op) && op.inode.ino === ino;
}

/** Ops in the file's data stream (delayed allocation): data pieces and the sizes writes set. */
export function isDataStreamOp(op: PendingOp): op is DataOp | SizeOp {
  return op.kind === 'data' || (op.kind === 'size' && op.cause === 'write');
}

/**
 * Applies one op to an image (durable image or crash state). `garbage` fills the holes of a
 * region a write-caused size op grows, when the caller chose the 'garbage' outcome for it.
 */
export function applyOp(image: Image, op: PendingOp, garbage?: (bytes: Uint8Array) => void): void {
  switch (op.kind) {
    case 'data': {
      const file = image.ensure(op.inode);
      if (file.kind !== 'file') return;
      applyPiece(file, op.piece);
      file.mtimeMs = op.mtimeMs;
      return;
    }
    case 'size': {
      const file = image.ensure(op.inode);
      if (file.kind !== 'file') return;
      if (garbage !== undefined && op.size > file.size) fillHoles(file, file.size, op.size, garbage);
      setFileSize(file, op.size);
      file.mtimeMs = op.mtimeMs;
      return;
    }
    case 'atime':
      image.ensure(op.inode).atimeMs = op.atimeMs;
      return;
    case 'link': {
      const dir = image.ensure(op.dir);
      if (dir.kind !== 'dir') return;
      image.ensure(op.inode);
      dir.entries.set(op.name, op.inode.ino);
      dir.mtimeMs = op.timeMs;
      return;
    }
    case 'unlink': {
      const dir = image.get(op.dir.ino);
      if (dir?.kind !== 'dir' || dir.entries.get(op.name) !== op.ino) return;
      const writableDir = image.writable(op.dir.ino);
      if (writableDir?.kind !== 'dir') return;
      writableDir.entries.delete(op.name);
      writableDir.mtimeMs = op.timeMs;
      return;
    }
  }
}

/** One line per op for crash reports, e.g. `#12 write /a/b [4096+4096)`. */
export function describeOp(op: PendingOp): string {
  const head = `#${op.seq}`;
  switch (op.kind) {
    case 'data': {
      const at = op.piece.block * BLOCK_SIZE + op.piece.offset;
      return `${head} data ${op.path} [${at}+${op.piece.bytes.length})`;
    }
    case 'size':
      return `${head} size(${op.cause}) ${op.path} = ${op.size}`;
    case 'atime':
      return `${head} atime ${op.path}`;
    case 'link':
      return `${head} link ${op.path} → ino ${op.inode.ino}${op.replaces ? ' (replaces)' : ''}`;
    case 'unlink':
      return `${head} unlink ${op.path} (ino ${op.ino})`;
  }
}
