/**
 * Reads an ENTRY and the attribute items after it (xattrs, ACLs, fcaps, quota) into metadata.
 * Attributes are accepted in any order (as upstream's decoder does), but singletons may appear
 * once. Returns the first non-attribute header, which decides the entry's kind.
 */
import {
  PXAR_ACL_DEFAULT, PXAR_ACL_DEFAULT_GROUP, PXAR_ACL_DEFAULT_USER, PXAR_ACL_GROUP, PXAR_ACL_GROUP_OBJ,
  PXAR_ACL_USER, PXAR_ENTRY_V1, PXAR_FCAPS, PXAR_QUOTA_PROJID, PXAR_XATTR,
} from './constants.ts';
import type { ByteReader } from './byte-reader.ts';
import {
  STAT_SIZE, XATTR_ITEM_MAX, copyBytes, corruptAt, decodeAclEntry, decodeStat, decodeU64s, decodeXattr,
  expectContentSize, readItemHeader, readItemHeaderNow, type ItemHeader,
} from './item-decode.ts';
import { EMPTY_ACL, EMPTY_XATTRS, type PxarAclDefault, type PxarAclEntry, type PxarMetadata, type PxarXattr } from './metadata.ts';

interface Attrs {
  xattrs: PxarXattr[];
  users: PxarAclEntry[];
  groups: PxarAclEntry[];
  defaultUsers: PxarAclEntry[];
  defaultGroups: PxarAclEntry[];
  groupObj?: bigint;
  aclDefault?: PxarAclDefault;
  fcaps?: Uint8Array;
  quotaProjectId?: bigint;
}

const ACL_LISTS = new Map<bigint, 'users' | 'groups' | 'defaultUsers' | 'defaultGroups'>([
  [PXAR_ACL_USER, 'users'],
  [PXAR_ACL_GROUP, 'groups'],
  [PXAR_ACL_DEFAULT_USER, 'defaultUsers'],
  [PXAR_ACL_DEFAULT_GROUP, 'defaultGroups'],
]);

function once(h: ItemHeader, seen: unknown): void {
  if (seen !== undefined) throw corruptAt(h, 'attribute item appears twice in one entry');
}

/** Each attribute item: its content size bounds, the field it sets if it may appear only once, and its name for errors. */
interface AttributeRule {
  readonly min: number;
  readonly max: number;
  readonly once?: 'groupObj' | 'aclDefault' | 'fcaps' | 'quotaProjectId';
  readonly what: string;
}

const ACL_ITEM: AttributeRule = { min: 16, max: 16, what: 'an ACL item' };

const ATTRIBUTES = new Map<bigint, AttributeRule>([
  ...[...ACL_LISTS.keys()].map((htype): [bigint, AttributeRule] => [htype, ACL_ITEM]),
  [PXAR_XATTR, { min: 2, max: XATTR_ITEM_MAX, what: 'an xattr item' }],
  [PXAR_ACL_GROUP_OBJ, { min: 8, max: 8, once: 'groupObj', what: 'an ACL item' }],
  [PXAR_ACL_DEFAULT, { min: 32, max: 32, once: 'aclDefault', what: 'an ACL item' }],
  [PXAR_FCAPS, { min: 0, max: XATTR_ITEM_MAX, once: 'fcaps', what: 'an fcaps item' }],
  [PXAR_QUOTA_PROJID, { min: 8, max: 8, once: 'quotaProjectId', what: 'a quota item' }],
]);

/**
 * Checks an attribute item's header before its content is read (size bounds, singletons seen
 * once, so a corrupt size cannot make the decoder allocate) and names it for a TRUNCATED error;
 * undefined when `h` is not an attribute (the entry's body starts).
 */
function checkAttribute(h: ItemHeader, attrs: Attrs): string | undefined {
  const rule = ATTRIBUTES.get(h.htype);
  if (rule === undefined) return undefined;
  if (rule.once !== undefined) once(h, attrs[rule.once]);
  expectContentSize(h, rule.min, rule.max);
  return rule.what;
}

/** Applies the content of an attribute item `checkAttribute` accepted. */
function applyAttribute(h: ItemHeader, content: Uint8Array, attrs: Attrs): void {
  const list = ACL_LISTS.get(h.htype);
  if (list !== undefined) {
    attrs[list].push(decodeAclEntry(content));
  } else if (h.htype === PXAR_XATTR) {
    attrs.xattrs.push(decodeXattr(h, content));
  } else if (h.htype === PXAR_ACL_GROUP_OBJ) {
    [attrs.groupObj = 0n] = decodeU64s(content);
  } else if (h.htype === PXAR_ACL_DEFAULT) {
    const [userObj = 0n, groupObj = 0n, other = 0n, mask = 0n] = decodeU64s(content);
    attrs.aclDefault = { userObj, groupObj, other, mask };
  } else if (h.htype === PXAR_FCAPS) {
    attrs.fcaps = copyBytes(content);
  } else if (h.htype === PXAR_QUOTA_PROJID) {
    [attrs.quotaProjectId = 0n] = decodeU64s(content);
  }
}

function toMetadata(stat: PxarMetadata['stat'], a: Attrs): PxarMetadata {
  const plainAcl = a.users.length + a.groups.length + a.defaultUsers.length + a.defaultGroups.length === 0 && a.groupObj === undefined && a.aclDefault === undefined;
  const acl = plainAcl
    ? EMPTY_ACL
    : {
        users: a.users,
        groups: a.groups,
        defaultUsers: a.defaultUsers,
        defaultGroups: a.defaultGroups,
        ...(a.groupObj === undefined ? {} : { groupObj: a.groupObj }),
        ...(a.aclDefault === undefined ? {} : { default: a.aclDefault }),
      };
  return {
    stat,
    xattrs: a.xattrs.length === 0 ? EMPTY_XATTRS : a.xattrs,
    acl,
    ...(a.fcaps === undefined ? {} : { fcaps: a.fcaps }),
    ...(a.quotaProjectId === undefined ? {} : { quotaProjectId: a.quotaProjectId }),
  };
}

/** `entry` is the ENTRY or ENTRY_V1 header just read. */
export async function readEntryBody(reader: ByteReader, entry: ItemHeader): Promise<{ metadata: PxarMetadata; next: ItemHeader }> {
  const legacy = entry.htype === PXAR_ENTRY_V1;
  const size = legacy ? STAT_SIZE.legacy : STAT_SIZE.modern;
  expectContentSize(entry, size);
  // each read takes the synchronous path while the bytes are in the current chunk (ByteReader.readNow)
  const stat = decodeStat(entry, reader.readNow(size) ?? (await reader.read(size, 'an entry')), legacy);
  const attrs: Attrs = { xattrs: [], users: [], groups: [], defaultUsers: [], defaultGroups: [] };
  for (;;) {
    const h = readItemHeaderNow(reader) ?? (await readItemHeader(reader));
    const what = checkAttribute(h, attrs);
    if (what === undefined) return { metadata: toMetadata(stat, attrs), next: h };
    applyAttribute(h, reader.readNow(h.contentSize) ?? (await reader.read(h.contentSize, what)), attrs);
  }
}
