import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import type * as Crc32 from '@node-rs/crc32';
import fc from 'fast-check';
import binding from 'zstd-napi/binding.js';
import { fromHex, sha256, toHex } from '../core/digest.ts';
import { isHoldfastError } from '../core/errors.ts';
import type { ErrorCode } from '../core/error-codes.ts';
import { BLOB_HEADROOM, BLOB_KINDS, blobHeader, computeBlobCrc, crcAndSha256, decodeBlob, decodeChunk, encodeBlob, encodeBlobInPlace, ENCRYPTED_HEADER_SIZE, MAX_BLOB_SIZE, PLAIN_HEADER_SIZE, setBlobCrc, verifyBlobCrc, withRecomputedCrc, type BlobKind } from './blob.ts';
import { CryptConfig } from './crypt-config.ts';

const KEY = new CryptConfig(new Uint8Array(32).fill(9));
const OTHER_KEY = new CryptConfig(new Uint8Array(32).fill(10));
const TEST_DATA = Uint8Array.from({ length: 100000 }, (_, i) => i % 255);
const FIFTY = Uint8Array.from({ length: 50 }, (_, i) => Math.floor(i / 10));

function throwsCode(fn: () => unknown, ...codes: ErrorCode[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isHoldfastError(e), `expected a HoldfastError, got ${String(e)}`);
    assert.ok(codes.includes(e.code), `expected ${codes.join('|')}, got ${e.code}`);
    return true;
  });
}

/** Encodes `data` as the requested variant (compressible data is needed for the compressed kinds). */
function encodeAs(kind: BlobKind, data: Uint8Array): Uint8Array {
  const compress = kind === 'compressed' || kind === 'encrypted-compressed';
  const encrypted = kind === 'encrypted' || kind === 'encrypted-compressed';
  return encodeBlob(data, encrypted ? { compress, crypt: KEY } : { compress });
}

test('encodeBlob writes the derived plain blob of the 50-byte input byte for byte (VECTORS §6.2)', () => {
  const expected = '42ab3807be8370a1128dc15c0000000000000000000001010101010101010101020202020202020202020303030303030303030304040404040404040404';
  assert.equal(toHex(encodeBlob(FIFTY, { compress: false })), expected);
});

test('encodeBlob stores [0,1] uncompressed because zstd cannot shrink it (VECTORS §6.3)', () => {
  const blob = encodeBlob(Uint8Array.of(0, 1), { compress: true });
  assert.equal(toHex(blob), '42ab3807be8370a16922de360001');
  assert.equal(toHex(sha256(Uint8Array.of(0, 1))), 'b413f47d13ee2fe6c845b2ee141af81de858df4ec549a58b7970bb96645bc8d2');
});

test('encodeBlob picks each of the four magics and decodeBlob restores TEST_DATA (VECTORS §6.1)', () => {
  const c1 = new CryptConfig(new Uint8Array(32).fill(1));
  const variants = [
    [encodeBlob(TEST_DATA, { compress: false }), 'plain'],
    [encodeBlob(TEST_DATA, { compress: true }), 'compressed'],
    [encodeBlob(TEST_DATA, { compress: false, crypt: c1 }), 'encrypted'],
    [encodeBlob(TEST_DATA, { compress: true, crypt: c1 }), 'encrypted-compressed'],
  ] as const;
  for (const [blob, kind] of variants) {
    assert.equal(blobHeader(blob).kind, kind);
    assert.equal(blobHeader(blob).headerSize, kind.startsWith('encrypted') ? 44 : 12);
    assert.deepEqual(decodeBlob(blob, c1), TEST_DATA);
  }
  const plainDigest = '539a60c3a7cc268ecce082c9184702bc829bb106a2643dee26db3ff0bf8457ee';
  assert.deepEqual(decodeChunk(variants[1][0], { digest: fromHex(plainDigest) }), TEST_DATA);
  const keyed = Uint8Array.from([50, 162, 191, 93, 255, 132, 9, 14, 127, 23, 92, 39, 246, 102, 245, 204, 130, 104, 4, 106, 182, 239, 218, 14, 80, 17, 150, 188, 239, 253, 198, 117]);
  assert.deepEqual(decodeChunk(variants[3][0], { digest: keyed, crypt: c1, size: TEST_DATA.length }), TEST_DATA);
});

