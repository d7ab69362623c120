/**
 * The upload pipeline's bounds and buffer reuse, against a transport whose chunk uploads finish
 * only when the test says so (in a shuffled order): never more than `window` chunks in flight,
 * every uploaded blob intact although its buffer is reused, index entries in archive order.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sha256, toHex } from '../core/digest.ts';
import { decodeBlob } from '../format/blob.ts';
import { dynamicIndexCsum, encodeDynamicIndex, parseDynamicIndex } from '../format/dynamic-index.ts';
import { encodeManifestBlob } from '../format/manifest.ts';
import { rng, pseudoRandom } from '../../test/helpers/seeded.ts';
import { BackupWriter } from './backup-writer.ts';
import type { ChunkBuffer } from './chunk-buffers.ts';
import { inlineChunkEncoder, pooledChunkEncoder, type ChunkEncoder } from './chunk-encoder.ts';
import type { ProtocolTransport } from './protocol-transport.ts';

const CHUNK = 64 * 1024;

/** A transport that holds every chunk upload until `releaseOne` lets one (chosen by `pick`) finish. */
function heldTransport() {
  const held: { digest: string; done: () => void }[] = [];
  let arrived: () => void = () => undefined;
  const appended: string[] = [];
  const uploaded = new Set<string>();
  let inFlight = 0;
  let maxInFlight = 0;
  const t: ProtocolTransport = {
    async call(method, path, query, body) {
      if (path === 'previous_backup_time') return null;
      if (path.endsWith('_index') && method === 'POST') return 1;
      if (path.endsWith('_index') && method === 'PUT') {
        const j = JSON.parse(Buffer.from(body!).toString()) as { 'digest-list': string[] };
        for (const d of j['digest-list']) assert.ok(uploaded.has(d), `index names ${d} before the server has it`);
        appended.push(...j['digest-list']);
        return null;
      }
      if (path.endsWith('_chunk')) {
        const digest = String(query?.['digest']);
        assert.equal(toHex(sha256(decodeBlob(body!))), digest, 'the blob on the wire is intact');
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise<void>((done) => {
          held.push({ digest, done });
          arrived();
        });
        inFlight--;
        uploaded.add(digest);
        return digest;
      }
      return null;
    },
    download: () => Promise.reject(new Error('no previous snapshot here')),
    close: async () => undefined,
  };
  return {
    t,
    appended,
    maxInFlight: () => maxInFlight,
    /** Waits until an upload is held, then finishes one of those held, chosen by `pick`. */
    async releaseOne(pick: () => number): Promise<void> {
      while (held.length === 0) await new Promise<void>((r) => (arrived = r));
      const [h] = held.splice(Math.floor(pick() * held.length), 1);
      h!.done();
    },
    get held(): number {
      return held.length;
    },
  };
}

async function run(encoder: ChunkEncoder, window: number): Promise<void> {
  const h = heldTransport();
  const w = await BackupWriter.start(h.t, { backupType: 'host', backupId: 'x', backupTime: 1, encoder, window });
  // 40 chunks, with repeats (the same chunk twice in flight, and again later) to exercise dedup.
  const seeds = Array.from({ length: 40 }, (_, i) => (i % 7 === 3 ? 1 : i + 10));
  const expected = seeds.map((s) => toHex(sha256(pseudoRandom(CHUNK, s))));
  let maxHeldBuffers = 0;
  async function* source(): AsyncGenerator<ChunkBuffer> {
    for (const s of seeds) {
      const b = await w.buffers.take(CHUNK);
      maxHeldBuffers = Math.max(maxHeldBuffers, w.buffers.inUse);
      b.data.set(pseudoRandom(CHUNK, s));
      yield b;
    }
  }
  const pick = rng(window);
  const upload = w.uploadArchive('d.img.fidx', source(), { size: seeds.length * CHUNK });
  let finished = false;
  void upload.finally(() => (finished = true)).catch(() => undefined);
  while (!finished) {
    await Promise.race([h.releaseOne(pick), upload.catch(() => undefined)]);
  }
  const stats = await upload;
  assert.ok(h.maxInFlight() <= window, `at most ${window} uploads in flight, saw ${h.maxInFlight()}`);
  assert.ok(maxHeldBuffers <= window, `at most ${window} chunk buffers, saw ${maxHeldBuffers}`);
  assert.equal(w.buffers.inUse, 0, 'every buffer came back');
  assert.deepEqual(h.appended, expected, 'index entries in archive order');
  const unique = new Set(expected).size;
  assert.deepEqual([stats.chunks, stats.uploadedChunks, stats.reusedChunks], [40, unique, 40 - unique]);
}

