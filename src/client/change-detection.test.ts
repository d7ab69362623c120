import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { plainMetadata, type PxarMetadata } from '../format/pxar/metadata.ts';
import { chunkAlignedSplit, identityEqual, metadataEqual, planInjection, planInjectionGroups, type PayloadChunk } from './change-detection.ts';

const digest = (n: number): Uint8Array => new Uint8Array(32).fill(n);

/** Chunks of the given sizes, back to back from offset 0. */
function chunksOf(sizes: readonly number[]): PayloadChunk[] {
  let start = 0;
  return sizes.map((size, i) => {
    const c = { start, end: start + size, digest: digest(i) };
    start += size;
    return c;
  });
}

const base: PxarMetadata = plainMetadata({ mode: 0o100644, flags: 0n, uid: 1000, gid: 1000, mtime: { secs: 1_700_000_000n, nanos: 5 } });

test('metadataEqual compares stat, xattrs in order, ACLs, fcaps and quota id', () => {
  assert.ok(metadataEqual(base, { ...base }));
  assert.ok(!metadataEqual(base, { ...base, stat: { ...base.stat, mode: 0o100600 } }));
  assert.ok(!metadataEqual(base, { ...base, stat: { ...base.stat, mtime: { secs: 1_700_000_000n, nanos: 6 } } }));
  assert.ok(!metadataEqual(base, { ...base, stat: { ...base.stat, uid: 0 } }));
  const x = { name: Buffer.from('user.a'), value: Buffer.from('1') };
  assert.ok(!metadataEqual(base, { ...base, xattrs: [x] }));
  assert.ok(metadataEqual({ ...base, xattrs: [x] }, { ...base, xattrs: [{ name: Buffer.from('user.a'), value: Buffer.from('1') }] }));
  assert.ok(!metadataEqual({ ...base, xattrs: [x] }, { ...base, xattrs: [{ ...x, value: Buffer.from('2') }] }));
  assert.ok(!metadataEqual(base, { ...base, fcaps: Buffer.from('c') }));
  assert.ok(!metadataEqual(base, { ...base, quotaProjectId: 7n }));
  assert.ok(!metadataEqual(base, { ...base, acl: { ...base.acl, users: [{ id: 1n, permissions: 4n }] } }));
});

test('identityEqual needs a recorded identity with the same inode and ctime', () => {
  assert.ok(identityEqual({ ino: 5n, ctimeNs: 9n }, { ino: 5n, ctimeNs: 9n }));
  assert.ok(!identityEqual(undefined, { ino: 5n, ctimeNs: 9n }));
  assert.ok(!identityEqual({ ino: 5n, ctimeNs: 9n }, { ino: 6n, ctimeNs: 9n }));
  assert.ok(!identityEqual({ ino: 5n, ctimeNs: 9n }, { ino: 5n, ctimeNs: 10n }));
});

test('planInjection injects the chunks covering the files and maps each file into them', () => {
  // chunks [0,100) [100,300) [300,400); files at 16 (size 60) and 100 (size 184) fill chunks 0 and 1 but for 8 bytes
  const plan = planInjection([{ offset: 16, size: 60 }, { offset: 100, size: 184 }], chunksOf([100, 200, 100]));
  assert.ok(plan);
  assert.deepEqual(plan.chunks.map((c) => [c.known[0], c.size]), [[0, 100], [1, 200]]);
  assert.equal(plan.total, 300);
  assert.deepEqual(plan.offsets, [16, 100]);
});

test('planInjection skips chunks between files and refuses more than 10% padding', () => {
  const chunks = chunksOf([100, 100, 100]);
  const skip = planInjection([{ offset: 0, size: 84 }, { offset: 200, size: 84 }], chunks);
  assert.ok(skip);
  assert.deepEqual(skip.chunks.map((c) => c.known[0]), [0, 2]);
  assert.deepEqual(skip.offsets, [0, 100]);
  assert.equal(planInjection([{ offset: 0, size: 50 }], chunks), undefined, '34% padding');
  assert.ok(planInjection([{ offset: 0, size: 74 }], chunks), 'exactly 10% padding is allowed');
  assert.equal(planInjection([{ offset: 250, size: 84 }], chunks), undefined, 'beyond the stream');
  assert.equal(planInjection([{ offset: 0, size: 84 }, { offset: 50, size: 10 }], chunks), undefined, 'overlapping files');
});

test('planInjection places every file at its old position relative to its chunk (property)', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: 500 }), { minLength: 1, maxLength: 20 }), fc.array(fc.tuple(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 300 })), { minLength: 1, maxLength: 10 }), (sizes, gaps) => {
      const chunks = chunksOf(sizes);
      const files: { offset: number; size: number }[] = [];
      let at = 0;
      for (const [gap, size] of gaps) {
        files.push({ offset: at + gap, size });
        at += gap + 16 + size;
      }
      const plan = planInjection(files, chunks, 1);
      if (at > chunks[chunks.length - 1]!.end) return assert.equal(plan, undefined);
      assert.ok(plan);
      // rebuild the injected bytes as (chunk index, offset in chunk) and check each file maps back
      const injected: [number, number][] = [];
      for (const c of plan.chunks) for (let i = 0; i < c.size; i++) injected.push([c.known[0]!, i]);
      files.forEach((f, k) => {
        for (const pos of [f.offset, f.offset + 15 + f.size]) {
          const chunk = chunks.findIndex((c) => c.end > pos);
          assert.deepEqual(injected[plan.offsets[k]! + pos - f.offset], [chunk, pos - chunks[chunk]!.start]);
        }
      });
    }),
  );
});

test('planInjectionGroups decides per group of files sharing chunks: a changed neighbour costs only its chunk', () => {
  // chunk 0: a (whole), chunk 1: b and a gap left by a changed file, chunk 2: c (whole)
  const chunks = chunksOf([100, 100, 100]);
  const groups = planInjectionGroups([{ offset: 0, size: 84 }, { offset: 100, size: 30 }, { offset: 200, size: 84 }], chunks);
  assert.deepEqual(groups.map((g) => [g.first, g.count, g.plan === undefined ? 'read' : 'inject']), [[0, 1, 'inject'], [1, 1, 'read'], [2, 1, 'inject']]);
  // two files in one chunk form one group
  const shared = planInjectionGroups([{ offset: 0, size: 34 }, { offset: 50, size: 34 }, { offset: 500, size: 1 }], chunks);
  assert.deepEqual(shared.map((g) => [g.first, g.count, g.plan === undefined ? 'read' : 'inject']), [[0, 2, 'inject'], [2, 1, 'read']]);
});

test('chunkAlignedSplit cuts a run at the last file that starts a previous chunk, never before the second file', () => {
  const chunks = chunksOf([100, 100, 100]);
  // files at 0, 40, 100 (starts chunk 1), 150, 200 (starts chunk 2), 260: cut before the file at 200
  assert.equal(chunkAlignedSplit([0, 40, 100, 150, 200, 260], chunks), 4);
  // only the first file starts a chunk: no cut, the run gathers on
  assert.equal(chunkAlignedSplit([100, 130, 160], chunks), undefined);
  // a file at the end of the stream or beyond it is no cut
  assert.equal(chunkAlignedSplit([0, 300], chunks), undefined);
  assert.equal(chunkAlignedSplit([], chunks), undefined);
  assert.equal(chunkAlignedSplit([0, 100], []), undefined);
});
