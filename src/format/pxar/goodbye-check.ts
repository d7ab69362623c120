/**
 * Verifies a directory's GOODBYE table against the children the decoder actually read. The
 * sequential format does not need the table, but a table that disagrees with the entries is a
 * sign of corruption (and would mislead random-access readers), so the decoder checks: the
 * tail, the item count, the BST order of hashes, and each item's hash/offset/size. Items with
 * equal hashes may appear in either order (upstream's sort is unstable, pxar-format.md §14).
 */
import { fail } from '../../core/errors.ts';
import { GOODBYE_ITEM_SIZE, HEADER_SIZE, PXAR_GOODBYE_TAIL_MARKER } from './constants.ts';
import { bstPermutation, type GoodbyeItem } from './goodbye.ts';

/** A child as read. `altSize` is the other size a split-archive file may be recorded with. */
export interface ReadChild {
  readonly hash: bigint;
  readonly fileOffset: number;
  readonly size: number;
  readonly altSize?: number;
}

export function goodbyeFullSize(childCount: number): number {
  return HEADER_SIZE + GOODBYE_ITEM_SIZE * (childCount + 1);
}

function bad(message: string, goodbyeStart: number, details: Record<string, unknown> = {}): Error {
  return fail('CORRUPT', `goodbye table: ${message}`, { offset: goodbyeStart, ...details });
}

export function verifyGoodbye(items: readonly GoodbyeItem[], children: readonly ReadChild[], goodbyeStart: number, entryOffset: number): void {
  const tail = items[items.length - 1];
  if (items.length !== children.length + 1 || tail === undefined) throw bad('item count differs from the directory', goodbyeStart);
  if (tail.hash !== PXAR_GOODBYE_TAIL_MARKER) throw bad('tail marker missing', goodbyeStart);
  if (tail.offset !== goodbyeStart - entryOffset || tail.size !== goodbyeFullSize(children.length)) {
    throw bad('tail does not point at the directory entry', goodbyeStart, { tailOffset: tail.offset, tailSize: tail.size });
  }
  const sortedHashes = children.map((c) => c.hash).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const byOffset = new Map(children.map((c) => [c.fileOffset, c]));
  bstPermutation(children.length).forEach((src, slot) => {
    const item = items[slot] as GoodbyeItem;
    if (item.hash !== sortedHashes[src]) throw bad('hashes are not in binary-search-tree order', goodbyeStart, { slot });
    const child = byOffset.get(goodbyeStart - item.offset);
    if (child === undefined || child.hash !== item.hash) throw bad('item does not point at a child with that name hash', goodbyeStart, { slot });
    if (item.size !== child.size && item.size !== child.altSize) throw bad('item size differs from the child', goodbyeStart, { slot, size: item.size, expected: child.size });
    byOffset.delete(child.fileOffset);
  });
}
