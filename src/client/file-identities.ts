/**
 * The file-identity record Holdfast uploads beside a split pxar archive (`NAME.fileid.blob`):
 * for each regular-file entry of the metadata archive, in archive order (hardlinks excluded),
 * the inode number and the ctime in nanoseconds. Metadata change detection compares them so a
 * file rewritten with the same size and mtime is still read (docs/change-detection.md).
 *
 * Layout: magic `HFFILEID` (8 bytes), u64 count, then count × (u64 ino, i64 ctime ns), little
 * endian. A record that does not parse, or whose count differs from the archive's files, is not
 * used (every file is then read).
 */
import { fail } from '../core/errors.ts';
import type { FileIdentity } from './change-detection.ts';

const MAGIC = Buffer.from('HFFILEID');
const RECORD = 16;
const HEAD = 16;

export function fileIdentityBlobName(archiveBase: string): string {
  return `${archiveBase}.fileid.blob`;
}

/** Collects identities in archive order. */
export class FileIdentityWriter {
  #buf = Buffer.alloc(HEAD + 1024 * RECORD);
  #count = 0;

  add(id: FileIdentity): void {
    const at = HEAD + this.#count * RECORD;
    if (at + RECORD > this.#buf.length) {
      const grown = Buffer.alloc(this.#buf.length * 2);
      this.#buf.copy(grown);
      this.#buf = grown;
    }
    this.#buf.writeBigUInt64LE(id.ino, at);
    this.#buf.writeBigInt64LE(id.ctimeNs, at + 8);
    this.#count++;
  }

  get count(): number {
    return this.#count;
  }

  bytes(): Uint8Array {
    MAGIC.copy(this.#buf, 0);
    this.#buf.writeBigUInt64LE(BigInt(this.#count), 8);
    return this.#buf.subarray(0, HEAD + this.#count * RECORD);
  }
}

/**
 * A checked record read in place: 16 bytes a file, and no object until one is asked for (held
 * for a whole backup, a million identities as objects with two BigInts each cost ~100 MB).
 */
export class FileIdentityTable {
  readonly count: number;
  readonly #b: Buffer;

  constructor(bytes: Uint8Array) {
    const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (b.length < HEAD || !b.subarray(0, 8).equals(MAGIC)) throw fail('BAD_MAGIC', 'not a file-identity record');
    const count = b.readBigUInt64LE(8);
    if (BigInt(b.length) !== BigInt(HEAD) + count * BigInt(RECORD)) throw fail('CORRUPT', 'file-identity record has the wrong length', { length: b.length, count: count.toString() });
    this.count = Number(count);
    this.#b = b;
  }

  /** True when file `i` (0 ≤ i < count) was recorded with this inode and ctime. */
  is(i: number, ino: bigint, ctimeNs: bigint): boolean {
    const at = HEAD + i * RECORD;
    return i >= 0 && i < this.count && this.#b.readBigUInt64LE(at) === ino && this.#b.readBigInt64LE(at + 8) === ctimeNs;
  }

  /** The identity of file `i` in archive order (0 ≤ i < count). */
  at(i: number): FileIdentity {
    if (!Number.isInteger(i) || i < 0 || i >= this.count) throw fail('INTERNAL', `file identity ${i} of ${this.count}`, {});
    const at = HEAD + i * RECORD;
    return { ino: this.#b.readBigUInt64LE(at), ctimeNs: this.#b.readBigInt64LE(at + 8) };
  }
}

export function decodeFileIdentities(bytes: Uint8Array): FileIdentity[] {
  const table = new FileIdentityTable(bytes);
  return Array.from({ length: table.count }, (_, i) => table.at(i));
}
