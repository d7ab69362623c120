/**
 * The ChunkBackend port contract as tests (see src/chunks/chunk-backend.ts). One suite, run by
 * chunk-backend-local.test.ts, chunk-backend-memory.test.ts and the S3 runner against every
 * adapter, so GC and verify can rely on the port and not on one adapter's habits.
 *
 * Durability shows only across a crash: an adapter that can simulate one (local over the
 * power-loss simulator, memory) passes `crash`; the durability tests skip, with that reason,
 * where it cannot.
 */
import { suite, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { isHoldfastError } from '../../src/core/errors.ts';
import type { ErrorCode } from '../../src/core/error-codes.ts';
import type { ChunkBackend, ChunkEntry } from '../../src/chunks/chunk-backend.ts';

export interface ChunkBackendUnderTest {
  /** A backend over empty storage: initialised when `ready`, else not yet (see `MakeBackend`). */
  readonly backend: ChunkBackend;
  readonly ready?: boolean;
  /**
   * The backend as it comes back after a power loss now, losing everything not yet durable;
   * omitted when the adapter cannot simulate one (a real remote store).
   */
  readonly crash?: () => Promise<ChunkBackend>;
  cleanup(): Promise<void>;
}

const OLD_MS = 1_000_000_000_000; // 2001-09-09

/** Distinct chunk-like content and its digest key. */
export function sample(salt: number, length = 1000): { digest: string; bytes: Uint8Array } {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + salt * 7) & 0xff;
  return { digest: createHash('sha256').update(bytes).digest('hex'), bytes };
}

async function rejectsWith(p: Promise<unknown>, code: ErrorCode): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isHoldfastError(e, code), `expected ${code}, got ${String(e)}`);
    return true;
  });
}

async function listAll(b: ChunkBackend): Promise<ChunkEntry[]> {
  const out: ChunkEntry[] = [];
  for await (const e of b.list()) out.push(e);
  return out;
}

/**
 * Builds the backend for one test. With `fresh` it must be uninitialised; without, a runner whose
 * `init` is slow (65536 prefix dirs on a real disk) may hand out one initialised, emptied store.
 */
export type MakeBackend = (opts: { readonly fresh: boolean }) => Promise<ChunkBackendUnderTest>;

