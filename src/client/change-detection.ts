/**
 * The decisions of metadata change detection (docs/change-detection.md), as pure functions:
 * whether a file may reuse its previous payload, and which previous payload chunks to inject.
 *
 * A file is unchanged when, as in PBS, its path is in the previous metadata archive as a regular
 * file with a payload reference, its whole pxar metadata (mode, flags, uid, gid, mtime, xattrs,
 * ACLs, fcaps, quota project id) is equal and its size is equal; and, beyond PBS, its inode
 * number and ctime equal those recorded by the previous backup (`FileIdentity`). ctime cannot be
 * set from user space, so a file rewritten to the same size and given back its old mtime still
 * differs there and is read again. A file without a recorded identity is always read.
 *
 * Chunk reuse (PBS's rule, CHUNK_PADDING_THRESHOLD): the previous chunks covering unchanged
 * files are injected whole only if the bytes in them that none of those files uses ("padding")
 * are at most 10% of the injected bytes; otherwise the files are read and encoded anew. PBS
 * decides for a whole run of up to 512 files; we decide per group of files that share chunks
 * (`planInjectionGroups`), so a changed file costs only its chunk neighbours.
 *
 * A run that ends because the cache is full, not because a file must be read, is cut where a
 * previous chunk begins with a file (`chunkAlignedSplit`); the files after the cut wait for the
 * next run; with no such place yet, the run goes on gathering files (up to REUSE_CACHE_LIMIT).
 * Cut anywhere else, the chunk at the cut would be padding for both runs, and on a tree of small
 * files (hundreds a chunk) that alone passed the 10% limit: an unchanged re-backup of 20,000
 * files of 0..8 KiB read a third of them again.
 */
import type { PxarAcl, PxarAclEntry, PxarMetadata } from '../format/pxar/metadata.ts';
import type { KnownChunk } from '../remote/backup-writer.ts';

export const CHUNK_PADDING_THRESHOLD = 0.1;
/** Unchanged files gathered before their chunks are injected (PBS's DEFAULT_CACHE_SIZE). */
export const REUSE_CACHE_SIZE = 512;
/**
 * The most files a run may gather while it waits for a chunk boundary to cut at (a previous
 * chunk can hold thousands of small files); beyond it the run is settled whole. ~0.5 KiB each.
 */
export const REUSE_CACHE_LIMIT = 16_384;
/** A PAYLOAD item's header, which sits in front of the file data in the payload stream. */
const PAYLOAD_HEADER = 16;

/** What the previous backup recorded about a file beyond its pxar metadata. */
export interface FileIdentity {
  readonly ino: bigint;
  readonly ctimeNs: bigint;
}

export function identityEqual(a: FileIdentity | undefined, b: FileIdentity): boolean {
  return a !== undefined && a.ino === b.ino && a.ctimeNs === b.ctimeNs;
}

