/**
 * Random access to a pxar archive through its GOODBYE tables (pxar-format.md §6.4), the way a
 * mount reads one: a directory is opened from the tail item at its end, a child is found by its
 * name's hash or listed from the table, and only the bytes of the entries touched are read. A
 * file's data is located, not read: inline (`.pxar`, after its PAYLOAD header) or in the payload
 * archive of a split archive (`.mpxar` + `.ppxar`, at its PAYLOAD_REF's offset).
 *
 * Invariants:
 * - every offset taken from the archive is checked to lie inside the range it must lie in (the
 *   archive, the directory, the goodbye table) before it is read, so a corrupt or hostile
 *   archive gives CORRUPT, never a read elsewhere or an endless walk;
 * - an entry's name, metadata and kind are decoded by the same item decoders the streaming
 *   decoder uses (entry-reader.ts, item-decode.ts), with the same checks;
 * - a hardlink resolves to its target's entry (which must be a regular file), so both names
 *   show the same inode and bytes.
 */
import { fail } from '../../core/errors.ts';
import { ByteReader } from './byte-reader.ts';
import {
  GOODBYE_ITEM_SIZE, HEADER_SIZE, MAX_PRELUDE_LEN, PXAR_DEVICE, PXAR_ENTRY, PXAR_ENTRY_V1, PXAR_FILENAME, PXAR_FORMAT_VERSION,
  PXAR_GOODBYE, PXAR_GOODBYE_TAIL_MARKER, PXAR_HARDLINK, PXAR_PAYLOAD, PXAR_PAYLOAD_REF, PXAR_PRELUDE, PXAR_SYMLINK,
} from './constants.ts';
import { readEntryBody } from './entry-reader.ts';
import { bstSearch, parseGoodbyeItems, type GoodbyeItem } from './goodbye.ts';
import {
  PATH_ITEM_MAX, corruptAt, decodeCString, decodeDevice, decodeHardlink, decodePayloadRef, decodeU64s, expectContentSize, readItemHeader,
  type ItemHeader,
} from './item-decode.ts';
import { fileTypeOfMode, type PxarDevice, type PxarFileType, type PxarMetadata } from './metadata.ts';
import { nameProblem } from './names.ts';
import { pxarNameHash } from './siphash.ts';

/** Bytes of an archive by offset. A read past the end is the source's error to raise. */
export interface RandomAccess {
  readonly size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** Where a regular file's bytes are. */
export type FileData =
  | { readonly in: 'archive'; readonly offset: number; readonly size: number }
  | { readonly in: 'payload'; readonly headerOffset: number; readonly size: number };

/** One member as the accessor knows it. `fileOffset` (0 for the root) identifies it. */
export interface AccessedEntry {
  readonly kind: PxarFileType;
  readonly name: Uint8Array;
  /** Offset of the entry's FILENAME header; 0 for the root. A hardlink gives its target's. */
  readonly fileOffset: number;
  /** Where the entry's range ends; for a directory, the end of its GOODBYE table. */
  readonly end: number;
  readonly metadata: PxarMetadata;
  /** Regular files. */
  readonly data?: FileData;
  /** Symlinks. */
  readonly target?: Uint8Array;
  /** Devices. */
  readonly device?: PxarDevice;
}

/** Pieces read at a time while decoding an entry (ByteReader pulls only what it needs). */
const STEP = 64 * 1024;
const EMPTY = new Uint8Array(0);
/** Hardlink chains are one hop in a valid archive; this stops a corrupt one from looping. */
const MAX_LINK_HOPS = 8;
/**
 * The largest goodbye table read (16 Mi entries, 384 MiB): a directory's table is read whole, so
 * a damaged tail must not make the accessor ask for the archive's size in one piece.
 */
const MAX_GOODBYE_BYTES = HEADER_SIZE + GOODBYE_ITEM_SIZE * (16 * 1024 * 1024 + 1);
/** Parsed goodbye tables kept (a `find` looks up every name of a directory in turn). */
const TABLES_KEPT = 64;

interface Table {
  readonly start: number;
  /** In BST order, as stored (without the tail). */
  readonly items: readonly GoodbyeItem[];
}

export class PxarAccessor {
  readonly #ra: RandomAccess;
  #root: AccessedEntry | undefined;
  #split = false;
  /** Directory end → its parsed table, least recently used first. */
  readonly #tables = new Map<number, Promise<Table>>();

  constructor(ra: RandomAccess) {
    this.#ra = ra;
  }

  /** Whether file data lies in a payload archive (a split archive's `.mpxar`). */
  get split(): boolean {
    return this.#split;
  }