test('encodeBlob round-trips the 50-byte input in all four variants with key 32×09 (VECTORS §6.2)', () => {
  for (const kind of BLOB_KINDS) assert.deepEqual(decodeBlob(encodeAs(kind, FIFTY), KEY), FIFTY);
});

test('encodeBlob keeps incompressible data uncompressed even when asked to compress', () => {
  const random = new Uint8Array(randomBytes(4096));
  assert.equal(blobHeader(encodeBlob(random, { compress: true })).kind, 'plain');
  assert.equal(blobHeader(encodeBlob(random, { compress: true, crypt: KEY })).kind, 'encrypted');
});

test('encodeBlob results do not share the thread scratch buffer', () => {
  const a = encodeBlob(new Uint8Array(10000).fill(1), { compress: true });
  const copy = a.slice();
  encodeBlob(new Uint8Array(10000).fill(2), { compress: true });
  assert.deepEqual(a, copy);
});

test('encodeBlob rejects input over MAX_BLOB_SIZE with INVALID_ARGUMENT', () => {
  throwsCode(() => encodeBlob(new Uint8Array(MAX_BLOB_SIZE + 1), { compress: false }), 'INVALID_ARGUMENT');
});

test('encodeBlob uses a fresh random IV for every encrypted blob', () => {
  const a = encodeBlob(FIFTY, { compress: false, crypt: KEY });
  const b = encodeBlob(FIFTY, { compress: false, crypt: KEY });
  assert.notDeepEqual(a.subarray(12, 28), b.subarray(12, 28));
});

test('decodeBlob round-trips arbitrary data in every variant (property)', () => {
  const data = fc.oneof(fc.uint8Array({ maxLength: 3000 }), fc.string({ maxLength: 2000 }).map((s) => new TextEncoder().encode(s.repeat(3))));
  fc.assert(
    fc.property(data, fc.constantFrom(...BLOB_KINDS), fc.boolean(), (d, kind, compress) => {
      const encrypted = kind.startsWith('encrypted');
      const blob = encodeBlob(d, encrypted ? { compress, crypt: KEY } : { compress });
      assert.equal(blobHeader(blob).encrypted, encrypted);
      assert.deepEqual(decodeBlob(blob, KEY), d);
      verifyBlobCrc(blob);
    }),
    { numRuns: 150 },
  );
});

test('encodeBlobInPlace matches encodeBlob in every variant, on shared memory (property)', () => {
  const data = fc.oneof(fc.uint8Array({ maxLength: 3000 }), fc.string({ maxLength: 2000 }).map((s) => new TextEncoder().encode(s.repeat(3))));
  fc.assert(
    fc.property(data, fc.boolean(), fc.boolean(), fc.nat(16), (d, encrypted, compress, slack) => {
      const region = new Uint8Array(new SharedArrayBuffer(BLOB_HEADROOM + d.byteLength + slack));
      region.set(d, BLOB_HEADROOM);
      const opts = encrypted ? { compress, crypt: KEY } : { compress };
      const blob = encodeBlobInPlace(region, d.byteLength, opts);
      assert.equal(blob.buffer, region.buffer, 'the blob is a view of the region');
      verifyBlobCrc(blob);
      assert.deepEqual(decodeBlob(blob, KEY), d);
      const reference = encodeBlob(d, opts);
      assert.equal(blob.byteLength, reference.byteLength);
      if (!encrypted) assert.deepEqual(Uint8Array.from(blob), reference);
    }),
    { numRuns: 150 },
  );
});

test('encodeBlobInPlace refuses a region without room for its headroom and data', () => {
  throwsCode(() => encodeBlobInPlace(new Uint8Array(BLOB_HEADROOM + 9), 10, { compress: true }), 'INVALID_ARGUMENT');
});

