import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { isHoldfastError } from '../core/errors.ts';
import { backupChunks, pseudoRandom, sha256, tempStore } from '../../test/helpers/datastore-fixture.ts';
import { ArchiveReader } from './archive-reader.ts';

const REF = { ns: '', type: 'host', id: 'ar', time: 1_700_000_000 } as const;

async function collect(src: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const p of src) parts.push(p);
  return Buffer.concat(parts);
}

test('ArchiveReader streams the plaintext from any offset and reads exact ranges across chunk boundaries', async () => {
  const t = await tempStore('none');
  try {
    const chunks = [pseudoRandom(1000, 1), pseudoRandom(2000, 2), pseudoRandom(500, 3)];
    await backupChunks(t.store, REF, chunks);
    const all = Buffer.concat(chunks);
    const r = await ArchiveReader.open(t.store, REF, 'data.didx');
    assert.equal(r.size, 3500);
    assert.ok((await collect(r.stream())).equals(all));
    assert.ok((await collect(r.stream(2999))).equals(all.subarray(2999)));
    assert.ok((await collect(r.range(900, 2200))).equals(all.subarray(900, 3100)));
    assert.equal((await collect(r.range(3500, 0))).length, 0);
    await assert.rejects(collect(r.range(3000, 501)), (e) => isHoldfastError(e, 'TRUNCATED'));
  } finally {
    t.cleanup();
  }
});

test('ArchiveReader.open refuses an archive the manifest does not list (NOT_FOUND) and an encrypted one (KEY_REQUIRED); a missing chunk is MISSING_CHUNK', async () => {
  const t = await tempStore('none');
  try {
    const chunks = [pseudoRandom(1000, 4), pseudoRandom(1000, 5)];
    await backupChunks(t.store, REF, chunks);
    await assert.rejects(ArchiveReader.open(t.store, REF, 'other.didx'), (e) => isHoldfastError(e, 'NOT_FOUND'));
    const r = await ArchiveReader.open(t.store, REF, 'data.didx');
    const hex = Buffer.from(sha256(chunks[1] ?? new Uint8Array())).toString('hex');
    rmSync(join(t.store.base, '.chunks', hex.slice(0, 4), hex));
    await assert.rejects(collect(r.stream()), (e) => isHoldfastError(e, 'MISSING_CHUNK'));
    await t.store.updateManifest(REF, (m) => {
      const f = m.files[0];
      if (f) f.cryptMode = 'encrypt';
    });
    await assert.rejects(ArchiveReader.open(t.store, REF, 'data.didx'), (e) => isHoldfastError(e, 'KEY_REQUIRED'));
  } finally {
    t.cleanup();
  }
});