  #reader(from: number): ByteReader {
    const ra = this.#ra;
    async function* pieces(): AsyncGenerator<Uint8Array> {
      for (let at = from; at < ra.size; at += STEP) yield await ra.read(at, Math.min(STEP, ra.size - at));
    }
    return new ByteReader(pieces(), from);
  }

  async root(): Promise<AccessedEntry> {
    if (this.#root !== undefined) return this.#root;
    const r = this.#reader(0);
    let h = await readItemHeader(r);
    if (h.htype === PXAR_FORMAT_VERSION) {
      expectContentSize(h, 8);
      const [v] = decodeU64s(await r.read(8, 'the format version'));
      if (v !== 1n && v !== 2n) throw corruptAt(h, 'unsupported pxar format version', { version: String(v) });
      this.#split = v === 2n;
      h = await readItemHeader(r);
      if (h.htype === PXAR_PRELUDE) {
        expectContentSize(h, 0, MAX_PRELUDE_LEN);
        await r.skip(h.contentSize, 'the prelude');
        h = await readItemHeader(r);
      }
    } else if (h.htype !== PXAR_ENTRY && h.htype !== PXAR_ENTRY_V1) {
      throw fail('BAD_MAGIC', 'not a pxar archive: first item is neither FORMAT_VERSION nor ENTRY');
    }
    if (h.htype !== PXAR_ENTRY && h.htype !== PXAR_ENTRY_V1) throw corruptAt(h, 'archive root has no ENTRY');
    const { metadata } = await readEntryBody(r, h);
    if (fileTypeOfMode(metadata.stat.mode) !== 'directory') throw corruptAt(h, 'archive root is not a directory');
    this.#root = { kind: 'directory', name: EMPTY, fileOffset: 0, end: this.#ra.size, metadata };
    return this.#root;
  }

  /** A directory's goodbye table, parsed once while it is among the last TABLES_KEPT used. */
  #goodbye(dir: AccessedEntry): Promise<Table> {
    const hit = this.#tables.get(dir.end);
    if (hit !== undefined) {
      this.#tables.delete(dir.end);
      this.#tables.set(dir.end, hit);
      return hit;
    }
    const p = this.#readGoodbye(dir);
    this.#tables.set(dir.end, p);
    p.catch(() => this.#tables.delete(dir.end));
    if (this.#tables.size > TABLES_KEPT) this.#tables.delete(this.#tables.keys().next().value!);
    return p;
  }

  async #readGoodbye(dir: AccessedEntry): Promise<Table> {
    if (dir.kind !== 'directory') throw fail('INVALID_ARGUMENT', 'not a directory', { fileOffset: dir.fileOffset });
    if (dir.end < dir.fileOffset + HEADER_SIZE + GOODBYE_ITEM_SIZE || dir.end > this.#ra.size) {
      throw fail('CORRUPT', 'directory range out of the archive', { offset: dir.fileOffset, end: dir.end });
    }
    const tail = parseGoodbyeItems(await this.#ra.read(dir.end - GOODBYE_ITEM_SIZE, GOODBYE_ITEM_SIZE))[0]!;
    const start = dir.end - tail.size;
    if (tail.hash !== PXAR_GOODBYE_TAIL_MARKER || tail.size < HEADER_SIZE + GOODBYE_ITEM_SIZE || tail.size > MAX_GOODBYE_BYTES || start < dir.fileOffset) {
      throw fail('CORRUPT', 'directory does not end in a goodbye table', { offset: dir.fileOffset, end: dir.end });
    }
    const table = await this.#ra.read(start, tail.size);
    const view = new DataView(table.buffer, table.byteOffset, HEADER_SIZE);
    if (view.getBigUint64(0, true) !== PXAR_GOODBYE || view.getBigUint64(8, true) !== BigInt(tail.size)) {
      throw fail('CORRUPT', 'goodbye table header does not match its tail', { offset: start });
    }
    const items = parseGoodbyeItems(table.subarray(HEADER_SIZE));
    items.pop();
    for (const it of items) {
      // a child lies inside its directory, after the directory's own FILENAME and before the table
      if (it.offset >= start - dir.fileOffset || it.offset === 0) {
        throw fail('CORRUPT', 'goodbye item points outside its directory', { offset: start, item: it.offset });
      }
    }
    return { start, items };
  }

  /** The directory's members, in archive order (names in byte order, as encoded). */
  async list(dir: AccessedEntry): Promise<AccessedEntry[]> {
    const { start, items } = await this.#goodbye(dir);
    const ordered = [...items].sort((a, b) => b.offset - a.offset);
    const out: AccessedEntry[] = [];
    for (const it of ordered) out.push(await this.#child(start - it.offset, start - it.offset + it.size, start));
    return out;
  }

  /** The member `name` of `dir`, or undefined: a search of the table's BST by the name's hash. */
  async lookup(dir: AccessedEntry, name: Uint8Array): Promise<AccessedEntry | undefined> {
    const { start, items } = await this.#goodbye(dir);
    const hash = pxarNameHash(name);
    const compare = (it: GoodbyeItem): number => (hash < it.hash ? -1 : hash > it.hash ? 1 : 0);
    // equal hashes (a collision) are told apart by the FILENAME each points at
    for (let skip = 0; skip < items.length; skip++) {
      const i = bstSearch(items, 0, skip, compare);
      if (i === undefined) return undefined;
      const it = items[i]!;
      const e = await this.#child(start - it.offset, start - it.offset + it.size, start);
      if (Buffer.compare(e.name, name) === 0) return e;
    }
    return undefined;
  }

  /** The entry whose FILENAME is at `at`, its range ending at `end` (clipped to `limit`). */
  async #child(at: number, end: number, limit: number, hops = 0): Promise<AccessedEntry> {
    const r = this.#reader(at);
    const fh = await readItemHeader(r);
    if (fh.htype !== PXAR_FILENAME) throw corruptAt(fh, 'goodbye item does not point at a FILENAME');
    expectContentSize(fh, 2, PATH_ITEM_MAX);
    const name = decodeCString(fh, await r.read(fh.contentSize, 'a file name'));
    const problem = nameProblem(name);
    if (problem !== undefined) throw corruptAt(fh, `unsafe file name: ${problem}`);
    const first = await readItemHeader(r);
    if (first.htype === PXAR_HARDLINK) {
      if (hops >= MAX_LINK_HOPS) throw corruptAt(first, 'hardlink chain too long');
      expectContentSize(first, 9, 8 + PATH_ITEM_MAX);
      const link = decodeHardlink(first, await r.read(first.contentSize, 'a hardlink'), at);
      const target = await this.#child(at - link.delta, this.#ra.size, this.#ra.size, hops + 1);
      if (target.kind !== 'file') throw corruptAt(first, 'hardlink target is not a regular file');
      return { ...target, name };
    }
    if (first.htype !== PXAR_ENTRY && first.htype !== PXAR_ENTRY_V1) throw corruptAt(first, 'file name not followed by ENTRY or HARDLINK');
    const { metadata, next } = await readEntryBody(r, first);
    const kind = fileTypeOfMode(metadata.stat.mode);
    const base = { name, fileOffset: at, end: Math.min(end, limit), metadata };
    return this.#body(r, base, kind, next);
  }

  async #body(r: ByteReader, base: Omit<AccessedEntry, 'kind'>, kind: PxarFileType | undefined, next: ItemHeader): Promise<AccessedEntry> {
    const expect = (allowed: readonly PxarFileType[]): PxarFileType => {
      if (kind === undefined || !allowed.includes(kind)) throw corruptAt(next, 'entry mode does not match its kind', { mode: base.metadata.stat.mode.toString(8) });
      return kind;
    };
    switch (next.htype) {
      case PXAR_PAYLOAD:
        expect(['file']);
        if (this.#split) throw corruptAt(next, 'inline PAYLOAD in a split archive');
        if (next.offset + HEADER_SIZE + next.contentSize > this.#ra.size) throw corruptAt(next, 'file data runs past the archive');
        return { kind: 'file', ...base, data: { in: 'archive', offset: next.offset + HEADER_SIZE, size: next.contentSize } };
      case PXAR_PAYLOAD_REF: {
        expect(['file']);
        if (!this.#split) throw corruptAt(next, 'PAYLOAD_REF in a unified (v1) archive');
        expectContentSize(next, 16);
        const ref = decodePayloadRef(next, await r.read(16, 'a payload reference'));
        return { kind: 'file', ...base, data: { in: 'payload', headerOffset: ref.offset, size: ref.size } };
      }
      case PXAR_SYMLINK: {
        expect(['symlink']);
        expectContentSize(next, 1, PATH_ITEM_MAX);
        return { kind: 'symlink', ...base, target: decodeCString(next, await r.read(next.contentSize, 'a symlink target')) };
      }
      case PXAR_DEVICE:
        expectContentSize(next, 16);
        return { kind: expect(['char-device', 'block-device']), ...base, device: decodeDevice(await r.read(16, 'a device')) };
      case PXAR_FILENAME:
      case PXAR_GOODBYE:
        return { kind: expect(['directory', 'fifo', 'socket']), ...base };
      default:
        throw corruptAt(next, 'unexpected item after an entry');
    }
  }
}
