/**
 * BackupSession against a hostile client: the manifest check at `finish` (issue #11 item 5) and
 * no squatting on groups (item 7). Each refused finish must leave no snapshot behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { SnapshotRef } from '../../src/core/backup-ref.ts';
import { isHoldfastError } from '../../src/core/errors.ts';
import { encodeBlob } from '../../src/format/blob.ts';
import { dynamicIndexCsum } from '../../src/format/dynamic-index.ts';
import { encodeManifestBlob, type Manifest } from '../../src/format/manifest.ts';
import { BackupSession } from '../../src/datastore/backup-session.ts';
import { groupDir } from '../../src/datastore/layout.ts';
import { backupChunks, pseudoRandom, sha256, tempStore, type TempStore } from '../helpers/datastore-fixture.ts';

const ref = (time: number, id = 'a'): SnapshotRef => ({ ns: '', type: 'host', id, time });
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const chunk = pseudoRandom(50_000, 7);
const confBlob = encodeBlob(Buffer.from('hostname: a\n'), { compress: false });

/** A session with `data.didx` closed and `app.conf.blob` written; the manifest lists both correctly. */
async function prepared(t: TempStore, r: SnapshotRef): Promise<{ session: BackupSession; manifest: Manifest }> {
  const session = await BackupSession.begin(t.store, r, { owner: 'test@pbs' });
  const digest = hex(sha256(chunk));
  await session.insertChunk(digest, encodeBlob(chunk, { compress: true }), chunk.length);
  const wid = session.createDynamicIndex('data.didx');
  session.appendToIndex(wid, [digest], [0]);
  const csum = hex(dynamicIndexCsum([{ end: chunk.length, digest: sha256(chunk) }]).csum);
  await session.closeIndex(wid, { chunkCount: 1, size: chunk.length, csumHex: csum });
  await session.writeBlob('app.conf.blob', confBlob);
  const manifest: Manifest = {
    backupType: r.type,
    backupId: r.id,
    backupTime: r.time,
    files: [
      { filename: 'data.didx', cryptMode: 'none', size: chunk.length, csum },
      { filename: 'app.conf.blob', cryptMode: 'none', size: confBlob.length, csum: hex(sha256(confBlob)) },
    ],
    unprotected: {},
    signature: null,
  };
  return { session, manifest };
}

test('BackupSession.finish accepts a manifest that lists exactly what the session wrote', async () => {
  const t = await tempStore('none');
  try {
    const { session, manifest } = await prepared(t, ref(1000));
    await session.writeBlob('index.json.blob', encodeManifestBlob(manifest));
    await session.finish();
    assert.deepEqual((await t.store.listSnapshots(ref(0))).map((s) => s.finished), [true]);
  } finally {
    t.cleanup();
  }
});

test('BackupSession.finish accepts a manifest that leaves a written file unlisted, as PBS does', async () => {
  const t = await tempStore('none');
  try {
    const { session, manifest } = await prepared(t, ref(1000));
    await session.writeBlob('index.json.blob', encodeManifestBlob({ ...manifest, files: manifest.files.slice(0, 1) }));
    await session.finish();
    assert.equal((await t.store.listSnapshots(ref(0))).length, 1);
  } finally {
    t.cleanup();
  }
});

const BAD_MANIFESTS: readonly [string, (m: Manifest) => Manifest][] = [
  ['another backup-type', (m) => ({ ...m, backupType: 'vm' })],
  ['another backup-id', (m) => ({ ...m, backupId: 'b' })],
  ['another backup-time', (m) => ({ ...m, backupTime: m.backupTime + 1 })],
  ['a file the session did not write', (m) => ({ ...m, files: [...m.files, { filename: 'other.didx', cryptMode: 'none', size: 1, csum: '0'.repeat(64) }] })],
  ['a wrong size', (m) => ({ ...m, files: m.files.map((f, i) => (i === 0 ? { ...f, size: f.size + 1 } : f)) })],
  ['a wrong checksum', (m) => ({ ...m, files: m.files.map((f, i) => (i === 1 ? { ...f, csum: 'f'.repeat(64) } : f)) })],
  ['a file listed twice', (m) => ({ ...m, files: [...m.files, m.files[0]!] })],
  ['an unsafe file name', (m) => ({ ...m, files: [{ ...m.files[0]!, filename: '../a/data.didx' }] })],
  ['an unknown file type', (m) => ({ ...m, files: [{ ...m.files[0]!, filename: 'data.txt' }] })],
  ['the manifest itself', (m) => ({ ...m, files: [{ ...m.files[0]!, filename: 'index.json.blob' }] })],
  ['a NUL in a name', (m) => ({ ...m, files: [{ ...m.files[0]!, filename: 'da\0ta.didx' }] })],
];

for (const [what, mutate] of BAD_MANIFESTS) {
  test(`BackupSession.finish refuses a manifest with ${what} (MANIFEST_MISMATCH) and leaves no snapshot`, async () => {
    const t = await tempStore('none');
    try {
      await backupChunks(t.store, ref(500), [chunk]); // an earlier snapshot, so the group stays
      const { session, manifest } = await prepared(t, ref(1000));
      await session.writeBlob('index.json.blob', encodeManifestBlob(mutate(manifest)));
      await assert.rejects(session.finish(), (e) => isHoldfastError(e, 'MANIFEST_MISMATCH') && e.httpStatus === 400);
      assert.equal(existsSync(session.dir), false);
      assert.deepEqual((await t.store.listSnapshots(ref(0))).map((s) => s.ref.time), [500]);
    } finally {
      t.cleanup();
    }
  });
}

test('BackupSession.abort of the first backup of a new group removes the group', async () => {
  const t = await tempStore('filesystem');
  try {
    const { session } = await prepared(t, ref(1000, 'new'));
    assert.equal(existsSync(groupDir(t.store.base, ref(0, 'new'))), true);
    await session.abort();
    assert.equal(existsSync(groupDir(t.store.base, ref(0, 'new'))), false, 'the empty group stayed');
    assert.deepEqual(await t.store.listGroups(''), []);
    // and another user may now back up under that name
    const other = await BackupSession.begin(t.store, ref(2000, 'new'), { owner: 'other@pbs' });
    await other.abort();
  } finally {
    t.cleanup();
  }
});

test('BackupSession.finish that fails on a new group removes the group', async () => {
  const t = await tempStore('none');
  try {
    const { session, manifest } = await prepared(t, ref(1000, 'new'));
    await session.writeBlob('index.json.blob', encodeManifestBlob({ ...manifest, backupId: 'x' }));
    await assert.rejects(session.finish(), (e) => isHoldfastError(e, 'MANIFEST_MISMATCH'));
    assert.equal(existsSync(groupDir(t.store.base, ref(0, 'new'))), false);
  } finally {
    t.cleanup();
  }
});

test('BackupSession.abort keeps a group that existed before the session', async () => {
  const t = await tempStore('none');
  try {
    await backupChunks(t.store, ref(500), [chunk]);
    const { session } = await prepared(t, ref(1000));
    await session.abort();
    assert.equal(existsSync(groupDir(t.store.base, ref(0))), true);
    assert.deepEqual((await t.store.listSnapshots(ref(0))).map((s) => s.ref.time), [500]);
    assert.equal(await t.store.getOwner(ref(0)), 'test@pbs');
  } finally {
    t.cleanup();
  }
});
