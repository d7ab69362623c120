/**
 * selectEvents and the ranged payload reader against a batch model: for random trees, selections
 * and payload chunkings, a partial decode yields exactly the events of the full decode that lie in
 * the selection or lead to it, in unified and
 * split archives alike; a split archive's file data comes from only the payload pieces that
 * `payloadRanges` says are needed. matchEvents (glob selections, whose ancestors are held back
 * until a match below them) against the same kind of model.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isHoldfastError } from '../../core/errors.ts';
import { decodePxar } from './decoder.ts';
import type { PxarEntry, PxarEvent } from './entry.ts';
import type { PxarMetadata } from './metadata.ts';
import { payloadRanges, RangedPayloadReader, type ByteRange, type PositionedPiece } from './ranged-payload.ts';
import { matchEvents, PathSelection, selectEvents } from './selection.ts';
import { describeEvents, encodeMemTree, streamOf, type MemChild, type MemNode } from './testing.ts';

const enc = new TextEncoder();
const meta = (type: number): PxarMetadata => ({ stat: { mode: type | 0o644, flags: 0n, uid: 0, gid: 0, mtime: { secs: 1n, nanos: 0 } }, xattrs: [], acl: { users: [], groups: [], defaultUsers: [], defaultGroups: [] } });

const leafArb: fc.Arbitrary<MemNode> = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ maxLength: 700 }).map((data) => ({ kind: 'file' as const, meta: meta(0o100000), data })) },
  fc.constant({ kind: 'symlink' as const, meta: meta(0o120000), target: enc.encode('t') }),
  fc.nat().map((pick) => ({ kind: 'hardlink' as const, pick })),
);

const treeArb = fc.letrec<{ dir: MemNode & { kind: 'directory' }; node: MemNode }>((tie) => ({
  dir: fc.record({
    kind: fc.constant('directory' as const),
    meta: fc.constant(meta(0o040000)),
    children: fc.uniqueArray(fc.record({ name: fc.constantFrom('a', 'b', 'c', 'a.b', 'ab'), node: tie('node') }), { maxLength: 4, selector: (c) => c.name }).map((cs) => cs.map((c): MemChild => ({ name: enc.encode(c.name), node: c.node }))),
  }),
  node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leafArb, tie('dir')),
})).dir;

const isWithinText = (path: string, top: string): boolean => path === top || path.startsWith(`${top}/`);

/** The model: the full decode's events that a selection keeps, decided per event with the whole list in view. */
async function modelEvents(events: AsyncIterable<PxarEvent>, paths: readonly string[]): Promise<PxarEvent[]> {
  const text = (e: PxarEntry | Uint8Array): string => Buffer.from(e instanceof Uint8Array ? e : e.path).toString();
  const covers = (p: string): boolean => paths.some((s) => isWithinText(p, s));
  const leadsTo = (p: string): boolean => p === '' || paths.some((s) => isWithinText(s, p));
  const out: PxarEvent[] = [];
  let keepData = false;
  for await (const ev of events) {
    if (ev.type === 'data') {
      if (keepData) out.push({ type: 'data', bytes: new Uint8Array(ev.bytes) });
      continue;
    }
    keepData = false;
    if (ev.type === 'prelude') continue;
    const p = text(ev.entry);
    if (ev.type === 'directory-end') {
      if (covers(p) || leadsTo(p)) out.push(ev);
      continue;
    }
    const e = ev.entry;
    if (covers(p) || (e.kind === 'directory' && leadsTo(p))) {
      out.push(ev);
      keepData = e.kind === 'file';
    }
  }
  return out;
}

async function* listOf<T>(items: readonly T[]): AsyncGenerator<T> {
  yield* items;
}

/** The payload cut into "chunks" at `cuts`, only those holding a byte of `ranges`, with their offsets. */
function neededPieces(payload: Uint8Array, cuts: readonly number[], ranges: readonly ByteRange[]): { pieces: PositionedPiece[]; total: number } {
  const bounds = [...new Set([0, ...cuts.map((c) => c % (payload.length + 1)), payload.length])].sort((x, y) => x - y);
  const pieces: PositionedPiece[] = [];
  let total = 0;
  for (let i = 0; i + 1 < bounds.length; i++) {
    const [start, end] = [bounds[i]!, bounds[i + 1]!];
    if (start === end) continue;
    total++;
    if (ranges.some((r) => r.start < end && r.end > start)) pieces.push({ offset: start, bytes: payload.subarray(start, end) });
  }
  return { pieces, total };
}

