/**
 * What the fixed (.fidx) and dynamic (.didx) index formats share: a 4096-byte little-endian header
 * page opening with magic[8] | uuid[16] | ctime i64 | index_csum[32], followed by fixed-width
 * entries. The reserved remainder of the page is written as zeros and ignored on read, as PBS does.
 *
 * u64 fields are read through BigInt and rejected as CORRUPT above Number.MAX_SAFE_INTEGER, so no
 * value is ever silently rounded.
 */
import { toHex } from '../core/digest.ts';
import { fail } from '../core/errors.ts';
import { hasMagic, MAGIC_BYTES } from './magics.ts';

export const INDEX_HEADER_SIZE = 4096;
export const UUID_BYTES = 16;
export const UUID_OFFSET = MAGIC_BYTES;
export const CTIME_OFFSET = UUID_OFFSET + UUID_BYTES;
export const CSUM_OFFSET = CTIME_OFFSET + 8;
export const CSUM_BYTES = 32;

export interface IndexHeaderFields {
  readonly uuid: Uint8Array;
  /** Epoch seconds when the writer was created. */
  readonly ctime: number;
}

export interface ParseIndexOptions {
  /** Recompute index_csum and compare it with the stored one (default true). */
  readonly verifyCsum?: boolean;
}

export function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A zeroed header page with magic, uuid and ctime filled in; the caller adds the rest. */
export function newIndexPage(totalLength: number, magic: Uint8Array, fields: IndexHeaderFields): Uint8Array {
  if (fields.uuid.byteLength !== UUID_BYTES) throw fail('INVALID_ARGUMENT', `an index uuid has ${UUID_BYTES} bytes`, { length: fields.uuid.byteLength });
  if (!Number.isSafeInteger(fields.ctime)) throw fail('INVALID_ARGUMENT', 'ctime must be an integer', { ctime: fields.ctime });
  const out = new Uint8Array(totalLength);
  out.set(magic, 0);
  out.set(fields.uuid, UUID_OFFSET);
  viewOf(out).setBigInt64(CTIME_OFFSET, BigInt(fields.ctime), true);
  return out;
}

/** Checks length and magic, then reads uuid and ctime (views into `bytes`). */
export function readIndexPage(bytes: Uint8Array, magic: Uint8Array, what: string): IndexHeaderFields & { readonly storedCsum: Uint8Array } {
  if (bytes.byteLength < MAGIC_BYTES) throw fail('TRUNCATED', `${what} too small (${bytes.byteLength} bytes)`, { length: bytes.byteLength });
  if (!hasMagic(bytes, magic)) throw fail('BAD_MAGIC', `not a ${what}`, { magic: toHex(bytes.subarray(0, MAGIC_BYTES)) });
  if (bytes.byteLength < INDEX_HEADER_SIZE) throw fail('TRUNCATED', `${what} header is ${bytes.byteLength} bytes, needs ${INDEX_HEADER_SIZE}`, { length: bytes.byteLength });
  const ctime = safeNumber(viewOf(bytes).getBigInt64(CTIME_OFFSET, true), `${what} ctime`);
  return {
    uuid: bytes.subarray(UUID_OFFSET, UUID_OFFSET + UUID_BYTES),
    ctime,
    storedCsum: bytes.subarray(CSUM_OFFSET, CSUM_OFFSET + CSUM_BYTES),
  };
}

/** Converts a stored 64-bit integer; CORRUPT if a Number cannot hold it exactly. */
export function safeNumber(value: bigint, what: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw fail('CORRUPT', `${what} ${value} is out of range`, { value: value.toString() });
  }
  return Number(value);
}

export function checkDigest(digest: Uint8Array, at: number): void {
  if (digest.byteLength !== CSUM_BYTES) throw fail('INVALID_ARGUMENT', `digest ${at} has ${digest.byteLength} bytes, not 32`, { index: at });
}
