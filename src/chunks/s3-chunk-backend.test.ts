import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fail, isHoldfastError } from '../core/errors.ts';
import { encodeBlob } from '../format/blob.ts';
import { CryptConfig } from '../format/crypt-config.ts';
import { generateKey } from '../format/key-file.ts';
import { FsWrapper } from '../storage/fs-wrapper.ts';
import { NodeFs } from '../storage/node-fs.ts';
import { makeTempDir } from '../../test/helpers/tmp.ts';
import { FaultyS3Objects, GatedS3Objects, MemoryS3Objects } from '../../test/helpers/memory-s3-objects.ts';
import type { S3Objects } from './s3-client.ts';
import { S3ChunkBackend } from './s3-chunk-backend.ts';
import { ChunkStore } from './chunk-store.ts';
import { CachedChunkBackend } from './cached-chunk-backend.ts';
import { MemoryChunkBackend } from './memory-chunk-backend.ts';
import type { ChunkBackend } from './chunk-backend.ts';
import { memoryLogger } from '../core/log.ts';

const OLD_MS = 1_000_000_000_000;

function chunk(salt: number, length = 100): { digest: string; bytes: Uint8Array } {
  const bytes = new Uint8Array(length).map((_, i) => (i * 13 + salt) & 0xff);
  return { digest: createHash('sha256').update(bytes).digest('hex'), bytes };
}

