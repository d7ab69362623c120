/**
 * `datastore create --reuse-datastore` on local datastores (DatastoreAdmin): a directory that holds
 * a datastore is refused without the option (ALREADY_EXISTS, naming it) and left untouched; with
 * it the store is attached again and its snapshots listed. S3: test/datastore/s3-datastore.test.ts
 * and the RGW integration test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { silentLogger } from '../../src/core/log.ts';
import { DatastoreAdmin, openConfigured } from '../../src/datastore/datastore-admin.ts';
import { FlockLocker } from '../../src/storage/locker.ts';
import { NodeFs } from '../../src/storage/node-fs.ts';
import { backupChunks, pseudoRandom } from '../helpers/datastore-fixture.ts';
import { makeTempDir } from '../helpers/tmp.ts';

test('DatastoreAdmin.create refuses a directory holding a datastore unless reuse is set, which re-adds it with its snapshots', async () => {
  const dir = makeTempDir('holdfast-reuse-');
  const fs = new NodeFs();
  const configDir = join(dir, 'config');
  const path = join(dir, 'store');
  const deps = { fs, locker: new FlockLocker(), log: silentLogger, configDir };
  try {
    const admin = new DatastoreAdmin(fs, configDir);
    const cfg = await admin.create({ name: 'one', path, tuning: 'gc-atime-safety-check=false' });
    const store = await openConfigured(cfg, deps);
    await backupChunks(store, { ns: '', type: 'host', id: 'h', time: 1_700_000_000 }, [pseudoRandom(10_000, 1)]);
    await store.markClosed();
    await admin.remove('one');

    await assert.rejects(admin.create({ name: 'two', path }), (e: Error & { code?: string }) => e.code === 'ALREADY_EXISTS' && /--reuse-datastore/.test(e.message));
    assert.ok(existsSync(join(path, 'host', 'h')), 'the refused create removed nothing');
    await assert.rejects(admin.create({ name: 'three', path: join(dir, 'nothing-here'), reuse: true }), { code: 'NOT_FOUND' });

    const again = await admin.create({ name: 'two', path, reuse: true });
    const reopened = await openConfigured(again, deps);
    const snaps = await reopened.listSnapshots({ ns: '', type: 'host', id: 'h' });
    assert.deepEqual(snaps.map((s) => [s.ref.time, s.finished]), [[1_700_000_000, true]]);
    await reopened.markClosed();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