test('computeBlobCrc and setBlobCrc repair a header CRC in place', () => {
  const blob = encodeAs('plain', FIFTY);
  const right = computeBlobCrc(blob);
  blob[8] = (blob[8] ?? 0) ^ 0xff;
  throwsCode(() => verifyBlobCrc(blob), 'BAD_CRC');
  setBlobCrc(blob, right);
  verifyBlobCrc(blob);
  throwsCode(() => setBlobCrc(new Uint8Array(20), 0), 'BAD_MAGIC');
});

test('decodeBlob without a key fails with KEY_REQUIRED, with the wrong key with DECRYPT_FAILED', () => {
  for (const kind of ['encrypted', 'encrypted-compressed'] as const) {
    const blob = encodeAs(kind, TEST_DATA);
    throwsCode(() => decodeBlob(blob), 'KEY_REQUIRED');
    throwsCode(() => decodeBlob(blob, OTHER_KEY), 'DECRYPT_FAILED');
  }
});

test('blobHeader reports TRUNCATED below the header size and BAD_MAGIC for unknown magics', () => {
  throwsCode(() => blobHeader(new Uint8Array(0)), 'TRUNCATED');
  throwsCode(() => blobHeader(encodeAs('plain', FIFTY).subarray(0, 7)), 'TRUNCATED');
  throwsCode(() => blobHeader(encodeAs('plain', FIFTY).subarray(0, 11)), 'TRUNCATED');
  throwsCode(() => blobHeader(encodeAs('encrypted', FIFTY).subarray(0, 43)), 'TRUNCATED');
  throwsCode(() => blobHeader(new Uint8Array(64)), 'BAD_MAGIC');
  assert.deepEqual(blobHeader(encodeAs('encrypted', FIFTY)), { kind: 'encrypted', headerSize: 44, encrypted: true, compressed: false });
});

// Every variant, every truncation and every single-bit flip: the blob must be rejected with a
// coded error, and the code must say where the damage is.
for (const kind of BLOB_KINDS) {
  test(`decodeBlob rejects every truncation of a ${kind} blob`, () => {
    const blob = encodeAs(kind, FIFTY);
    for (let len = 0; len < blob.length; len++) throwsCode(() => decodeBlob(blob.subarray(0, len), KEY), 'TRUNCATED', 'BAD_CRC');
  });

  test(`decodeBlob rejects every single-bit flip of a ${kind} blob with the code for that region`, () => {
    const blob = encodeAs(kind, FIFTY);
    const { headerSize } = blobHeader(blob);
    for (let bit = 0; bit < blob.length * 8; bit++) {
      const damaged = blob.slice();
      damaged[bit >> 3] = (damaged[bit >> 3] ?? 0) ^ (1 << (bit & 7));
      const at = bit >> 3;
      const code: ErrorCode = at < 8 ? 'BAD_MAGIC' : at < 12 || at >= headerSize ? 'BAD_CRC' : 'DECRYPT_FAILED';
      throwsCode(() => decodeBlob(damaged, KEY), code);
    }
  });
}

test('decodeBlob rejects a random bit flip in random blobs of every variant (property)', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 2000 }), fc.constantFrom(...BLOB_KINDS), fc.nat(), (d, kind, pick) => {
      const blob = encodeAs(kind, d);
      const bit = pick % (blob.length * 8);
      blob[bit >> 3] = (blob[bit >> 3] ?? 0) ^ (1 << (bit & 7));
      throwsCode(() => decodeBlob(blob, KEY), 'BAD_MAGIC', 'BAD_CRC', 'DECRYPT_FAILED');
    }),
    { numRuns: 200 },
  );
});

test('decodeBlob rejects a compressed blob whose payload is not zstd with CORRUPT', () => {
  const blob = withRecomputedCrc(encodeAs('compressed', TEST_DATA));
  blob.fill(0x55, 12, 40);
  throwsCode(() => decodeBlob(withRecomputedCrc(blob)), 'CORRUPT');
});

