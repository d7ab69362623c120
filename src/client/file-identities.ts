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

export function decodeFileIdentities(bytes: Uint8Array): FileIdentity[] {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length < HEAD || !b.subarray(0, 8).equals(MAGIC)) throw fail('BAD_MAGIC', 'not a file-identity record');
  const count = b.readBigUInt64LE(8);
  if (BigInt(b.length) !== BigInt(HEAD) + count * BigInt(RECORD)) throw fail('CORRUPT', 'file-identity record has the wrong length', { length: b.length, count: count.toString() });
  const out: FileIdentity[] = [];
  for (let at = HEAD; at < b.length; at += RECORD) out.push({ ino: b.readBigUInt64LE(at), ctimeNs: b.readBigInt64LE(at + 8) });
  return out;
}
