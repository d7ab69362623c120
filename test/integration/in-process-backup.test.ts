import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BackupWriter } from '../../src/remote/backup-writer.ts';
import { inlineChunkEncoder } from '../../src/remote/chunk-encoder.ts';
import { RestoreReader } from '../../src/remote/restore-reader.ts';
import { inlineChunkChecker } from '../../src/chunks/chunk-check.ts';
import { BackupSession } from '../../src/datastore/backup-session.ts';
import { BackupProtocol } from '../../src/server/protocol/backup-protocol.ts';
import { ReaderProtocol } from '../../src/server/protocol/reader-protocol.ts';
import { CryptConfig } from '../../src/format/crypt-config.ts';
import { generateKey } from '../../src/format/key-file.ts';
import type { SnapshotRef } from '../../src/core/backup-ref.ts';
import { isHoldfastError } from '../../src/core/errors.ts';
import { backupTransport, readerTransport } from '../helpers/in-process-transport.ts';
import { pseudoRandom, tempStore } from '../helpers/datastore-fixture.ts';
import type { Datastore } from '../../src/datastore/datastore.ts';

async function* pieces(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let o = 0; o < data.length; o += size) yield data.slice(o, o + size);
}

async function backup(store: Datastore, ref: SnapshotRef, image: Uint8Array, crypt?: CryptConfig) {
  const session = await BackupSession.begin(store, ref, { owner: 'test@pbs' });
  const t = backupTransport(new BackupProtocol(session, inlineChunkChecker));
  try {
    const w = await BackupWriter.start(t, { backupType: ref.type, backupId: ref.id, backupTime: ref.time, encoder: inlineChunkEncoder(crypt ? Buffer.from(cryptKey!) : undefined), ...(crypt ? { crypt } : {}) });
    const img = await w.uploadArchive('disk.img.fidx', pieces(image, 4 * 1024 * 1024), { size: image.length });
    const dyn = await w.uploadArchive('data.pxar.didx', pieces(image, 1024 * 1024 + 17));
    await w.uploadBlob('qemu.conf.blob', Buffer.from('cores: 2\n'));
    await w.finish();
    return { img, dyn };
  } finally {
    await t.close();
  }
}

let cryptKey: Uint8Array | undefined;

async function restore(store: Datastore, ref: SnapshotRef, archive: string, crypt?: CryptConfig): Promise<Uint8Array> {
  const t = readerTransport(await ReaderProtocol.open(store, ref));
  try {
    const r = await RestoreReader.open(t, crypt);
    const parts: Uint8Array[] = [];
    for await (const p of r.stream(archive)) parts.push(p);
    return Buffer.concat(parts);
  } finally {
    await t.close();
  }
}

test('BackupWriter → BackupProtocol → RestoreReader round-trips an image and a dynamic archive, and the second backup reuses every chunk', async () => {
  const t = await tempStore('filesystem');
  try {
    const image = pseudoRandom(10 * 1024 * 1024 + 12345, 7);
    const ref1: SnapshotRef = { ns: '', type: 'vm', id: '100', time: 1_700_000_000 };
    const first = await backup(t.store, ref1, image);
    assert.equal(first.img.uploadedChunks, 3);
    assert.deepEqual(await restore(t.store, ref1, 'disk.img'), Buffer.from(image));
    assert.deepEqual(await restore(t.store, ref1, 'data.pxar'), Buffer.from(image));
    const ref2 = { ...ref1, time: ref1.time + 60 };
    const second = await backup(t.store, ref2, image);
    assert.equal(second.img.uploadedChunks, 0);
    assert.equal(second.dyn.uploadedChunks, 0);
    assert.deepEqual(await restore(t.store, ref2, 'disk.img'), Buffer.from(image));
  } finally {
    t.cleanup();
  }
});

test('an encrypted backup restores only with its key and stores no plaintext chunk', async () => {
  const t = await tempStore('none');
  try {
    cryptKey = generateKey();
    const crypt = new CryptConfig(cryptKey);
    const image = pseudoRandom(5 * 1024 * 1024, 9);
    const ref: SnapshotRef = { ns: '', type: 'vm', id: '200', time: 1_700_000_000 };
    await backup(t.store, ref, image, crypt);
    assert.deepEqual(await restore(t.store, ref, 'disk.img', crypt), Buffer.from(image));
    await assert.rejects(restore(t.store, ref, 'disk.img'), (e) => isHoldfastError(e, 'KEY_REQUIRED'));
    for await (const e of t.store.chunks.list()) {
      const raw = await t.store.chunks.read(e.key);
      assert.equal(Buffer.from(raw).includes(Buffer.from(image.subarray(0, 64))), false, 'plaintext leaked into a chunk');
    }
  } finally {
    cryptKey = undefined;
    t.cleanup();
  }
});
