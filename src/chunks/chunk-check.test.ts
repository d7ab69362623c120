import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { sha256, toHex } from '../core/digest.ts';
import { isHoldfastError } from '../core/errors.ts';
import { encodeBlob, storedCrc } from '../format/blob.ts';
import { CryptConfig } from '../format/crypt-config.ts';
import { generateKey } from '../format/key-file.ts';
import { checkFetchedChunk, checkUploadedChunk, inlineChunkChecker, pooledChunkChecker, type ChunkChecker } from './chunk-check.ts';

/** A stored chunk as a source server sends it: its own buffer, a correct CRC. */
function chunk(size: number): { digestHex: string; size: number; bytes: Uint8Array } {
  const data = randomBytes(size);
  const encoded = encodeBlob(data, { compress: false });
  const bytes = new Uint8Array(new ArrayBuffer(encoded.length));
  bytes.set(encoded);
  return { digestHex: toHex(sha256(data)), size, bytes };
}

const upload = (c: ReturnType<typeof chunk>) => ({ ...c, encodedSize: c.bytes.length });

async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => isHoldfastError(e) && e.code === code);
}

for (const [name, make] of [['inline', () => inlineChunkChecker], ['pooled', () => pooledChunkChecker(1)]] as const) {
  test(`checkFetchedChunk (${name}) passes a good chunk with its bytes intact`, async () => {
    const checker: ChunkChecker = make();
    try {
      const c = chunk(64 * 1024);
      const copy = Buffer.from(c.bytes);
      const checked = await checkFetchedChunk(checker, upload(c));
      assert.deepEqual(Buffer.from(checked.bytes), copy);
    } finally {
      await checker.close();
    }
  });

  test(`checkFetchedChunk (${name}) refuses a wrong stored CRC (BAD_CRC) and data that is not the digest's (DIGEST_MISMATCH)`, async () => {
    const checker: ChunkChecker = make();
    try {
      const badCrc = chunk(4096);
      new DataView(badCrc.bytes.buffer).setUint32(8, storedCrc(badCrc.bytes) ^ 1, true);
      await rejectsWith(checkFetchedChunk(checker, upload(badCrc)), 'BAD_CRC');
      const other = chunk(4096);
      await rejectsWith(checkFetchedChunk(checker, { ...upload(other), digestHex: chunk(4096).digestHex }), 'DIGEST_MISMATCH');
      await rejectsWith(checkFetchedChunk(checker, { digestHex: other.digestHex, size: 4096, encodedSize: 5, bytes: new Uint8Array(5) }), 'CORRUPT');
    } finally {
      await checker.close();
    }
  });
}

test('checkFetchedChunk copies a view into a shared buffer to the worker instead of lending (and detaching) it', async () => {
  const checker = pooledChunkChecker(1);
  try {
    const c = chunk(4096);
    const shared = new Uint8Array(c.bytes.length + 16);
    shared.set(c.bytes, 16);
    const view = shared.subarray(16);
    await checkFetchedChunk(checker, { ...c, bytes: view, encodedSize: view.length });
    assert.equal(shared.buffer.byteLength, c.bytes.length + 16, 'the shared buffer was not transferred away');
  } finally {
    await checker.close();
  }
});

/** A blob of each kind over `size` bytes (text-like, so zstd shrinks it), with the digest the chunk is stored under. */
function blobsOf(size: number): { name: string; digestHex: string; bytes: Uint8Array }[] {
  const data = Buffer.alloc(size);
  for (let i = 0; i < size; i++) data[i] = 97 + ((i * 7919) % 23); // compresses, never repeats in 64 KiB
  const crypt = new CryptConfig(generateKey());
  return [
    { name: 'plain', digestHex: toHex(sha256(data)), bytes: encodeBlob(data, { compress: false }) },
    { name: 'compressed', digestHex: toHex(sha256(data)), bytes: encodeBlob(data, { compress: true }) },
    { name: 'encrypted', digestHex: toHex(crypt.digest(data)), bytes: encodeBlob(data, { compress: false, crypt }) },
  ];
}

const sha256Hex = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

test('checkUploadedChunk answers the blob SHA-256 only when asked, for every blob kind, as the stored bytes hash', () => {
  // sizes around the fused pass's 64 KiB pieces: one short piece, a piece boundary, many pieces and a tail
  for (const size of [1, 65536, 65537, 3 * 65536 + 100]) {
    for (const b of blobsOf(size)) {
      const u = { digestHex: b.digestHex, size, encodedSize: b.bytes.length, bytes: b.bytes };
      assert.equal(checkUploadedChunk(u).blobSha256, undefined, `${b.name} ${size}: not asked`);
      const r = checkUploadedChunk(u, { blobSha256: true });
      assert.equal(r.crc, storedCrc(b.bytes), `${b.name} ${size}: the CRC`);
      assert.equal(r.blobSha256, sha256Hex(b.bytes), `${b.name} ${size}: the blob hash`);
    }
  }
});

test('the blob SHA-256 covers the server CRC when the client sent a wrong one, and a plain chunk altered in a late piece is refused', () => {
  for (const b of blobsOf(200_000)) {
    const wrong = Uint8Array.from(b.bytes);
    new DataView(wrong.buffer).setUint32(8, storedCrc(b.bytes) ^ 0xffff, true);
    const r = checkUploadedChunk({ digestHex: b.digestHex, size: 200_000, encodedSize: wrong.length, bytes: wrong }, { blobSha256: true });
    assert.equal(r.crc, storedCrc(b.bytes));
    assert.equal(r.blobSha256, sha256Hex(b.bytes), `${b.name}: hashes the blob as it will be stored, with the right CRC`);
  }
  const plain = blobsOf(200_000)[0]!;
  const altered = Uint8Array.from(plain.bytes);
  altered[190_000]! ^= 1;
  assert.throws(
    () => checkUploadedChunk({ digestHex: plain.digestHex, size: 200_000, encodedSize: altered.length, bytes: altered }, { blobSha256: true }),
    (e: unknown) => isHoldfastError(e) && e.code === 'DIGEST_MISMATCH',
  );
  const short = plain.bytes.subarray(0, plain.bytes.length - 1);
  assert.throws(() => checkUploadedChunk({ digestHex: plain.digestHex, size: 200_000, encodedSize: short.length, bytes: short }), (e: unknown) => isHoldfastError(e) && e.code === 'SIZE_MISMATCH');
});

for (const [name, make] of [['inline', () => inlineChunkChecker], ['pooled', () => pooledChunkChecker(1)]] as const) {
  test(`the ${name} checker hands back the blob SHA-256 when asked (also for a fetched chunk), and none otherwise`, async () => {
    const checker: ChunkChecker = make();
    try {
      const c = chunk(100_000);
      const expected = sha256Hex(c.bytes);
      assert.equal((await checker.check(upload(c), undefined, { blobSha256: true })).blobSha256, expected);
      assert.equal((await checker.check(upload(c))).blobSha256, undefined);
      assert.equal((await checkFetchedChunk(checker, upload(c), { blobSha256: true })).blobSha256, expected);
    } finally {
      await checker.close();
    }
  });
}
