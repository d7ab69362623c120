/**
 * Dynamic index (.didx): the chunk list of a content-defined stream (pxar archives, catalogs).
 *
 *   0 magic[8] | 8 uuid[16] | 24 ctime i64 | 32 index_csum[32] | 64 reserved (zero) to 4096 |
 *   4096 (end u64 LE, digest[32]) × N
 *
 * Chunk i spans [end_{i-1} (0 for the first), end_i). The stream size is the last end; it is not
 * stored anywhere else. index_csum = SHA-256 over the entry bytes exactly as stored.
 *
 * Parsing requires (len - 4096) % 40 == 0, ends strictly increasing from 0 (so no chunk is empty),
 * every end within Number.MAX_SAFE_INTEGER, and (by default) a matching csum.
 */
import { digestEquals, sha256 } from '../core/digest.ts';
import { fail } from '../core/errors.ts';
import { DynamicIndexCsumBuilder, type IndexCsum } from './index-csum.ts';
import { checkDigest, CSUM_OFFSET, INDEX_HEADER_SIZE, newIndexPage, readIndexPage, safeNumber, viewOf, type IndexHeaderFields, type ParseIndexOptions } from './index-header.ts';
import { DYNAMIC_INDEX_MAGIC } from './magics.ts';

export const DYNAMIC_ENTRY_SIZE = 40;
const END_BYTES = 8;

export interface DynamicEntry {
  /** Exclusive end offset of the chunk in the stream. */
  readonly end: number;
  readonly digest: Uint8Array;
}

export interface DynamicIndexInput extends IndexHeaderFields {
  readonly entries: readonly DynamicEntry[];
}

export interface DynamicIndex extends IndexHeaderFields {
  readonly csum: Uint8Array;
  /** Digests are views into the parsed bytes. */
  readonly entries: readonly DynamicEntry[];
  readonly count: number;
  /** The stream length: the last end, or 0 for an empty index. */
  readonly size: number;
}

export function encodeDynamicIndex(input: DynamicIndexInput): Uint8Array {
  const { entries } = input;
  const out = newIndexPage(INDEX_HEADER_SIZE + DYNAMIC_ENTRY_SIZE * entries.length, DYNAMIC_INDEX_MAGIC, input);
  const view = viewOf(out);
  let previous = 0;
  entries.forEach((e, i) => {
    checkDigest(e.digest, i);
    if (!Number.isSafeInteger(e.end) || e.end <= previous) {
      throw fail('INVALID_ARGUMENT', `entry ${i} ends at ${e.end}, not past ${previous}`, { index: i, end: e.end, previous });
    }
    const at = INDEX_HEADER_SIZE + DYNAMIC_ENTRY_SIZE * i;
    view.setBigUint64(at, BigInt(e.end), true);
    out.set(e.digest, at + END_BYTES);
    previous = e.end;
  });
  out.set(sha256(out.subarray(INDEX_HEADER_SIZE)), CSUM_OFFSET);
  return out;
}

/** Parses and checks a .didx; BAD_MAGIC, TRUNCATED or CORRUPT on bad input. */
export function parseDynamicIndex(bytes: Uint8Array, opts: ParseIndexOptions = {}): DynamicIndex {
  const head = readIndexPage(bytes, DYNAMIC_INDEX_MAGIC, 'dynamic index');
  const body = bytes.byteLength - INDEX_HEADER_SIZE;
  if (body % DYNAMIC_ENTRY_SIZE !== 0) {
    throw fail('TRUNCATED', `dynamic index body of ${body} bytes is not a whole number of ${DYNAMIC_ENTRY_SIZE}-byte entries`, { length: bytes.byteLength });
  }
  const count = body / DYNAMIC_ENTRY_SIZE;
  const view = viewOf(bytes);
  let previous = 0;
  const entries = Array.from({ length: count }, (_, i): DynamicEntry => {
    const at = INDEX_HEADER_SIZE + DYNAMIC_ENTRY_SIZE * i;
    const end = safeNumber(view.getBigUint64(at, true), `dynamic index entry ${i} end`);
    if (end <= previous) throw fail('CORRUPT', `dynamic index entry ${i} ends at ${end}, not past ${previous}`, { index: i, end, previous });
    previous = end;
    return { end, digest: bytes.subarray(at + END_BYTES, at + DYNAMIC_ENTRY_SIZE) };
  });
  const csum = head.storedCsum;
  if (opts.verifyCsum !== false && !digestEquals(sha256(bytes.subarray(INDEX_HEADER_SIZE)), csum)) {
    throw fail('CORRUPT', 'dynamic index checksum does not match its entries', {});
  }
  return { uuid: head.uuid, ctime: head.ctime, csum, entries, count, size: previous };
}

/** The (csum, size) pair the client sends on close and the manifest stores. */
export function dynamicIndexCsum(entries: readonly DynamicEntry[]): IndexCsum {
  const b = new DynamicIndexCsumBuilder();
  for (const e of entries) b.append(e.end, e.digest);
  return b.result();
}

/** Start offset of entry `i` (the previous entry's end, or 0). */
export function dynamicChunkStart(entries: readonly DynamicEntry[], i: number): number {
  return i === 0 ? 0 : (entries[i - 1]?.end ?? 0);
}
