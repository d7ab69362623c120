/**
 * Encoders for single pxar items (16-byte header + content, pxar-format.md §1.1 and §3). Each
 * returns fresh bytes (small ones in a shared ArrayBuffer: see newItem). Input that the format
 * cannot carry (bad names, oversized xattrs) is refused with INVALID_ARGUMENT so the encoder never
 * writes an archive its own decoder rejects.
 */
import { fail } from '../../core/errors.ts';
import {
  HEADER_SIZE, MAX_PATH_LEN, MAX_XATTR_NAME_LEN, MAX_XATTR_VALUE_LEN, MODE_MASK,
  PXAR_ACL_DEFAULT, PXAR_ACL_DEFAULT_GROUP, PXAR_ACL_DEFAULT_USER, PXAR_ACL_GROUP, PXAR_ACL_GROUP_OBJ,
  PXAR_ACL_USER, PXAR_DEVICE, PXAR_ENTRY, PXAR_FCAPS, PXAR_FILENAME, PXAR_FORMAT_VERSION, PXAR_HARDLINK,
  PXAR_PAYLOAD_REF, PXAR_PRELUDE, PXAR_QUOTA_PROJID, PXAR_SYMLINK, PXAR_XATTR,
} from './constants.ts';
import type { PxarAclEntry, PxarDevice, PxarMetadata, PxarStat, PxarXattr } from './metadata.ts';
import { nameProblem } from './names.ts';

/** Writes a u64 given as a non-negative safe integer, without going through BigInt. */
export function setU64(view: DataView, at: number, n: number): void {
  view.setUint32(at, n % 0x1_0000_0000, true);
  view.setUint32(at + 4, Math.floor(n / 0x1_0000_0000), true);
}

/**
 * A zeroed item with its header written. Small items are slices of Node's shared allocation pool
 * (Buffer.allocUnsafe), not `new Uint8Array`: V8 keeps an array of up to 64 bytes on its own
 * heap, and the DataView every item needs asks for its `.buffer`, which moves it out (a malloc, a
 * copy, a later free on a GC thread): 0.85 µs against 0.14 µs an item, three or four items a file
 * (core/byte-key.ts). So an item's bytes may share their ArrayBuffer: use byteOffset.
 */
function newItem(htype: bigint, contentSize: number, allocated = contentSize): { bytes: Uint8Array; view: DataView } {
  const bytes = Buffer.allocUnsafe(HEADER_SIZE + allocated).fill(0);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  view.setBigUint64(0, htype, true);
  setU64(view, 8, HEADER_SIZE + contentSize);
  return { bytes, view };
}

/** A bare 16-byte header (for PAYLOAD, whose content is streamed, and for GOODBYE). */
export function headerItem(htype: bigint, contentSize: number): Uint8Array {
  return newItem(htype, contentSize, 0).bytes;
}

function bytesItem(htype: bigint, parts: readonly Uint8Array[], prefix = 0): { bytes: Uint8Array; view: DataView } {
  const size = prefix + parts.reduce((n, p) => n + p.length, 0);
  const item = newItem(htype, size);
  let at = HEADER_SIZE + prefix;
  for (const p of parts) {
    item.bytes.set(p, at);
    at += p.length;
  }
  return item;
}

const NUL = Uint8Array.of(0);

export function entryItem(stat: PxarStat): Uint8Array {
  if (!Number.isInteger(stat.mode) || stat.mode < 0 || stat.mode > MODE_MASK) throw fail('INVALID_ARGUMENT', 'mode out of range', { mode: stat.mode });
  if (!Number.isInteger(stat.mtime.nanos) || stat.mtime.nanos < 0 || stat.mtime.nanos >= 1e9) throw fail('INVALID_ARGUMENT', 'mtime nanos out of range', { nanos: stat.mtime.nanos });
  const { bytes, view } = newItem(PXAR_ENTRY, 40);
  view.setUint32(16, stat.mode, true);
  view.setBigUint64(24, stat.flags, true);
  view.setUint32(32, stat.uid, true);
  view.setUint32(36, stat.gid, true);
  view.setBigInt64(40, stat.mtime.secs, true);
  view.setUint32(48, stat.mtime.nanos, true);
  return bytes;
}

export function filenameItem(name: Uint8Array): Uint8Array {
  const problem = nameProblem(name);
  if (problem !== undefined) throw fail('INVALID_ARGUMENT', `bad file name: ${problem}`, { name: Buffer.from(name).toString('hex') });
  return bytesItem(PXAR_FILENAME, [name, NUL]).bytes;
}