test('the upload pipeline keeps at most `window` chunks in flight and reuses buffers safely (inline encoder)', async () => {
  await run(inlineChunkEncoder(), 3);
});

test('the upload pipeline keeps at most `window` chunks in flight and reuses buffers safely (worker encoder)', async () => {
  const encoder = pooledChunkEncoder(undefined, 1);
  try {
    await run(encoder, 4);
  } finally {
    await encoder.close();
  }
});

/**
 * A transport with a previous snapshot holding `a.didx` and `b.didx` (one chunk each; `b`'s index
 * does not match the manifest when `corruptB`); its `previous` downloads wait until released.
 */
function previousTransport(corruptB: boolean) {
  const digests = { 'a.didx': sha256(pseudoRandom(100, 1)), 'b.didx': sha256(pseudoRandom(100, 2)) };
  const indexes = Object.fromEntries(
    Object.entries(digests).map(([name, digest]) => [name, encodeDynamicIndex({ uuid: new Uint8Array(16), ctime: 1, entries: [{ end: 100, digest }] })]),
  ) as Record<keyof typeof digests, Uint8Array>;
  const files = Object.entries(indexes).map(([filename, bytes]) => {
    const { csum, size } = dynamicIndexCsum(parseDynamicIndex(bytes).entries);
    return { filename, cryptMode: 'none' as const, size: filename === 'b.didx' && corruptB ? size + 1 : size, csum: toHex(csum) };
  });
  const manifest = encodeManifestBlob({ backupType: 'host', backupId: 'x', backupTime: 1, files, unprotected: {}, signature: null });
  const requested: string[] = [];
  const waiting: (() => void)[] = [];
  const t: ProtocolTransport = {
    async call(method, path) {
      if (path === 'previous_backup_time') return 1;
      if (path.endsWith('_index') && method === 'POST') return 1;
      return null;
    },
    async download(_path, query) {
      const name = String(query?.['archive-name']);
      if (name === 'index.json.blob') return manifest;
      requested.push(name);
      await new Promise<void>((r) => waiting.push(r));
      return indexes[name as keyof typeof indexes];
    },
    close: async () => undefined,
  };
  return { t, digests, requested, release: () => waiting.splice(0).forEach((r) => r()) };
}

test('BackupWriter.prefetchPrevious downloads the previous indexes at once, each only once', async () => {
  const p = previousTransport(false);
  const w = await BackupWriter.start(p.t, { backupType: 'host', backupId: 'x', backupTime: 2, encoder: inlineChunkEncoder() });
  w.prefetchPrevious(['a.didx', 'b.didx', 'not-in-previous.didx']);
  assert.deepEqual(p.requested, ['a.didx', 'b.didx'], 'both requested before either answered');
  const a = w.uploadArchive('a.didx', (async function* () {
    yield { known: p.digests['a.didx'], size: 100 };
  })());
  p.release();
  assert.equal((await a).reusedChunks, 1, 'a chunk of the prefetched index is known');
  assert.deepEqual(p.requested, ['a.didx', 'b.didx'], 'the upload used the prefetched index');
});

test('BackupWriter.prefetchPrevious: a bad previous index fails the upload of its archive, not the prefetch', async () => {
  const p = previousTransport(true);
  const w = await BackupWriter.start(p.t, { backupType: 'host', backupId: 'x', backupTime: 2, encoder: inlineChunkEncoder() });
  w.prefetchPrevious(['b.didx']);
  p.release();
  await assert.rejects(
    w.uploadArchive('b.didx', (async function* () {})()),
    (e: unknown) => (e as { code?: string }).code === 'INDEX_MISMATCH',
  );
});
