/**
 * DatastoreAdmin.remove with and without destroyData, over a registered backend type whose storage
 * keeps objects outside the directory (a stand-in for S3, whose real removal
 * test/integration/s3-datastore-remove-rgw.test.ts runs on the RGW): the outside objects go first,
 * then the directory, then the config entry, so a failed removal leaves the datastore configured.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { registerChunkBackendType, type ChunkBackendType } from '../../src/chunks/chunk-backend-types.ts';
import { LocalChunkBackend } from '../../src/chunks/local-chunk-backend.ts';
import { NO_MIRROR } from '../../src/chunks/content-mirror.ts';
import { fail, isHoldfastError } from '../../src/core/errors.ts';
import { DatastoreAdmin } from '../../src/datastore/datastore-admin.ts';
import { NodeFs } from '../../src/storage/node-fs.ts';
import { makeTempDir } from '../helpers/tmp.ts';

/** What the outside storage holds per store, and whether removing it fails now. */
const outside = new Map<string, number>();
let unreachable = false;

const remoteTestType: ChunkBackendType = {
  type: 'remote-test',
  checkOptions: () => undefined,
  prepare: async (ctx) => ({
    makeBackend: (fs, base) => new LocalChunkBackend({ fs, base }),
    mirror: NO_MIRROR,
    close: () => undefined,
    destroy: async (onProgress) => {
      if (unreachable) throw fail('OBJECT_STORE_ERROR', `removing datastore '${ctx.store}' failed after 0 object(s): unreachable`, { store: ctx.store, removed: 0 });
      const n = outside.get(ctx.store) ?? 0;
      outside.delete(ctx.store);
      onProgress?.(n);
      return n;
    },
  }),
};
registerChunkBackendType(remoteTestType.type, async () => remoteTestType);

async function withAdmin(fn: (admin: DatastoreAdmin, dir: string) => Promise<void>): Promise<void> {
  const dir = makeTempDir('holdfast-dsrm-');
  try {
    await fn(new DatastoreAdmin(new NodeFs(), join(dir, 'config')), dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const create = (admin: DatastoreAdmin, dir: string, name: string) => admin.create({ name, path: join(dir, name), backend: 'type=remote-test', tuning: 'gc-atime-safety-check=false' });

test('DatastoreAdmin.remove with destroyData removes the storage outside the directory, the directory and the entry, reporting the count', async () => {
  await withAdmin(async (admin, dir) => {
    await create(admin, dir, 'one');
    await create(admin, dir, 'two');
    outside.set('one', 42).set('two', 7);
    const seen: number[] = [];
    assert.deepEqual(await admin.remove('one', { destroyData: true, onProgress: (n) => seen.push(n) }), { objectsRemoved: 42 });
    assert.deepEqual(seen, [42]);
    assert.ok(!existsSync(join(dir, 'one')));
    assert.deepEqual((await admin.config.list()).map((c) => c.name), ['two']);
    assert.equal(outside.get('two'), 7, "another store's objects stay");
  });
});

test('DatastoreAdmin.remove with destroyData keeps the datastore configured, with its directory and objects, when the outside storage cannot be removed', async () => {
  await withAdmin(async (admin, dir) => {
    await create(admin, dir, 'one');
    outside.set('one', 5);
    unreachable = true;
    try {
      await assert.rejects(admin.remove('one', { destroyData: true }), (e) => isHoldfastError(e, 'OBJECT_STORE_ERROR'));
    } finally {
      unreachable = false;
    }
    assert.deepEqual((await admin.config.list()).map((c) => c.name), ['one']);
    assert.ok(existsSync(join(dir, 'one', '.chunks')));
    assert.equal(outside.get('one'), 5);
    assert.deepEqual(await admin.remove('one', { destroyData: true }), { objectsRemoved: 5 }, 'running it again finishes the job');
  });
});

test('DatastoreAdmin.remove without destroyData drops only the entry: directory and outside objects stay, and reuse attaches it again', async () => {
  await withAdmin(async (admin, dir) => {
    await create(admin, dir, 'one');
    outside.set('one', 3);
    assert.deepEqual(await admin.remove('one'), { objectsRemoved: 0 });
    assert.equal(outside.get('one'), 3);
    assert.ok(existsSync(join(dir, 'one', '.chunks')));
    await admin.create({ name: 'one', path: join(dir, 'one'), backend: 'type=remote-test', reuse: true });
    assert.deepEqual((await admin.config.list()).map((c) => c.name), ['one']);
  });
});
