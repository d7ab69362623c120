/**
 * Namespaces as a Datastore makes and deletes them, locally and with a content mirror (the S3
 * storage on MemoryS3Objects; test/integration/s3-datastore-remove-rgw.test.ts runs it on the RGW):
 * - an S3 store records each namespace as the empty object `<store>/.cnt/ns/<a>[/ns/<b>…]/.namespace`
 *   (as PBS does), so a re-attach with an empty cache lists an empty namespace too;
 * - deleting removes the namespaces below too and their records, but only when none holds a group.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CachedChunkBackend } from '../../src/chunks/cached-chunk-backend.ts';
import { S3ChunkBackend } from '../../src/chunks/s3-chunk-backend.ts';
import type { S3Objects } from '../../src/chunks/s3-client.ts';
import { S3ContentMirror } from '../../src/chunks/s3-content-mirror.ts';
import { isHoldfastError } from '../../src/core/errors.ts';
import { memoryLogger } from '../../src/core/log.ts';
import { attachDatastore } from '../../src/datastore/attach-datastore.ts';
import { createDatastoreTree } from '../../src/datastore/create-datastore.ts';
import { Datastore } from '../../src/datastore/datastore.ts';
import type { Fs } from '../../src/storage/fs-port.ts';
import { FlockLocker } from '../../src/storage/locker.ts';
import { NodeFs } from '../../src/storage/node-fs.ts';
import { backupChunks, pseudoRandom } from '../helpers/datastore-fixture.ts';
import { FaultyS3Objects, MemoryS3Objects } from '../helpers/memory-s3-objects.ts';
import { makeTempDir } from '../helpers/tmp.ts';

const STORE = 'nss';

function s3Parts(objects: S3Objects): { makeBackend: (fs: Fs, base: string) => CachedChunkBackend; mirror: S3ContentMirror } {
  return {
    makeBackend: (fs, b) => new CachedChunkBackend({ inner: new S3ChunkBackend({ objects, store: STORE, fs, markerDir: join(b, '.s3-markers') }), fs, dir: join(b, '.chunk-cache'), capacityBytes: 1 << 30 }),
    mirror: new S3ContentMirror({ objects, store: STORE }),
  };
}

async function withStore(objects: S3Objects | undefined, fn: (store: Datastore, dir: string) => Promise<void>): Promise<void> {
  const dir = makeTempDir('holdfast-ns-');
  const base = join(dir, 'store');
  const fs = new NodeFs();
  const parts = objects === undefined ? undefined : s3Parts(objects);
  await createDatastoreTree(fs, base, undefined, parts?.makeBackend(fs, base));
  const store = new Datastore({ name: STORE, base, fs, locker: new FlockLocker(), log: memoryLogger(), syncLevel: 'file', ...(parts ?? {}) });
  try {
    await fn(store, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const marker = (...path: string[]) => `${STORE}/.cnt/${path.map((c) => `ns/${c}`).join('/')}/.namespace`;

test('Datastore.createNamespace on an S3 store records the namespace as an empty <store>/.cnt/ns/…/.namespace object', async () => {
  const objects = new MemoryS3Objects();
  await withStore(objects, async (store) => {
    await store.createNamespace('team');
    await store.createNamespace('team/web');
    assert.equal(objects.objects.get(marker('team'))?.bytes.length, 0);
    assert.ok(objects.objects.has(marker('team', 'web')), [...objects.objects.keys()].join('\n'));
    assert.ok(!existsSync(join(store.base, 'ns', 'team', '.namespace')), 'locally the directory is the record');
  });
});

test('Datastore.createNamespace fails when its record cannot be stored, and leaves no namespace', async () => {
  const memory = new MemoryS3Objects();
  const objects = new FaultyS3Objects(memory);
  await withStore(objects, async (store) => {
    objects.failWhen = (op, key) => op === 'put' && key.endsWith('/.namespace');
    await assert.rejects(store.createNamespace('team'), (e) => isHoldfastError(e, 'OBJECT_STORE_ERROR'));
    assert.deepEqual(await store.listNamespaces(), ['']);
    objects.failWhen = undefined;
    await store.createNamespace('team');
    assert.deepEqual(await store.listNamespaces(), ['', 'team']);
  });
});

test('Datastore.deleteNamespace removes the namespace, those below it and their S3 records', async () => {
  const objects = new MemoryS3Objects();
  await withStore(objects, async (store) => {
    for (const ns of ['a', 'a/b', 'a/b/c', 'keep']) await store.createNamespace(ns);
    assert.deepEqual(await store.deleteNamespace('a'), ['a', 'a/b', 'a/b/c']);
    assert.deepEqual(await store.listNamespaces(), ['', 'keep']);
    assert.deepEqual([...objects.objects.keys()].filter((k) => k.endsWith('/.namespace')), [marker('keep')]);
    assert.deepEqual(readdirSync(join(store.base, 'ns')), ['keep']);
  });
});

test('Datastore.deleteNamespace refuses a namespace with a group in it or below it (NAMESPACE_NOT_EMPTY) and removes nothing', async () => {
  const objects = new MemoryS3Objects();
  await withStore(objects, async (store) => {
    for (const ns of ['a', 'a/b']) await store.createNamespace(ns);
    await backupChunks(store, { ns: 'a/b', type: 'host', id: 'h', time: 1_700_000_000 }, [pseudoRandom(1000, 1)]);
    await assert.rejects(store.deleteNamespace('a'), (e) => isHoldfastError(e, 'NAMESPACE_NOT_EMPTY') && e.details['group'] === 'ns/a/b/host/h');
    assert.deepEqual(await store.listNamespaces(), ['', 'a', 'a/b']);
    assert.ok(objects.objects.has(marker('a')) && objects.objects.has(marker('a', 'b')));
    await assert.rejects(store.deleteNamespace(''), (e) => isHoldfastError(e, 'INVALID_ARGUMENT'));
    await assert.rejects(store.deleteNamespace('nope'), (e) => isHoldfastError(e, 'NOT_FOUND'));
  });
});

test('Datastore.deleteNamespace on a local store removes empty backup-type directories with it', async () => {
  await withStore(undefined, async (store) => {
    await store.createNamespace('x');
    mkdirSync(join(store.base, 'ns', 'x', 'vm')); // left behind by a forgotten group
    await store.deleteNamespace('x');
    assert.deepEqual(await store.listNamespaces(), ['']);
  });
});

test('attachDatastore with an empty cache makes the directory of an empty namespace the bucket records', async () => {
  const objects = new MemoryS3Objects();
  await withStore(objects, async (store, dir) => {
    await store.createNamespace('empty');
    await store.createNamespace('empty/deeper');
    const fs = new NodeFs();
    const base = join(dir, 'fresh');
    const parts = s3Parts(objects);
    await attachDatastore(fs, base, parts.makeBackend(fs, base), parts.mirror);
    const fresh = new Datastore({ name: STORE, base, fs, locker: new FlockLocker(), log: memoryLogger(), syncLevel: 'file', ...parts });
    assert.deepEqual(await fresh.listNamespaces(), ['', 'empty', 'empty/deeper']);
    assert.ok(!existsSync(join(base, 'ns', 'empty', '.namespace')));
  });
});
