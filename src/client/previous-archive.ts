/**
 * Loads what metadata change detection needs from the previous snapshot of the group (read
 * through a reader session, so every byte is checked as in a restore): the regular files of its
 * metadata archive (`NAME.mpxar.didx`) with metadata, size and payload offset; the chunk list of
 * its payload index (`NAME.ppxar.didx`), checked against its manifest; and the file identities
 * (`NAME.fileid.blob`). Payload chunks are not downloaded. Any failure is the caller's cue to
 * fall back to reading every file; this module never guesses.
 *
 * Memory, held for the whole backup: per regular file, its path as a string in an array and 64
 * bytes in typed arrays (`PreviousFiles`); only a file with xattrs, ACLs, fcaps or a quota project
 * keeps its decoded metadata. One object per file (metadata, stat, mtime, identity, the entry
 * itself) cost ~420 bytes each: 829 MiB of peak RSS for an unchanged re-backup of a million small
 * files, against restic's 329 (docs/benchmarks.md).
 */
import { byteKey } from '../core/byte-key.ts';
import { fail } from '../core/errors.ts';
import { decodePxar } from '../format/pxar/decoder.ts';
import { EMPTY_ACL, EMPTY_XATTRS, type PxarMetadata } from '../format/pxar/metadata.ts';
import { metadataEqual, type PayloadChunk } from './change-detection.ts';
import { FileIdentityTable, fileIdentityBlobName } from './file-identities.ts';
import type { RestoreReader } from '../remote/restore-reader.ts';

export interface PreviousArchive {
  /** Keyed by `pathKey` of the path relative to the archive root. */
  readonly files: PreviousFiles;
  readonly chunks: readonly PayloadChunk[];
  /** Why files carry no identity (then none is reused), or undefined when all do. */
  readonly identityProblem?: string;
}

export function pathKey(path: Uint8Array): string {
  return byteKey(path);
}

