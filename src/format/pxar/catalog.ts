/**
 * The PBS file catalog `.pcat1` (pxar-format.md §10): magic, one DIRBLOCK per directory written
 * when the directory is closed (children before parents, root last), then the root block's
 * offset as u64. A block is `varint table_len, varint count, entries`; a directory entry points
 * back to its child's block, file entries carry size and mtime seconds.
 *
 * The PBS client's root block names one directory per archive, e.g. `root.pxar.didx`. The writer
 * streams (only open directories are held); the reader works on the whole catalog in memory,
 * as PBS downloads it, and refuses blocks that do not consume exactly their length, child
 * pointers that do not point strictly backwards (no cycles), and names of 4096 bytes or more.
 */
import { fail } from '../../core/errors.ts';
import { CATALOG_MAGIC, MAGIC_BYTES } from '../magics.ts';
import { decodeVarI64, decodeVarU64, encodeVarI64, encodeVarU64 } from './catalog-varint.ts';
import { joinPath } from './names.ts';
import { OutputQueue } from './output-queue.ts';

export const CATALOG_ENTRY_TYPES = {
  directory: 0x64, file: 0x66, symlink: 0x6c, hardlink: 0x68, 'block-device': 0x62, 'char-device': 0x63, fifo: 0x70, socket: 0x73,
} as const;
export type CatalogEntryType = keyof typeof CATALOG_ENTRY_TYPES;
const TYPE_BY_CODE = new Map(Object.entries(CATALOG_ENTRY_TYPES).map(([k, v]) => [v as number, k as CatalogEntryType]));
const MAX_NAME = 4096;

export interface CatalogEntry {
  readonly type: CatalogEntryType;
  readonly name: Uint8Array;
  /** Files only. */
  readonly size?: bigint;
  /** Files only: mtime in whole seconds. */
  readonly mtime?: bigint;
  /** Directories only: absolute offset of the child's block. */
  readonly blockOffset?: number;
}

/** A closed subdirectory, waiting for its parent's block (which gives the back offset). */
interface DirRef {
  readonly name: Uint8Array;
  readonly blockOffset: number;
}

type PendingEntry = Uint8Array | DirRef;

/** Streams a catalog: directories are written as they close, the root block on `finish`. */
export class CatalogWriter {
  readonly #out = new OutputQueue();
  readonly #stack: PendingEntry[][] = [[]];
  readonly #names: Uint8Array[] = [];

  constructor() {
    this.#out.write(CATALOG_MAGIC);
  }

  startDirectory(name: Uint8Array): void {
    this.#names.push(name);
    this.#stack.push([]);
  }

  endDirectory(): void {
    const name = this.#names.pop();
    if (name === undefined) throw fail('INVALID_ARGUMENT', 'endDirectory without startDirectory');
    const block = this.#writeBlock(this.#stack.pop() as PendingEntry[]);
    this.#top().push({ name, blockOffset: block });
  }

  addFile(name: Uint8Array, size: bigint | number, mtimeSecs: bigint | number): void {
    this.#top().push(entryBytes('file', name, [encodeVarU64(size), encodeVarI64(mtimeSecs)]));
  }

  /** Any non-directory, non-file entry. */
  addOther(type: Exclude<CatalogEntryType, 'directory' | 'file'>, name: Uint8Array): void {
    this.#top().push(entryBytes(type, name, []));
  }

  /** Writes the root block and the trailing root offset; returns the remaining output. */
  finish(): Uint8Array[] {
    if (this.#stack.length !== 1) throw fail('INVALID_ARGUMENT', 'catalog finished with open directories');
    const root = this.#writeBlock(this.#stack[0] as PendingEntry[]);
    const tail = new Uint8Array(8);
    new DataView(tail.buffer).setBigUint64(0, BigInt(root), true);
    this.#out.write(tail);
    this.#out.flush();
    return this.#out.take();
  }

  /** Output completed so far (for streaming into a chunker). */
  take(): Uint8Array[] {
    return this.#out.take();
  }

  #top(): PendingEntry[] {
    return this.#stack[this.#stack.length - 1] as PendingEntry[];
  }