export function chunkBackendContract(name: string, make: MakeBackend): void {
  const it = (title: string, body: (t: ChunkBackendUnderTest & { b: ChunkBackend }) => Promise<void>, skip?: (t: ChunkBackendUnderTest) => string | undefined): void => {
    test(title, async (ctx) => {
      const t = await make({ fresh: false });
      try {
        const reason = skip?.(t);
        if (reason !== undefined) {
          ctx.skip(reason);
          return;
        }
        if (t.ready !== true) await t.backend.init();
        await body({ ...t, b: t.backend });
      } finally {
        await t.cleanup();
      }
    });
  };
  const needsCrash = (t: ChunkBackendUnderTest): string | undefined => (t.crash ? undefined : `${name} cannot simulate a power loss`);

  suite(`ChunkBackend contract: ${name}`, () => {
    test('ChunkBackend.open fails NOT_FOUND before init and passes after; a second init is ALREADY_EXISTS', async () => {
      const t = await make({ fresh: true });
      try {
        await rejectsWith(t.backend.open(), 'NOT_FOUND');
        await t.backend.init();
        await t.backend.open();
        await rejectsWith(t.backend.init(), 'ALREADY_EXISTS');
      } finally {
        await t.cleanup();
      }
    });

    it('ChunkBackend.put then get returns the same bytes, and stat their size', async ({ b }) => {
      const c = sample(1, 70_000);
      await b.put(c.digest, c.bytes, { durable: false });
      assert.deepEqual(new Uint8Array(await b.get(c.digest)), c.bytes);
      assert.equal((await b.stat(c.digest))?.size, c.bytes.length);
    });

    it('ChunkBackend.get with `into` returns exactly the chunk, into a larger or a smaller buffer, never old bytes', async ({ b }) => {
      const c = sample(11, 70_000);
      await b.put(c.digest, c.bytes, { durable: false });
      await b.settle?.(); // past any deferred write, so the read goes to the store (and a cache fills)
      for (const size of [200_000, 70_000, 1000]) {
        for (let round = 0; round < 2; round++) {
          const into = new Uint8Array(size).fill(0xee); // a reused buffer still holding older bytes
          const got = await b.get(c.digest, into);
          assert.ok(Buffer.from(got.buffer, got.byteOffset, got.byteLength).equals(c.bytes), `into ${size} bytes, round ${round}`);
        }
      }
    });

    it('ChunkBackend.put replaces an existing object of the same key', async ({ b }) => {
      const c = sample(2);
      await b.put(c.digest, c.bytes, { durable: false });
      await b.put(c.digest, c.bytes.subarray(0, 10), { durable: true });
      assert.deepEqual(new Uint8Array(await b.get(c.digest)), c.bytes.subarray(0, 10));
      assert.equal((await b.stat(c.digest))?.size, 10);
    });

    it('ChunkBackend on a missing key: get NOT_FOUND, stat undefined, mark/remove false, quarantine undefined', async ({ b }) => {
      const c = sample(3);
      await rejectsWith(b.get(c.digest), 'NOT_FOUND');
      assert.equal(await b.stat(c.digest), undefined);
      assert.equal(await b.mark(c.digest), false);
      assert.equal(await b.remove(c.digest), false);
      assert.equal(await b.quarantine(c.digest, { durable: true }), undefined);
      assert.deepEqual(await b.quarantinedCopies(c.digest), []);
    });

    it('ChunkBackend rejects keys that are not its own with INVALID_ARGUMENT', async ({ b }) => {
      await rejectsWith(b.put('../../etc/passwd', new Uint8Array(1), { durable: false }), 'INVALID_ARGUMENT');
      await rejectsWith(b.get('../../etc/passwd'), 'INVALID_ARGUMENT');
      await rejectsWith(b.put('ABCD'.repeat(16), new Uint8Array(1), { durable: false }), 'INVALID_ARGUMENT');
    });

    it('ChunkBackend.mark sets the mark time to the given time, and to now without one', async ({ b }) => {
      const c = sample(4);
      await b.put(c.digest, c.bytes, { durable: false });
      assert.equal(await b.mark(c.digest, OLD_MS), true);
      const old = (await b.stat(c.digest))!.markMs;
      assert.ok(Math.abs(old - OLD_MS) <= 1000, `mark time ${old} should be ${OLD_MS}`);
      assert.equal(await b.mark(c.digest), true);
      assert.ok((await b.stat(c.digest))!.markMs > old + 1000);
      assert.deepEqual(new Uint8Array(await b.get(c.digest)), c.bytes, 'a mark leaves the bytes alone');
    });

    it('ChunkBackend.list yields each stored key exactly once, with kind, digest, size and mark time', async ({ b }) => {
      const cs = [sample(10), sample(11, 3000), sample(12, 17)];
      for (const c of cs) await b.put(c.digest, c.bytes, { durable: false });
      await b.put(cs[0]!.digest, cs[0]!.bytes, { durable: false }); // a rewrite is still one key
      await b.mark(cs[1]!.digest, OLD_MS);
      const entries = await listAll(b);
      assert.deepEqual(entries.map((e) => e.key).sort(), cs.map((c) => c.digest).sort());
      for (const c of cs) {
        const e = entries.find((x) => x.key === c.digest)!;
        assert.equal(e.kind, 'chunk');
        assert.equal(e.digest, c.digest);
        assert.equal(e.size, c.bytes.length);
      }
      assert.ok(Math.abs(entries.find((x) => x.key === cs[1]!.digest)!.markMs - OLD_MS) <= 1000);
    });

    it('ChunkBackend.quarantine moves a chunk aside; list yields the copy once, as bad, and not the chunk', async ({ b }) => {
      const c = sample(20);
      const other = sample(21);
      await b.put(c.digest, c.bytes, { durable: false });
      await b.put(other.digest, other.bytes, { durable: false });
      const key = await b.quarantine(c.digest, { durable: false });
      assert.ok(key !== undefined && key !== c.digest);
      assert.equal(await b.stat(c.digest), undefined);
      await rejectsWith(b.get(c.digest), 'NOT_FOUND');
      assert.deepEqual(new Uint8Array(await b.get(key)), c.bytes);
      const entries = await listAll(b);
      assert.deepEqual(entries.map((e) => e.key).sort(), [key, other.digest].sort());
      const bad = entries.find((e) => e.key === key)!;
      assert.equal(bad.kind, 'bad');
      assert.equal(bad.digest, c.digest);
      assert.equal(bad.size, c.bytes.length);
    });

    it('ChunkBackend.quarantine keeps earlier copies; quarantinedCopies, stat, mark and remove work on them', async ({ b }) => {
      const c = sample(22);
      await b.put(c.digest, c.bytes, { durable: false });
      const first = (await b.quarantine(c.digest, { durable: true }))!;
      await b.put(c.digest, c.bytes.subarray(0, 5), { durable: false });
      const second = (await b.quarantine(c.digest, { durable: false }))!;
      assert.notEqual(first, second);
      assert.deepEqual((await b.quarantinedCopies(c.digest)).sort(), [first, second].sort());
      assert.equal((await b.stat(second))?.size, 5);
      assert.equal(await b.mark(first, OLD_MS), true);
      assert.ok(Math.abs((await b.stat(first))!.markMs - OLD_MS) <= 1000);
      assert.equal(await b.remove(first), true);
      assert.deepEqual(await b.quarantinedCopies(c.digest), [second]);
      assert.deepEqual((await listAll(b)).map((e) => e.key), [second]);
    });

    it('ChunkBackend.remove deletes the object: get NOT_FOUND, gone from list, a second remove is false', async ({ b }) => {
      const c = sample(30);
      const keep = sample(31);
      await b.put(c.digest, c.bytes, { durable: true });
      await b.put(keep.digest, keep.bytes, { durable: true });
      assert.equal(await b.remove(c.digest), true);
      await rejectsWith(b.get(c.digest), 'NOT_FOUND');
      assert.equal(await b.stat(c.digest), undefined);
      assert.equal(await b.remove(c.digest), false);
      assert.deepEqual((await listAll(b)).map((e) => e.key), [keep.digest]);
    });

    it('ChunkBackend.put of the same digest concurrently: both resolve and one intact object remains', async ({ b }) => {
      const c = sample(40, 50_000);
      await Promise.all([b.put(c.digest, c.bytes, { durable: true }), b.put(c.digest, c.bytes, { durable: false }), b.put(c.digest, c.bytes, { durable: true })]);
      assert.deepEqual(new Uint8Array(await b.get(c.digest)), c.bytes);
      assert.deepEqual((await listAll(b)).map((e) => e.key), [c.digest]);
    });

    it('ChunkBackend.usage is undefined or consistent numbers', async ({ b }) => {
      const u = await b.usage();
      if (u === undefined) return;
      assert.ok(u.total >= u.used && u.used >= 0 && u.avail >= 0);
    });

    it(
      'ChunkBackend.put with durable survives a power loss; so does a non-durable put followed by flush',
      async ({ b, crash }) => {
        const durable = sample(50);
        const flushed = sample(51);
        await b.put(durable.digest, durable.bytes, { durable: true });
        await b.put(flushed.digest, flushed.bytes, { durable: false });
        await b.flush();
        const after = await crash!();
        await after.open();
        assert.deepEqual(new Uint8Array(await after.get(durable.digest)), durable.bytes);
        assert.deepEqual(new Uint8Array(await after.get(flushed.digest)), flushed.bytes);
      },
      needsCrash,
    );

    it(
      'ChunkBackend: after a power loss a put that was not made durable is gone or complete, never partial',
      async ({ b, crash }) => {
        const c = sample(52, 40_000);
        await b.put(c.digest, c.bytes, { durable: false });
        const after = await crash!();
        const st = await after.stat(c.digest);
        if (st) assert.deepEqual(new Uint8Array(await after.get(c.digest)), c.bytes);
      },
      needsCrash,
    );

    it(
      'ChunkBackend.settle (deferred puts): a non-durable put answers as stored at once, and is in the storage when settle resolved',
      async ({ b, crash }) => {
        const c = sample(55, 20_000);
        await b.put(c.digest, c.bytes, { durable: false });
        assert.equal((await b.stat(c.digest))?.size, c.bytes.length);
        assert.deepEqual(new Uint8Array(await b.get(c.digest)), c.bytes);
        assert.ok((await listAll(b)).some((e) => e.key === c.digest));
        const failed = b.failedDeferredPuts?.() ?? 0;
        await b.settle!();
        assert.equal(b.failedDeferredPuts?.() ?? 0, failed);
        // "stored" is what a new backend over the same storage sees (for S3: the bucket)
        const again = await crash!();
        await again.open();
        assert.deepEqual(new Uint8Array(await again.get(c.digest)), c.bytes);
      },
      (t) => (t.backend.settle === undefined ? `${name} has no deferred puts (its puts complete as they resolve)` : needsCrash(t)),
    );

    it(
      'ChunkBackend.quarantine with durable survives a power loss; remove followed by flush too',
      async ({ b, crash }) => {
        const bad = sample(53);
        const gone = sample(54);
        await b.put(bad.digest, bad.bytes, { durable: true });
        await b.put(gone.digest, gone.bytes, { durable: true });
        const key = (await b.quarantine(bad.digest, { durable: true }))!;
        await b.remove(gone.digest);
        await b.flush();
        const after = await crash!();
        assert.equal(await after.stat(bad.digest), undefined);
        assert.deepEqual(new Uint8Array(await after.get(key)), bad.bytes);
        assert.equal(await after.stat(gone.digest), undefined);
      },
      needsCrash,
    );
  });
}
