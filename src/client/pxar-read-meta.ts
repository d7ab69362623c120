/**
 * Reads a filesystem entry's pxar metadata: the stat from `lstat` (bigint form, so mtime keeps
 * its nanoseconds) and, for regular files and directories only (as PBS does), the xattrs that
 * pass PBS's filter, `security.capability` as FCAPS, and POSIX ACLs. `stat.flags` (chattr/FAT
 * attributes) is written as 0: reading them needs an ioctl per file and PBS restores them only
 * on request. Unlike PBS, the categories are not masked by filesystem type (PBS reads no xattrs
 * on tmpfs, for example); we store whatever the filesystem reports.
 */
import type { BigIntStats } from 'node:fs';
import { isHoldfastError } from '../core/errors.ts';
import { MAX_XATTR_NAME_LEN } from '../format/pxar/constants.ts';
import { EMPTY_ACL, timeFromNs, type PxarMetadata, type PxarStat, type PxarXattr } from '../format/pxar/metadata.ts';
import { ACL_ACCESS_XATTR, ACL_DEFAULT_XATTR, aclFromXattrs } from './pxar-acl.ts';
import { getXattr, listXattrs } from './pxar-native.ts';

export interface MetadataOptions {
  /** user.*, trusted.* and security.NTACL xattrs (default true). */
  readonly xattrs?: boolean;
  /** POSIX access and default ACLs (default true). */
  readonly acls?: boolean;
  /** File capabilities, `security.capability` (default true). */
  readonly fcaps?: boolean;
}

export const XATTR_CLASSES = ['xattr', 'fcaps', 'acl-access', 'acl-default', 'skip'] as const;
export type XattrClass = (typeof XATTR_CLASSES)[number];

/** PBS's xattr name filter (pxar-format.md §9.1, VECTORS.md §16) and where each name goes. */
export function classifyXattr(name: Uint8Array): XattrClass {
  const text = Buffer.from(name).toString('latin1');
  if (text === 'security.capability') return 'fcaps';
  if (text === ACL_ACCESS_XATTR) return 'acl-access';
  if (text === ACL_DEFAULT_XATTR) return 'acl-default';
  if (name.length < 1 || name.length > MAX_XATTR_NAME_LEN) return 'skip';
  if (text.startsWith('user.') || text.startsWith('trusted.') || text === 'security.NTACL') return 'xattr';
  return 'skip';
}

export function statOf(st: BigIntStats): PxarStat {
  return { mode: Number(st.mode), flags: 0n, uid: Number(st.uid), gid: Number(st.gid), mtime: timeFromNs(st.mtimeNs) };
}

/** An entry that vanished after its lstat is archived from that lstat, without xattrs. */
function xattrNamesOrNone(absPath: Uint8Array): Uint8Array[] {
  try {
    return listXattrs(absPath);
  } catch (e) {
    if (isHoldfastError(e, 'NOT_FOUND')) return [];
    throw e;
  }
}

/** Metadata of `absPath`, whose `lstat` is `st`. */
export function readMetadata(absPath: Uint8Array, st: BigIntStats, opts: MetadataOptions = {}): PxarMetadata {
  const stat = statOf(st);
  if (!st.isFile() && !st.isDirectory()) return { stat, xattrs: [], acl: EMPTY_ACL };
  const xattrs: PxarXattr[] = [];
  let fcaps: Uint8Array | undefined;
  let access: Uint8Array | undefined;
  let dflt: Uint8Array | undefined;
  for (const name of xattrNamesOrNone(absPath)) {
    const cls = classifyXattr(name);
    const wanted = cls === 'xattr' ? opts.xattrs !== false : cls === 'fcaps' ? opts.fcaps !== false : cls !== 'skip' && opts.acls !== false;
    if (!wanted) continue;
    const value = getXattr(absPath, name);
    if (value === undefined) continue;
    if (cls === 'xattr') xattrs.push({ name: new Uint8Array(name), value });
    else if (cls === 'fcaps') fcaps = value;
    else if (cls === 'acl-access') access = value;
    else dflt = value;
  }
  return { stat, xattrs, acl: aclFromXattrs(access, dflt), ...(fcaps === undefined ? {} : { fcaps }) };
}
