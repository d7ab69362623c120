/**
 * The chunk decoders, inline and on worker threads: plain, compressed and encrypted chunks come
 * back exact and proven, both borrowed buffers come back (the same memory), and every fault is
 * the coded error decodeChunk gives (a flipped byte, a wrong size, a missing key), also from a
 * worker. A pooled decode refuses buffers it cannot take by transfer.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import { sha256 } from '../core/digest.ts';
import { isHoldfastError } from '../core/errors.ts';
import { encodeBlob } from '../format/blob.ts';
import { CryptConfig } from '../format/crypt-config.ts';
import { inlineChunkDecoder, pooledChunkDecoder, type ChunkDecoder } from './chunk-decoder.ts';

const MIB = 1024 * 1024;
const crypt = new CryptConfig(new Uint8Array(32).fill(7));
const plainDecoder = pooledChunkDecoder(undefined, 1);
const cryptDecoder = pooledChunkDecoder(crypt, 1);
after(() => Promise.all([plainDecoder.close(), cryptDecoder.close()]));

/** A buffer of its own (not Node's shared pool), as RestoreReader's BufferPool gives. */
function own(bytes: Uint8Array, room = 0): Uint8Array {
  const b = new Uint8Array(new ArrayBuffer(bytes.length + room));
  b.set(bytes);
  return b.subarray(0, bytes.length);
}

const text = (n: number): Uint8Array => new TextEncoder().encode('holdfast restores every byte. '.repeat(Math.ceil(n / 30))).subarray(0, n);

const cases = [
  { name: 'plain', data: new Uint8Array(randomBytes(MIB + 3)), crypt: undefined },
  { name: 'compressed', data: text(2 * MIB), crypt: undefined },
  { name: 'encrypted', data: new Uint8Array(randomBytes(MIB)), crypt },
  { name: 'encrypted and compressed', data: text(MIB + 1), crypt },
];

for (const c of cases) {
  for (const [kind, decoder] of [
    ['inline', inlineChunkDecoder(c.crypt)],
    ['on a worker', c.crypt ? cryptDecoder : plainDecoder],
  ] as const) {
    test(`a ${c.name} chunk decodes ${kind}, proven, and both buffers come back`, async () => {
      const blob = own(encodeBlob(c.data, { compress: true, ...(c.crypt ? { crypt: c.crypt } : {}) }));
      const digest = c.crypt ? c.crypt.digest(c.data) : sha256(c.data);
      const blobLength = blob.byteLength; // a worker takes the buffer: the view passed in is detached after
      const d = await decoder.decode(blob, { digest, size: c.data.length }, own(new Uint8Array(c.data.length)));
      assert.ok(Buffer.from(d.data).equals(Buffer.from(c.data)));
      assert.ok(d.data.buffer === d.raw.buffer || d.data.buffer === d.output.buffer, 'the plaintext lies in one of the two buffers');
      assert.ok(d.raw.byteLength === blobLength && d.output.byteLength === c.data.length, 'the same views, back');
    });
  }
}

async function codeOf(decoder: ChunkDecoder, blob: Uint8Array, digest: Uint8Array, size: number): Promise<string> {
  try {
    await decoder.decode(own(blob), { digest, size }, own(new Uint8Array(size)));
  } catch (e) {
    return isHoldfastError(e) ? e.code : `not coded: ${String(e)}`;
  }
  return 'no error';
}

test('faults are coded errors, from a worker too: a flipped byte, a wrong size, a missing key', async () => {
  const data = text(MIB);
  const blob = encodeBlob(data, { compress: false });
  const flipped = blob.slice();
  flipped[flipped.length - 1]! ^= 1;
  const encrypted = encodeBlob(data, { compress: true, crypt });
  for (const decoder of [inlineChunkDecoder(), plainDecoder]) {
    assert.equal(await codeOf(decoder, flipped, sha256(data), data.length), 'DIGEST_MISMATCH');
    assert.equal(await codeOf(decoder, blob, sha256(data), data.length + 1), 'SIZE_MISMATCH');
    assert.equal(await codeOf(decoder, encrypted, crypt.digest(data), data.length), 'KEY_REQUIRED');
  }
});

test('a pooled decode refuses buffers it cannot borrow (shared memory, or both views of one buffer)', async () => {
  const data = text(1000);
  const blob = encodeBlob(data, { compress: false });
  const shared = new Uint8Array(new SharedArrayBuffer(blob.length));
  shared.set(blob);
  await assert.rejects(plainDecoder.decode(shared, { digest: sha256(data), size: data.length }, own(new Uint8Array(1000))), { code: 'INTERNAL' });
  const one = own(blob, 4096);
  await assert.rejects(plainDecoder.decode(one, { digest: sha256(data), size: data.length }, new Uint8Array(one.buffer, 2048, 1000)), { code: 'INTERNAL' });
});
