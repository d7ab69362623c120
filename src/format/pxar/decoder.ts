/**
 * decodePxar: a streaming pxar decoder (v1 unified archives, and v2 split archives with or
 * without their payload stream). It reads the grammar of pxar-format.md §4.1 strictly in order
 * and yields events as it goes, holding only the open directories in memory.
 *
 * Checks, all raising coded errors: a first item that is not FORMAT_VERSION/ENTRY is BAD_MAGIC;
 * input ending early is TRUNCATED; everything structurally wrong is CORRUPT. That includes
 * item sizes, names that are not one safe path component (empty, ".", "..", containing "/" or
 * NUL), duplicate names in a directory, an entry kind that disagrees with its mode, PAYLOAD in a
 * split archive or PAYLOAD_REF in a unified one, goodbye tables that disagree with the entries
 * read (see goodbye-check.ts; can be turned off for hand-made legacy archives), and any byte
 * after the root's goodbye table. File data itself carries no checksum in pxar.
 */
import { fail } from '../../core/errors.ts';
import {
  HEADER_SIZE, MAX_PRELUDE_LEN, PXAR_DEVICE, PXAR_ENTRY, PXAR_ENTRY_V1, PXAR_FILENAME, PXAR_FORMAT_VERSION,
  PXAR_GOODBYE, PXAR_HARDLINK, PXAR_PAYLOAD, PXAR_PAYLOAD_REF, PXAR_PRELUDE, PXAR_SYMLINK,
} from './constants.ts';
import { ByteReader } from './byte-reader.ts';
import type { PxarDirectoryEntry, PxarEntry, PxarEvent, PxarFileEntry } from './entry.ts';
import { readEntryBody } from './entry-reader.ts';
import { parseGoodbyeItems } from './goodbye.ts';
import { goodbyeFullSize, verifyGoodbye, type ReadChild } from './goodbye-check.ts';
import {
  PATH_ITEM_MAX, copyBytes, corruptAt, decodeCString, decodeDevice, decodeHardlink, decodePayloadRef, decodeU64s,
  expectContentSize, readItemHeader, readItemHeaderNow, type ItemHeader,
} from './item-decode.ts';
import { fileTypeOfMode, type PxarFileType, type PxarMetadata } from './metadata.ts';
import { joinPath, nameProblem } from './names.ts';
import { isPayloadSource, PayloadReader, type PayloadSource } from './payload-reader.ts';
import { pxarNameHash } from './siphash.ts';

export interface DecodeOptions {
  /**
   * The `.ppxar` stream of a split archive, or a source that finds its PAYLOAD items by offset
   * (ranged-payload.ts); without it split files yield no data events.
   */
  readonly payload?: AsyncIterable<Uint8Array> | PayloadSource;
  /** Split archives: which files' data to read (default all); the others yield no data events. */
  readonly payloadFor?: (entry: PxarFileEntry) => boolean;
  /** Check every goodbye table against the entries read (default true). */
  readonly verifyGoodbye?: boolean;
}

interface Frame {
  readonly entry: PxarDirectoryEntry;
  readonly entryOffset: number;
  readonly hash: bigint;
  readonly children: ReadChild[];
  readonly names: Set<string>;
}

const EMPTY = new Uint8Array(0);

/** Decodes a pxar archive from a stream of buffers; see the module comment for the checks. */
export function decodePxar(source: AsyncIterable<Uint8Array>, opts: DecodeOptions = {}): AsyncGenerator<PxarEvent> {
  return new PxarDecoder(source, opts).run();
}

/** All entries of an archive, without file data (convenience for listings and tests). */
export async function listPxar(source: AsyncIterable<Uint8Array>, opts: DecodeOptions = {}): Promise<PxarEntry[]> {
  const out: PxarEntry[] = [];
  for await (const ev of decodePxar(source, opts)) if (ev.type === 'entry') out.push(ev.entry);
  return out;
}

class PxarDecoder {
  readonly #reader: ByteReader;
  readonly #payload: PayloadSource | undefined;
  readonly #payloadFor: ((entry: PxarFileEntry) => boolean) | undefined;
  readonly #verify: boolean;
  readonly #stack: Frame[] = [];
  #split = false;

  constructor(source: AsyncIterable<Uint8Array>, opts: DecodeOptions) {
    this.#reader = new ByteReader(source);
    const p = opts.payload;
    this.#payload = p === undefined || isPayloadSource(p) ? p : new PayloadReader(p);
    this.#payloadFor = opts.payloadFor;
    this.#verify = opts.verifyGoodbye ?? true;
  }

