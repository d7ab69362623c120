/**
 * Decoders for single pxar item contents, with the checks of pxar-format.md §11: headers must
 * declare 16 ≤ full_size, each type's content size must be within its bounds (checked before
 * anything is read, so a corrupt size cannot make the decoder allocate), strings must end in
 * their NUL and contain no other, and modes must name a known file type. Violations are CORRUPT.
 */
import { fail } from '../../core/errors.ts';
import {
  ENTRY_CONTENT_SIZE, ENTRY_V1_CONTENT_SIZE, HEADER_SIZE, MAX_PATH_LEN, MAX_XATTR_CONTENT,
  MAX_XATTR_NAME_LEN, MODE_MASK, PXAR_TYPE_NAMES,
} from './constants.ts';
import { fileTypeOfMode, timeFromNs, type PxarAclEntry, type PxarDevice, type PxarStat, type PxarXattr } from './metadata.ts';
import type { ByteReader } from './byte-reader.ts';

export interface ItemHeader {
  readonly htype: bigint;
  /** Archive offset of the header. */
  readonly offset: number;
  readonly contentSize: number;
}

const TYPE_NAMES = new Map<bigint, string>(PXAR_TYPE_NAMES.map(([name, code]) => [code, name]));

export function typeName(htype: bigint): string {
  return TYPE_NAMES.get(htype) ?? `0x${htype.toString(16).padStart(16, '0')}`;
}

export async function readItemHeader(reader: ByteReader): Promise<ItemHeader> {
  const offset = reader.position;
  return parseItemHeader(offset, await reader.read(HEADER_SIZE, 'an item header'));
}

/** The next item header when the reader's current chunk holds it (see ByteReader.readNow), else undefined. */
export function readItemHeaderNow(reader: ByteReader): ItemHeader | undefined {
  const offset = reader.position;
  const bytes = reader.readNow(HEADER_SIZE);
  return bytes === undefined ? undefined : parseItemHeader(offset, bytes);
}

const MIN_FULL_SIZE = BigInt(HEADER_SIZE);
const MAX_FULL_SIZE = BigInt(Number.MAX_SAFE_INTEGER);

function parseItemHeader(offset: number, bytes: Uint8Array): ItemHeader {
  const view = new DataView(bytes.buffer, bytes.byteOffset, HEADER_SIZE);
  const htype = view.getBigUint64(0, true);
  const fullSize = view.getBigUint64(8, true);
  if (fullSize < MIN_FULL_SIZE || fullSize > MAX_FULL_SIZE) {
    throw fail('CORRUPT', 'item size out of range', { offset, htype: typeName(htype), fullSize: fullSize.toString() });
  }
  return { htype, offset, contentSize: Number(fullSize) - HEADER_SIZE };
}

/** Rejects a content size outside `[min, max]` for this item type. */
export function expectContentSize(h: ItemHeader, min: number, max = min): void {
  if (h.contentSize < min || h.contentSize > max) {
    throw fail('CORRUPT', `${typeName(h.htype)} item has a bad size`, { offset: h.offset, contentSize: h.contentSize, min, max });
  }
}

export function corruptAt(h: ItemHeader, message: string, details: Record<string, unknown> = {}): Error {
  return fail('CORRUPT', message, { offset: h.offset, htype: typeName(h.htype), ...details });
}

/** A copy that owns its memory (Buffer#slice would return a view into the source chunk). */
export function copyBytes(view: Uint8Array): Uint8Array {
  return new Uint8Array(view);
}

function viewOf(content: Uint8Array): DataView {
  return new DataView(content.buffer, content.byteOffset, content.byteLength);
}

/** ENTRY (40 bytes) or legacy ENTRY_V1 (32 bytes, mtime in nanoseconds). */
const MODE_MASK_BIG = BigInt(MODE_MASK);

export function decodeStat(h: ItemHeader, content: Uint8Array, legacy: boolean): PxarStat {
  const view = viewOf(content);
  const mode = view.getBigUint64(0, true);
  if (mode > MODE_MASK_BIG || fileTypeOfMode(Number(mode)) === undefined) throw corruptAt(h, 'entry mode names no known file type', { mode: mode.toString(8) });
  // the literal 0n is one shared value; a decoded one would be a BigInt per entry, kept as long
  // as the entry is (a previous archive's, for a whole backup)
  const read = view.getBigUint64(8, true);
  const flags = read === 0n ? 0n : read;
  const uid = view.getUint32(16, true);
  const gid = view.getUint32(20, true);
  if (legacy) return { mode: Number(mode), flags, uid, gid, mtime: timeFromNs(view.getBigUint64(24, true)) };
  const nanos = view.getUint32(32, true);
  if (nanos >= 1e9) throw corruptAt(h, 'entry mtime nanoseconds out of range', { nanos });
  return { mode: Number(mode), flags, uid, gid, mtime: { secs: view.getBigInt64(24, true), nanos } };
}

export const STAT_SIZE = { modern: ENTRY_CONTENT_SIZE, legacy: ENTRY_V1_CONTENT_SIZE } as const;

/** Bytes before the single trailing NUL. */
export function decodeCString(h: ItemHeader, content: Uint8Array): Uint8Array {
  const end = content.length - 1;
  if (end < 0 || content[end] !== 0 || content.indexOf(0) !== end) throw corruptAt(h, 'string is not NUL-terminated or contains NUL');
  return copyBytes(content.subarray(0, end));
}

export const PATH_ITEM_MAX = MAX_PATH_LEN + 1;

export function decodeXattr(h: ItemHeader, content: Uint8Array): PxarXattr {
  const nul = content.indexOf(0);
  if (nul < 1 || nul > MAX_XATTR_NAME_LEN) throw corruptAt(h, 'xattr name missing, too long or not NUL-terminated');
  return { name: copyBytes(content.subarray(0, nul)), value: copyBytes(content.subarray(nul + 1)) };
}

export const XATTR_ITEM_MAX = MAX_XATTR_CONTENT;

/** `fileOffset` is the hardlink's own FILENAME offset; the target must lie before it. */
export function decodeHardlink(h: ItemHeader, content: Uint8Array, fileOffset: number): { delta: number; target: Uint8Array } {
  const delta = viewOf(content).getBigUint64(0, true);
  if (delta === 0n || delta > BigInt(fileOffset)) throw corruptAt(h, 'hardlink does not point back into the archive', { delta: delta.toString() });
  return { delta: Number(delta), target: decodeCString(h, content.subarray(8)) };
}

export function decodeDevice(content: Uint8Array): PxarDevice {
  const view = viewOf(content);
  return { major: view.getBigUint64(0, true), minor: view.getBigUint64(8, true) };
}

export function decodeU64s(content: Uint8Array): bigint[] {
  const view = viewOf(content);
  const out: bigint[] = [];
  for (let at = 0; at + 8 <= content.length; at += 8) out.push(view.getBigUint64(at, true));
  return out;
}

export function decodeAclEntry(content: Uint8Array): PxarAclEntry {
  const [id = 0n, permissions = 0n] = decodeU64s(content);
  return { id, permissions };
}

export function decodePayloadRef(h: ItemHeader, content: Uint8Array): { offset: number; size: number } {
  const [offset = 0n, size = 0n] = decodeU64s(content);
  const max = BigInt(Number.MAX_SAFE_INTEGER);
  if (offset > max || size > max) throw corruptAt(h, 'payload reference out of range');
  return { offset: Number(offset), size: Number(size) };
}