function checkPath(path: Uint8Array, what: string): void {
  if (path.length > MAX_PATH_LEN || path.includes(0)) throw fail('INVALID_ARGUMENT', `bad ${what}: longer than 4096 bytes or contains NUL`, { length: path.length });
}

export function symlinkItem(target: Uint8Array): Uint8Array {
  checkPath(target, 'symlink target');
  return bytesItem(PXAR_SYMLINK, [target, NUL]).bytes;
}

/** `delta` = this hardlink's FILENAME offset minus the target's FILENAME offset (> 0). */
export function hardlinkItem(delta: number, targetPath: Uint8Array): Uint8Array {
  checkPath(targetPath, 'hardlink target');
  if (!Number.isSafeInteger(delta) || delta <= 0) throw fail('INVALID_ARGUMENT', 'hardlink must point back to an earlier entry', { delta });
  const { bytes, view } = bytesItem(PXAR_HARDLINK, [targetPath, NUL], 8);
  setU64(view, 16, delta);
  return bytes;
}

export function deviceItem(device: PxarDevice): Uint8Array {
  const { bytes, view } = newItem(PXAR_DEVICE, 16);
  view.setBigUint64(16, device.major, true);
  view.setBigUint64(24, device.minor, true);
  return bytes;
}

export function xattrItem(x: PxarXattr): Uint8Array {
  if (x.name.length === 0 || x.name.length > MAX_XATTR_NAME_LEN || x.name.includes(0) || x.value.length > MAX_XATTR_VALUE_LEN) {
    throw fail('INVALID_ARGUMENT', 'xattr name must be 1..255 bytes without NUL and its value at most 64 KiB', { nameLength: x.name.length, valueLength: x.value.length });
  }
  return bytesItem(PXAR_XATTR, [x.name, NUL, x.value]).bytes;
}

function u64sItem(htype: bigint, values: readonly bigint[]): Uint8Array {
  const { bytes, view } = newItem(htype, 8 * values.length);
  values.forEach((v, i) => view.setBigUint64(16 + 8 * i, v, true));
  return bytes;
}

function sortedAcl(entries: readonly PxarAclEntry[]): PxarAclEntry[] {
  const cmp = (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0);
  return [...entries].sort((a, b) => cmp(a.id, b.id) || cmp(a.permissions, b.permissions));
}

/** ENTRY followed by the attribute items, in the one order the upstream encoder writes them. */
export function metadataItems(meta: PxarMetadata): Uint8Array[] {
  const out = [entryItem(meta.stat), ...meta.xattrs.map(xattrItem)];
  const acl = meta.acl;
  for (const e of sortedAcl(acl.users)) out.push(u64sItem(PXAR_ACL_USER, [e.id, e.permissions]));
  for (const e of sortedAcl(acl.groups)) out.push(u64sItem(PXAR_ACL_GROUP, [e.id, e.permissions]));
  if (acl.groupObj !== undefined) out.push(u64sItem(PXAR_ACL_GROUP_OBJ, [acl.groupObj]));
  if (acl.default !== undefined) {
    const d = acl.default;
    out.push(u64sItem(PXAR_ACL_DEFAULT, [d.userObj, d.groupObj, d.other, d.mask]));
  }
  for (const e of sortedAcl(acl.defaultUsers)) out.push(u64sItem(PXAR_ACL_DEFAULT_USER, [e.id, e.permissions]));
  for (const e of sortedAcl(acl.defaultGroups)) out.push(u64sItem(PXAR_ACL_DEFAULT_GROUP, [e.id, e.permissions]));
  if (meta.fcaps !== undefined) {
    if (meta.fcaps.length > MAX_XATTR_VALUE_LEN) throw fail('INVALID_ARGUMENT', 'fcaps value too large', { length: meta.fcaps.length });
    out.push(bytesItem(PXAR_FCAPS, [meta.fcaps]).bytes);
  }
  if (meta.quotaProjectId !== undefined) out.push(u64sItem(PXAR_QUOTA_PROJID, [meta.quotaProjectId]));
  return out;
}

export function payloadRefItem(offset: number, size: number): Uint8Array {
  const { bytes, view } = newItem(PXAR_PAYLOAD_REF, 16);
  setU64(view, 16, offset);
  setU64(view, 24, size);
  return bytes;
}

export function formatVersionItem(version: 2): Uint8Array {
  return u64sItem(PXAR_FORMAT_VERSION, [BigInt(version)]);
}

export function preludeItem(content: Uint8Array): Uint8Array {
  return bytesItem(PXAR_PRELUDE, [content]).bytes;
}
