/**
 * PxarEncoder: a synchronous, push-style pxar writer (pxar-format.md §4, §8). The caller walks
 * its tree and calls enter/leave/add in archive order; the encoder tracks offsets, builds each
 * directory's goodbye table and queues output that the caller drains with `takeArchive()` (and
 * `takePayload()` in split mode). File data is pushed in pieces, so nothing holds whole files.
 *
 * Unified mode writes format v1 (no FORMAT_VERSION item, PAYLOAD inline). Split mode writes v2:
 * FORMAT_VERSION(2) [PRELUDE] in the metadata stream and PAYLOAD items in the payload stream
 * between a start and a tail marker, referenced by PAYLOAD_REF. Invariants: every entry kind
 * agrees with its mode, file data matches the declared size exactly, payload references
 * increase strictly (pxar ≥ 1.0.1), and the root entry's goodbye tail points at offset 0.
 */
import { fail } from '../../core/errors.ts';
import {
  HEADER_SIZE, PXAR_PAYLOAD, PXAR_PAYLOAD_START_MARKER, PXAR_PAYLOAD_TAIL_MARKER,
  S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK,
} from './constants.ts';
import { goodbyeTable, type GoodbyeChild } from './goodbye.ts';
import {
  deviceItem, filenameItem, formatVersionItem, hardlinkItem, headerItem, metadataItems,
  payloadRefItem, preludeItem, symlinkItem,
} from './items.ts';
import type { PxarDevice, PxarMetadata } from './metadata.ts';
import { OutputQueue } from './output-queue.ts';
import { pxarNameHash } from './siphash.ts';

export interface PxarEncoderOptions {
  /** Write a v2 split archive (metadata + payload streams) instead of a v1 unified one. */
  readonly split?: boolean;
  /** PRELUDE content (split mode only; PBS writes JSON with exclude patterns). */
  readonly prelude?: Uint8Array;
}

interface DirFrame {
  readonly entryOffset: number;
  readonly fileOffset: number;
  readonly hash: bigint;
  readonly children: GoodbyeChild[];
}

interface OpenFile {
  readonly fileOffset: number;
  readonly hash: bigint;
  readonly size: number;
  written: number;
}

export class PxarEncoder {
  readonly #archive = new OutputQueue();
  readonly #payload: OutputQueue | undefined;
  readonly #stack: DirFrame[] = [];
  #openFile: OpenFile | undefined;
  #lastPayloadRef = -1;
  #finished = false;

  constructor(root: PxarMetadata, opts: PxarEncoderOptions = {}) {
    requireType(root, S_IFDIR, 'the archive root');
    if (opts.split === true) {
      this.#payload = new OutputQueue();
      this.#payload.write(headerItem(PXAR_PAYLOAD_START_MARKER, 0));
      this.#archive.write(formatVersionItem(2));
      if (opts.prelude !== undefined) this.#archive.write(preludeItem(opts.prelude));
    } else if (opts.prelude !== undefined) {
      throw fail('INVALID_ARGUMENT', 'a prelude needs a split (v2) archive');
    }
    this.#writeAll(metadataItems(root));
    this.#stack.push({ entryOffset: 0, fileOffset: 0, hash: 0n, children: [] });
  }

  get split(): boolean {
    return this.#payload !== undefined;
  }

  get archivePosition(): number {
    return this.#archive.position;
  }

  get payloadPosition(): number {
    return this.#payload?.position ?? 0;
  }

  /** Opens a child directory; its children follow until the matching `leaveDirectory`. */
  enterDirectory(name: Uint8Array, meta: PxarMetadata): void {
    requireType(meta, S_IFDIR, 'a directory');
    const items = metadataItems(meta);
    const { fileOffset, hash } = this.#beginChild(name);
    const entryOffset = this.#archive.position;
    this.#writeAll(items);
    this.#stack.push({ entryOffset, fileOffset, hash, children: [] });
  }

