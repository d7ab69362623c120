import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { sha256 } from '../core/digest.ts';
import { isHoldfastError } from '../core/errors.ts';
import type { ErrorCode } from '../core/error-codes.ts';
import { encodeFixedIndex, FIXED_CHUNK_SIZE, fixedChunkCount, fixedChunkLength, fixedIndexCsum, parseFixedIndex, type FixedIndexInput } from './fixed-index.ts';
import { FixedIndexCsumBuilder } from './index-csum.ts';

function throwsCode(fn: () => unknown, ...codes: ErrorCode[]): void {
  assert.throws(fn, (e: unknown) => isHoldfastError(e) && codes.includes(e.code));
}

/** VECTORS §6.4 test data: the digest of chunk i is le64(i) repeated 4 times. */
function counterDigest(i: number): Uint8Array {
  const d = new Uint8Array(32);
  const v = new DataView(d.buffer);
  for (let k = 0; k < 4; k++) v.setBigUint64(8 * k, BigInt(i), true);
  return d;
}

const UUID = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);
function sample(size: number, chunkSize = 4096): FixedIndexInput {
  return { uuid: UUID, ctime: 1700000000, size, chunkSize, digests: Array.from({ length: fixedChunkCount(size, chunkSize) }, (_, i) => counterDigest(i)) };
}

test('encodeFixedIndex lays out the 4096-byte header and digests as PBS does', () => {
  const input = sample(3 * 4096 + 5);
  const bytes = encodeFixedIndex(input);
  const view = new DataView(bytes.buffer);
  assert.equal(bytes.length, 4096 + 4 * 32);
  assert.deepEqual(bytes.subarray(0, 8), Uint8Array.of(0x2f, 0x7f, 0x41, 0xed, 0x91, 0xfd, 0x0f, 0xcd));
  assert.deepEqual(bytes.subarray(8, 24), UUID);
  assert.equal(view.getBigInt64(24, true), 1700000000n);
  assert.deepEqual(bytes.subarray(32, 64), sha256(...input.digests));
  assert.equal(view.getBigUint64(64, true), BigInt(3 * 4096 + 5));
  assert.equal(view.getBigUint64(72, true), 4096n);
  assert.ok(bytes.subarray(80, 4096).every((b) => b === 0));
  assert.deepEqual(bytes.subarray(4096 + 32 * 3, 4096 + 32 * 4), counterDigest(3));
});

test('parseFixedIndex accepts a single partial chunk and a misaligned size (VECTORS §6.4)', () => {
  const one = parseFixedIndex(encodeFixedIndex(sample(4095)));
  assert.equal(one.count, 1);
  assert.equal(one.size, 4095);
  assert.equal(fixedChunkLength(one.size, one.chunkSize, 0), 4095);
  const odd = parseFixedIndex(encodeFixedIndex(sample(10 * 4096 + 1)));
  assert.equal(odd.count, 11);
  assert.equal(fixedChunkLength(odd.size, odd.chunkSize, 10), 1);
  assert.equal(parseFixedIndex(encodeFixedIndex(sample(0))).count, 0);
});

test('encodeFixedIndex and parseFixedIndex round-trip (property)', () => {
  const arb = fc.record({ log: fc.integer({ min: 0, max: 22 }), count: fc.integer({ min: 0, max: 12 }), cut: fc.double({ min: 0, max: 1, noNaN: true }), ctime: fc.integer({ min: -1e12, max: 1e12 }) });
  fc.assert(
    fc.property(arb, ({ log, count, cut, ctime }) => {
      const chunkSize = 2 ** log;
      const size = count === 0 ? 0 : (count - 1) * chunkSize + 1 + Math.floor(cut * (chunkSize - 1));
      const digests = Array.from({ length: count }, () => new Uint8Array(randomBytes(32)));
      const uuid = new Uint8Array(randomBytes(16));
      const idx = parseFixedIndex(encodeFixedIndex({ uuid, ctime, size, chunkSize, digests }));
      assert.deepEqual({ ...idx, digests: [...idx.digests] }, { uuid, ctime, size, chunkSize, digests, count, csum: fixedIndexCsum(digests, size).csum });
    }),
    { numRuns: 100 },
  );
});

test('parseFixedIndex returns digests as views of the input', () => {
  const bytes = encodeFixedIndex(sample(8192));
  const idx = parseFixedIndex(bytes);
  assert.equal(idx.digests[1]?.buffer, bytes.buffer);
  assert.equal(idx.digests[1]?.byteOffset, 4096 + 32);
});

