/**
 * A Datastore over the S3 storage (CachedChunkBackend over S3ChunkBackend, S3ContentMirror) on
 * MemoryS3Objects, so the write order and the failure rules are checked without an S3 server
 * (test/integration/s3-datastore-rgw.test.ts runs the same on the real RGW):
 * - every chunk PUT, then every index/blob PUT, then the manifest PUT, last;
 * - a failed PUT (chunk, index or manifest) fails the backup and leaves no manifest anywhere;
 * - a chunk PUT answered after its upload (deferred) that fails fails every backup that wrote or
 *   reused the chunk, and only those;
 * - metadata removals reach the bucket; reads are served from the cache, which stays in its capacity.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { CachedChunkBackend } from '../../src/chunks/cached-chunk-backend.ts';
import { S3ChunkBackend } from '../../src/chunks/s3-chunk-backend.ts';
import type { S3Objects } from '../../src/chunks/s3-client.ts';
import { S3ContentMirror } from '../../src/chunks/s3-content-mirror.ts';
import { memoryLogger } from '../../src/core/log.ts';
import { verifySnapshot } from '../../src/jobs/verify.ts';
import { createDatastoreTree } from '../../src/datastore/create-datastore.ts';
import { Datastore } from '../../src/datastore/datastore.ts';
import { FlockLocker } from '../../src/storage/locker.ts';
import { NodeFs } from '../../src/storage/node-fs.ts';
import { backupChunks, pseudoRandom } from '../helpers/datastore-fixture.ts';
import { FaultyS3Objects, GatedS3Objects, MemoryS3Objects } from '../helpers/memory-s3-objects.ts';
import { sha256, toHex } from '../../src/core/digest.ts';
import { makeTempDir } from '../helpers/tmp.ts';
import { backupData, restoreData } from '../jobs/job-fixture.ts';
import { s3SkipReason, withTestBucket } from '../helpers/s3-env.ts';

const STORE = 'sto';
const MANIFEST_KEY = /^sto\/\.cnt\/host\/a\/[^/]+\/index\.json\.blob$/;

async function s3Store(objects: S3Objects, capacityBytes = 1 << 30): Promise<{ store: Datastore; cache: () => CachedChunkBackend; cleanup: () => void }> {
  const dir = makeTempDir('holdfast-s3ds-');
  const base = join(dir, 'cache');
  let cache: CachedChunkBackend | undefined;
  const makeBackend = (fs: NodeFs | import('../../src/storage/fs-port.ts').Fs, b: string): CachedChunkBackend =>
    (cache = new CachedChunkBackend({ inner: new S3ChunkBackend({ objects, store: STORE, fs, markerDir: join(b, '.s3-markers') }), fs, dir: join(b, '.chunk-cache'), capacityBytes }));
  const fs = new NodeFs();
  await createDatastoreTree(fs, base, undefined, makeBackend(fs, base));
  const store = new Datastore({ name: STORE, base, fs, locker: new FlockLocker(), log: memoryLogger(), syncLevel: 'filesystem', makeBackend, mirror: new S3ContentMirror({ objects, store: STORE }) });
  return { store, cache: () => cache!, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const ref = (time: number) => ({ ns: '', type: 'host' as const, id: 'a', time });
const chunks = (seed: number) => [pseudoRandom(40_000, seed), pseudoRandom(50_000, seed + 1), pseudoRandom(30_000, seed + 2)];

test('Datastore on S3: a backup PUTs every chunk, then its index and blobs, then the manifest last', async () => {
  const objects = new MemoryS3Objects();
  const t = await s3Store(objects);
  try {
    objects.requests.length = 0;
    await backupChunks(t.store, ref(1_700_000_000), chunks(1));
    const puts = objects.requests.filter((r) => r.startsWith('PUT'));
    // the group's owner file is written when the backup starts; the snapshot's files follow its chunks
    const kinds = puts.map((r) => (r.includes('/.chunks/') ? 'chunk' : MANIFEST_KEY.test(r.split(' ')[1]!) ? 'manifest' : r.includes('/20') ? 'meta' : 'group'));
    assert.equal(kinds.filter((k) => k === 'chunk').length, 3, puts.join('\n'));
    assert.equal(kinds.at(-1), 'manifest', puts.join('\n'));
    assert.ok(kinds.lastIndexOf('chunk') < kinds.indexOf('meta'), `chunks before metadata:\n${puts.join('\n')}`);
    assert.ok(objects.objects.has(`${STORE}/.cnt/host/a/owner`));
    assert.ok([...objects.objects.keys()].some((k) => k.endsWith('/data.didx')));
  } finally {
    t.cleanup();
  }
});

test('Datastore on S3: chunks uploaded through the backup protocol carry the SHA-256 the chunk check computed into their PUTs', async () => {
  const objects = new MemoryS3Objects();
  const t = await s3Store(objects);
  try {
    // incompressible pieces (plain blobs, the fused check) and a compressible one
    const data = Buffer.concat([pseudoRandom(200_000, 11), Buffer.alloc(100_000, 'holdfast '), pseudoRandom(100_000, 12)]);
    await backupData(t.store, ref(1_700_000_000), data, 100_000);
    const chunkPuts = objects.requests.filter((r) => r.startsWith('PUT-IF-ABSENT') && r.includes('/.chunks/')).length;
    assert.equal(chunkPuts, 4);
    assert.equal(objects.givenSha256, chunkPuts, 'every chunk PUT signed the check\'s hash (MemoryS3Objects checks it against the body)');
    assert.deepEqual(Buffer.from(await restoreData(t.store, ref(1_700_000_000))), data);
  } finally {
    t.cleanup();
  }
});

for (const [what, fails] of [
  ['chunk PUT', (op: string, key: string) => op === 'putIfAbsent' && key.includes('/.chunks/')],
  ['index PUT', (op: string, key: string) => op === 'put' && key.endsWith('.didx')],
  ['manifest PUT', (op: string, key: string) => op === 'put' && key.endsWith('index.json.blob')],
] as const) {
  test(`Datastore on S3: a failed ${what} fails the backup; no manifest in the bucket or the cache`, async () => {
    const memory = new MemoryS3Objects();
    const objects = new FaultyS3Objects(memory);
    const t = await s3Store(objects);
    try {
      objects.failWhen = fails;
      await assert.rejects(backupChunks(t.store, ref(1_700_000_000), chunks(2)), { code: 'OBJECT_STORE_ERROR' });
      assert.ok(![...memory.objects.keys()].some((k) => MANIFEST_KEY.test(k)), [...memory.objects.keys()].join('\n'));
      assert.deepEqual(await t.store.listSnapshots({ ns: '', type: 'host', id: 'a' }), []);
      // nothing of the failed snapshot stays in the bucket either (best effort, here it works)
      assert.ok(![...memory.objects.keys()].some((k) => k.includes('/.cnt/host/a/20')), [...memory.objects.keys()].join('\n'));
    } finally {
      t.cleanup();
    }
  });
}

// the same faults injected over the real RGW (a FaultyS3Objects around the real client)
for (const [what, fails] of [
  ['chunk PUT', (op: string, key: string) => op === 'putIfAbsent' && key.includes('/.chunks/')],
  ['manifest PUT', (op: string, key: string) => op === 'put' && key.endsWith('index.json.blob')],
] as const) {
  test(`Datastore on the real RGW: an injected ${what} error fails the backup; no manifest in the bucket`, { skip: s3SkipReason }, async () => {
    await withTestBucket(async (client) => {
      const objects = new FaultyS3Objects(client);
      const t = await s3Store(objects);
      try {
        objects.failWhen = fails;
        await assert.rejects(backupChunks(t.store, ref(1_700_000_000), chunks(5)), { code: 'OBJECT_STORE_ERROR' });
        const keys: string[] = [];
        for await (const o of client.list(`${STORE}/`)) keys.push(o.key);
        assert.ok(!keys.some((k) => MANIFEST_KEY.test(k)), keys.join('\n'));
        assert.deepEqual(await t.store.listSnapshots({ ns: '', type: 'host', id: 'a' }), []);
        objects.failWhen = undefined;
        await backupChunks(t.store, ref(1_700_000_100), chunks(5)); // and the next backup works
        assert.equal((await t.store.listSnapshots({ ns: '', type: 'host', id: 'a' })).length, 1);
      } finally {
        t.cleanup();
      }
    });
  });
}

test('BackupSession.finish on S3: a chunk PUT failing after its upload was answered fails the backup and a concurrent one that reused the chunk; no manifest', async () => {
  const memory = new MemoryS3Objects();
  const gate = new GatedS3Objects(memory);
  const t = await s3Store(gate);
  try {
    const [shared, a, b] = chunks(20);
    const sharedKey = toHex(sha256(shared!));
    gate.holds = (key) => key.endsWith(sharedKey);
    const refA = ref(1_700_000_000);
    const refB = { ...ref(1_700_000_000), id: 'b' };
    const sessionA = await backupChunks(t.store, refA, [shared!, a!], { finish: false });
    assert.deepEqual(gate.held.length, 1, 'the upload was answered while its PUT is still held');
    const sessionB = await backupChunks(t.store, refB, [shared!, b!], { finish: false });
    assert.equal(sessionB.stats.duplicates, 1, 'B reused the chunk whose PUT is pending');
    const finishing = [sessionA.finish(), sessionB.finish()];
    gate.release(false);
    // both awaited at once: awaiting one while the other rejects would leave that one unhandled
    await Promise.all(finishing.map((f) => assert.rejects(f, { code: 'OBJECT_STORE_ERROR' })));
    assert.ok(![...memory.objects.keys()].some((k) => k.endsWith('index.json.blob')), [...memory.objects.keys()].join('\n'));
    assert.deepEqual(await t.store.listSnapshots({ ns: '', type: 'host', id: 'a' }), []);
    assert.deepEqual(await t.store.listSnapshots({ ns: '', type: 'host', id: 'b' }), []);
    // a backup that starts after the failure stores the chunk anew and is acknowledged
    gate.holds = () => false;
    await backupChunks(t.store, ref(1_700_000_100), [shared!, a!]);
    assert.ok(memory.objects.has(`${STORE}/.chunks/${sharedKey.slice(0, 4)}/${sharedKey}`));
    assert.equal((await t.store.listSnapshots({ ns: '', type: 'host', id: 'a' })).length, 1);
  } finally {
    t.cleanup();
  }
});

test('BackupSession.finish on S3 at sync-level none still waits for the pending chunk PUTs before the manifest', async () => {
  const memory = new MemoryS3Objects();
  const gate = new GatedS3Objects(memory);
  const t = await s3Store(gate);
  try {
    await t.store.setSyncLevel('none');
    gate.holds = (key) => key.includes('/.chunks/');
    const session = await backupChunks(t.store, ref(1_700_000_000), chunks(30), { finish: false });
    const finishing = session.finish();
    await gate.whenHeld(3);
    assert.ok(![...memory.objects.keys()].some((k) => k.endsWith('index.json.blob')), 'no manifest while chunk PUTs are pending');
    gate.release(true);
    await finishing;
    assert.ok([...memory.objects.keys()].some((k) => MANIFEST_KEY.test(k)));
  } finally {
    t.cleanup();
  }
});

test('Datastore on S3: deleting a snapshot removes its copies under .cnt/; notes reach the bucket', async () => {
  const objects = new MemoryS3Objects();
  const t = await s3Store(objects);
  try {
    await backupChunks(t.store, ref(1_700_000_000), chunks(3));
    await t.store.setGroupNotes({ ns: '', type: 'host', id: 'a' }, 'hello');
    assert.equal(Buffer.from(memory(objects, `${STORE}/.cnt/host/a/notes`)).toString(), 'hello');
    await t.store.deleteSnapshot(ref(1_700_000_000));
    assert.deepEqual([...objects.objects.keys()].filter((k) => k.includes('/.cnt/host/a/20')), []);
  } finally {
    t.cleanup();
  }
});

test('CachedChunkBackend: reads come from the cache; it stays within its capacity, evicting the least recently used', async () => {
  const objects = new MemoryS3Objects();
  const t = await s3Store(objects, 100_000);
  try {
    await backupChunks(t.store, ref(1_700_000_000), chunks(4));
    const c = t.cache();
    assert.ok(c.cachedBytes <= 100_000, `${c.cachedBytes} bytes cached`);
    // in upload order; read newest first (a sequential scan of more than fits would only thrash)
    const stored = objects.requests.filter((r) => r.startsWith('PUT-IF-ABSENT') && r.includes('/.chunks/')).map((r) => r.slice(r.lastIndexOf('/') + 1));
    assert.equal(stored.length, 3);
    const before = c.counters();
    for (const d of stored.reverse()) await t.store.chunks.read(d);
    const after = c.counters();
    assert.ok((after['cacheHits'] ?? 0) > (before['cacheHits'] ?? 0), JSON.stringify(after));
    assert.ok((after['cacheMisses'] ?? 0) > (before['cacheMisses'] ?? 0), 'the evicted chunk is fetched again');
    assert.ok(c.cachedBytes <= 100_000);
  } finally {
    t.cleanup();
  }
});

test('verify on S3 judges the stored chunk, not its cached copy: a damaged object is found and quarantined', async () => {
  const objects = new MemoryS3Objects();
  const t = await s3Store(objects);
  try {
    await backupChunks(t.store, ref(1_700_000_000), chunks(6));
    const key = [...objects.objects.keys()].find((k) => k.includes('/.chunks/'))!;
    const stored = objects.objects.get(key)!;
    stored.bytes[stored.bytes.length - 3]! ^= 0x40; // bit rot in the bucket; the cache still holds a good copy
    const r = await verifySnapshot(t.store, ref(1_700_000_000), { upid: 'UPID:s3', log: memoryLogger() });
    assert.equal(r.state, 'failed', r.errors.join('\n'));
    assert.equal(r.quarantined.length, 1);
    assert.ok(objects.objects.has(`${key}.0.bad`), [...objects.objects.keys()].join('\n'));
  } finally {
    t.cleanup();
  }
});

function memory(objects: MemoryS3Objects, key: string): Uint8Array {
  const o = objects.objects.get(key);
  assert.ok(o, `no object ${key}`);
  return o.bytes;
}
