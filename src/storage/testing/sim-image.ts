/**
 * Image: one complete filesystem tree (inodes, directory entries, 4 KiB file blocks) as the
 * power-loss simulator keeps it. The simulator holds two (the volatile view and the durable image)
 * and every crash state is one more, so images share structure: `fork()` costs O(inodes / 256)
 * and a later mutation copies only what it touches (one 256-slot inode bucket, one inode, one
 * block).
 *
 * Invariants:
 * - An inode or bucket is mutated only by the image whose current owner token it carries; any
 *   other image copies it first. `fork()` gives both sides fresh tokens, so neither can mutate
 *   what they now share.
 * - A stored block (Uint8Array of BLOCK_SIZE bytes) is never mutated; writes store a new block.
 * - Inodes are never removed: an unlinked inode stays as an unreachable orphan. That keeps crash
 *   replay simple (a later op may name an inode whose last name an earlier op removed) and costs
 *   no memory beyond what forks already share.
 */

export const BLOCK_SIZE = 4096;
export const ROOT_INO = 1;
const BUCKET_BITS = 8;
const BUCKET_SIZE = 1 << BUCKET_BITS;

export const INODE_KINDS = ['file', 'dir'] as const;
export type InodeKind = (typeof INODE_KINDS)[number];

/** What an inode looks like when it is born; pending ops carry it so replay can create it. */
export interface InodeTemplate {
  readonly kind: InodeKind;
  readonly ino: number;
  readonly perm: number;
  readonly timeMs: number;
}

interface InodeCommon {
  readonly ino: number;
  owner: object;
  perm: number;
  atimeMs: number;
  mtimeMs: number;
}

export interface FileInode extends InodeCommon {
  readonly kind: 'file';
  size: number;
  /** undefined = a hole (reads as zeros). Never holds bytes past `size` in a volatile view. */
  blocks: (Uint8Array | undefined)[];
}

export interface DirInode extends InodeCommon {
  readonly kind: 'dir';
  entries: Map<string, number>;
}

export type Inode = FileInode | DirInode;

interface Bucket {
  owner: object;
  slots: (Inode | undefined)[];
}

export class Image {
  #owner: object = {};
  #buckets: (Bucket | undefined)[];

  private constructor(buckets: (Bucket | undefined)[]) {
    this.#buckets = buckets;
  }

  /** An image holding only an empty root directory. */
  static empty(timeMs: number): Image {
    const image = new Image([]);
    image.create({ kind: 'dir', ino: ROOT_INO, perm: 0o755, timeMs });
    return image;
  }

