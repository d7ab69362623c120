import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isHoldfastError } from '../../core/errors.ts';
import { HEADER_SIZE, PXAR_ENTRY } from './constants.ts';
import { decodePxar } from './decoder.ts';
import { describeEvents, encodeMemTree, streamOf } from './testing.ts';
import { treeArb } from './tree-arbitrary.ts';

async function decodeToText(archive: Uint8Array, payload: Uint8Array | undefined, piece: number, verifyGoodbye = true): Promise<string[]> {
  return describeEvents(decodePxar(streamOf(archive, piece), { verifyGoodbye, ...(payload === undefined ? {} : { payload: streamOf(payload, piece) }) }));
}

/** Start offsets of every item header (the archive is a flat item sequence). */
function headerOffsets(archive: Uint8Array): number[] {
  const view = new DataView(archive.buffer, archive.byteOffset, archive.byteLength);
  const out: number[] = [];
  for (let at = 0; at < archive.length; at += Number(view.getBigUint64(at + 8, true))) out.push(at);
  return out;
}

test('decodePxar(encode(tree)) gives back every entry, byte and attribute, v1 and v2, any input piece size', async () => {
  await fc.assert(
    fc.asyncProperty(treeArb, fc.boolean(), fc.integer({ min: 1, max: 300 }), fc.boolean(), async (tree, split, piece, verifyGoodbye) => {
      const { archive, payload, expected } = encodeMemTree(tree, { split, pieceSize: piece });
      // pieces of 1..300 bytes: items whole in one piece (ByteReader.readNow) and split across several
      assert.deepEqual(await decodeToText(archive, split ? payload : undefined, piece, verifyGoodbye), expected);
    }),
    { numRuns: 150 },
  );
});

test('decodePxar rejects every truncated archive with TRUNCATED', async () => {
  await fc.assert(
    fc.asyncProperty(treeArb, fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), async (tree, where) => {
      const { archive } = encodeMemTree(tree);
      const cut = Math.floor(where * archive.length);
      await assert.rejects(decodeToText(archive.subarray(0, cut), undefined, 64), (e) => isHoldfastError(e, 'TRUNCATED'));
    }),
    { numRuns: 150 },
  );
});

test('decodePxar rejects any single bit flip in any item type field with CORRUPT (constants differ in ≥ 8 bits)', async () => {
  await fc.assert(
    fc.asyncProperty(treeArb, fc.nat(), fc.nat({ max: 63 }), async (tree, which, bit) => {
      const { archive } = encodeMemTree(tree);
      const offsets = headerOffsets(archive);
      const flipped = flipBit(archive, (offsets[which % offsets.length] as number) * 8 + bit);
      await assert.rejects(decodeToText(flipped, undefined, 97), (e) => isHoldfastError(e, 'CORRUPT') || isHoldfastError(e, 'BAD_MAGIC'));
    }),
    { numRuns: 200 },
  );
});

// pxar has no checksums: a size flip can let an attribute item swallow whole neighbouring items
// (e.g. an xattr value absorbing an ACL item), leaving a well-formed but different entry.
test('decodePxar on a bit flip in an item size field: a coded error or a different decode, never the same', async () => {
  await fc.assert(
    fc.asyncProperty(treeArb, fc.nat(), fc.nat({ max: 63 }), async (tree, which, bit) => {
      const { archive, expected } = encodeMemTree(tree);
      const offsets = headerOffsets(archive);
      const flipped = flipBit(archive, ((offsets[which % offsets.length] as number) + 8) * 8 + bit);
      const outcome = await decodeToText(flipped, undefined, 97).catch((e: unknown) => e);
      if (outcome instanceof Error) assert.ok(isHoldfastError(outcome), String(outcome));
      else assert.notDeepEqual(outcome, expected);
    }),
    { numRuns: 200 },
  );
});

function flipBit(bytes: Uint8Array, bit: number): Uint8Array {
  const out = new Uint8Array(bytes);
  out[bit >> 3] = (out[bit >> 3] as number) ^ (1 << (bit & 7));
  return out;
}

test('decodePxar on any single bit flip anywhere: a coded error, or a different decode unless the bit is ENTRY padding', async () => {
  await fc.assert(
    fc.asyncProperty(treeArb, fc.nat(), fc.boolean(), async (tree, pos, split) => {
      const { archive, payload, expected } = encodeMemTree(tree, { split });
      const bit = pos % (archive.length * 8);
      const flipped = flipBit(archive, bit);
      let decoded: string[];
      try {
        decoded = await decodeToText(flipped, split ? payload : undefined, 50);
      } catch (e) {
        assert.ok(isHoldfastError(e), `uncoded error ${String(e)}`);
        return;
      }
      const view = new DataView(archive.buffer, archive.byteOffset, archive.byteLength);
      const inEntryPad = headerOffsets(archive).some((h) => view.getBigUint64(h, true) === PXAR_ENTRY && (bit >> 3) >= h + HEADER_SIZE + 36 && (bit >> 3) < h + HEADER_SIZE + 40);
      if (!inEntryPad) assert.notDeepEqual(decoded, expected);
    }),
    { numRuns: 300 },
  );
});