test('decodeBlob refuses a zstd frame that claims more than MAX_BLOB_SIZE with CORRUPT', () => {
  const cctx = new binding.CCtx();
  const total = MAX_BLOB_SIZE + 1024 * 1024;
  cctx.setPledgedSrcSize(total);
  const zeros = new Uint8Array(1024 * 1024);
  const out = new Uint8Array(1 << 20);
  let written = 0;
  for (let fed = 0; fed < total; fed += zeros.length) {
    const last = fed + zeros.length >= total;
    let rest = zeros;
    for (;;) {
      const [remaining, produced, consumed] = cctx.compressStream2(out.subarray(written), rest, last ? binding.EndDirective.end : binding.EndDirective.continue);
      written += produced;
      rest = rest.subarray(consumed);
      if (rest.length === 0 && (!last || remaining === 0)) break;
    }
  }
  const blob = new Uint8Array(12 + written);
  blob.set(Uint8Array.of(0x31, 0xb9, 0x58, 0x42, 0x6f, 0xb6, 0xa3, 0x7f));
  blob.set(out.subarray(0, written), 12);
  throwsCode(() => decodeBlob(withRecomputedCrc(blob)), 'CORRUPT');
  assert.throws(() => decodeBlob(withRecomputedCrc(blob)), /claims/);
});

test('decodeBlob returns a plain blob payload as a view without copying', () => {
  const blob = encodeAs('plain', FIFTY);
  const data = decodeBlob(blob);
  assert.equal(data.buffer, blob.buffer);
  assert.equal(data.byteOffset, blob.byteOffset + 12);
});

test('verifyBlobCrc accepts intact blobs and reports BAD_CRC after damage', () => {
  const blob = encodeAs('compressed', TEST_DATA);
  verifyBlobCrc(blob);
  blob[blob.length - 1] = (blob[blob.length - 1] ?? 0) ^ 0x80;
  throwsCode(() => verifyBlobCrc(blob), 'BAD_CRC');
});

test('withRecomputedCrc returns the input when its CRC is right and a fixed copy otherwise', () => {
  const blob = encodeAs('encrypted', FIFTY);
  assert.equal(withRecomputedCrc(blob), blob);
  const bad = blob.slice();
  bad.fill(0, 8, 12);
  const fixed = withRecomputedCrc(bad);
  assert.notEqual(fixed, bad);
  assert.deepEqual(fixed, blob);
  assert.deepEqual(bad.subarray(8, 12), new Uint8Array(4));
  throwsCode(() => withRecomputedCrc(new Uint8Array(20)), 'BAD_MAGIC');
});

test('decodeChunk reports DIGEST_MISMATCH and SIZE_MISMATCH', () => {
  const blob = encodeAs('compressed', TEST_DATA);
  throwsCode(() => decodeChunk(blob, { digest: new Uint8Array(32) }), 'DIGEST_MISMATCH');
  throwsCode(() => decodeChunk(blob, { digest: sha256(TEST_DATA), size: 5 }), 'SIZE_MISMATCH');
  // An unencrypted chunk keeps its plain digest even when the reader holds a key (sign-only mode).
  assert.deepEqual(decodeChunk(blob, { digest: sha256(TEST_DATA), crypt: KEY }), TEST_DATA);
});

test('decodeChunk with output decodes a compressed or encrypted chunk into the caller\'s memory', () => {
  const backing = new Uint8Array(TEST_DATA.length + 100).fill(0xee);
  const output = (n: number): Uint8Array => backing.subarray(0, n);
  for (const blob of [encodeAs('compressed', TEST_DATA), encodeBlob(TEST_DATA, { compress: false, crypt: KEY }), encodeBlob(TEST_DATA, { compress: true, crypt: KEY })]) {
    backing.fill(0xee);
    const encrypted = blobHeader(blob).encrypted;
    const data = decodeChunk(blob, { digest: encrypted ? KEY.digest(TEST_DATA) : sha256(TEST_DATA), size: TEST_DATA.length, ...(encrypted ? { crypt: KEY } : {}), output });
    assert.equal(data.buffer, backing.buffer);
    assert.deepEqual(data, TEST_DATA);
  }
  const plain = decodeChunk(encodeAs('plain', TEST_DATA), { digest: sha256(TEST_DATA), output });
  assert.notEqual(plain.buffer, backing.buffer, 'a plain chunk is a view of its blob');
});

