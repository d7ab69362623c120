/**
 * The Linux FUSE kernel ABI (include/uapi/linux/fuse.h), as far as a read-only filesystem needs
 * it: the request header and the arguments of the requests it answers, and the replies it sends.
 * Everything is little-endian (x86-64 and arm64 hosts) and laid out as the kernel's structs.
 *
 * Holdfast speaks protocol 7.31: the kernel adapts to an older minor than its own, and 7.31 has
 * every reply this needs (attributes with `blksize`, readdir, xattrs, negative lookups cached by
 * a zero node id). A request this module does not decode comes back as `{ op: 'other' }` with
 * its opcode, and the session answers ENOSYS (or EROFS for a write).
 *
 * Invariants: a request shorter than its header or its declared length, or whose arguments do
 * not fit its length, is refused (INVALID_ARGUMENT), never read past; names are byte strings cut
 * at their NUL. Replies are built whole, header first, so that each is one write(2).
 */
import { fail } from '../core/errors.ts';

export const FUSE_KERNEL_VERSION = 7;
export const FUSE_KERNEL_MINOR = 31;
/** The node id of the mount's root directory. */
export const FUSE_ROOT_ID = 1;

export const IN_HEADER_SIZE = 40;
export const OUT_HEADER_SIZE = 16;
const ATTR_SIZE = 88;

export const OPCODES = {
  LOOKUP: 1, FORGET: 2, GETATTR: 3, SETATTR: 4, READLINK: 5, SYMLINK: 6, MKNOD: 8, MKDIR: 9, UNLINK: 10, RMDIR: 11,
  RENAME: 12, LINK: 13, OPEN: 14, READ: 15, WRITE: 16, STATFS: 17, RELEASE: 18, FSYNC: 20, SETXATTR: 21, GETXATTR: 22,
  LISTXATTR: 23, REMOVEXATTR: 24, FLUSH: 25, INIT: 26, OPENDIR: 27, READDIR: 28, RELEASEDIR: 29, FSYNCDIR: 30,
  ACCESS: 34, CREATE: 35, INTERRUPT: 36, DESTROY: 38, BATCH_FORGET: 42, FALLOCATE: 43, RENAME2: 45, COPY_FILE_RANGE: 47,
  TMPFILE: 51,
} as const;

/** Requests that would change the filesystem: a read-only mount answers EROFS. */
export const WRITE_OPCODES: ReadonlySet<number> = new Set([
  OPCODES.SETATTR, OPCODES.SYMLINK, OPCODES.MKNOD, OPCODES.MKDIR, OPCODES.UNLINK, OPCODES.RMDIR, OPCODES.RENAME, OPCODES.LINK,
  OPCODES.WRITE, OPCODES.SETXATTR, OPCODES.REMOVEXATTR, OPCODES.CREATE, OPCODES.FALLOCATE, OPCODES.RENAME2,
  OPCODES.COPY_FILE_RANGE, OPCODES.TMPFILE,
]);

/** errno values the replies use (Linux). */
export const ERRNO = { ENOENT: 2, EIO: 5, EACCES: 13, ENOTDIR: 20, EISDIR: 21, EINVAL: 22, EROFS: 30, ERANGE: 34, ENOSYS: 38, ENODATA: 61 } as const;

/** INIT flags Holdfast asks for (when the kernel offers them). */
export const INIT_FLAGS = {
  ASYNC_READ: 1 << 0,
  PARALLEL_DIROPS: 1 << 18,
  MAX_PAGES: 1 << 22,
  CACHE_SYMLINKS: 1 << 23,
} as const;

/** OPEN/OPENDIR reply flags: the content never changes, so the kernel may keep its caches. */
export const FOPEN_KEEP_CACHE = 1 << 1;
export const FOPEN_CACHE_DIR = 1 << 3;

export interface RequestHeader {
  readonly opcode: number;
  readonly unique: bigint;
  readonly nodeid: number;
  readonly uid: number;
  readonly gid: number;
  readonly pid: number;
}

export type FuseRequest = RequestHeader &
  (
    | { readonly op: 'init'; readonly major: number; readonly minor: number; readonly maxReadahead: number; readonly flags: number }
    | { readonly op: 'lookup'; readonly name: Uint8Array }
    | { readonly op: 'forget'; readonly nlookup: number }
    | { readonly op: 'batch-forget'; readonly items: readonly { readonly nodeid: number; readonly nlookup: number }[] }
    | { readonly op: 'getattr' | 'readlink' | 'open' | 'opendir' | 'release' | 'releasedir' | 'flush' | 'statfs' | 'destroy' | 'interrupt' }
    | { readonly op: 'read' | 'readdir'; readonly offset: number; readonly size: number }
    | { readonly op: 'getxattr'; readonly size: number; readonly name: Uint8Array }
    | { readonly op: 'listxattr'; readonly size: number }
    | { readonly op: 'access'; readonly mask: number }
    | { readonly op: 'other' }
  );