test('parseFixedIndex checks magic, length, chunk size, u64 range and csum', () => {
  const good = encodeFixedIndex(sample(3 * 4096));
  const edit = (f: (b: Uint8Array, v: DataView) => void): Uint8Array => {
    const b = good.slice();
    f(b, new DataView(b.buffer));
    return b;
  };
  throwsCode(() => parseFixedIndex(edit((b) => b.set(new Uint8Array(8), 0))), 'BAD_MAGIC');
  throwsCode(() => parseFixedIndex(good.subarray(0, 4000)), 'TRUNCATED');
  throwsCode(() => parseFixedIndex(good.subarray(0, good.length - 32)), 'TRUNCATED');
  throwsCode(() => parseFixedIndex(new Uint8Array([...good, ...new Uint8Array(32)])), 'CORRUPT');
  throwsCode(() => parseFixedIndex(edit((_, v) => v.setBigUint64(72, 4095n, true))), 'CORRUPT');
  throwsCode(() => parseFixedIndex(edit((_, v) => v.setBigUint64(72, 0n, true))), 'CORRUPT');
  throwsCode(() => parseFixedIndex(edit((_, v) => v.setBigUint64(64, 2n ** 60n, true))), 'CORRUPT');
  throwsCode(() => parseFixedIndex(edit((_, v) => v.setBigInt64(24, 2n ** 60n, true))), 'CORRUPT');
  const flipped = edit((b) => (b[4100] = (b[4100] ?? 0) ^ 1));
  throwsCode(() => parseFixedIndex(flipped), 'CORRUPT');
  assert.equal(parseFixedIndex(flipped, { verifyCsum: false }).count, 3);
});

test('parseFixedIndex rejects every truncation with TRUNCATED', () => {
  const bytes = encodeFixedIndex(sample(2 * 4096 + 7));
  for (let len = 0; len < bytes.length; len++) throwsCode(() => parseFixedIndex(bytes.subarray(0, len)), 'TRUNCATED');
});

// Which single-bit flips must be caught: magic, csum, chunk size and digests. uuid, ctime and the
// reserved bytes are covered by nothing (upstream neither), and a flip in `size` can keep the
// chunk count; the manifest's (size, csum) catches those. Every failure must carry a code.
test('parseFixedIndex rejects every bit flip in magic, csum, chunk size and digests', () => {
  const bytes = encodeFixedIndex(sample(2 * 4096 + 7));
  const must = (at: number): ErrorCode | undefined =>
    at < 8 ? 'BAD_MAGIC' : (at >= 32 && at < 64) || (at >= 72 && at < 80) || at >= 4096 ? 'CORRUPT' : undefined;
  for (let bit = 0; bit < bytes.length * 8; bit++) {
    const at = bit >> 3;
    bytes[at] = (bytes[at] ?? 0) ^ (1 << (bit & 7));
    const code = must(at);
    if (code) throwsCode(() => parseFixedIndex(bytes), code);
    else {
      try {
        parseFixedIndex(bytes);
      } catch (e) {
        assert.ok(isHoldfastError(e), `flip at byte ${at} threw an uncoded error`);
      }
    }
    bytes[at] = (bytes[at] ?? 0) ^ (1 << (bit & 7));
  }
});

test('encodeFixedIndex rejects inconsistent input with INVALID_ARGUMENT', () => {
  const base = sample(3 * 4096);
  for (const bad of [
    { ...base, digests: base.digests.slice(1) },
    { ...base, chunkSize: 3000 },
    { ...base, size: -1 },
    { ...base, uuid: new Uint8Array(15) },
    { ...base, ctime: 1.5 },
    { ...base, digests: [new Uint8Array(31), ...base.digests.slice(1)] },
  ]) {
    throwsCode(() => encodeFixedIndex(bad), 'INVALID_ARGUMENT');
  }
});

test('fixedIndexCsum hashes digests in order and defaults the size to full chunks', () => {
  const digests = [counterDigest(0), counterDigest(1)];
  assert.deepEqual(fixedIndexCsum(digests, 5000), { csum: sha256(...digests), size: 5000 });
  assert.equal(fixedIndexCsum(digests).size, 2 * FIXED_CHUNK_SIZE);
  const b = new FixedIndexCsumBuilder();
  b.append(digests[0]!);
  assert.deepEqual(b.result(1).csum, sha256(digests[0]!));
  b.append(digests[1]!);
  assert.equal(b.count, 2);
  assert.deepEqual(b.result(5000), fixedIndexCsum(digests, 5000));
  throwsCode(() => b.append(new Uint8Array(16)), 'INVALID_ARGUMENT');
});