test('a selection decodes to the full decode\'s events in or leading to it, unified and split (from the needed payload pieces only)', async () => {
  await fc.assert(
    fc.asyncProperty(treeArb, fc.array(fc.nat(), { minLength: 1, maxLength: 2 }), fc.array(fc.nat(), { maxLength: 12 }), async (tree, picks, cuts) => {
      const unified = encodeMemTree(tree);
      const entries: string[] = [];
      for await (const ev of decodePxar(streamOf(unified.archive, 64))) if (ev.type === 'entry' && ev.entry.path.length > 0) entries.push(Buffer.from(ev.entry.path).toString());
      fc.pre(entries.length > 0);
      const paths = picks.map((i) => entries[i % entries.length]!);
      const select = PathSelection.parse(paths);
      const model = await describeEvents(listOf(await modelEvents(decodePxar(streamOf(unified.archive, 64)), paths)));

      assert.deepEqual(await describeEvents(selectEvents(decodePxar(streamOf(unified.archive, 37)), select)), model, 'unified');

      const split = encodeMemTree(tree, { split: true });
      const ranges = await payloadRanges(selectEvents(decodePxar(streamOf(split.archive, 64)), select));
      const { pieces } = neededPieces(split.payload, cuts, ranges);
      const payload = new RangedPayloadReader(listOf(pieces));
      const splitModel = await describeEvents(listOf(await modelEvents(decodePxar(streamOf(split.archive, 64), { payload: streamOf(split.payload, 64) }), paths)));
      const decoded = selectEvents(decodePxar(streamOf(split.archive, 41), { payload, payloadFor: (e) => select.covers(e.path) }), select);
      assert.deepEqual(await describeEvents(decoded), splitModel, 'split');
    }),
    { numRuns: 300 },
  );
});

test('a selected path that is not in the archive is NOT_FOUND, however deep', async () => {
  const tree: MemNode & { kind: 'directory' } = {
    kind: 'directory',
    meta: meta(0o040000),
    children: [
      { name: enc.encode('a'), node: { kind: 'directory', meta: meta(0o040000), children: [{ name: enc.encode('f'), node: { kind: 'file', meta: meta(0o100000), data: enc.encode('x') } }] } },
      { name: enc.encode('b'), node: { kind: 'file', meta: meta(0o100000), data: enc.encode('y') } },
    ],
  };
  const { archive } = encodeMemTree(tree);
  for (const missing of ['c', 'a/g', 'a/f/x', 'b/x', 'a.b']) {
    await assert.rejects(describeEvents(selectEvents(decodePxar(streamOf(archive)), PathSelection.parse([missing]))), (e) => isHoldfastError(e, 'NOT_FOUND') && e.message.includes(`'${missing}'`), missing);
  }
  // a file, then the parent's end: nothing after the selection is read
  const events = await describeEvents(selectEvents(decodePxar(streamOf(archive)), PathSelection.parse(['a/f'])));
  assert.equal(events.length, 5); // root, a, a/f (with data), end a, end root
});

test('PathSelection.parse takes paths as users type them and refuses what names no entry', () => {
  const s = PathSelection.parse(['./etc/ssl/', '/etc/ssl/certs', 'var', 'var', 'etc.d']);
  assert.deepEqual(s.paths.map((p) => Buffer.from(p).toString()), ['etc/ssl', 'var', 'etc.d']);
  assert.ok(s.covers(enc.encode('etc/ssl/x')) && !s.covers(enc.encode('etc/ssl2')) && !s.covers(enc.encode('etc')));
  assert.ok(s.leadsTo(enc.encode('etc')) && s.leadsTo(new Uint8Array(0)) && !s.leadsTo(enc.encode('etc/x')));
  for (const bad of [[], ['/'], ['.'], ['a/../b'], ['a//b'], ['a/./b']]) {
    assert.throws(() => PathSelection.parse(bad), (e) => isHoldfastError(e, 'INVALID_ARGUMENT'), JSON.stringify(bad));
  }
});

