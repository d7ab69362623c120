/**
 * The filesystems `holdfast mount` serves (fuse-session.ts), read-only views of one archive:
 * - `PxarFilesystem`: a directory archive (`.pxar`, or a split `.mpxar` + `.ppxar`) as its tree,
 *   found through the goodbye tables (format/pxar/accessor.ts): listing a directory or opening a
 *   file reads that entry's bytes and no others, and a file's data is read only where it is read.
 * - `ImageFilesystem`: an image archive (`.img`) as one file in an otherwise empty root, to be
 *   read in place or attached with `losetup -r`, as `proxmox-backup-client map` does.
 *
 * Node ids: the root is 1 (FUSE_ROOT_ID); any other entry is its FILENAME offset + 1, so a name
 * always gets the same id, and a hardlink the id of its target (the same inode, as on the disk
 * it came from). A node is known from its first lookup until the kernel forgets it (FORGET), so
 * memory follows what the kernel caches, not the archive's size.
 *
 * What a mount shows: mode, owner, size, mtime (also as atime and ctime), symlink targets,
 * device numbers, and xattrs (with a file capability as `security.capability`). POSIX ACLs are
 * not shown as xattrs (`getfacl` on the mount lists the mode only); a restore applies them.
 */
import { fail } from '../core/errors.ts';
import { ERRNO, FUSE_ROOT_ID, encodeRdev, type Dirent, type FuseAttr, type StatfsInfo } from '../format/fuse-abi.ts';
import type { AccessedEntry, PxarAccessor, RandomAccess } from '../format/pxar/accessor.ts';
import { HEADER_SIZE, PXAR_PAYLOAD, S_IFDIR, S_IFREG } from '../format/pxar/constants.ts';
import { FuseError, type FuseFilesystem } from './fuse-session.ts';

interface Node {
  readonly entry: AccessedEntry;
  readonly parent: number;
  lookups: number;
  /** The directory's listing as READDIR hands it out, read at the first READDIR. */
  dirents?: Promise<Dirent[]> | undefined;
  /** A split file's PAYLOAD header, checked once (the reference and the payload must agree). */
  payloadChecked?: Promise<void> | undefined;
}

const DOT = new TextEncoder().encode('.');
const DOTDOT = new TextEncoder().encode('..');
const CAPABILITY = new TextEncoder().encode('security.capability');

/** More entries than any READDIR reply holds (a 4 KiB page takes ~150 short names). */
const READDIR_BATCH = 1024;

const idOf = (e: AccessedEntry): number => e.fileOffset + 1;

function attrOf(e: AccessedEntry): FuseAttr {
  const s = e.metadata.stat;
  const size = e.kind === 'file' ? e.data!.size : e.kind === 'symlink' ? e.target!.length : 0;
  const rdev = e.device === undefined ? 0 : encodeRdev(Number(e.device.major), Number(e.device.minor));
  // directories report one link: "unknown", so find(1) does not infer a subdirectory count
  return { ino: idOf(e), size, mode: Number(s.mode), nlink: 1, uid: s.uid, gid: s.gid, rdev, mtimeSecs: s.mtime.secs, mtimeNanos: s.mtime.nanos };
}

export class PxarFilesystem implements FuseFilesystem {
  readonly #acc: PxarAccessor;
  readonly #archive: RandomAccess;
  readonly #payload: RandomAccess | undefined;
  readonly #nodes = new Map<number, Node>();

  private constructor(acc: PxarAccessor, archive: RandomAccess, payload: RandomAccess | undefined, root: AccessedEntry) {
    this.#acc = acc;
    this.#archive = archive;
    this.#payload = payload;
    this.#nodes.set(FUSE_ROOT_ID, { entry: root, parent: FUSE_ROOT_ID, lookups: 1 });
  }

