/**
 * pxar type codes, mode bits and size limits (reference: pxar-format.md §2, §11).
 *
 * Every type code is SipHash-2-4 over `__PROXMOX_FORMAT_…__` with the pxar key; a test recomputes
 * all of them, so a typo here cannot survive. Codes are bigints because they fill all 64 bits.
 */

export const PXAR_FORMAT_VERSION = 0x730f6c75df16a40dn;
export const PXAR_ENTRY = 0xd5956474e588acefn;
export const PXAR_ENTRY_V1 = 0x11da850a1c1cceffn;
export const PXAR_PRELUDE = 0xe309d79d9f7b771bn;
export const PXAR_FILENAME = 0x16701121063917b3n;
export const PXAR_SYMLINK = 0x27f971e7dbf5dc5fn;
export const PXAR_DEVICE = 0x9fc9e906586d5ce9n;
export const PXAR_XATTR = 0x0dab0229b57dcd03n;
export const PXAR_ACL_USER = 0x2ce8540a457d55b8n;
export const PXAR_ACL_GROUP = 0x136e3eceb04c03abn;
export const PXAR_ACL_GROUP_OBJ = 0x10868031e9582876n;
export const PXAR_ACL_DEFAULT = 0xbbbb13415a6896f5n;
export const PXAR_ACL_DEFAULT_USER = 0xc89357b40532cd1fn;
export const PXAR_ACL_DEFAULT_GROUP = 0xf90a8a5816038ffen;
export const PXAR_FCAPS = 0x2da9dd9db5f7fb67n;
export const PXAR_QUOTA_PROJID = 0xe07540e82f7d1cbbn;
export const PXAR_HARDLINK = 0x51269c8422bd7275n;
export const PXAR_PAYLOAD = 0x28147a1b0b7c1a25n;
export const PXAR_PAYLOAD_REF = 0x419d3d6bc4ba977en;
export const PXAR_GOODBYE = 0x2fec4fa642d5731dn;
/** Not an item type: the `hash` of the last (tail) goodbye item. */
export const PXAR_GOODBYE_TAIL_MARKER = 0xef5eed5b753e1555n;
export const PXAR_PAYLOAD_START_MARKER = 0x834c68c2194a4ed2n;
export const PXAR_PAYLOAD_TAIL_MARKER = 0x6c72b78b984c81b5n;

/** Each constant with the ASCII string it hashes (used by the test that recomputes them). */
export const PXAR_TYPE_NAMES = [
  ['FORMAT_VERSION', PXAR_FORMAT_VERSION, '__PROXMOX_FORMAT_VERSION__'],
  ['ENTRY', PXAR_ENTRY, '__PROXMOX_FORMAT_ENTRY_V2__'],
  ['ENTRY_V1', PXAR_ENTRY_V1, '__PROXMOX_FORMAT_ENTRY__'],
  ['PRELUDE', PXAR_PRELUDE, '__PROXMOX_FORMAT_PRELUDE__'],
  ['FILENAME', PXAR_FILENAME, '__PROXMOX_FORMAT_FILENAME__'],
  ['SYMLINK', PXAR_SYMLINK, '__PROXMOX_FORMAT_SYMLINK__'],
  ['DEVICE', PXAR_DEVICE, '__PROXMOX_FORMAT_DEVICE__'],
  ['XATTR', PXAR_XATTR, '__PROXMOX_FORMAT_XATTR__'],
  ['ACL_USER', PXAR_ACL_USER, '__PROXMOX_FORMAT_ACL_USER__'],
  ['ACL_GROUP', PXAR_ACL_GROUP, '__PROXMOX_FORMAT_ACL_GROUP__'],
  ['ACL_GROUP_OBJ', PXAR_ACL_GROUP_OBJ, '__PROXMOX_FORMAT_ACL_GROUP_OBJ__'],
  ['ACL_DEFAULT', PXAR_ACL_DEFAULT, '__PROXMOX_FORMAT_ACL_DEFAULT__'],
  ['ACL_DEFAULT_USER', PXAR_ACL_DEFAULT_USER, '__PROXMOX_FORMAT_ACL_DEFAULT_USER__'],
  ['ACL_DEFAULT_GROUP', PXAR_ACL_DEFAULT_GROUP, '__PROXMOX_FORMAT_ACL_DEFAULT_GROUP__'],
  ['FCAPS', PXAR_FCAPS, '__PROXMOX_FORMAT_FCAPS__'],
  ['QUOTA_PROJID', PXAR_QUOTA_PROJID, '__PROXMOX_FORMAT_QUOTA_PROJID__'],
  ['HARDLINK', PXAR_HARDLINK, '__PROXMOX_FORMAT_HARDLINK__'],
  ['PAYLOAD', PXAR_PAYLOAD, '__PROXMOX_FORMAT_PXAR_PAYLOAD__'],
  ['PAYLOAD_REF', PXAR_PAYLOAD_REF, '__PROXMOX_FORMAT_PXAR_PAYLOAD_REF__'],
  ['GOODBYE', PXAR_GOODBYE, '__PROXMOX_FORMAT_GOODBYE__'],
  ['GOODBYE_TAIL_MARKER', PXAR_GOODBYE_TAIL_MARKER, '__PROXMOX_FORMAT_PXAR_GOODBYE_TAIL_MARKER__'],
  ['PAYLOAD_START_MARKER', PXAR_PAYLOAD_START_MARKER, '__PROXMOX_FORMAT_PXAR_PAYLOAD_START_MARKER__'],
  ['PAYLOAD_TAIL_MARKER', PXAR_PAYLOAD_TAIL_MARKER, '__PROXMOX_FORMAT_PXAR_PAYLOAD_TAIL_MARKER__'],
] as const;

// File-type and special mode bits (equal to Linux's).
export const S_IFMT = 0o170000;
export const S_IFSOCK = 0o140000;
export const S_IFLNK = 0o120000;
export const S_IFREG = 0o100000;
export const S_IFBLK = 0o060000;
export const S_IFDIR = 0o040000;
export const S_IFCHR = 0o020000;
export const S_IFIFO = 0o010000;
/** All bits a Linux mode may carry: file type, suid/sgid/sticky and permissions. */
export const MODE_MASK = 0o177777;

export const HEADER_SIZE = 16;
export const GOODBYE_ITEM_SIZE = 24;
export const ENTRY_CONTENT_SIZE = 40;
export const ENTRY_V1_CONTENT_SIZE = 32;
export const PAYLOAD_REF_CONTENT_SIZE = 16;

// Limits (§11).
export const MAX_FILENAME_LEN = 4096;
export const MAX_PATH_LEN = 4096;
export const MAX_XATTR_NAME_LEN = 255;
export const MAX_XATTR_VALUE_LEN = 65536;
export const MAX_XATTR_CONTENT = MAX_XATTR_NAME_LEN + MAX_XATTR_VALUE_LEN;
/** Our own cap on a PRELUDE held in memory; upstream leaves it unbounded but writes tiny JSON. */
export const MAX_PRELUDE_LEN = 16 * 1024 * 1024;

/** `ACL_DEFAULT` value for "this entry is not set". */
export const ACL_NO_MASK = 0xffffffffffffffffn;