const SIMPLE: ReadonlyMap<number, 'getattr' | 'readlink' | 'open' | 'opendir' | 'release' | 'releasedir' | 'flush' | 'statfs' | 'destroy' | 'interrupt'> = new Map([
  [OPCODES.GETATTR, 'getattr'], [OPCODES.READLINK, 'readlink'], [OPCODES.OPEN, 'open'], [OPCODES.OPENDIR, 'opendir'],
  [OPCODES.RELEASE, 'release'], [OPCODES.RELEASEDIR, 'releasedir'], [OPCODES.FLUSH, 'flush'], [OPCODES.STATFS, 'statfs'],
  [OPCODES.DESTROY, 'destroy'], [OPCODES.INTERRUPT, 'interrupt'],
] as const);

function u64(view: DataView, at: number): number {
  const v = view.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw fail('INVALID_ARGUMENT', 'FUSE request value out of range', { at });
  return Number(v);
}

function cString(bytes: Uint8Array): Uint8Array {
  const nul = bytes.indexOf(0);
  if (nul < 0) throw fail('INVALID_ARGUMENT', 'FUSE request name is not NUL-terminated');
  return bytes.subarray(0, nul);
}

/** Decodes one request as read from /dev/fuse (`bytes` is exactly what one read returned). */
export function parseRequest(bytes: Uint8Array): FuseRequest {
  if (bytes.length < IN_HEADER_SIZE) throw fail('INVALID_ARGUMENT', 'FUSE request shorter than its header', { length: bytes.length });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = view.getUint32(0, true);
  if (len < IN_HEADER_SIZE || len > bytes.length) throw fail('INVALID_ARGUMENT', 'FUSE request length does not match what was read', { len, read: bytes.length });
  const header: RequestHeader = {
    opcode: view.getUint32(4, true),
    unique: view.getBigUint64(8, true),
    nodeid: u64(view, 16),
    uid: view.getUint32(24, true),
    gid: view.getUint32(28, true),
    pid: view.getUint32(32, true),
  };
  const arg = bytes.subarray(IN_HEADER_SIZE, len);
  const av = new DataView(arg.buffer, arg.byteOffset, arg.byteLength);
  const need = (n: number): void => {
    if (arg.length < n) throw fail('INVALID_ARGUMENT', 'FUSE request arguments too short', { opcode: header.opcode, length: arg.length, need: n });
  };
  const simple = SIMPLE.get(header.opcode);
  if (simple !== undefined) return { ...header, op: simple };
  switch (header.opcode) {
    case OPCODES.INIT:
      need(16);
      return { ...header, op: 'init', major: av.getUint32(0, true), minor: av.getUint32(4, true), maxReadahead: av.getUint32(8, true), flags: av.getUint32(12, true) };
    case OPCODES.LOOKUP:
      return { ...header, op: 'lookup', name: cString(arg) };
    case OPCODES.FORGET:
      need(8);
      return { ...header, op: 'forget', nlookup: u64(av, 0) };
    case OPCODES.BATCH_FORGET: {
      need(8);
      const count = av.getUint32(0, true);
      need(8 + 16 * count);
      const items = Array.from({ length: count }, (_, i) => ({ nodeid: u64(av, 8 + 16 * i), nlookup: u64(av, 16 + 16 * i) }));
      return { ...header, op: 'batch-forget', items };
    }
    case OPCODES.READ:
    case OPCODES.READDIR:
      need(24);
      return { ...header, op: header.opcode === OPCODES.READ ? 'read' : 'readdir', offset: u64(av, 8), size: av.getUint32(16, true) };
    case OPCODES.GETXATTR:
      need(9);
      return { ...header, op: 'getxattr', size: av.getUint32(0, true), name: cString(arg.subarray(8)) };
    case OPCODES.LISTXATTR:
      need(8);
      return { ...header, op: 'listxattr', size: av.getUint32(0, true) };
    case OPCODES.ACCESS:
      need(4);
      return { ...header, op: 'access', mask: av.getUint32(0, true) };
    default:
      return { ...header, op: 'other' };
  }
}

/** A reply: the header, then `body` (absent for an error or an empty success). */
export function replyHeader(unique: bigint, error: number, bodyLength: number): Uint8Array {
  const out = new Uint8Array(OUT_HEADER_SIZE);
  const view = new DataView(out.buffer);
  view.setUint32(0, OUT_HEADER_SIZE + bodyLength, true);
  view.setInt32(4, error === 0 ? 0 : -Math.abs(error), true);
  view.setBigUint64(8, unique, true);
  return out;
}

/** What `stat` shows for a node. Times in seconds and nanoseconds; `rdev` as the kernel's dev_t. */
export interface FuseAttr {
  readonly ino: number;
  readonly size: number;
  readonly mode: number;
  readonly nlink: number;
  readonly uid: number;
  readonly gid: number;
  readonly rdev: number;
  readonly mtimeSecs: bigint;
  readonly mtimeNanos: number;
}