  #writeBlock(entries: readonly PendingEntry[]): number {
    const start = this.#out.position;
    const parts = entries.map((e) => (e instanceof Uint8Array ? e : entryBytes('directory', e.name, [encodeVarU64(start - e.blockOffset)])));
    const body = Buffer.concat([encodeVarU64(entries.length), ...parts]);
    this.#out.write(Buffer.concat([encodeVarU64(body.length), body]));
    return start;
  }
}

function entryBytes(type: CatalogEntryType, name: Uint8Array, tail: readonly Uint8Array[]): Uint8Array {
  if (name.length >= MAX_NAME) throw fail('INVALID_ARGUMENT', 'catalog name too long', { length: name.length });
  return Buffer.concat([Uint8Array.of(CATALOG_ENTRY_TYPES[type]), encodeVarU64(name.length), name, ...tail]);
}

/** The entries of the block at `offset`. */
export function readCatalogBlock(catalog: Uint8Array, offset: number): CatalogEntry[] {
  const len = decodeVarU64(catalog, offset);
  const end = len.next + Number(len.value);
  if (end > catalog.length - 8) throw fail('TRUNCATED', 'catalog block runs past the root offset', { offset });
  const count = decodeVarU64(catalog, len.next);
  let at = count.next;
  const entries: CatalogEntry[] = [];
  for (let i = 0n; i < count.value; i++) {
    const type = TYPE_BY_CODE.get(catalog[at] ?? -1);
    if (type === undefined || at >= end) throw fail('CORRUPT', 'bad catalog entry type', { offset: at });
    const nameLen = decodeVarU64(catalog, at + 1);
    if (nameLen.value >= BigInt(MAX_NAME)) throw fail('CORRUPT', 'catalog name too long', { offset: at });
    const name = catalog.slice(nameLen.next, nameLen.next + Number(nameLen.value));
    at = nameLen.next + name.length;
    if (type === 'directory') {
      const back = decodeVarU64(catalog, at);
      const child = offset - Number(back.value);
      if (back.value === 0n || child < MAGIC_BYTES) throw fail('CORRUPT', 'catalog directory does not point back to an earlier block', { offset: at });
      entries.push({ type, name, blockOffset: child });
      at = back.next;
    } else if (type === 'file') {
      const size = decodeVarU64(catalog, at);
      const mtime = decodeVarI64(catalog, size.next);
      entries.push({ type, name, size: size.value, mtime: mtime.value });
      at = mtime.next;
    } else {
      entries.push({ type, name });
    }
  }
  if (at !== end) throw fail('CORRUPT', 'catalog block length does not match its entries', { offset, end, at });
  return entries;
}

/** Offset of the root block, after checking the magic. */
export function catalogRootOffset(catalog: Uint8Array): number {
  if (catalog.length < MAGIC_BYTES + 8) throw fail('TRUNCATED', 'catalog too short', { length: catalog.length });
  if (!CATALOG_MAGIC.every((b, i) => catalog[i] === b)) throw fail('BAD_MAGIC', 'not a catalog (.pcat1)');
  const root = new DataView(catalog.buffer, catalog.byteOffset + catalog.length - 8, 8).getBigUint64(0, true);
  if (root < BigInt(MAGIC_BYTES) || root >= BigInt(catalog.length - 8)) throw fail('CORRUPT', 'catalog root offset out of range', { root: root.toString() });
  return Number(root);
}

/** Every entry with its full path (depth first, in stored order). */
export function listCatalog(catalog: Uint8Array): { path: Uint8Array; entry: CatalogEntry }[] {
  const out: { path: Uint8Array; entry: CatalogEntry }[] = [];
  const walk = (offset: number, parent: Uint8Array): void => {
    for (const entry of readCatalogBlock(catalog, offset)) {
      const path = joinPath(parent, entry.name);
      out.push({ path, entry });
      if (entry.blockOffset !== undefined) walk(entry.blockOffset, path);
    }
  };
  walk(catalogRootOffset(catalog), new Uint8Array(0));
  return out;
}
