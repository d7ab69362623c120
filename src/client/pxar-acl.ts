/**
 * POSIX ACLs ⇄ pxar ACL items (pxar-format.md §9.1). Linux exposes ACLs as the xattrs
 * `system.posix_acl_access` / `system.posix_acl_default`: a u32 version (2) followed by
 * 8-byte entries (u16 tag, u16 permissions, u32 id), sorted by tag and then id.
 *
 * pxar keeps only what the mode cannot: named users/groups, the group-obj permissions when a
 * mask exists (the mask itself travels as the mode's group bits), and for default ACLs the four
 * object entries (ACL_NO_MASK when absent) plus named entries. Restoring rebuilds the xattr
 * from those items and the mode.
 */
import { ACL_NO_MASK } from '../format/pxar/constants.ts';
import type { PxarAcl, PxarAclEntry } from '../format/pxar/metadata.ts';
import { EMPTY_ACL } from '../format/pxar/metadata.ts';

export const ACL_ACCESS_XATTR = 'system.posix_acl_access';
export const ACL_DEFAULT_XATTR = 'system.posix_acl_default';

const VERSION = 2;
const TAG_USER_OBJ = 0x01;
const TAG_USER = 0x02;
const TAG_GROUP_OBJ = 0x04;
const TAG_GROUP = 0x08;
const TAG_MASK = 0x10;
const TAG_OTHER = 0x20;
const UNDEFINED_ID = 0xffffffff;

interface RawEntry {
  readonly tag: number;
  readonly perm: number;
  readonly id: number;
}

function parse(value: Uint8Array): RawEntry[] | undefined {
  if (value.length < 4 || (value.length - 4) % 8 !== 0) return undefined;
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  if (view.getUint32(0, true) !== VERSION) return undefined;
  const out: RawEntry[] = [];
  for (let at = 4; at < value.length; at += 8) out.push({ tag: view.getUint16(at, true), perm: view.getUint16(at + 2, true), id: view.getUint32(at + 4, true) });
  return out;
}

function named(entries: readonly RawEntry[], tag: number): PxarAclEntry[] {
  return entries.filter((e) => e.tag === tag).map((e) => ({ id: BigInt(e.id), permissions: BigInt(e.perm & 7) }));
}

/** Merges the two ACL xattr values (either may be absent or malformed → ignored) into pxar form. */
export function aclFromXattrs(access: Uint8Array | undefined, dflt: Uint8Array | undefined): PxarAcl {
  const a = access === undefined ? undefined : parse(access);
  const d = dflt === undefined ? undefined : parse(dflt);
  if (a === undefined && d === undefined) return EMPTY_ACL;
  const groupObj = a?.find((e) => e.tag === TAG_GROUP_OBJ);
  const hasMask = a?.some((e) => e.tag === TAG_MASK) ?? false;
  const obj = (tag: number): bigint => {
    const e = d?.find((x) => x.tag === tag);
    return e === undefined ? ACL_NO_MASK : BigInt(e.perm & 7);
  };
  const anyDefaultObj = d?.some((e) => [TAG_USER_OBJ, TAG_GROUP_OBJ, TAG_OTHER, TAG_MASK].includes(e.tag)) ?? false;
  return {
    users: named(a ?? [], TAG_USER),
    groups: named(a ?? [], TAG_GROUP),
    ...(hasMask && groupObj !== undefined ? { groupObj: BigInt(groupObj.perm & 7) } : {}),
    ...(anyDefaultObj ? { default: { userObj: obj(TAG_USER_OBJ), groupObj: obj(TAG_GROUP_OBJ), other: obj(TAG_OTHER), mask: obj(TAG_MASK) } } : {}),
    defaultUsers: named(d ?? [], TAG_USER),
    defaultGroups: named(d ?? [], TAG_GROUP),
  };
}

function serialize(entries: RawEntry[]): Uint8Array {
  entries.sort((x, y) => x.tag - y.tag || x.id - y.id);
  const out = new Uint8Array(4 + 8 * entries.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, VERSION, true);
  entries.forEach((e, i) => {
    view.setUint16(4 + 8 * i, e.tag, true);
    view.setUint16(6 + 8 * i, e.perm, true);
    view.setUint32(8 + 8 * i, e.id, true);
  });
  return out;
}

const rawNamed = (tag: number, list: readonly PxarAclEntry[]): RawEntry[] => list.map((e) => ({ tag, perm: Number(e.permissions & 7n), id: Number(e.id) }));

/** The `system.posix_acl_access` value to restore, or undefined when the mode says it all. */
export function accessAclXattr(acl: PxarAcl, mode: number): Uint8Array | undefined {
  if (acl.users.length === 0 && acl.groups.length === 0 && acl.groupObj === undefined) return undefined;
  const groupBits = (mode >> 3) & 7;
  return serialize([
    { tag: TAG_USER_OBJ, perm: (mode >> 6) & 7, id: UNDEFINED_ID },
    ...rawNamed(TAG_USER, acl.users),
    { tag: TAG_GROUP_OBJ, perm: acl.groupObj === undefined ? groupBits : Number(acl.groupObj & 7n), id: UNDEFINED_ID },
    ...rawNamed(TAG_GROUP, acl.groups),
    { tag: TAG_MASK, perm: groupBits, id: UNDEFINED_ID },
    { tag: TAG_OTHER, perm: mode & 7, id: UNDEFINED_ID },
  ]);
}

/** The `system.posix_acl_default` value to restore on a directory, or undefined for none. */
export function defaultAclXattr(acl: PxarAcl): Uint8Array | undefined {
  if (acl.default === undefined && acl.defaultUsers.length === 0 && acl.defaultGroups.length === 0) return undefined;
  const objs: RawEntry[] = [];
  const d = acl.default;
  const add = (tag: number, perm: bigint | undefined): void => {
    if (perm !== undefined && perm !== ACL_NO_MASK) objs.push({ tag, perm: Number(perm & 7n), id: UNDEFINED_ID });
  };
  add(TAG_USER_OBJ, d?.userObj);
  add(TAG_GROUP_OBJ, d?.groupObj);
  add(TAG_MASK, d?.mask);
  add(TAG_OTHER, d?.other);
  return serialize([...objs, ...rawNamed(TAG_USER, acl.defaultUsers), ...rawNamed(TAG_GROUP, acl.defaultGroups)]);
}