  /**
   * `archive`: the `.pxar` or `.mpxar`; `payload`: the `.ppxar` of a split archive. The root is
   * read here, so an archive that is not pxar fails before anything is mounted.
   */
  static async open(acc: PxarAccessor, archive: RandomAccess, payload?: RandomAccess): Promise<PxarFilesystem> {
    const root = await acc.root();
    if (acc.split && payload === undefined) throw fail('INVALID_ARGUMENT', 'a split archive needs its payload archive');
    return new PxarFilesystem(acc, archive, payload, root);
  }

  #node(id: number): Node {
    const n = this.#nodes.get(id);
    if (n === undefined) throw new FuseError(ERRNO.ENOENT, `unknown node ${id}`);
    return n;
  }

  async lookup(parent: number, name: Uint8Array): Promise<FuseAttr | undefined> {
    const dir = this.#node(parent);
    if (dir.entry.kind !== 'directory') throw new FuseError(ERRNO.ENOTDIR, 'not a directory');
    const e = await this.#acc.lookup(dir.entry, name);
    if (e === undefined) return undefined;
    const id = idOf(e);
    const known = this.#nodes.get(id);
    if (known !== undefined) known.lookups++;
    else this.#nodes.set(id, { entry: e, parent, lookups: 1 });
    return attrOf(e);
  }

  forget(node: number, n: number): void {
    const known = this.#nodes.get(node);
    if (known === undefined || node === FUSE_ROOT_ID) return;
    known.lookups -= n;
    if (known.lookups <= 0) this.#nodes.delete(node);
  }

  async getattr(node: number): Promise<FuseAttr> {
    return attrOf(this.#node(node).entry);
  }

  async readlink(node: number): Promise<Uint8Array> {
    const e = this.#node(node).entry;
    if (e.kind !== 'symlink') throw new FuseError(ERRNO.EINVAL, 'not a symlink');
    return e.target!;
  }

  async open(node: number): Promise<void> {
    const n = this.#node(node);
    if (n.entry.kind === 'directory') throw new FuseError(ERRNO.EISDIR, 'a directory');
    if (n.entry.kind !== 'file') throw new FuseError(ERRNO.EINVAL, 'not a regular file');
    const d = n.entry.data!;
    if (d.in === 'payload') {
      n.payloadChecked ??= this.#checkPayload(d.headerOffset, d.size);
      n.payloadChecked.catch(() => (n.payloadChecked = undefined)); // a failed check is tried again
      await n.payloadChecked;
    }
  }

  async #checkPayload(headerOffset: number, size: number): Promise<void> {
    const payload = this.#payload!;
    if (headerOffset + HEADER_SIZE + size > payload.size) throw fail('CORRUPT', 'file data lies past the end of the payload archive', { headerOffset, size });
    const h = await payload.read(headerOffset, HEADER_SIZE);
    const view = new DataView(h.buffer, h.byteOffset, HEADER_SIZE);
    if (view.getBigUint64(0, true) !== PXAR_PAYLOAD || view.getBigUint64(8, true) !== BigInt(HEADER_SIZE + size)) {
      throw fail('CORRUPT', 'payload reference does not point at a PAYLOAD of its size', { headerOffset, size });
    }
  }

  async read(node: number, offset: number, size: number): Promise<Uint8Array> {
    const e = this.#node(node).entry;
    if (e.kind !== 'file') throw new FuseError(ERRNO.EINVAL, 'not a regular file');
    const d = e.data!;
    const n = Math.max(0, Math.min(size, d.size - offset));
    if (n === 0) return new Uint8Array(0);
    if (d.in === 'archive') return this.#archive.read(d.offset + offset, n);
    await this.open(node); // the header check, if the kernel read without our OPEN (it does not, but cheap)
    return this.#payload!.read(d.headerOffset + HEADER_SIZE + offset, n);
  }

  async readdir(node: number, offset: number): Promise<readonly Dirent[]> {
    const n = this.#node(node);
    if (n.entry.kind !== 'directory') throw new FuseError(ERRNO.ENOTDIR, 'not a directory');
    n.dirents ??= this.#acc.list(n.entry).then((children) => [
      { ino: node, next: 1, mode: S_IFDIR, name: DOT },
      { ino: n.parent, next: 2, mode: S_IFDIR, name: DOTDOT },
      ...children.map((c, i) => ({ ino: idOf(c), next: i + 3, mode: Number(c.metadata.stat.mode), name: c.name })),
    ]);
    n.dirents.catch(() => (n.dirents = undefined));
    // one reply's worth (a READDIR asks for a page or a few): a large directory is not copied per call
    return (await n.dirents).slice(offset, offset + READDIR_BATCH);
  }

  async xattrs(node: number): Promise<readonly { readonly name: Uint8Array; readonly value: Uint8Array }[]> {
    const m = this.#node(node).entry.metadata;
    return m.fcaps === undefined ? m.xattrs : [...m.xattrs, { name: CAPABILITY, value: m.fcaps }];
  }

  statfs(): StatfsInfo {
    return { blocks: Math.ceil((this.#archive.size + (this.#payload?.size ?? 0)) / 4096), files: this.#nodes.size };
  }
}

const IMAGE_ID = 2;

/** An image archive as the one file `name` in the mount's root. */
export class ImageFilesystem implements FuseFilesystem {
  readonly #image: RandomAccess;
  readonly #name: Uint8Array;
  readonly #mtimeSecs: bigint;

  constructor(image: RandomAccess, name: string, mtimeSecs: number) {
    this.#image = image;
    this.#name = new TextEncoder().encode(name);
    this.#mtimeSecs = BigInt(mtimeSecs);
  }

  #attr(node: number): FuseAttr {
    const base = { nlink: 1, uid: 0, gid: 0, rdev: 0, mtimeSecs: this.#mtimeSecs, mtimeNanos: 0 };
    if (node === FUSE_ROOT_ID) return { ...base, ino: node, size: 0, mode: S_IFDIR | 0o555 };
    if (node === IMAGE_ID) return { ...base, ino: node, size: this.#image.size, mode: S_IFREG | 0o444 };
    throw new FuseError(ERRNO.ENOENT, `unknown node ${node}`);
  }

  async lookup(parent: number, name: Uint8Array): Promise<FuseAttr | undefined> {
    if (parent !== FUSE_ROOT_ID) throw new FuseError(ERRNO.ENOTDIR, 'not a directory');
    return Buffer.compare(name, this.#name) === 0 ? this.#attr(IMAGE_ID) : undefined;
  }

  forget(): void {}

  async getattr(node: number): Promise<FuseAttr> {
    return this.#attr(node);
  }

  async readlink(): Promise<Uint8Array> {
    throw new FuseError(ERRNO.EINVAL, 'not a symlink');
  }

  async open(node: number): Promise<void> {
    if (node !== IMAGE_ID) throw new FuseError(ERRNO.EISDIR, 'a directory');
  }

  async read(node: number, offset: number, size: number): Promise<Uint8Array> {
    if (node !== IMAGE_ID) throw new FuseError(ERRNO.EISDIR, 'a directory');
    const n = Math.max(0, Math.min(size, this.#image.size - offset));
    return n === 0 ? new Uint8Array(0) : this.#image.read(offset, n);
  }

  async readdir(node: number, offset: number): Promise<readonly Dirent[]> {
    if (node !== FUSE_ROOT_ID) throw new FuseError(ERRNO.ENOTDIR, 'not a directory');
    const all: Dirent[] = [
      { ino: FUSE_ROOT_ID, next: 1, mode: S_IFDIR, name: DOT },
      { ino: FUSE_ROOT_ID, next: 2, mode: S_IFDIR, name: DOTDOT },
      { ino: IMAGE_ID, next: 3, mode: S_IFREG, name: this.#name },
    ];
    return all.slice(offset);
  }

  async xattrs(): Promise<readonly { readonly name: Uint8Array; readonly value: Uint8Array }[]> {
    return [];
  }

  statfs(): StatfsInfo {
    return { blocks: Math.ceil(this.#image.size / 4096), files: 1 };
  }
}
