/**
 * GOODBYE tables (pxar-format.md §6): the per-directory lookup table of (name hash, distance back
 * to the child's FILENAME, child size) items, sorted by hash and permuted into an implicit binary
 * search tree (children of slot i are 2i+1 and 2i+2), followed by a tail item pointing back to the
 * directory's ENTRY.
 */
import { fail } from '../../core/errors.ts';
import { GOODBYE_ITEM_SIZE, HEADER_SIZE, PXAR_GOODBYE, PXAR_GOODBYE_TAIL_MARKER } from './constants.ts';
import { headerItem, setU64 } from './items.ts';

/** One 24-byte goodbye item as stored: `offset` is the distance back from the GOODBYE header. */
export interface GoodbyeItem {
  readonly hash: bigint;
  readonly offset: number;
  readonly size: number;
}

/** A child as the encoder records it, with absolute archive offsets. */
export interface GoodbyeChild {
  readonly hash: bigint;
  readonly fileOffset: number;
  readonly size: number;
}

/**
 * `perm[k]` = index into the hash-sorted array of the item stored at BST slot k. The exponent
 * drops by one per level and is never recomputed from the sub-array size; that is what makes the
 * layout match casync/pxar exactly.
 */
export function bstPermutation(n: number): number[] {
  const perm = new Array<number>(n).fill(0);
  const place = (count: number, base: number, e: number, dest: number): void => {
    const p = 2 ** e;
    const t = p + (p >> 1) - 1;
    const m = count > t ? p - 1 : p - 1 - (t - count);
    perm[dest] = base + m;
    if (m > 0) place(m, base, e - 1, 2 * dest + 1);
    if (m + 1 < count) place(count - m - 1, base + m + 1, e - 1, 2 * dest + 2);
  };
  if (n > 0) place(n, 0, Math.floor(Math.log2(n)), 0);
  return perm;
}

/**
 * Searches an implicit BST from slot `start`. `compare(v)` is negative when the searched value is
 * smaller than `v`. With `skip` > 0 the first `skip` equal matches on the path are passed over,
 * exploring the smaller side first (upstream's rule for duplicate hashes).
 */
export function bstSearch<T>(tree: readonly T[], start: number, skip: number, compare: (v: T) => number): number | undefined {
  let i = start;
  while (i < tree.length) {
    const c = compare(tree[i] as T);
    if (c < 0) i = 2 * i + 1;
    else if (c > 0) i = 2 * i + 2;
    else if (skip === 0) return i;
    else return bstSearch(tree, 2 * i + 1, skip - 1, compare) ?? bstSearch(tree, 2 * i + 2, skip - 1, compare);
  }
  return undefined;
}

function compareHash(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The complete GOODBYE item (header, BST-ordered items, tail) for a directory. */
export function goodbyeTable(children: readonly GoodbyeChild[], goodbyeStart: number, entryOffset: number): Uint8Array {
  const sorted = [...children].sort((a, b) => compareHash(a.hash, b.hash));
  const contentSize = GOODBYE_ITEM_SIZE * (sorted.length + 1);
  const out = new Uint8Array(HEADER_SIZE + contentSize);
  out.set(headerItem(PXAR_GOODBYE, contentSize), 0);
  const view = new DataView(out.buffer);
  const put = (slot: number, item: GoodbyeItem): void => {
    const at = HEADER_SIZE + GOODBYE_ITEM_SIZE * slot;
    view.setBigUint64(at, item.hash, true);
    setU64(view, at + 8, item.offset);
    setU64(view, at + 16, item.size);
  };
  bstPermutation(sorted.length).forEach((src, slot) => {
    const c = sorted[src] as GoodbyeChild;
    put(slot, { hash: c.hash, offset: goodbyeStart - c.fileOffset, size: c.size });
  });
  put(sorted.length, { hash: PXAR_GOODBYE_TAIL_MARKER, offset: goodbyeStart - entryOffset, size: HEADER_SIZE + contentSize });
  return out;
}

function readU64(view: DataView, at: number): number {
  const v = view.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw fail('CORRUPT', 'goodbye offset or size out of range', { value: v.toString() });
  return Number(v);
}

/** Parses GOODBYE content (items then tail); the tail is the last element. */
export function parseGoodbyeItems(content: Uint8Array): GoodbyeItem[] {
  if (content.length === 0 || content.length % GOODBYE_ITEM_SIZE !== 0) {
    throw fail('CORRUPT', 'goodbye table size is not a positive multiple of 24', { size: content.length });
  }
  const view = new DataView(content.buffer, content.byteOffset, content.byteLength);
  const items: GoodbyeItem[] = [];
  for (let at = 0; at < content.length; at += GOODBYE_ITEM_SIZE) {
    items.push({ hash: view.getBigUint64(at, true), offset: readU64(view, at + 8), size: readU64(view, at + 16) });
  }
  return items;
}
