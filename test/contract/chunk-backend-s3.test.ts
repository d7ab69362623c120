/**
 * Runs the ChunkBackend contract against S3ChunkBackend twice: over MemoryS3Objects (always), and
 * over the real S3 server of scripts/ceph-rgw-up.sh (skipped, with the reason, when S3_ENDPOINT is
 * unset). Also on the real server: PUT errors injected by a fault wrapper reject the put, and
 * nothing is acknowledged or left behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { S3ObjectClient, type S3Objects } from '../../src/chunks/s3-client.ts';
import { S3ChunkBackend } from '../../src/chunks/s3-chunk-backend.ts';
import { CachedChunkBackend } from '../../src/chunks/cached-chunk-backend.ts';
import type { ChunkBackend } from '../../src/chunks/chunk-backend.ts';
import { NodeFs } from '../../src/storage/node-fs.ts';
import { FaultyS3Objects, MemoryS3Objects } from '../helpers/memory-s3-objects.ts';
import { s3SkipReason, s3TestConfig } from '../helpers/s3-env.ts';
import { makeTempDir } from '../helpers/tmp.ts';
import { chunkBackendContract, sample, type ChunkBackendUnderTest } from './chunk-backend.contract.ts';

/**
 * A backend under a fresh store prefix; a "power loss" is a new backend over the same objects and
 * cache. `cached`: behind a CachedChunkBackend, as an S3 datastore runs it (small, so it evicts).
 */
function underTest(objects: S3Objects, cleanupObjects: (store: string) => Promise<void>, cached = false): ChunkBackendUnderTest {
  const dir = makeTempDir('holdfast-s3contract-');
  const store = `st-${randomBytes(4).toString('hex')}`;
  const make = (): ChunkBackend => {
    const inner = new S3ChunkBackend({ objects, store, fs: new NodeFs(), markerDir: join(dir, 'marks') });
    return cached ? new CachedChunkBackend({ inner, fs: new NodeFs(), dir: join(dir, 'cache'), capacityBytes: 64 * 1024 }) : inner;
  };
  return {
    backend: make(),
    // an acknowledged PUT is as durable as the object store; the object store itself does not crash here
    crash: async () => make(),
    cleanup: async () => {
      rmSync(dir, { recursive: true, force: true });
      await cleanupObjects(store);
    },
  };
}

chunkBackendContract('S3ChunkBackend over MemoryS3Objects', async () => underTest(new MemoryS3Objects(), async () => undefined));
chunkBackendContract('CachedChunkBackend over S3ChunkBackend over MemoryS3Objects', async () => underTest(new MemoryS3Objects(), async () => undefined, true));

if (s3SkipReason !== false) {
  test('ChunkBackend contract: S3ChunkBackend on a real S3 server', { skip: s3SkipReason }, () => undefined);
} else {
  const bucket = `holdfast-contract-${randomBytes(4).toString('hex')}`;
  const client = new S3ObjectClient(s3TestConfig(bucket));
  let made: Promise<boolean> | undefined;
  const emptied = async (store: string): Promise<void> => {
    const keys: string[] = [];
    for await (const o of client.list(`${store}/`)) keys.push(o.key);
    await client.deleteMany(keys);
  };
  chunkBackendContract('S3ChunkBackend on a real S3 server', async () => {
    await (made ??= client.createBucket());
    return underTest(client, emptied);
  });

  test('S3ChunkBackend on a real S3 server: injected PUT errors reject the put and nothing is acknowledged', async () => {
    await (made ??= client.createBucket());
    const faulty = new FaultyS3Objects(client);
    const t = underTest(faulty, emptied);
    try {
      await t.backend.init();
      const c = sample(99, 4096);
      faulty.failing.add('putIfAbsent');
      await assert.rejects(t.backend.put(c.digest, c.bytes, { durable: true }), { code: 'OBJECT_STORE_ERROR' });
      faulty.failing.clear();
      assert.equal(await t.backend.stat(c.digest), undefined);
      for await (const e of t.backend.list()) assert.fail(`nothing may be stored, found ${e.key}`);
    } finally {
      await t.cleanup();
    }
  });
}