function bytesEqual(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

function aclListEqual(a: readonly PxarAclEntry[], b: readonly PxarAclEntry[]): boolean {
  const key = (l: readonly PxarAclEntry[]): string => l.map((e) => `${e.id}:${e.permissions}`).sort().join(',');
  return key(a) === key(b);
}

function aclEqual(a: PxarAcl, b: PxarAcl): boolean {
  if (a === b) return true; // both EMPTY_ACL, as for most files: no keys built
  const d = (x: PxarAcl): string => (x.default === undefined ? '' : `${x.default.userObj}:${x.default.groupObj}:${x.default.other}:${x.default.mask}`);
  return aclListEqual(a.users, b.users) && aclListEqual(a.groups, b.groups) && a.groupObj === b.groupObj && d(a) === d(b)
    && aclListEqual(a.defaultUsers, b.defaultUsers) && aclListEqual(a.defaultGroups, b.defaultGroups);
}

/** PBS compares the whole `Metadata`: stat, xattrs (in order), ACLs, fcaps and quota project id. */
export function metadataEqual(a: PxarMetadata, b: PxarMetadata): boolean {
  const s = a.stat;
  const t = b.stat;
  if (s.mode !== t.mode || s.flags !== t.flags || s.uid !== t.uid || s.gid !== t.gid || s.mtime.secs !== t.mtime.secs || s.mtime.nanos !== t.mtime.nanos) return false;
  if (a.xattrs.length !== b.xattrs.length) return false;
  for (let i = 0; i < a.xattrs.length; i++) {
    const x = a.xattrs[i]!;
    const y = b.xattrs[i]!;
    if (!bytesEqual(x.name, y.name) || !bytesEqual(x.value, y.value)) return false;
  }
  return aclEqual(a.acl, b.acl) && bytesEqual(a.fcaps, b.fcaps) && a.quotaProjectId === b.quotaProjectId;
}

/** One chunk of the previous payload stream: bytes [start, end). */
export interface PayloadChunk {
  readonly start: number;
  readonly end: number;
  readonly digest: Uint8Array;
}

export interface InjectionPlan {
  readonly chunks: readonly KnownChunk[];
  /** Bytes injected. */
  readonly total: number;
  /** Per file: offset of its PAYLOAD header relative to the start of the injected bytes. */
  readonly offsets: readonly number[];
}

export interface InjectionGroup {
  /** Index of the group's first file in the run. */
  readonly first: number;
  readonly count: number;
  /** Undefined: the group's files are read anew (too much padding, or not in the stream). */
  readonly plan: InjectionPlan | undefined;
}

/**
 * Splits a run of unchanged files into groups that share no chunk with each other and plans
 * each group on its own, so that one changed neighbour costs only the files that share a chunk
 * with it, not the whole run (PBS decides for the whole run at once).
 */
export function planInjectionGroups(files: readonly { readonly offset: number; readonly size: number }[], chunks: readonly PayloadChunk[], threshold = CHUNK_PADDING_THRESHOLD): InjectionGroup[] {
  const groups: InjectionGroup[] = [];
  let first = 0;
  let lastChunk = -1;
  const close = (end: number): void => {
    if (end > first) groups.push({ first, count: end - first, plan: planInjection(files.slice(first, end), chunks, threshold) });
    first = end;
  };
  for (const [i, f] of files.entries()) {
    const end = f.offset + PAYLOAD_HEADER + f.size;
    if (chunks.length === 0 || end > chunks[chunks.length - 1]!.end) {
      close(i); // a file outside the stream is a group of its own, which is then read
      close(i + 1);
      lastChunk = -1;
      continue;
    }
    if (chunkAt(chunks, f.offset) > lastChunk) close(i);
    lastChunk = chunkAt(chunks, end - 1);
  }
  close(files.length);
  return groups;
}

/**
 * Where to cut a run of unchanged files (previous payload offsets, increasing) whose injection
 * can wait: the index of the last file, after the first, whose PAYLOAD header starts a previous
 * chunk; the files before it then share no chunk with those from it on. Undefined when no file
 * but the first starts a chunk (the whole run is settled at once).
 */
export function chunkAlignedSplit(offsets: readonly number[], chunks: readonly PayloadChunk[]): number | undefined {
  for (let k = offsets.length - 1; k > 0; k--) {
    const at = offsets[k]!;
    if (chunks.length === 0 || at >= chunks[chunks.length - 1]!.end) continue;
    if (chunks[chunkAt(chunks, at)]!.start === at) return k;
  }
  return undefined;
}

/** Index of the chunk holding byte `at` (chunks sorted, contiguous). */
function chunkAt(chunks: readonly PayloadChunk[], at: number): number {
  let lo = 0;
  let hi = chunks.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (chunks[mid]!.end <= at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Plans the injection for files given by the previous payload offset of their PAYLOAD header
 * and their data size, in strictly increasing offset order. Returns undefined when a file lies
 * outside the previous stream or the padding exceeds the threshold (the caller re-encodes).
 */
export function planInjection(files: readonly { readonly offset: number; readonly size: number }[], chunks: readonly PayloadChunk[], threshold = CHUNK_PADDING_THRESHOLD): InjectionPlan | undefined {
  const streamEnd = chunks[chunks.length - 1]?.end ?? 0;
  const picked: number[] = [];
  /** Chunk index → offset of its copy within the injected bytes. */
  const injectedAt = new Map<number, number>();
  const offsets: number[] = [];
  let used = 0;
  let total = 0;
  let previousEnd = 0;
  for (const f of files) {
    const end = f.offset + PAYLOAD_HEADER + f.size;
    if (f.offset < previousEnd || end > streamEnd) return undefined; // overlapping or outside: not a stream we wrote
    previousEnd = end;
    const first = chunkAt(chunks, f.offset);
    const last = chunkAt(chunks, end - 1);
    const already = picked[picked.length - 1];
    for (let i = already === undefined || already < first ? first : already + 1; i <= last; i++) {
      picked.push(i);
      injectedAt.set(i, total);
      total += chunks[i]!.end - chunks[i]!.start;
    }
    offsets.push(injectedAt.get(first)! + f.offset - chunks[first]!.start);
    used += PAYLOAD_HEADER + f.size;
  }
  if (total === 0 || (total - used) / total > threshold) return undefined;
  return { chunks: picked.map((i) => ({ known: chunks[i]!.digest, size: chunks[i]!.end - chunks[i]!.start })), total, offsets };
}
