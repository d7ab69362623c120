import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, truncateSync, writeFileSync, utimesSync } from 'node:fs';
import { sha256, toHex } from '../../src/core/digest.ts';
import { isHoldfastError } from '../../src/core/errors.ts';
import { encodeBlob } from '../../src/format/blob.ts';
import { CryptConfig } from '../../src/format/crypt-config.ts';
import { generateKey } from '../../src/format/key-file.ts';
import { checkUploadedChunk, inlineChunkChecker, pooledChunkChecker } from '../../src/chunks/chunk-check.ts';
import { SlotPool } from '../../src/core/slot-pool.ts';
import { pseudoRandom, tempStore } from '../helpers/datastore-fixture.ts';
import { chunkPath } from '../../src/chunks/chunk-path.ts';

const data = pseudoRandom(100_000, 3);
const digest = toHex(sha256(data));
const blob = encodeBlob(data, { compress: true });

test('ChunkStore.insert writes a new chunk under .chunks/XXXX/<digest>', async () => {
  const t = await tempStore('none');
  try {
    const r = await t.store.chunks.insert(digest, blob);
    assert.deepEqual(r, { duplicate: false, size: blob.length, repaired: false });
    const path = chunkPath(t.store.base, digest);
    assert.ok(path.endsWith(`/.chunks/${digest.slice(0, 4)}/${digest}`));
    assert.deepEqual(readFileSync(path), Buffer.from(blob));
  } finally {
    t.cleanup();
  }
});

test('ChunkStore.insert touches an existing chunk instead of rewriting it', async () => {
  const t = await tempStore('none');
  try {
    await t.store.chunks.insert(digest, blob);
    const path = chunkPath(t.store.base, digest);
    utimesSync(path, new Date(1_000_000_000_000), new Date(1_000_000_000_000));
    const ino = statSync(path).ino;
    const r = await t.store.chunks.insert(digest, blob);
    assert.equal(r.duplicate, true);
    const st = statSync(path);
    assert.equal(st.ino, ino, 'the file was not replaced');
    assert.ok(st.atimeMs > 1_000_000_000_000 + 1000, 'atime was touched');
    assert.equal(st.mtimeMs, 1_000_000_000_000, 'mtime was left alone');
  } finally {
    t.cleanup();
  }
});

for (const [what, damage] of [
  ['empty', (p: string) => writeFileSync(p, '')],
  ['shorter than a blob header', (p: string) => truncateSync(p, 7)],
  ['truncated', (p: string) => truncateSync(p, 5000)],
  ['same size with a bad CRC', (p: string) => {
    const b = readFileSync(p);
    b[b.length - 1]! ^= 0xff;
    writeFileSync(p, b);
  }],
] as const) {
  test(`ChunkStore.insert replaces a broken existing chunk (${what}) and warns`, async () => {
    const t = await tempStore('none');
    try {
      await t.store.chunks.insert(digest, blob);
      const path = chunkPath(t.store.base, digest);
      damage(path);
      assert.equal(await t.store.chunks.state(digest), 'broken');
      const r = await t.store.chunks.insert(digest, blob);
      assert.deepEqual(r, { duplicate: false, size: blob.length, repaired: true });
      assert.deepEqual(readFileSync(path), Buffer.from(blob));
      assert.equal(await t.store.chunks.state(digest), 'intact');
      assert.ok(t.logLines.some((l) => l.startsWith('warn:') && l.includes(digest)), 'a warning names the chunk');
    } finally {
      t.cleanup();
    }
  });
}

test('ChunkStore.insert refuses to dedup an encrypted upload against an unencrypted chunk', async () => {
  const t = await tempStore('none');
  try {
    await t.store.chunks.insert(digest, blob);
    const enc = encodeBlob(data, { compress: true, crypt: new CryptConfig(generateKey()) });
    await assert.rejects(t.store.chunks.insert(digest, enc), (e) => isHoldfastError(e, 'CORRUPT'));
  } finally {
    t.cleanup();
  }
});

test('ChunkStore.insert replaces a stored encrypted chunk with a verified unencrypted upload, with a warning', async () => {
  const t = await tempStore('none');
  try {
    const poison = encodeBlob(pseudoRandom(5000, 9), { compress: false, crypt: new CryptConfig(generateKey()) });
    await t.store.chunks.insert(digest, poison);
    const path = chunkPath(t.store.base, digest);
    const r = await t.store.chunks.insert(digest, blob);
    assert.deepEqual(r, { duplicate: false, size: blob.length, repaired: true });
    assert.deepEqual(readFileSync(path), Buffer.from(blob));
    assert.ok(t.logLines.some((l) => l.startsWith('warn:') && l.includes(digest) && l.includes('encrypted')), 'a warning names the chunk');
    const again = await t.store.chunks.insert(digest, blob);
    assert.equal(again.duplicate, true, 'the verified copy is then deduplicated');
  } finally {
    t.cleanup();
  }
});