async function withBackend(fn: (b: S3ChunkBackend, s3: MemoryS3Objects, make: (store: string, objects?: S3Objects) => S3ChunkBackend) => Promise<void>): Promise<void> {
  const dir = makeTempDir('holdfast-s3backend-');
  const s3 = new MemoryS3Objects();
  const make = (store: string, objects: S3Objects = s3) => new S3ChunkBackend({ objects, store, fs: new NodeFs(), markerDir: join(dir, store, 'marks') });
  try {
    const b = make('store1');
    await b.init();
    await fn(b, s3, make);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('S3ChunkBackend keys objects as PBS does, <store>/.chunks/<4 hex>/<digest>, with a conditional PUT', () =>
  withBackend(async (b, s3) => {
    const c = chunk(1);
    s3.requests.length = 0;
    await b.put(c.digest, c.bytes, { durable: true });
    assert.deepEqual(s3.requests, [`PUT-IF-ABSENT store1/.chunks/${c.digest.slice(0, 4)}/${c.digest}`]);
    assert.ok(s3.objects.has('store1/.holdfast-chunk-store'));
    assert.equal(b.location, 'memory://bucket/store1');
  }));

test('S3ChunkBackend.open is NOT_FOUND where no store was made, and init refuses to make one twice', () =>
  withBackend(async (b, _s3, make) => {
    await assert.rejects(make('other').open(), { code: 'NOT_FOUND' });
    await assert.rejects(b.init(), { code: 'ALREADY_EXISTS' });
    await b.open();
  }));

test('S3ChunkBackend.put of bytes already stored answers from the 412 and its ETag without a second upload', () =>
  withBackend(async (b, s3) => {
    const c = chunk(2);
    await b.put(c.digest, c.bytes, { durable: false });
    // while its PUT is pending, the same bytes again: marked, no request, 'unchanged'
    s3.requests.length = 0;
    assert.equal(await b.put(c.digest, c.bytes, { durable: false }), 'unchanged');
    assert.equal(s3.requests.length, 0, s3.requests.join(' '));
    await b.settle();
    s3.requests.length = 0;
    await b.put(c.digest, c.bytes, { durable: false });
    assert.deepEqual(s3.requests.map((r) => r.split(' ')[0]), ['PUT-IF-ABSENT', 'HEAD']);
  }));

test('S3ChunkBackend.put replaces an object holding other bytes (a broken copy) with an unconditional PUT', () =>
  withBackend(async (b, s3) => {
    const c = chunk(3);
    const key = `store1/.chunks/${c.digest.slice(0, 4)}/${c.digest}`;
    await s3.put(key, c.bytes.map((x) => x ^ 1)); // same size, other bytes
    await b.put(c.digest, c.bytes, { durable: false });
    assert.deepEqual(await b.get(c.digest), c.bytes);
  }));

test('S3ChunkBackend.put leaves the mark at now even when the chunk was stored and marked long ago', () =>
  withBackend(async (b) => {
    const c = chunk(4);
    await b.put(c.digest, c.bytes, { durable: false });
    await b.mark(c.digest, OLD_MS);
    const before = Date.now();
    await b.put(c.digest, c.bytes, { durable: false });
    assert.ok((await b.stat(c.digest))!.markMs >= before - 1000, 'a re-put chunk must not look old to GC');
  }));

test('S3ChunkBackend.put rejects when the PUT fails (fault wrapper): no acknowledgement, no object, no mark', () =>
  withBackend(async (_b, s3, make) => {
    const faulty = new FaultyS3Objects(s3);
    const b = make('store1', faulty);
    const c = chunk(5);
    faulty.failing.add('putIfAbsent');
    await assert.rejects(b.put(c.digest, c.bytes, { durable: true }), { code: 'OBJECT_STORE_ERROR' });
    faulty.failing.clear();
    assert.equal(await b.stat(c.digest), undefined);
    assert.equal(await b.mark(c.digest), false);
    // a replacing PUT that fails rejects too
    const key = `store1/.chunks/${c.digest.slice(0, 4)}/${c.digest}`;
    await s3.put(key, new Uint8Array(3));
    faulty.failing.add('put');
    await assert.rejects(b.put(c.digest, c.bytes, { durable: true }), { code: 'OBJECT_STORE_ERROR' });
    assert.equal((await b.stat(c.digest))?.size, 3);
  }));

test('S3ChunkBackend stores sharing a bucket never see each other, and list skips keys that are not chunks', () =>
  withBackend(async (b, s3, make) => {
    const other = make('store2');
    await other.init();
    const mine = chunk(6);
    const theirs = chunk(7);
    await b.put(mine.digest, mine.bytes, { durable: false });
    await other.put(theirs.digest, theirs.bytes, { durable: false });
    await s3.put(`store1/.chunks/0000/${theirs.digest}`, theirs.bytes); // wrong prefix dir
    await s3.put(`store1/.chunks/${mine.digest.slice(0, 4)}/notes.txt`, new Uint8Array(1));
    await s3.put('store1/.cnt/host/x/index.json.blob', new Uint8Array(1));
    const keys: string[] = [];
    for await (const e of b.list()) keys.push(e.key);
    assert.deepEqual(keys, [mine.digest]);
    await assert.rejects(other.get(mine.digest), { code: 'NOT_FOUND' });
  }));

test('S3ChunkBackend.mark trusts an existing marker and asks the store only without one', () =>
  withBackend(async (b, s3) => {
    const c = chunk(8);
    await b.put(c.digest, c.bytes, { durable: false });
    s3.requests.length = 0;
    assert.equal(await b.mark(c.digest), true);
    assert.equal(s3.requests.length, 0);
    const listedOnly = chunk(9);
    await s3.put(`store1/.chunks/${listedOnly.digest.slice(0, 4)}/${listedOnly.digest}`, listedOnly.bytes);
    assert.equal(await b.mark(listedOnly.digest, OLD_MS), true);
    assert.deepEqual(s3.requests.map((r) => r.split(' ')[0]), ['PUT', 'HEAD']);
    assert.equal((await b.stat(listedOnly.digest))!.markMs, OLD_MS);
  }));

test('S3ChunkBackend.quarantine copies to <digest>.<n>.bad and deletes the chunk', () =>
  withBackend(async (b, s3) => {
    const c = chunk(10);
    await b.put(c.digest, c.bytes, { durable: false });
    assert.equal(await b.quarantine(c.digest, { durable: true }), `${c.digest}.0.bad`);
    assert.ok(s3.objects.has(`store1/.chunks/${c.digest.slice(0, 4)}/${c.digest}.0.bad`));
    assert.ok(!s3.objects.has(`store1/.chunks/${c.digest.slice(0, 4)}/${c.digest}`));
    await b.put(c.digest, c.bytes, { durable: false });
    assert.equal(await b.quarantine(c.digest, { durable: true }), `${c.digest}.1.bad`);
  }));

test('S3ChunkBackend.flush syncs the marker directory after marks, never swallows a sync error, and tries again next time', async () => {
  const dir = makeTempDir('holdfast-s3flush-');
  const syncs: string[] = [];
  let failNext = false;
  class SyncWatch extends FsWrapper {
    override async syncfs(path: string): Promise<void> {
      syncs.push(path);
      if (failNext) {
        failNext = false;
        throw fail('SYNC_FAILED', 'injected syncfs failure', { path });
      }
    }
  }
  try {
    const b = new S3ChunkBackend({ objects: new MemoryS3Objects(), store: 'st', fs: new SyncWatch(new NodeFs()), markerDir: join(dir, 'marks') });
    await b.init();
    await b.flush();
    assert.deepEqual(syncs, [], 'nothing to sync before any mark');
    const c = chunk(11);
    await b.put(c.digest, c.bytes, { durable: false });
    failNext = true;
    await assert.rejects(b.flush(), { code: 'SYNC_FAILED' });
    await b.flush();
    assert.deepEqual(syncs, [join(dir, 'marks'), join(dir, 'marks')]);
    await b.flush();
    assert.equal(syncs.length, 2, 'no marks since the last good flush');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A backend whose chunk PUTs wait at a gate the test opens (GatedS3Objects). */
async function withGatedBackend(putConcurrency: number, fn: (b: S3ChunkBackend, gate: GatedS3Objects, s3: MemoryS3Objects) => Promise<void>): Promise<void> {
  const dir = makeTempDir('holdfast-s3deferred-');
  const s3 = new MemoryS3Objects();
  const gate = new GatedS3Objects(s3);
  try {
    const b = new S3ChunkBackend({ objects: gate, store: 'st', fs: new NodeFs(), markerDir: join(dir, 'marks'), putConcurrency });
    await b.init();
    gate.holds = (key) => key.includes('/.chunks/');
    await fn(b, gate, s3);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('S3ChunkBackend.put (non-durable) resolves before its PUT is answered; the key answers as stored until then and settle waits for it', () =>
  withGatedBackend(4, async (b, gate, s3) => {
    const c = chunk(40);
    await b.put(c.digest, c.bytes, { durable: false });
    assert.deepEqual(gate.held.length, 1);
    assert.equal(s3.objects.size, 1, 'only the store marker is in the bucket yet');
    assert.equal((await b.stat(c.digest))?.size, c.bytes.length);
    assert.deepEqual(await b.get(c.digest), c.bytes);
    assert.equal(await b.mark(c.digest), true);
    assert.deepEqual([...(await listKeys(b))], [c.digest]);
    let settled = false;
    const settling = b.settle().then(() => (settled = true));
    await gate.whenHeld(1);
    assert.equal(settled, false);
    gate.release(true);
    await settling;
    assert.ok(s3.objects.has(`st/.chunks/${c.digest.slice(0, 4)}/${c.digest}`));
  }));

test('S3ChunkBackend.put (durable) waits for its PUT: the file level keeps each chunk stored as it is inserted', () =>
  withGatedBackend(4, async (b, gate, s3) => {
    const c = chunk(41);
    const put = b.put(c.digest, c.bytes, { durable: true });
    await gate.whenHeld(1);
    gate.release(true);
    await put;
    assert.ok(s3.objects.has(`st/.chunks/${c.digest.slice(0, 4)}/${c.digest}`));
  }));

test('S3ChunkBackend keeps at most putConcurrency PUTs pending; a further put waits for a slot', () =>
  withGatedBackend(2, async (b, gate) => {
    const [c1, c2, c3] = [chunk(50), chunk(51), chunk(52)];
    await b.put(c1.digest, c1.bytes, { durable: false });
    await b.put(c2.digest, c2.bytes, { durable: false });
    let third = false;
    const p3 = b.put(c3.digest, c3.bytes, { durable: false }).then(() => (third = true));
    await gate.whenHeld(2);
    assert.equal(third, false);
    assert.equal(gate.held.length, 2, 'the third PUT has not started');
    gate.release(true, 1);
    await p3;
    assert.equal(gate.held.length, 2);
    gate.release(true);
    await b.settle();
  }));

test('S3ChunkBackend: a pending PUT that fails undoes the key and is counted; a settle that waited for it rejects, a later one does not', () =>
  withGatedBackend(4, async (b, gate, s3) => {
    const c = chunk(60);
    await b.put(c.digest, c.bytes, { durable: false });
    assert.equal(b.failedDeferredPuts(), 0);
    gate.release(false);
    await assert.rejects(b.settle(), { code: 'OBJECT_STORE_ERROR' });
    assert.equal(b.failedDeferredPuts(), 1);
    assert.equal(await b.stat(c.digest), undefined, 'the chunk is missing again');
    assert.equal(await b.mark(c.digest), false, 'its marker went with it');
    await b.flush(); // it did not wait for the failed write
    gate.holds = () => false;
    await b.put(c.digest, c.bytes, { durable: false }); // stored anew
    await b.flush();
    assert.ok(s3.objects.has(`st/.chunks/${c.digest.slice(0, 4)}/${c.digest}`));
  }));

test('S3ChunkBackend: GC never sweeps a chunk whose PUT is pending; remove waits for the PUT', () =>
  withGatedBackend(4, async (b, gate, s3) => {
    const store = new ChunkStore({ backend: b, durableWrites: () => false, log: memoryLogger() });
    const c = chunk(70);
    await b.put(c.digest, c.bytes, { durable: false });
    const [entry] = await listKeysWithEntries(b);
    assert.equal(entry?.key, c.digest);
    const swept = await store.sweep(entry, Date.now() - 1000);
    assert.equal(swept?.removed, false);
    const removing = b.remove(c.digest);
    gate.release(true);
    assert.equal(await removing, true, 'removed after its PUT landed, not before');
    assert.equal(s3.objects.has(`st/.chunks/${c.digest.slice(0, 4)}/${c.digest}`), false);
  }));

async function listKeys(b: S3ChunkBackend): Promise<string[]> {
  return (await listKeysWithEntries(b)).map((e) => e.key);
}

async function listKeysWithEntries(b: S3ChunkBackend): Promise<import('./chunk-backend.ts').ChunkEntry[]> {
  const out = [];
  for await (const e of b.list()) out.push(e);
  return out;
}

test('S3ChunkBackend.put (non-durable) keeps its own copy: the caller may reuse its buffer (an upload slot) at once', () =>
  withGatedBackend(4, async (b, gate, s3) => {
    const c = chunk(80);
    const slot = new Uint8Array(c.bytes);
    await b.put(c.digest, slot, { durable: false });
    slot.fill(0);
    assert.deepEqual(await b.get(c.digest), c.bytes);
    gate.release(true);
    await b.settle();
    assert.deepEqual(s3.objects.get(`st/.chunks/${c.digest.slice(0, 4)}/${c.digest}`)?.bytes, c.bytes);
  }));

test('S3ChunkBackend: pending PUTs copy into reused buffers; what get returned while one was pending never changes afterwards', () =>
  withGatedBackend(1, async (b, gate, s3) => {
    const [c1, c2] = [chunk(90, 4096), chunk(91, 4096)];
    await b.put(c1.digest, c1.bytes, { durable: false });
    const seen = await b.get(c1.digest);
    gate.release(true);
    await b.settle();
    // the one copy buffer (put-concurrency 1) now holds c2's bytes
    await b.put(c2.digest, c2.bytes, { durable: false });
    assert.deepEqual(await b.get(c2.digest), c2.bytes);
    assert.deepEqual(seen, c1.bytes, 'the bytes get answered for the pending c1 are a copy');
    gate.release(true);
    await b.settle();
    assert.deepEqual(s3.objects.get(`st/.chunks/${c1.digest.slice(0, 4)}/${c1.digest}`)?.bytes, c1.bytes);
    assert.deepEqual(s3.objects.get(`st/.chunks/${c2.digest.slice(0, 4)}/${c2.digest}`)?.bytes, c2.bytes);
  }));

// ChunkStore.insert over S3 (putSkipsIdentical): a verified upload goes straight to the
// conditional PUT, no HEAD first, and still ends as the chunk store's rules say.
const blobOf = (data: Uint8Array, crypt?: CryptConfig): { digest: string; blob: Uint8Array } => ({
  digest: createHash('sha256').update(data).digest('hex'),
  blob: encodeBlob(data, { compress: false, ...(crypt ? { crypt } : {}) }),
});
const keyOf = (digest: string): string => `store1/.chunks/${digest.slice(0, 4)}/${digest}`;

/** A chunk store over a fresh S3ChunkBackend (deferred puts) and memory objects, and one verified chunk. */
const withStore = (fill: number, fn: (store: ChunkStore, b: S3ChunkBackend, s3: MemoryS3Objects, c: { digest: string; blob: Uint8Array }) => Promise<void>): Promise<void> =>
  withBackend((b, s3) => fn(new ChunkStore({ backend: b, durableWrites: () => false, log: memoryLogger() }), b, s3, blobOf(new Uint8Array(5000).fill(fill))));

test('ChunkStore.insert on S3: a verified chunk is PUT with If-None-Match and no HEAD before it, and is marked', () =>
  withStore(3, async (store, b, s3, c) => {
    s3.requests.length = 0;
    assert.deepEqual(await store.insert(c.digest, c.blob), { duplicate: false, size: c.blob.length, repaired: false });
    await b.settle();
    assert.deepEqual(s3.requests, [`PUT-IF-ABSENT ${keyOf(c.digest)}`]);
    assert.deepEqual(s3.objects.get(keyOf(c.digest))?.bytes, c.blob);
    assert.ok(((await b.stat(c.digest))?.markMs ?? 0) > Date.now() - 60_000, 'marked now');
  }));

test('ChunkStore.insert on S3: the same verified chunk again is left alone (412, the ETag matches) and marked anew', () =>
  withStore(4, async (store, b, s3, c) => {
    await store.insert(c.digest, c.blob);
    await b.settle();
    await b.mark(c.digest, OLD_MS);
    s3.requests.length = 0;
    await store.insert(c.digest, c.blob);
    await b.settle();
    assert.deepEqual(s3.requests, [`PUT-IF-ABSENT ${keyOf(c.digest)}`, `HEAD ${keyOf(c.digest)}`], 'no rewrite');
    assert.ok(((await b.stat(c.digest))?.markMs ?? 0) > OLD_MS, 'the upload marked it: GC keeps it');
  }));

test('ChunkStore.insert on S3: a verified upload replaces a broken object and an unverifiable encrypted one', () =>
  withStore(5, async (store, b, s3, c) => {
    await s3.put(keyOf(c.digest), c.blob.subarray(0, 100)); // broken: truncated
    await store.insert(c.digest, c.blob);
    await b.settle();
    assert.deepEqual(s3.objects.get(keyOf(c.digest))?.bytes, c.blob, 'the broken object was replaced');
    const poison = encodeBlob(new Uint8Array(300).fill(9), { compress: false, crypt: new CryptConfig(generateKey()) });
    await s3.put(keyOf(c.digest), poison); // garbage "encrypted" under the digest of real data
    await store.insert(c.digest, c.blob);
    await b.settle();
    assert.deepEqual(s3.objects.get(keyOf(c.digest))?.bytes, c.blob, 'the encrypted poison gave way to the verified copy');
  }));

test('ChunkStore.insert on S3: an encrypted upload is looked at first and never displaces a verified copy', () =>
  withStore(6, async (store, b, s3, c) => {
    await store.insert(c.digest, c.blob);
    await b.settle();
    const enc = encodeBlob(new Uint8Array(300).fill(7), { compress: false, crypt: new CryptConfig(generateKey()) });
    s3.requests.length = 0;
    await assert.rejects(store.insert(c.digest, enc), (e: unknown) => isHoldfastError(e, 'CORRUPT'));
    await b.settle();
    assert.equal(s3.requests[0], `HEAD ${keyOf(c.digest)}`, 'a stat before anything is written');
    assert.ok(!s3.requests.some((r) => r.startsWith('PUT')), 'nothing written');
    assert.deepEqual(s3.objects.get(keyOf(c.digest))?.bytes, c.blob);
  }));

test('ChunkStore.insert on S3: the blob SHA-256 the chunk check computed goes with the PUT (not hashed again); a wrong one fails the put and stores nothing', () =>
  withStore(8, async (store, b, s3, c) => {
    assert.equal(store.wantsBlobSha256, true);
    const right = createHash('sha256').update(c.blob).digest('hex');
    await store.insert(c.digest, c.blob, right);
    await b.settle();
    assert.equal(s3.givenSha256, 1, 'the PUT carried the caller\'s hash');
    assert.deepEqual(s3.objects.get(keyOf(c.digest))?.bytes, c.blob);
    const other = blobOf(new Uint8Array(5000).fill(9));
    await store.insert(other.digest, other.blob, right); // a hash that is not of these bytes
    await b.settle().catch(() => undefined); // rejects when it waited for the PUT; the count says it either way
    assert.equal(b.failedDeferredPuts(), 1, 'the PUT failed');
    assert.equal(s3.objects.has(keyOf(other.digest)), false, 'nothing stored under a mismatched hash');
    assert.equal(await b.stat(other.digest), undefined);
  }));

test('ChunkStore wants the blob SHA-256 only where the backend hashes what it stores (S3, also behind the cache), not on local disks', () =>
  withBackend(async (b) => {
    const dir = makeTempDir('holdfast-cache-sha-');
    try {
      const store = (backend: ChunkBackend): boolean => new ChunkStore({ backend, durableWrites: () => false, log: memoryLogger() }).wantsBlobSha256;
      assert.equal(store(b), true);
      assert.equal(store(new CachedChunkBackend({ inner: b, fs: new NodeFs(), dir, capacityBytes: 1 << 20 })), true);
      assert.equal(store(new MemoryChunkBackend()), false);
      assert.equal(store(new CachedChunkBackend({ inner: new MemoryChunkBackend(), fs: new NodeFs(), dir, capacityBytes: 1 << 20 })), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }));

test('CachedChunkBackend passes on its inner backend putSkipsIdentical (the cache is written after the put)', () =>
  withBackend(async (b) => {
    const dir = makeTempDir('holdfast-cache-flag-');
    try {
      assert.equal(new CachedChunkBackend({ inner: b, fs: new NodeFs(), dir, capacityBytes: 1 << 20 }).putSkipsIdentical, true);
      assert.equal(new CachedChunkBackend({ inner: new MemoryChunkBackend(), fs: new NodeFs(), dir, capacityBytes: 1 << 20 }).putSkipsIdentical, false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }));