  leaveDirectory(): void {
    this.#requireIdle();
    if (this.#stack.length < 2) throw fail('INVALID_ARGUMENT', 'leaveDirectory without an open child directory');
    const frame = this.#closeFrame();
    this.#current().children.push({ hash: frame.hash, fileOffset: frame.fileOffset, size: this.#archive.position - frame.fileOffset });
  }

  /** Starts a regular file of exactly `size` bytes; returns its FILENAME offset (for hardlinks). */
  beginFile(name: Uint8Array, meta: PxarMetadata, size: number): number {
    requireType(meta, S_IFREG, 'a regular file');
    if (!Number.isSafeInteger(size) || size < 0) throw fail('INVALID_ARGUMENT', 'bad file size', { size });
    const items = metadataItems(meta);
    const { fileOffset, hash } = this.#beginChild(name);
    this.#writeAll(items);
    if (this.#payload === undefined) {
      this.#archive.write(headerItem(PXAR_PAYLOAD, size));
    } else {
      const offset = this.#payload.position;
      this.#notePayloadRef(offset);
      this.#payload.write(headerItem(PXAR_PAYLOAD, size));
      this.#archive.write(payloadRefItem(offset, size));
    }
    this.#openFile = { fileOffset, hash, size, written: 0 };
    return fileOffset;
  }

  /** Appends file data; the buffer is queued by reference and must not be reused. */
  writeFileData(bytes: Uint8Array): void {
    const file = this.#openFile;
    if (file === undefined) throw fail('INVALID_ARGUMENT', 'writeFileData without beginFile');
    if (file.written + bytes.length > file.size) throw fail('SIZE_MISMATCH', 'file data exceeds the declared size', { size: file.size, written: file.written + bytes.length });
    file.written += bytes.length;
    (this.#payload ?? this.#archive).write(bytes);
  }

  endFile(): void {
    const file = this.#openFile;
    if (file === undefined) throw fail('INVALID_ARGUMENT', 'endFile without beginFile');
    if (file.written !== file.size) throw fail('SIZE_MISMATCH', 'file data is shorter than the declared size', { size: file.size, written: file.written });
    this.#openFile = undefined;
    // Split mode adds the data size although the data lives in the payload stream (upstream quirk, §6.2).
    const size = this.#archive.position - file.fileOffset + (this.#payload === undefined ? 0 : file.size);
    this.#current().children.push({ hash: file.hash, fileOffset: file.fileOffset, size });
  }

  /**
   * Split mode: a file whose data already sits in the payload stream at `payloadOffset` (a
   * PAYLOAD header), e.g. inside chunks the caller re-injected. No data is written.
   */
  addFileRef(name: Uint8Array, meta: PxarMetadata, payloadOffset: number, size: number): number {
    requireType(meta, S_IFREG, 'a regular file');
    if (this.#payload === undefined) throw fail('INVALID_ARGUMENT', 'payload references need a split archive');
    if (payloadOffset + HEADER_SIZE + size > this.#payload.position) throw fail('INVALID_ARGUMENT', 'payload reference beyond the payload written so far', { payloadOffset, size });
    const items = [...metadataItems(meta), payloadRefItem(payloadOffset, size)];
    this.#notePayloadRef(payloadOffset);
    const { fileOffset, hash } = this.#beginChild(name);
    this.#writeAll(items);
    this.#current().children.push({ hash, fileOffset, size: this.#archive.position - fileOffset });
    return fileOffset;
  }

  /** Split mode: account for `bytes` of payload stream the caller copies in itself (chunk reuse). */
  skipPayload(bytes: number): void {
    if (this.#payload === undefined) throw fail('INVALID_ARGUMENT', 'skipPayload needs a split archive');
    this.#requireIdle();
    this.#payload.advance(bytes);
  }

  addSymlink(name: Uint8Array, meta: PxarMetadata, target: Uint8Array): void {
    requireType(meta, S_IFLNK, 'a symlink');
    this.#addLeaf(name, [...metadataItems(meta), symlinkItem(target)]);
  }

  addDevice(name: Uint8Array, meta: PxarMetadata, device: PxarDevice): void {
    requireType(meta, [S_IFCHR, S_IFBLK], 'a device');
    this.#addLeaf(name, [...metadataItems(meta), deviceItem(device)]);
  }

  /** A fifo or socket: metadata only, no body. */
  addSpecial(name: Uint8Array, meta: PxarMetadata): void {
    requireType(meta, [S_IFIFO, S_IFSOCK], 'a fifo or socket');
    this.#addLeaf(name, metadataItems(meta));
  }

  /** A second name for the regular file whose FILENAME is at `targetFileOffset`. */
  addHardlink(name: Uint8Array, targetPath: Uint8Array, targetFileOffset: number): void {
    const fileOffset = this.#archive.position;
    this.#addLeaf(name, [hardlinkItem(fileOffset - targetFileOffset, targetPath)]);
  }

  /** Writes the root goodbye (and the payload tail marker); the archive ends here. */
  finish(): void {
    this.#requireIdle();
    if (this.#stack.length !== 1) throw fail('INVALID_ARGUMENT', 'finish with open directories', { depth: this.#stack.length - 1 });
    this.#closeFrame();
    this.#finished = true;
    this.#payload?.write(headerItem(PXAR_PAYLOAD_TAIL_MARKER, 0));
    this.#archive.flush();
    this.#payload?.flush();
  }

  get finished(): boolean {
    return this.#finished;
  }

  /** Archive (metadata) stream pieces completed since the last call. */
  takeArchive(): Uint8Array[] {
    return this.#archive.take();
  }

  /** Payload stream pieces completed since the last call (split mode; empty otherwise). */
  takePayload(): Uint8Array[] {
    return this.#payload?.take() ?? [];
  }

  #current(): DirFrame {
    const frame = this.#stack[this.#stack.length - 1];
    if (frame === undefined || this.#finished) throw fail('INVALID_ARGUMENT', 'the archive is finished');
    return frame;
  }

  #requireIdle(): void {
    if (this.#openFile !== undefined) throw fail('INVALID_ARGUMENT', 'a file is still open (call endFile)');
  }

  #beginChild(name: Uint8Array): { fileOffset: number; hash: bigint } {
    this.#requireIdle();
    this.#current();
    const fileOffset = this.#archive.position;
    this.#archive.write(filenameItem(name));
    return { fileOffset, hash: pxarNameHash(name) };
  }

  #addLeaf(name: Uint8Array, items: readonly Uint8Array[]): void {
    const { fileOffset, hash } = this.#beginChild(name);
    this.#writeAll(items);
    this.#current().children.push({ hash, fileOffset, size: this.#archive.position - fileOffset });
  }

  #closeFrame(): DirFrame {
    const frame = this.#stack.pop() as DirFrame;
    this.#archive.write(goodbyeTable(frame.children, this.#archive.position, frame.entryOffset));
    return frame;
  }

  #writeAll(items: readonly Uint8Array[]): void {
    for (const item of items) this.#archive.write(item);
  }

  #notePayloadRef(offset: number): void {
    if (offset <= this.#lastPayloadRef) throw fail('INVALID_ARGUMENT', 'payload references must increase strictly', { offset, previous: this.#lastPayloadRef });
    this.#lastPayloadRef = offset;
  }
}

function requireType(meta: PxarMetadata, types: number | readonly number[], what: string): void {
  const type = meta.stat.mode & S_IFMT;
  const allowed = typeof types === 'number' ? [types] : types;
  if (!allowed.includes(type)) throw fail('INVALID_ARGUMENT', `mode does not describe ${what}`, { mode: meta.stat.mode.toString(8) });
}