function putAttr(view: DataView, at: number, a: FuseAttr): void {
  view.setBigUint64(at, BigInt(a.ino), true);
  view.setBigUint64(at + 8, BigInt(a.size), true);
  view.setBigUint64(at + 16, BigInt(Math.ceil(a.size / 512)), true); // 512-byte blocks, as du reads them
  // atime and ctime show the mtime: a snapshot keeps no other time
  for (const t of [24, 32, 40]) view.setBigInt64(at + t, a.mtimeSecs, true);
  for (const t of [48, 52, 56]) view.setUint32(at + t, a.mtimeNanos, true);
  view.setUint32(at + 60, a.mode, true);
  view.setUint32(at + 64, a.nlink, true);
  view.setUint32(at + 68, a.uid, true);
  view.setUint32(at + 72, a.gid, true);
  view.setUint32(at + 76, a.rdev, true);
  view.setUint32(at + 80, 4096, true);
}

/** Seconds the kernel may cache an entry or its attributes: a snapshot never changes. */
export const CACHE_SECONDS = 86_400;

/** LOOKUP's reply (fuse_entry_out); `attr` undefined is a cached negative entry (node id 0). */
export function entryOut(nodeid: number, attr: FuseAttr | undefined): Uint8Array {
  const out = new Uint8Array(40 + ATTR_SIZE);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(nodeid), true);
  view.setBigUint64(16, BigInt(CACHE_SECONDS), true);
  view.setBigUint64(24, BigInt(CACHE_SECONDS), true);
  if (attr !== undefined) putAttr(view, 40, attr);
  return out;
}

/** GETATTR's reply (fuse_attr_out). */
export function attrOut(attr: FuseAttr): Uint8Array {
  const out = new Uint8Array(16 + ATTR_SIZE);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(CACHE_SECONDS), true);
  putAttr(view, 16, attr);
  return out;
}

/** OPEN's and OPENDIR's reply (fuse_open_out). */
export function openOut(flags: number): Uint8Array {
  const out = new Uint8Array(16);
  new DataView(out.buffer).setUint32(8, flags, true);
  return out;
}

/**
 * INIT's reply (fuse_init_out): our version, the flags the kernel offered that we want, and with
 * MAX_PAGES the largest READ we take (`maxPages` pages; the kernel's default is 32, 128 KiB).
 */
export function initOut(req: { readonly maxReadahead: number; readonly flags: number }, wanted: number, maxWrite: number, maxPages = 32): Uint8Array {
  const out = new Uint8Array(64);
  const view = new DataView(out.buffer);
  view.setUint32(0, FUSE_KERNEL_VERSION, true);
  view.setUint32(4, FUSE_KERNEL_MINOR, true);
  view.setUint32(8, req.maxReadahead, true);
  view.setUint32(12, req.flags & wanted, true);
  view.setUint16(16, 16, true); // max_background
  view.setUint16(18, 12, true); // congestion_threshold
  view.setUint32(20, maxWrite, true);
  view.setUint32(24, 1, true); // time_gran: nanoseconds
  view.setUint16(28, maxPages, true);
  return out;
}

/** The `size` a GETXATTR/LISTXATTR with size 0 asks for (fuse_getxattr_out). */
export function xattrSizeOut(size: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setUint32(0, size, true);
  return out;
}

export interface StatfsInfo {
  readonly blocks: number;
  readonly files: number;
}

/** STATFS's reply (fuse_statfs_out): nothing is free on a read-only snapshot. */
export function statfsOut(s: StatfsInfo): Uint8Array {
  const out = new Uint8Array(80);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(s.blocks), true);
  view.setBigUint64(24, BigInt(s.files), true);
  view.setUint32(40, 4096, true); // bsize
  view.setUint32(44, 255, true); // namelen
  view.setUint32(48, 4096, true); // frsize
  return out;
}

/** One directory entry for READDIR: `next` is the offset the kernel passes back to continue after it. */
export interface Dirent {
  readonly ino: number;
  readonly next: number;
  readonly mode: number;
  readonly name: Uint8Array;
}

const DIRENT_HEADER = 24;

/** The bytes of one fuse_dirent, padded to 8. */
export function direntSize(nameLength: number): number {
  return (DIRENT_HEADER + nameLength + 7) & ~7;
}

/** As many of `entries` as fit in `size` bytes, packed as fuse_dirent records. */
export function packDirents(entries: readonly Dirent[], size: number): Uint8Array {
  let total = 0;
  let n = 0;
  for (const e of entries) {
    const s = direntSize(e.name.length);
    if (total + s > size) break;
    total += s;
    n++;
  }
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const e of entries.slice(0, n)) {
    view.setBigUint64(at, BigInt(e.ino), true);
    view.setBigUint64(at + 8, BigInt(e.next), true);
    view.setUint32(at + 16, e.name.length, true);
    view.setUint32(at + 20, (e.mode >>> 12) & 0o17, true); // DT_* is the file-type nibble of the mode
    out.set(e.name, at + DIRENT_HEADER);
    at += direntSize(e.name.length);
  }
  return out;
}

/** The kernel's encoding of a device number in fuse_attr.rdev (new_encode_dev). */
export function encodeRdev(major: number, minor: number): number {
  return ((minor & 0xff) | ((major & 0xfff) << 8) | ((minor & ~0xff) << 12)) >>> 0;
}