/** Metadata that the columns hold whole: no xattrs, ACLs, fcaps or quota project. */
function isPlain(m: PxarMetadata): boolean {
  const a = m.acl;
  return (
    m.xattrs.length === 0 &&
    m.fcaps === undefined &&
    m.quotaProjectId === undefined &&
    a.users.length + a.groups.length + a.defaultUsers.length + a.defaultGroups.length === 0 &&
    a.groupObj === undefined &&
    a.default === undefined
  );
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = -MAX_SAFE;

/** True when `b` is a safe integer equal to the number `n` (no BigInt is made). */
function bigIs(b: bigint, n: number): boolean {
  return b <= MAX_SAFE && b >= MIN_SAFE && Number(b) === n;
}

/**
 * The previous archive's regular files, in columns: per file its path key in an array and 64 bytes
 * of numbers; only a file with xattrs, ACLs, fcaps or a quota project (or a time or flags beyond
 * 2^53) keeps its decoded metadata. Files are numbered in archive order, which is also the order
 * of the file-identity record. Lookups build no objects: one per file held for the backup was
 * what cost (see the module comment), and one per lookup, twice per file, made an unchanged
 * re-backup slower.
 *
 * Finding a path: an archive lists its entries depth first with each directory's names in byte
 * order (pxar-format.md), which is `walkBefore` order of the paths, and a backup walks its tree in
 * that same order. So the keys are kept sorted, without a Map (~40 bytes a file less, and no
 * hashing): a `PathCursor` looks first at the key after the one it found last (an unchanged tree
 * hits every time), else binary-searches. Should an archive not be in that order (no writer
 * known to us does that), the keys are put in a Map instead: a lookup is then always right,
 * only its memory is not saved.
 */
export class PreviousFiles {
  #keys: string[] = [];
  /** set once a key came out of order: then every lookup goes through it */
  #index: Map<string, number> | undefined;
  readonly #extras = new Map<number, PxarMetadata>();
  #count = 0;
  /**
   * Per file NUMS numbers (size, payload offset, mode, uid, gid, mtime seconds and nanoseconds,
   * flags), file i in page i >> PAGE_SHIFT. The first page doubles up to PAGE_FILES files; the
   * others are allocated whole and never copied. One array doubling to a million files left
   * 64 MiB of old copies for V8 to collect whenever it got round to it, and the peak RSS of an
   * unchanged re-backup of a million files went up or down by ~100 MiB with that timing.
   */
  readonly #pages: Float64Array[] = [new Float64Array(1024 * NUMS)];
  #identities: FileIdentityTable | undefined;

  get size(): number {
    return this.#count;
  }

  /** False once the files came out of archive order and lookups went to a map (tests). */
  get ordered(): boolean {
    return this.#index === undefined;
  }

  /** Appends the next file in archive order (a valid archive names each path once). */
  add(key: string, metadata: PxarMetadata, size: number, payloadOffset: number): void {
    const i = this.#count;
    const page = i >>> PAGE_SHIFT;
    if (page === this.#pages.length) this.#pages.push(new Float64Array(PAGE_FILES * NUMS));
    let n = this.#pages[page]!;
    const at = (i & PAGE_MASK) * NUMS;
    if (at + NUMS > n.length) {
      const grown = new Float64Array(n.length * 2); // the first page only: the others are whole
      grown.set(n);
      this.#pages[page] = grown;
      n = grown;
    }
    this.#count++;
    if (this.#index === undefined && i > 0 && !walkBefore(this.#keys[i - 1]!, key)) {
      this.#index = new Map(this.#keys.map((k, j) => [k, j]));
      this.#keys = [];
    }
    if (this.#index !== undefined) this.#index.set(key, i);
    else this.#keys.push(key);
    const st = metadata.stat;
    n[at] = size;
    n[at + 1] = payloadOffset;
    n[at + 2] = st.mode;
    n[at + 3] = st.uid;
    n[at + 4] = st.gid;
    const secs = Number(st.mtime.secs);
    const flags = Number(st.flags);
    n[at + 5] = secs;
    n[at + 6] = st.mtime.nanos;
    n[at + 7] = flags;
    if (!isPlain(metadata) || !bigIs(st.mtime.secs, secs) || !bigIs(st.flags, flags)) this.#extras.set(i, metadata);
  }

  /**
   * A cursor for lookups that mostly come in archive order (one per sequence of them: a walk's
   * lookups, a read-ahead's). Any order is answered right; archive order is answered fastest.
   */
  cursor(): PathCursor {
    return { next: 0 };
  }

  /** The number of the regular file at `key` (see `pathKey`), if the previous archive has one. */
  find(key: string, cursor: PathCursor = { next: 0 }): number | undefined {
    if (this.#index !== undefined) return this.#index.get(key);
    const keys = this.#keys;
    const guess = cursor.next;
    if (guess < keys.length && keys[guess] === key) {
      cursor.next = guess + 1;
      return guess;
    }
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (walkBefore(keys[mid]!, key)) lo = mid + 1;
      else hi = mid;
    }
    const found = lo < keys.length && keys[lo] === key;
    cursor.next = found ? lo + 1 : lo; // a new file: the next lookup is likely the key found here
    return found ? lo : undefined;
  }

  /** The identity record, one per file in archive order. */
  setIdentities(identities: FileIdentityTable): void {
    if (identities.count !== this.#count) throw fail('INTERNAL', `${identities.count} identities for ${this.#count} files`, {});
    this.#identities = identities;
  }

  sizeOf(i: number): number {
    return this.#pages[i >>> PAGE_SHIFT]![(i & PAGE_MASK) * NUMS]!;
  }

  payloadOffsetOf(i: number): number {
    return this.#pages[i >>> PAGE_SHIFT]![(i & PAGE_MASK) * NUMS + 1]!;
  }

  /** True when file `i` was recorded with this inode and ctime (false without a record). */
  identityIs(i: number, ino: bigint, ctimeNs: bigint): boolean {
    return this.#identities?.is(i, ino, ctimeNs) ?? false;
  }

  /** `metadataEqual` of file `i`'s metadata and `meta`. */
  metadataIs(i: number, meta: PxarMetadata): boolean {
    const kept = this.#extras.get(i);
    if (kept !== undefined || !isPlain(meta)) return metadataEqual(kept ?? this.metadataOf(i), meta);
    const n = this.#pages[i >>> PAGE_SHIFT]!;
    const at = (i & PAGE_MASK) * NUMS;
    const st = meta.stat;
    return st.mode === n[at + 2] && st.uid === n[at + 3] && st.gid === n[at + 4] && bigIs(st.mtime.secs, n[at + 5]!) && st.mtime.nanos === n[at + 6] && bigIs(st.flags, n[at + 7]!);
  }

  /** File `i`'s metadata, as decoded. */
  metadataOf(i: number): PxarMetadata {
    const kept = this.#extras.get(i);
    if (kept !== undefined) return kept;
    const n = this.#pages[i >>> PAGE_SHIFT]!;
    const at = (i & PAGE_MASK) * NUMS;
    const stat = { mode: n[at + 2]!, flags: BigInt(n[at + 7]!), uid: n[at + 3]!, gid: n[at + 4]!, mtime: { secs: BigInt(n[at + 5]!), nanos: n[at + 6]! } };
    return { stat, xattrs: EMPTY_XATTRS, acl: EMPTY_ACL };
  }
}

const NUMS = 8;
const PAGE_SHIFT = 16;
/** files per page: 4 MiB of numbers */
const PAGE_FILES = 1 << PAGE_SHIFT;
const PAGE_MASK = PAGE_FILES - 1;

/** Where the next lookup of a `PreviousFiles.find` sequence looks first. */
export interface PathCursor {
  next: number;
}

const SLASH = 0x2f;

/**
 * True when path key `a` comes before `b` in an archive: depth first, a directory's names in byte
 * order. That is byte order with `/` below every other byte: a name holds no `/`, so at the first
 * byte where two paths differ either both are inside the same name (byte order of siblings), or
 * one path's name ended there (`a` in `a/x`, against `a.b`), and `a`'s subtree comes before its
 * sibling `a.b`. A path before the paths below it (a prefix sorts first).
 */
export function walkBefore(a: string, b: string): boolean {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return (x === SLASH ? -1 : x) < (y === SLASH ? -1 : y);
  }
  return a.length < b.length;
}

export async function loadPreviousArchive(reader: RestoreReader, base: string): Promise<PreviousArchive> {
  const names = new Set(reader.manifest.files.map((f) => f.filename));
  const mpxar = `${base}.mpxar.didx`;
  const ppxar = `${base}.ppxar.didx`;
  if (!names.has(mpxar) || !names.has(ppxar)) throw fail('NOT_FOUND', `the previous snapshot has no split archive ${base}.mpxar/.ppxar`, { archive: base });
  // The payload index and the identity record download while the metadata archive streams in.
  const listing = reader.chunkList(ppxar);
  const identityBlob = startIdentities(reader, base, names);
  listing.catch(() => undefined);
  identityBlob.catch(() => undefined);
  const files = new PreviousFiles();
  // Goodbye tables are not checked: nothing here uses them (entries are read in order), and
  // checking hashes every name with SipHash, a tenth of an unchanged re-backup's main thread on
  // a tree of small files. The bytes are still proven by their chunk digests, and the structure
  // (item order, sizes, names) is still checked as the entries are read.
  // The chunks are recycled (RestoreReader.stream): every entry field kept here is a copy (names,
  // xattrs and fcaps are copied by the decoder, the rest become numbers), and the decoder holds a
  // view only until its next read. Fresh chunks were 4 MiB of garbage each, ~130 MiB for the
  // previous archive of a million files, and the peak RSS rose or fell with when V8 collected them.
  for await (const ev of decodePxar(reader.stream(mpxar, undefined, { recycle: true }), { verifyGoodbye: false })) {
    if (ev.type !== 'entry' || ev.entry.kind !== 'file') continue;
    const { path, metadata, size, payloadOffset } = ev.entry;
    if (payloadOffset !== undefined) files.add(pathKey(path), metadata, size, payloadOffset);
  }
  const list = await listing;
  let start = 0;
  const chunks = list.chunks.map((c) => {
    const chunk = { start, end: start + c.size, digest: c.digest };
    start += c.size;
    return chunk;
  });
  const { identities, problem } = checkIdentities(await identityBlob, files.size);
  if (identities !== undefined) files.setIdentities(identities);
  return { files, chunks, ...(problem === undefined ? {} : { identityProblem: problem }) };
}

/** The decoded identity record, or why there is none. */
async function startIdentities(reader: RestoreReader, base: string, names: Set<string>): Promise<FileIdentityTable | string> {
  const blob = fileIdentityBlobName(base);
  if (!names.has(blob)) return 'it recorded no inode numbers and ctimes (not made by Holdfast in metadata or data mode)';
  return new FileIdentityTable(await reader.readBlob(blob));
}

function checkIdentities(record: FileIdentityTable | string, count: number): { identities?: FileIdentityTable; problem?: string } {
  if (typeof record === 'string') return { problem: record };
  if (record.count !== count) return { problem: `its file-identity record has ${record.count} entries for ${count} files` };
  return { identities: record };
}