  async *run(): AsyncGenerator<PxarEvent> {
    let h = readItemHeaderNow(this.#reader) ?? (await readItemHeader(this.#reader));
    if (h.htype === PXAR_FORMAT_VERSION) {
      this.#split = await this.#readVersion(h);
      h = readItemHeaderNow(this.#reader) ?? (await readItemHeader(this.#reader));
      if (h.htype === PXAR_PRELUDE) {
        expectContentSize(h, 0, MAX_PRELUDE_LEN);
        yield { type: 'prelude', bytes: copyBytes(this.#reader.readNow(h.contentSize) ?? (await this.#reader.read(h.contentSize, 'the prelude'))) };
        h = readItemHeaderNow(this.#reader) ?? (await readItemHeader(this.#reader));
      }
    } else if (h.htype !== PXAR_ENTRY && h.htype !== PXAR_ENTRY_V1) {
      throw fail('BAD_MAGIC', 'not a pxar archive: first item is neither FORMAT_VERSION nor ENTRY');
    }
    if (h.htype !== PXAR_ENTRY && h.htype !== PXAR_ENTRY_V1) throw corruptAt(h, 'archive root has no ENTRY');
    const root = await readEntryBody(this.#reader, h);
    requireType(h, root.metadata, ['directory']);
    const entry: PxarDirectoryEntry = { kind: 'directory', path: EMPTY, fileOffset: 0, metadata: root.metadata };
    yield { type: 'entry', entry };
    this.#stack.push({ entry, entryOffset: 0, hash: 0n, children: [], names: new Set() });
    let next = root.next;
    for (;;) {
      const frame = this.#stack[this.#stack.length - 1] as Frame;
      if (next.htype === PXAR_FILENAME) {
        next = yield* this.#child(frame, next);
      } else if (next.htype === PXAR_GOODBYE) {
        yield* this.#goodbye(frame, next);
        if (this.#stack.length === 0) break;
        next = readItemHeaderNow(this.#reader) ?? (await readItemHeader(this.#reader));
      } else {
        throw corruptAt(next, 'unexpected item in a directory');
      }
    }
    if (!(await this.#reader.atEof())) throw fail('CORRUPT', 'data after the end of the archive', { offset: this.#reader.position });
  }

  async #readVersion(h: ItemHeader): Promise<boolean> {
    expectContentSize(h, 8);
    const [version] = decodeU64s(this.#reader.readNow(8) ?? (await this.#reader.read(8, 'the format version')));
    if (version !== 1n && version !== 2n) throw corruptAt(h, 'unsupported pxar format version', { version: String(version) });
    return version === 2n;
  }

  /** One child, from its FILENAME; returns the header that follows it. */
  async *#child(frame: Frame, h: ItemHeader): AsyncGenerator<PxarEvent, ItemHeader> {
    const fileOffset = h.offset;
    const name = await this.#readName(frame, h);
    const path = joinPath(frame.entry.path, name);
    const record = (size: number, altSize?: number): void => {
      if (!this.#verify) return;
      const child = { hash: pxarNameHash(name), fileOffset, size };
      frame.children.push(altSize === undefined ? child : { ...child, altSize });
    };
    const first = readItemHeaderNow(this.#reader) ?? (await readItemHeader(this.#reader));
    if (first.htype === PXAR_HARDLINK) {
      expectContentSize(first, 9, 8 + PATH_ITEM_MAX);
      const link = decodeHardlink(first, this.#reader.readNow(first.contentSize) ?? (await this.#reader.read(first.contentSize, 'a hardlink')), fileOffset);
      yield { type: 'entry', entry: { kind: 'hardlink', path, fileOffset, target: link.target, targetOffset: fileOffset - link.delta } };
      record(this.#reader.position - fileOffset);
      return readItemHeaderNow(this.#reader) ?? (await readItemHeader(this.#reader));
    }
    if (first.htype !== PXAR_ENTRY && first.htype !== PXAR_ENTRY_V1) throw corruptAt(first, 'file name not followed by ENTRY or HARDLINK');
    const { metadata, next } = await readEntryBody(this.#reader, first);
    return yield* this.#body({ path, fileOffset, metadata }, name, first, next, record);
  }

  /** A FILENAME's name: one safe path component, not yet seen in this directory. */
  async #readName(frame: Frame, h: ItemHeader): Promise<Uint8Array> {
    expectContentSize(h, 2, PATH_ITEM_MAX);
    const name = decodeCString(h, this.#reader.readNow(h.contentSize) ?? (await this.#reader.read(h.contentSize, 'a file name')));
    const problem = nameProblem(name);
    if (problem !== undefined) throw corruptAt(h, `unsafe file name: ${problem}`, { reason: 'unsafe-name', name: Buffer.from(name).toString('hex') });
    const key = Buffer.from(name.buffer, name.byteOffset, name.byteLength).toString('latin1');
    if (frame.names.has(key)) throw corruptAt(h, 'duplicate name in a directory', { name: Buffer.from(name).toString('hex') });
    frame.names.add(key);
    return name;
  }

  /** The kind-specific part after an entry's attributes; `next` is the header that decides it. */
  async *#body(
    base: { path: Uint8Array; fileOffset: number; metadata: PxarMetadata },
    name: Uint8Array,
    first: ItemHeader,
    next: ItemHeader,
    record: (size: number, altSize?: number) => void,
  ): AsyncGenerator<PxarEvent, ItemHeader> {
    const { fileOffset, metadata } = base;
    switch (next.htype) {
      case PXAR_PAYLOAD: {
        requireType(next, metadata, ['file']);
        if (this.#split) throw corruptAt(next, 'inline PAYLOAD in a split archive');
        yield { type: 'entry', entry: { kind: 'file', ...base, size: next.contentSize } };
        for await (const bytes of this.#reader.pieces(next.contentSize, 'file data')) yield { type: 'data', bytes };
        record(this.#reader.position - fileOffset);
        break;
      }
      case PXAR_PAYLOAD_REF: {
        requireType(next, metadata, ['file']);
        if (!this.#split) throw corruptAt(next, 'PAYLOAD_REF in a unified (v1) archive');
        expectContentSize(next, 16);
        const ref = decodePayloadRef(next, this.#reader.readNow(16) ?? (await this.#reader.read(16, 'a payload reference')));
        const entry: PxarFileEntry = { kind: 'file', ...base, size: ref.size, payloadOffset: ref.offset };
        yield { type: 'entry', entry };
        if (this.#payload !== undefined && (this.#payloadFor?.(entry) ?? true)) for await (const bytes of this.#payload.read(ref.offset, ref.size)) yield { type: 'data', bytes };
        const size = this.#reader.position - fileOffset;
        record(size, size + ref.size);
        break;
      }
      case PXAR_SYMLINK: {
        requireType(next, metadata, ['symlink']);
        expectContentSize(next, 1, PATH_ITEM_MAX);
        const target = decodeCString(next, this.#reader.readNow(next.contentSize) ?? (await this.#reader.read(next.contentSize, 'a symlink target')));
        yield { type: 'entry', entry: { kind: 'symlink', ...base, target } };
        record(this.#reader.position - fileOffset);
        break;
      }
      case PXAR_DEVICE: {
        const kind = requireType(next, metadata, ['char-device', 'block-device']) as 'char-device' | 'block-device';
        expectContentSize(next, 16);
        const device = decodeDevice(this.#reader.readNow(16) ?? (await this.#reader.read(16, 'a device')));
        yield { type: 'entry', entry: { kind, ...base, device } };
        record(this.#reader.position - fileOffset);
        break;
      }
      case PXAR_FILENAME:
      case PXAR_GOODBYE: {
        const kind = requireType(next, metadata, ['directory', 'fifo', 'socket']);
        if (kind === 'directory') {
          const entry: PxarDirectoryEntry = { kind, ...base };
          yield { type: 'entry', entry };
          this.#stack.push({ entry, entryOffset: first.offset, hash: this.#verify ? pxarNameHash(name) : 0n, children: [], names: new Set() });
        } else {
          yield { type: 'entry', entry: { kind: kind as 'fifo' | 'socket', ...base } };
          record(next.offset - fileOffset);
        }
        return next;
      }
      default:
        throw corruptAt(next, 'unexpected item after an entry');
    }
    return readItemHeaderNow(this.#reader) ?? (await readItemHeader(this.#reader));
  }

  async *#goodbye(frame: Frame, h: ItemHeader): AsyncGenerator<PxarEvent> {
    this.#stack.pop();
    if (this.#verify) {
      if (h.contentSize + HEADER_SIZE !== goodbyeFullSize(frame.names.size)) throw corruptAt(h, 'goodbye table size differs from the directory', { children: frame.names.size });
      const items = parseGoodbyeItems(this.#reader.readNow(h.contentSize) ?? (await this.#reader.read(h.contentSize, 'a goodbye table')));
      verifyGoodbye(items, frame.children, h.offset, frame.entryOffset);
    } else {
      await this.#reader.skip(h.contentSize, 'a goodbye table');
    }
    yield { type: 'directory-end', entry: frame.entry };
    const parent = this.#stack[this.#stack.length - 1];
    if (parent !== undefined && this.#verify) {
      parent.children.push({ hash: frame.hash, fileOffset: frame.entry.fileOffset, size: this.#reader.position - frame.entry.fileOffset });
    }
  }
}

/** The entry's file type, which must be one of `allowed` for the item that follows it. */
function requireType(h: ItemHeader, metadata: PxarMetadata, allowed: readonly PxarFileType[]): PxarFileType {
  const type = fileTypeOfMode(metadata.stat.mode);
  if (type === undefined || !allowed.includes(type)) throw corruptAt(h, 'entry mode does not match its kind', { mode: metadata.stat.mode.toString(8), allowed });
  return type;
}
