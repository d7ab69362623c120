/**
 * Fixed index (.fidx): the chunk list of a disk image cut into equal power-of-two chunks.
 *
 *   0 magic[8] | 8 uuid[16] | 24 ctime i64 | 32 index_csum[32] | 64 size u64 | 72 chunk_size u64 |
 *   80 reserved (zero) to 4096 | 4096 digest[32] × ceil(size / chunk_size)
 *
 * Chunk i covers [i·chunk_size, min((i+1)·chunk_size, size)); only the last may be short.
 * index_csum = SHA-256 of all digests in order, i.e. of every byte after the header page.
 *
 * Parsing checks magic, lengths, the power-of-two chunk size and (by default) the stored csum, so a
 * flipped bit in a digest is caught here. uuid, ctime and reserved bytes are not covered by
 * anything upstream either; the manifest's (size, csum) pair is what pins an index.
 */
import { digestEquals, sha256 } from '../core/digest.ts';
import { fail } from '../core/errors.ts';
import { FixedIndexCsumBuilder, type IndexCsum } from './index-csum.ts';
import { checkDigest, CSUM_OFFSET, INDEX_HEADER_SIZE, newIndexPage, readIndexPage, safeNumber, viewOf, type IndexHeaderFields, type ParseIndexOptions } from './index-header.ts';
import { FIXED_INDEX_MAGIC } from './magics.ts';

/** The chunk size PBS clients and servers always use for images. */
export const FIXED_CHUNK_SIZE = 4 * 1024 * 1024;
export const FIXED_ENTRY_SIZE = 32;
const SIZE_OFFSET = 64;
const CHUNK_SIZE_OFFSET = 72;

export interface FixedIndexInput extends IndexHeaderFields {
  /** Total image bytes. */
  readonly size: number;
  readonly chunkSize: number;
  readonly digests: readonly Uint8Array[];
}

export interface FixedIndex extends IndexHeaderFields {
  readonly size: number;
  readonly chunkSize: number;
  readonly csum: Uint8Array;
  /** Views into the parsed bytes, in chunk order. */
  readonly digests: readonly Uint8Array[];
  readonly count: number;
}

export function fixedChunkCount(size: number, chunkSize: number): number {
  return Math.ceil(size / chunkSize);
}

/** Byte length of chunk `i` of an image of `size` bytes. */
export function fixedChunkLength(size: number, chunkSize: number, i: number): number {
  return Math.min(chunkSize, size - i * chunkSize);
}

export function isPowerOfTwo(n: number | bigint): boolean {
  const v = BigInt(n);
  return v > 0n && (v & (v - 1n)) === 0n;
}

export function encodeFixedIndex(input: FixedIndexInput): Uint8Array {
  const { size, chunkSize, digests } = input;
  if (!Number.isSafeInteger(size) || size < 0) throw fail('INVALID_ARGUMENT', `bad image size ${size}`, { size });
  if (!Number.isSafeInteger(chunkSize) || !isPowerOfTwo(chunkSize)) throw fail('INVALID_ARGUMENT', `chunk size ${chunkSize} is not a power of two`, { chunkSize });
  const count = fixedChunkCount(size, chunkSize);
  if (digests.length !== count) throw fail('INVALID_ARGUMENT', `size ${size} needs ${count} digests, got ${digests.length}`, { size, chunkSize, count: digests.length });
  const out = newIndexPage(INDEX_HEADER_SIZE + FIXED_ENTRY_SIZE * count, FIXED_INDEX_MAGIC, input);
  const view = viewOf(out);
  view.setBigUint64(SIZE_OFFSET, BigInt(size), true);
  view.setBigUint64(CHUNK_SIZE_OFFSET, BigInt(chunkSize), true);
  digests.forEach((d, i) => {
    checkDigest(d, i);
    out.set(d, INDEX_HEADER_SIZE + FIXED_ENTRY_SIZE * i);
  });
  out.set(sha256(out.subarray(INDEX_HEADER_SIZE)), CSUM_OFFSET);
  return out;
}

/** Parses and checks a .fidx; BAD_MAGIC, TRUNCATED or CORRUPT on bad input. */
export function parseFixedIndex(bytes: Uint8Array, opts: ParseIndexOptions = {}): FixedIndex {
  const head = readIndexPage(bytes, FIXED_INDEX_MAGIC, 'fixed index');
  const view = viewOf(bytes);
  const size = safeNumber(view.getBigUint64(SIZE_OFFSET, true), 'fixed index size');
  const rawChunkSize = view.getBigUint64(CHUNK_SIZE_OFFSET, true);
  if (!isPowerOfTwo(rawChunkSize)) throw fail('CORRUPT', `fixed index chunk size ${rawChunkSize} is not a power of two`, { chunkSize: rawChunkSize.toString() });
  const chunkSize = safeNumber(rawChunkSize, 'fixed index chunk size');
  const count = fixedChunkCount(size, chunkSize);
  const expected = INDEX_HEADER_SIZE + FIXED_ENTRY_SIZE * count;
  if (bytes.byteLength !== expected) {
    const code = bytes.byteLength < expected ? 'TRUNCATED' : 'CORRUPT';
    throw fail(code, `fixed index of size ${size} must be ${expected} bytes, is ${bytes.byteLength}`, { size, chunkSize, length: bytes.byteLength, expected });
  }
  const csum = head.storedCsum;
  if (opts.verifyCsum !== false && !digestEquals(sha256(bytes.subarray(INDEX_HEADER_SIZE)), csum)) {
    throw fail('CORRUPT', 'fixed index checksum does not match its digests', {});
  }
  const digests = Array.from({ length: count }, (_, i) => {
    const at = INDEX_HEADER_SIZE + FIXED_ENTRY_SIZE * i;
    return bytes.subarray(at, at + FIXED_ENTRY_SIZE);
  });
  return { uuid: head.uuid, ctime: head.ctime, size, chunkSize, csum, digests, count };
}

/**
 * The (csum, size) pair the client sends on close and the manifest stores. Pass the image size; the
 * default assumes every chunk is a full FIXED_CHUNK_SIZE.
 */
export function fixedIndexCsum(digests: readonly Uint8Array[], size: number = digests.length * FIXED_CHUNK_SIZE): IndexCsum {
  const b = new FixedIndexCsumBuilder();
  for (const d of digests) b.append(d);
  return b.result(size);
}