test('decodeChunk with crc: false still rejects every flipped byte of a chunk', () => {
  for (const kind of ['plain', 'compressed'] as const) {
    const blob = encodeAs(kind, TEST_DATA);
    const digest = sha256(TEST_DATA);
    // a wrong CRC over a sound payload: the digest proves the data, so it is returned
    const badCrc = blob.slice();
    badCrc[8] = badCrc[8]! ^ 0xff;
    assert.deepEqual(decodeChunk(badCrc, { digest, crc: false }), TEST_DATA);
    throwsCode(() => decodeChunk(badCrc, { digest }), 'BAD_CRC');
    for (let at = PLAIN_HEADER_SIZE; at < blob.length; at += Math.max(1, Math.floor(blob.length / 97))) {
      const flipped = blob.slice();
      flipped[at] = flipped[at]! ^ 0x01;
      assert.throws(() => decodeChunk(flipped, { digest, size: TEST_DATA.length, crc: false }), (e: unknown) => isHoldfastError(e) && ['DIGEST_MISMATCH', 'CORRUPT', 'SIZE_MISMATCH'].includes(e.code), `${kind} byte ${at}`);
    }
  }
  const keyed = KEY.digest(TEST_DATA);
  const sealed = encodeBlob(TEST_DATA, { compress: true, crypt: KEY });
  for (let at = ENCRYPTED_HEADER_SIZE - 32; at < sealed.length; at += 7) {
    const flipped = sealed.slice();
    flipped[at] = flipped[at]! ^ 0x01;
    assert.throws(() => decodeChunk(flipped, { digest: keyed, crypt: KEY, crc: false }), (e: unknown) => isHoldfastError(e) && ['DECRYPT_FAILED', 'DIGEST_MISMATCH', 'CORRUPT'].includes(e.code), `encrypted byte ${at}`);
  }
});

const { crc32 } = createRequire(import.meta.url)('@node-rs/crc32') as typeof Crc32;

test('crcAndSha256 equals a CRC-32 and a SHA-256 over the whole, across its piece boundaries, and feeds `also` the same bytes', () => {
  for (const size of [0, 1, 65535, 65536, 65537, 200_000]) {
    const data = randomBytes(size);
    const also = createHash('sha256').update('prefix');
    const r = crcAndSha256(data, also);
    assert.equal(r.crc, crc32(data), `crc at ${size}`);
    assert.equal(toHex(r.sha256), createHash('sha256').update(data).digest('hex'), `sha256 at ${size}`);
    assert.equal(also.digest('hex'), createHash('sha256').update('prefix').update(data).digest('hex'), `also at ${size}`);
  }
});

test('encodeBlobInPlace takes the caller\'s plainCrc for an uncompressed blob and computes its own for a compressed one', () => {
  const region = (data: Uint8Array): Uint8Array => {
    const r = new Uint8Array(BLOB_HEADROOM + data.length);
    r.set(data, BLOB_HEADROOM);
    return r;
  };
  const random = randomBytes(10_000);
  const plain = encodeBlobInPlace(region(random), random.length, { compress: true, plainCrc: crc32(random) });
  assert.equal(blobHeader(plain).kind, 'plain');
  verifyBlobCrc(plain);
  const told = encodeBlobInPlace(region(random), random.length, { compress: true, plainCrc: 12345 });
  assert.equal(computeBlobCrc(told) === 12345, false, 'the data is not what CRC 12345 says');
  assert.equal(Buffer.from(told).readUInt32LE(8), 12345, 'an uncompressed blob carries the CRC it was given');
  const text = Buffer.alloc(10_000, 'abc');
  const compressed = encodeBlobInPlace(region(text), text.length, { compress: true, plainCrc: crc32(text) });
  assert.equal(blobHeader(compressed).kind, 'compressed');
  verifyBlobCrc(compressed); // its CRC is over the compressed payload, not the plaintext
});
