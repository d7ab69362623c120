/**
 * The catalog's varints (pxar-format.md §10.2): unsigned LEB128 (at most 10 bytes for a u64) and
 * PBS's own signed form, where a negative value is written as its magnitude with the high bit
 * set on every group and a terminating 0x00 (at most 11 bytes). Decoders refuse overlong or
 * out-of-range encodings as CORRUPT and running out of bytes as TRUNCATED.
 */
import { fail } from '../../core/errors.ts';

const U64_MAX = (1n << 64n) - 1n;
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;

function groups(value: bigint, markLast: boolean): number[] {
  const out: number[] = [];
  let v = value;
  for (;;) {
    const low = Number(v & 0x7fn);
    v >>= 7n;
    if (v === 0n) {
      out.push(markLast ? low | 0x80 : low);
      return out;
    }
    out.push(low | 0x80);
  }
}

export function encodeVarU64(value: bigint | number): Uint8Array {
  const v = BigInt(value);
  if (v < 0n || v > U64_MAX) throw fail('INVALID_ARGUMENT', 'u64 varint out of range', { value: v.toString() });
  return Uint8Array.from(groups(v, false));
}

export function encodeVarI64(value: bigint | number): Uint8Array {
  const v = BigInt(value);
  if (v < I64_MIN || v > I64_MAX) throw fail('INVALID_ARGUMENT', 'i64 varint out of range', { value: v.toString() });
  if (v >= 0n) return Uint8Array.from(groups(v, false));
  return Uint8Array.from([...groups(-v, true), 0]);
}

/** A decoded value and the offset just after it. */
export interface Decoded<T> {
  readonly value: T;
  readonly next: number;
}

export function decodeVarU64(bytes: Uint8Array, at: number): Decoded<bigint> {
  let value = 0n;
  for (let i = 0; i < 10; i++) {
    const b = bytes[at + i];
    if (b === undefined) throw fail('TRUNCATED', 'catalog ends inside a varint', { offset: at });
    value |= BigInt(b & 0x7f) << BigInt(7 * i);
    if (b < 0x80) {
      if (value > U64_MAX) break;
      return { value, next: at + i + 1 };
    }
  }
  throw fail('CORRUPT', 'u64 varint too long or out of range', { offset: at });
}

export function decodeVarI64(bytes: Uint8Array, at: number): Decoded<bigint> {
  let value = 0n;
  for (let i = 0; i < 11; i++) {
    const b = bytes[at + i];
    if (b === undefined) throw fail('TRUNCATED', 'catalog ends inside a varint', { offset: at });
    if (b === 0) {
      if (-value < I64_MIN) break;
      return { value: -value, next: at + i + 1 };
    }
    value |= BigInt(b & 0x7f) << BigInt(7 * i);
    if (b < 0x80) {
      // Like upstream, a u64 encoding above i64::MAX reads as its two's-complement cast.
      if (value > U64_MAX) break;
      return { value: BigInt.asIntN(64, value), next: at + i + 1 };
    }
  }
  throw fail('CORRUPT', 'i64 varint too long or out of range', { offset: at });
}
