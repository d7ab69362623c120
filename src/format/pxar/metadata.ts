/**
 * The metadata model of a pxar entry: the ENTRY stat plus the attribute items (xattrs, ACLs,
 * fcaps, quota project id). Values keep the format's widths: 64-bit fields that are not sizes
 * are bigints so that decode → encode is lossless; uid/gid (u32) and mode are numbers.
 * Time is stored as the format stores it: whole seconds (floor) plus nanoseconds in 0..1e9.
 */
import { S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK } from './constants.ts';

export interface PxarTime {
  readonly secs: bigint;
  readonly nanos: number;
}

export interface PxarStat {
  /** Full st_mode: file type, suid/sgid/sticky and permission bits. */
  readonly mode: number;
  /** pxar feature-flag bits for chattr/FAT attributes (pxar-format.md §9.2); 0 when unknown. */
  readonly flags: bigint;
  readonly uid: number;
  readonly gid: number;
  readonly mtime: PxarTime;
}

export interface PxarXattr {
  readonly name: Uint8Array;
  readonly value: Uint8Array;
}

/** A named user (ACL_USER) or group (ACL_GROUP) entry; permissions use READ=4 WRITE=2 EXECUTE=1. */
export interface PxarAclEntry {
  readonly id: bigint;
  readonly permissions: bigint;
}

/** ACL_DEFAULT: the four object entries of a default ACL, `ACL_NO_MASK` when not set. */
export interface PxarAclDefault {
  readonly userObj: bigint;
  readonly groupObj: bigint;
  readonly other: bigint;
  readonly mask: bigint;
}

export interface PxarAcl {
  readonly users: readonly PxarAclEntry[];
  readonly groups: readonly PxarAclEntry[];
  readonly groupObj?: bigint;
  readonly default?: PxarAclDefault;
  readonly defaultUsers: readonly PxarAclEntry[];
  readonly defaultGroups: readonly PxarAclEntry[];
}

export interface PxarMetadata {
  readonly stat: PxarStat;
  /** In archive order (PBS keeps the kernel's listxattr order; it does not sort). */
  readonly xattrs: readonly PxarXattr[];
  readonly acl: PxarAcl;
  /** Raw `security.capability` value. */
  readonly fcaps?: Uint8Array;
  readonly quotaProjectId?: bigint;
}

export interface PxarDevice {
  readonly major: bigint;
  readonly minor: bigint;
}

/**
 * Shared by every entry without ACLs or xattrs (most files): a decoded previous archive holds
 * one metadata per file for a whole backup, and five empty arrays and an object each were a
 * fifth of it. Frozen, like the readonly types say.
 */
const NONE: readonly never[] = Object.freeze([]);
export const EMPTY_XATTRS: readonly PxarXattr[] = NONE;
export const EMPTY_ACL: PxarAcl = Object.freeze({ users: NONE, groups: NONE, defaultUsers: NONE, defaultGroups: NONE });

/** Metadata with only a stat (no xattrs, ACLs, fcaps or quota). */
export function plainMetadata(stat: PxarStat): PxarMetadata {
  return { stat, xattrs: EMPTY_XATTRS, acl: EMPTY_ACL };
}

const NS_PER_SEC = 1_000_000_000n;

/** Nanoseconds since the epoch (e.g. `Stats.mtimeNs`) → floor seconds + nanos in 0..1e9. */
export function timeFromNs(ns: bigint): PxarTime {
  let secs = ns / NS_PER_SEC;
  let nanos = ns % NS_PER_SEC;
  if (nanos < 0n) {
    secs -= 1n;
    nanos += NS_PER_SEC;
  }
  return { secs, nanos: Number(nanos) };
}

export function timeToNs(t: PxarTime): bigint {
  return t.secs * NS_PER_SEC + BigInt(t.nanos);
}

/** glibc's split of a dev_t into major/minor (pxar-format.md §3, DEVICE). */
export function deviceFromDevT(dev: bigint): PxarDevice {
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & 0xfffff000n);
  const minor = (dev & 0xffn) | ((dev >> 12n) & 0xffffff00n);
  return { major, minor };
}

export function deviceToDevT(d: PxarDevice): bigint {
  return ((d.major & 0xfffn) << 8n) | ((d.major & 0xfffff000n) << 32n) | (d.minor & 0xffn) | ((d.minor & 0xffffff00n) << 12n);
}

export const PXAR_FILE_TYPES = ['directory', 'file', 'symlink', 'block-device', 'char-device', 'fifo', 'socket'] as const;
export type PxarFileType = (typeof PXAR_FILE_TYPES)[number];

const TYPE_BY_IFMT = new Map<number, PxarFileType>([
  [S_IFDIR, 'directory'],
  [S_IFREG, 'file'],
  [S_IFLNK, 'symlink'],
  [S_IFBLK, 'block-device'],
  [S_IFCHR, 'char-device'],
  [S_IFIFO, 'fifo'],
  [S_IFSOCK, 'socket'],
]);

/** The file type a mode's S_IFMT bits name, or undefined for an unknown type. */
export function fileTypeOfMode(mode: number): PxarFileType | undefined {
  return TYPE_BY_IFMT.get(mode & S_IFMT);
}
