import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { fromHex, sha256, toHex } from '../core/digest.ts';
import { isHoldfastError } from '../core/errors.ts';
import type { ErrorCode } from '../core/error-codes.ts';
import { dynamicChunkStart, dynamicIndexCsum, encodeDynamicIndex, parseDynamicIndex, type DynamicEntry } from './dynamic-index.ts';
import { DynamicIndexCsumBuilder } from './index-csum.ts';

const FIXTURE = fileURLToPath(new URL('../../../shared/reference/vectors/upstream/backup-client-pxar-data.ppxar.didx', import.meta.url));

function throwsCode(fn: () => unknown, ...codes: ErrorCode[]): void {
  assert.throws(fn, (e: unknown) => isHoldfastError(e) && codes.includes(e.code));
}

const UUID = new Uint8Array(16).fill(0x11);
function entries(ends: readonly number[]): DynamicEntry[] {
  return ends.map((end, i) => ({ end, digest: sha256(Uint8Array.of(i)) }));
}

test('parseDynamicIndex reads the upstream ppxar fixture and encodeDynamicIndex rewrites it byte for byte', { skip: existsSync(FIXTURE) ? false : 'needs ../shared fixtures' }, () => {
  const bytes = new Uint8Array(readFileSync(FIXTURE));
  assert.equal(toHex(sha256(bytes)), 'e9b28d2e12925fae074a6526aa8deb05087fc9138ccc46a0b6497633e8f46e0e');
  const idx = parseDynamicIndex(bytes);
  assert.equal(toHex(idx.uuid), 'f0ef7665555e417ea6eba00a375ceee0');
  assert.equal(idx.ctime, 1715091951);
  assert.equal(toHex(idx.csum), 'e13b71c181693fb7d7b46e2f34aadee48337c6828674820e0924ef940a2cbd20');
  assert.equal(idx.count, 100);
  assert.equal(idx.size, 104859232);
  // Every chunk is one 1 MiB file plus its 16-byte header; the last also holds the 16-byte tail marker.
  idx.entries.forEach((e, i) => assert.equal(e.end, 1048608 + i * 1048592 + (i === 99 ? 16 : 0)));
  const first = '5c85c0827ed968c4147d6a7e59b0237fa342f6f2a9d4e6ced767f2bfc19a560f';
  const middle = '504264eb4c90bde66d0d62e0906b8188bae27ee2f62dfbdaf7e0d6937d81979b';
  const last = '53b46ab166dcef8a3ae9f95ec0f6c5168247a72a0d44f5e3d6e435b930344969';
  assert.deepEqual(idx.entries.map((e, i) => [i, toHex(e.digest)]), idx.entries.map((_, i) => [i, i === 0 ? first : i === 99 ? last : middle]));
  assert.deepEqual(dynamicIndexCsum(idx.entries), { csum: fromHex('e13b71c181693fb7d7b46e2f34aadee48337c6828674820e0924ef940a2cbd20'), size: 104859232 });
  assert.deepEqual(encodeDynamicIndex({ uuid: idx.uuid, ctime: idx.ctime, entries: idx.entries }), bytes);
});

test('encodeDynamicIndex lays out header, ends and digests as PBS does', () => {
  const es = entries([10, 25]);
  const bytes = encodeDynamicIndex({ uuid: UUID, ctime: -5, entries: es });
  const view = new DataView(bytes.buffer);
  assert.equal(bytes.length, 4096 + 80);
  assert.equal(toHex(bytes.subarray(0, 8)), '1c914ea519bab3cd');
  assert.equal(view.getBigInt64(24, true), -5n);
  assert.ok(bytes.subarray(64, 4096).every((b) => b === 0));
  assert.equal(view.getBigUint64(4096 + 40, true), 25n);
  assert.deepEqual(bytes.subarray(4096 + 48, 4096 + 80), es[1]!.digest);
  assert.deepEqual(bytes.subarray(32, 64), sha256(bytes.subarray(4096)));
  assert.equal(dynamicChunkStart(es, 0), 0);
  assert.equal(dynamicChunkStart(es, 1), 10);
});

test('encodeDynamicIndex and parseDynamicIndex round-trip (property)', () => {
  const arb = fc.record({ sizes: fc.array(fc.integer({ min: 1, max: 2 ** 40 }), { maxLength: 20 }), ctime: fc.integer() });
  fc.assert(
    fc.property(arb, ({ sizes, ctime }) => {
      let end = 0;
      const es = sizes.map((s) => ({ end: (end += s), digest: new Uint8Array(randomBytes(32)) }));
      const uuid = new Uint8Array(randomBytes(16));
      const idx = parseDynamicIndex(encodeDynamicIndex({ uuid, ctime, entries: es }));
      assert.deepEqual({ ...idx, entries: [...idx.entries] }, { uuid, ctime, entries: es, count: es.length, size: end, csum: dynamicIndexCsum(es).csum });
    }),
    { numRuns: 100 },
  );
});