test('ChunkStore.insert never lets an encrypted upload displace a stored unencrypted chunk', async () => {
  const t = await tempStore('none');
  try {
    await t.store.chunks.insert(digest, blob);
    const enc = encodeBlob(pseudoRandom(5000, 9), { compress: false, crypt: new CryptConfig(generateKey()) });
    await assert.rejects(t.store.chunks.insert(digest, enc), (e) => isHoldfastError(e, 'CORRUPT'));
    assert.deepEqual(readFileSync(chunkPath(t.store.base, digest)), Buffer.from(blob));
  } finally {
    t.cleanup();
  }
});

test('ChunkStore.quarantine renames a chunk to <digest>.<n>.bad with the first free n', async () => {
  const t = await tempStore('none');
  try {
    await t.store.chunks.insert(digest, blob);
    assert.ok((await t.store.chunks.quarantine(digest))?.endsWith(`${digest}.0.bad`));
    await t.store.chunks.insert(digest, blob);
    assert.ok((await t.store.chunks.quarantine(digest))?.endsWith(`${digest}.1.bad`));
    assert.equal(await t.store.chunks.quarantine(digest), undefined);
    const kinds = [];
    for await (const e of t.store.chunks.list()) kinds.push(e.kind);
    assert.deepEqual(kinds.sort(), ['bad', 'bad']);
  } finally {
    t.cleanup();
  }
});

test('checkUploadedChunk rejects a wrong digest, a wrong size, a wrong encoded size and an oversized chunk', () => {
  const ok = { digestHex: digest, size: data.length, encodedSize: blob.length, bytes: blob };
  assert.equal(checkUploadedChunk(ok).crc, Buffer.from(blob).readUInt32LE(8));
  const code = (f: () => unknown, c: string) => assert.throws(f, (e) => isHoldfastError(e) && e.code === c);
  code(() => checkUploadedChunk({ ...ok, digestHex: '0'.repeat(64) }), 'DIGEST_MISMATCH');
  code(() => checkUploadedChunk({ ...ok, size: data.length + 1 }), 'SIZE_MISMATCH');
  code(() => checkUploadedChunk({ ...ok, encodedSize: blob.length - 1 }), 'SIZE_MISMATCH');
  code(() => checkUploadedChunk({ ...ok, size: 16 * 1024 * 1024 + 1 }), 'CHUNK_TOO_LARGE');
  const bad = Buffer.from(blob);
  bad[0]! ^= 1;
  code(() => checkUploadedChunk({ ...ok, bytes: bad }), 'BAD_MAGIC');
});

test('the chunk checkers replace the client CRC with their own, in place, also in shared memory on a worker', async () => {
  const pooled = pooledChunkChecker(1);
  try {
    for (const checker of [inlineChunkChecker, pooled]) {
      const wrongCrc = new Uint8Array(new SharedArrayBuffer(blob.length));
      wrongCrc.set(blob);
      new DataView(wrongCrc.buffer).setUint32(8, 0, true);
      await checker.check({ digestHex: digest, size: data.length, encodedSize: blob.length, bytes: wrongCrc });
      assert.deepEqual(Buffer.from(wrongCrc), Buffer.from(blob));
      const copy = Uint8Array.from(blob);
      await assert.rejects(checker.check({ digestHex: '0'.repeat(64), size: data.length, encodedSize: blob.length, bytes: copy }), (e) => isHoldfastError(e) && e.code === 'DIGEST_MISMATCH');
    }
  } finally {
    await pooled.close();
  }
});

test('the pooled checker borrows an owned buffer by transfer and gives it back, also when the check fails', async () => {
  const pooled = pooledChunkChecker(1);
  const pool = new SlotPool(1, blob.length + 10, { shared: false });
  try {
    const slot = await pool.acquire(blob.length);
    slot.bytes.set(blob);
    new DataView(slot.bytes.buffer, slot.bytes.byteOffset).setUint32(8, 0, true);
    const checked = await pooled.check({ digestHex: digest, size: data.length, encodedSize: blob.length, bytes: slot.bytes }, slot);
    assert.equal(checked.bytes.buffer, slot.bytes.buffer, 'the slot adopted the returned buffer');
    assert.deepEqual(Buffer.from(checked.bytes), Buffer.from(blob), 'with the server CRC');
    await assert.rejects(pooled.check({ digestHex: '0'.repeat(64), size: data.length, encodedSize: blob.length, bytes: slot.bytes }, slot), (e) => isHoldfastError(e) && e.code === 'DIGEST_MISMATCH');
    assert.equal(slot.bytes.byteLength, blob.length, 'the buffer came back after the failure too');
    slot.release();
  } finally {
    await pooled.close();
  }
});

test('Datastore.setSyncLevel leaving filesystem issues one syncfs first', async () => {
  const t = await tempStore('filesystem');
  try {
    const before = t.store.syncCounts().syncfs;
    await t.store.setSyncLevel('file');
    assert.equal(t.store.syncCounts().syncfs - before, 1);
    await t.store.setSyncLevel('none');
    assert.equal(t.store.syncCounts().syncfs - before, 1, 'leaving file needs no syncfs');
    assert.equal(t.store.syncLevel, 'none');
  } finally {
    t.cleanup();
  }
});