  /** A copy that shares all structure with this image; both sides copy on their next write. */
  fork(): Image {
    this.#owner = {};
    return new Image(this.#buckets.slice());
  }

  /** Read-only access: callers must not mutate the result (use `writable`). */
  get(ino: number): Inode | undefined {
    return this.#buckets[ino >>> BUCKET_BITS]?.slots[ino & (BUCKET_SIZE - 1)];
  }

  /** The inode, copied into this image first if it is shared. */
  writable(ino: number): Inode | undefined {
    const inode = this.get(ino);
    if (inode === undefined || inode.owner === this.#owner) return inode;
    const copy: Inode =
      inode.kind === 'file'
        ? { ...inode, owner: this.#owner, blocks: inode.blocks.slice() }
        : { ...inode, owner: this.#owner, entries: new Map(inode.entries) };
    this.#store(copy);
    return copy;
  }

  /** Creates the inode from its template; an existing inode with that number is replaced. */
  create(t: InodeTemplate): Inode {
    const common = { ino: t.ino, owner: this.#owner, perm: t.perm, atimeMs: t.timeMs, mtimeMs: t.timeMs };
    const inode: Inode =
      t.kind === 'file'
        ? { ...common, kind: 'file', size: 0, blocks: [] }
        : { ...common, kind: 'dir', entries: new Map() };
    this.#store(inode);
    return inode;
  }

  /** The writable inode, created from the template when this image does not have it yet. */
  ensure(t: InodeTemplate): Inode {
    return this.writable(t.ino) ?? this.create(t);
  }

  #store(inode: Inode): void {
    const index = inode.ino >>> BUCKET_BITS;
    let bucket = this.#buckets[index];
    if (bucket === undefined) {
      bucket = { owner: this.#owner, slots: new Array<Inode | undefined>(BUCKET_SIZE).fill(undefined) };
      this.#buckets[index] = bucket;
    } else if (bucket.owner !== this.#owner) {
      bucket = { owner: this.#owner, slots: bucket.slots.slice() };
      this.#buckets[index] = bucket;
    }
    bucket.slots[inode.ino & (BUCKET_SIZE - 1)] = inode;
  }
}

/** One block-aligned piece of a write: the unit a crash can keep or lose (writes tear at 4 KiB). */
export interface Piece {
  readonly block: number;
  readonly offset: number;
  readonly bytes: Uint8Array;
}

/** Splits a write into block pieces. `bytes` must be a private copy: pieces alias it. */
export function splitIntoPieces(position: number, bytes: Uint8Array): Piece[] {
  const pieces: Piece[] = [];
  let done = 0;
  while (done < bytes.length) {
    const at = position + done;
    const offset = at % BLOCK_SIZE;
    const length = Math.min(BLOCK_SIZE - offset, bytes.length - done);
    pieces.push({ block: Math.floor(at / BLOCK_SIZE), offset, bytes: bytes.subarray(done, done + length) });
    done += length;
  }
  return pieces;
}

/** Writes a piece into a writable file's blocks. Does not change the size. */
export function applyPiece(file: FileInode, piece: Piece): void {
  if (piece.offset === 0 && piece.bytes.length === BLOCK_SIZE) {
    file.blocks[piece.block] = piece.bytes;
    return;
  }
  const block = new Uint8Array(BLOCK_SIZE);
  const old = file.blocks[piece.block];
  if (old !== undefined) block.set(old);
  block.set(piece.bytes, piece.offset);
  file.blocks[piece.block] = block;
}

/** Sets a writable file's size. Shrinking discards the bytes past the new end. */
export function setFileSize(file: FileInode, size: number): void {
  if (size < file.size) {
    const keepBlocks = Math.ceil(size / BLOCK_SIZE);
    if (file.blocks.length > keepBlocks) file.blocks.length = keepBlocks;
    const tail = size % BLOCK_SIZE;
    const last = file.blocks[keepBlocks - 1];
    if (tail !== 0 && last !== undefined) {
      const block = new Uint8Array(BLOCK_SIZE);
      block.set(last.subarray(0, tail));
      file.blocks[keepBlocks - 1] = block;
    }
  }
  file.size = size;
}

/** Fills the holes among the blocks that overlap [from, to) using `fill` (crash garbage). */
export function fillHoles(file: FileInode, from: number, to: number, fill: (block: Uint8Array) => void): void {
  for (let b = Math.floor(from / BLOCK_SIZE); b * BLOCK_SIZE < to; b++) {
    if (file.blocks[b] !== undefined) continue;
    const start = Math.max(from - b * BLOCK_SIZE, 0);
    const end = Math.min(to - b * BLOCK_SIZE, BLOCK_SIZE);
    const block = new Uint8Array(BLOCK_SIZE);
    fill(block.subarray(start, end));
    file.blocks[b] = block;
  }
}

/** Reads up to `length` bytes at `position`, stopping at the end of the file. */
export function readRange(file: FileInode, position: number, length: number): Uint8Array {
  const end = Math.min(file.size, position + length);
  if (end <= position) return new Uint8Array(0);
  const out = new Uint8Array(end - position);
  let at = position;
  while (at < end) {
    const offset = at % BLOCK_SIZE;
    const take = Math.min(BLOCK_SIZE - offset, end - at);
    const block = file.blocks[Math.floor(at / BLOCK_SIZE)];
    if (block !== undefined) out.set(block.subarray(offset, offset + take), at - position);
    at += take;
  }
  return out;
}