test('parseDynamicIndex rejects ends that do not strictly increase from 0 with CORRUPT', () => {
  const good = encodeDynamicIndex({ uuid: UUID, ctime: 0, entries: entries([10, 20, 30]) });
  const withEnd = (i: number, end: bigint): Uint8Array => {
    const b = good.slice();
    new DataView(b.buffer).setBigUint64(4096 + 40 * i, end, true);
    b.set(sha256(b.subarray(4096)), 32); // keep the csum right so only the order is wrong
    return b;
  };
  throwsCode(() => parseDynamicIndex(withEnd(0, 0n)), 'CORRUPT');
  throwsCode(() => parseDynamicIndex(withEnd(1, 10n)), 'CORRUPT');
  throwsCode(() => parseDynamicIndex(withEnd(2, 15n)), 'CORRUPT');
  throwsCode(() => parseDynamicIndex(withEnd(2, 2n ** 53n)), 'CORRUPT');
  assert.equal(parseDynamicIndex(withEnd(2, 2n ** 53n - 1n)).size, Number.MAX_SAFE_INTEGER);
  throwsCode(() => encodeDynamicIndex({ uuid: UUID, ctime: 0, entries: entries([10, 10]) }), 'INVALID_ARGUMENT');
  throwsCode(() => encodeDynamicIndex({ uuid: UUID, ctime: 0, entries: entries([0]) }), 'INVALID_ARGUMENT');
});

test('parseDynamicIndex checks magic, body length and csum', () => {
  const good = encodeDynamicIndex({ uuid: UUID, ctime: 0, entries: entries([10, 20]) });
  throwsCode(() => parseDynamicIndex(new Uint8Array(4096)), 'BAD_MAGIC');
  throwsCode(() => parseDynamicIndex(new Uint8Array([...good, 0])), 'TRUNCATED');
  const damaged = good.slice();
  damaged[4096 + 20] = (damaged[4096 + 20] ?? 0) ^ 4;
  throwsCode(() => parseDynamicIndex(damaged), 'CORRUPT');
  assert.equal(parseDynamicIndex(damaged, { verifyCsum: false }).count, 2);
  assert.equal(parseDynamicIndex(encodeDynamicIndex({ uuid: UUID, ctime: 0, entries: [] })).size, 0);
});

test('parseDynamicIndex rejects every truncation with a coded error', () => {
  const bytes = encodeDynamicIndex({ uuid: UUID, ctime: 0, entries: entries([10, 20, 30]) });
  for (let len = 0; len < bytes.length; len++) throwsCode(() => parseDynamicIndex(bytes.subarray(0, len)), 'TRUNCATED', 'CORRUPT');
});

// Caught: flips in magic (BAD_MAGIC), csum and entries (CORRUPT: csum mismatch or bad order).
// uuid, ctime and reserved bytes are covered by nothing; any failure there must still be coded.
test('parseDynamicIndex rejects every bit flip in magic, csum and entries', () => {
  const bytes = encodeDynamicIndex({ uuid: UUID, ctime: 0, entries: entries([10, 20, 30]) });
  for (let bit = 0; bit < bytes.length * 8; bit++) {
    const at = bit >> 3;
    bytes[at] = (bytes[at] ?? 0) ^ (1 << (bit & 7));
    const code: ErrorCode | undefined = at < 8 ? 'BAD_MAGIC' : (at >= 32 && at < 64) || at >= 4096 ? 'CORRUPT' : undefined;
    if (code) throwsCode(() => parseDynamicIndex(bytes), code);
    else {
      try {
        parseDynamicIndex(bytes);
      } catch (e) {
        assert.ok(isHoldfastError(e), `flip at byte ${at} threw an uncoded error`);
      }
    }
    bytes[at] = (bytes[at] ?? 0) ^ (1 << (bit & 7));
  }
});

test('DynamicIndexCsumBuilder hashes (le64 end, digest) pairs incrementally', () => {
  const es = entries([5, 9, 100]);
  const b = new DynamicIndexCsumBuilder();
  for (const e of es) b.append(e.end, e.digest);
  assert.equal(b.count, 3);
  assert.equal(b.size, 100);
  const manual = sha256(...es.flatMap((e) => {
    const le = new Uint8Array(8);
    new DataView(le.buffer).setBigUint64(0, BigInt(e.end), true);
    return [le, e.digest];
  }));
  assert.deepEqual(b.result(), { csum: manual, size: 100 });
  assert.deepEqual(b.result(), dynamicIndexCsum(es));
  throwsCode(() => b.append(100, es[0]!.digest), 'INVALID_ARGUMENT');
  throwsCode(() => b.append(200, new Uint8Array(8)), 'INVALID_ARGUMENT');
});