test('RangedPayloadReader refuses a reference backwards, a byte no piece holds and a header of another size', async () => {
  const tree: MemNode & { kind: 'directory' } = {
    kind: 'directory',
    meta: meta(0o040000),
    children: [
      { name: enc.encode('a'), node: { kind: 'file', meta: meta(0o100000), data: new Uint8Array(100).fill(1) } },
      { name: enc.encode('b'), node: { kind: 'file', meta: meta(0o100000), data: new Uint8Array(100).fill(2) } },
    ],
  };
  const { payload } = encodeMemTree(tree, { split: true });
  const offsetOf = (fill: number): number => payload.indexOf(fill) - 16;
  const drain = async (it: AsyncIterable<Uint8Array>): Promise<void> => {
    for await (const v of it) void v;
  };
  const reader = new RangedPayloadReader(listOf([{ offset: 0, bytes: payload }]));
  await drain(reader.read(offsetOf(2), 100));
  await assert.rejects(drain(reader.read(offsetOf(1), 100)), (e) => isHoldfastError(e, 'CORRUPT'));
  const gap = new RangedPayloadReader(listOf([{ offset: offsetOf(2) + 20, bytes: payload.subarray(offsetOf(2) + 20) }]));
  await assert.rejects(drain(gap.read(offsetOf(2), 100)), (e) => isHoldfastError(e, 'INTERNAL'));
  const sized = new RangedPayloadReader(listOf([{ offset: 0, bytes: payload }]));
  await assert.rejects(drain(sized.read(offsetOf(1), 99)), (e) => isHoldfastError(e, 'CORRUPT'));
});

test('matchEvents (glob selections) gives the full decode\'s selected entries with exactly the directories that lead to one', async () => {
  await fc.assert(
    fc.asyncProperty(treeArb, fc.subarray(['a', 'b', 'c', 'a.b', 'ab'], { minLength: 1 }), async (tree, names) => {
      const { archive, payload } = encodeMemTree(tree, { split: true });
      const all: PxarEvent[] = [];
      for await (const ev of decodePxar(streamOf(archive, 64), { payload: streamOf(payload, 64) })) all.push(ev.type === 'data' ? { type: 'data', bytes: new Uint8Array(ev.bytes) } : ev);
      const text = (p: Uint8Array): string => Buffer.from(p).toString();
      const matches = (p: Uint8Array): boolean => names.includes(text(p).split('/').at(-1)!);
      const prefixes = (p: string): string[] => p.split('/').map((_, i, parts) => parts.slice(0, i + 1).join('/'));
      const covered = (p: string): boolean => p !== '' && prefixes(p).some((q) => names.includes(q.split('/').at(-1)!));
      const entries = all.flatMap((ev) => (ev.type === 'entry' ? [text(ev.entry.path)] : []));
      const leads = (dir: string): boolean => entries.some((p) => covered(p) && (dir === '' || p === dir || p.startsWith(`${dir}/`)));
      if (!entries.some(covered)) {
        await assert.rejects(describeEvents(matchEvents(listOf(all), matches, 'x')), (e) => isHoldfastError(e, 'NOT_FOUND'));
        return;
      }
      const model: PxarEvent[] = [];
      let keepData = false;
      for (const ev of all) {
        if (ev.type === 'data') {
          if (keepData) model.push(ev);
          continue;
        }
        keepData = false;
        if (ev.type === 'prelude') continue;
        const p = text(ev.entry.path);
        const kept = ev.entry.kind === 'directory' ? covered(p) || leads(p) : covered(p);
        if (kept) model.push(ev);
        keepData = kept && ev.type === 'entry' && ev.entry.kind === 'file';
      }
      assert.deepEqual(await describeEvents(matchEvents(listOf(all), matches, 'x')), await describeEvents(listOf(model)));
    }),
    { numRuns: 300 },
  );
});
