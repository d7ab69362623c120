/**
 * Verify (PBS §8.2): re-reads every chunk a snapshot references and checks the CRC and, for
 * unencrypted chunks, the size and digest of the decoded data; checks each blob's size and
 * SHA-256, and each index's csum against the manifest. A corrupt chunk is quarantined as
 * `<digest>.<n>.bad` so the next upload of it stores a fresh copy; a missing one is reported.
 * The outcome is recorded as `unprotected.verify_state = {upid, state}` in the manifest through
 * the datastore's locked read-modify-write (`updateManifest`), the path notes and other changes
 * take too: verify never writes back the copy it read at the start, so a change made meanwhile
 * (notes set during a long verify) is kept. A failed snapshot is skipped as "previous" by the next
 * backup, so the client re-uploads its chunks: verify finds the damage, the next backup heals it.
 *
 * Chunks already checked in this job are not read again (`VerifyCache`), and a chunk found corrupt
 * fails every snapshot that references it.
 *
 * The check itself (CRC, size, zstd, SHA-256: the CPU of a verify) runs on the `checker` given,
 * a worker pool in the server (verify-job.ts), while the next chunks are read: each index is
 * walked by `readers` loops, each reading a chunk and then checking it. Only a failed check is
 * corruption; a checker that could not run (a worker lost) leaves the chunk not judged.
 *
 * A chunk that cannot be fetched (an object store's network error or 5xx after its retries, a
 * local read error) is not corrupt: it fails the snapshot in this task, but is never quarantined,
 * never cached as corrupt, and does not overwrite the snapshot's recorded verify state, since
 * nothing was learnt about its data (PBS once renamed chunks bad on object-store fetch errors, #6665).
 */
import { isHoldfastError, toHoldfastError } from '../core/errors.ts';
import { sha256, toHex } from '../core/digest.ts';
import type { Logger } from '../core/log.ts';
import type { SnapshotRef } from '../core/backup-ref.ts';
import { blobHeader, decodeBlob, verifyBlobCrc } from '../format/blob.ts';
import { checkFetchedChunk, inlineChunkChecker, type ChunkChecker } from '../chunks/chunk-check.ts';
import { dynamicIndexCsum, parseDynamicIndex } from '../format/dynamic-index.ts';
import { fixedIndexCsum, parseFixedIndex } from '../format/fixed-index.ts';
import type { Manifest } from '../format/manifest.ts';
import type { Datastore } from '../datastore/datastore.ts';
import { indexChunks } from '../datastore/index-files.ts';
import { snapshotDir } from '../datastore/layout.ts';

export interface VerifyCache {
  readonly ok: Set<string>;
  readonly corrupt: Set<string>;
}

export function newVerifyCache(): VerifyCache {
  return { ok: new Set(), corrupt: new Set() };
}

export interface SnapshotVerifyResult {
  readonly snapshot: string;
  readonly state: 'ok' | 'failed' | 'skipped';
  readonly errors: string[];
  readonly quarantined: string[];
}

export interface VerifyOptions {
  readonly upid: string;
  readonly log: Logger;
  readonly cache?: VerifyCache;
  /** chunks in flight at once per index (each read, then checked) */
  readonly readers?: number;
  /** where chunks are checked (default: inline, on this thread) */
  readonly checker?: ChunkChecker;
}

/** The errors a chunk's own bytes cause: these, and only these, make it corrupt. */
const CORRUPTION: ReadonlySet<string> = new Set(['BAD_MAGIC', 'BAD_CRC', 'TRUNCATED', 'CORRUPT', 'DIGEST_MISMATCH', 'SIZE_MISMATCH', 'CHUNK_TOO_LARGE']);

export async function verifySnapshot(store: Datastore, ref: SnapshotRef, o: VerifyOptions): Promise<SnapshotVerifyResult> {
  const name = store.show(ref);
  const cache = o.cache ?? newVerifyCache();
  let lock;
  try {
    lock = await store.locker.lockDir(snapshotDir(store.base, ref), 'shared', `snapshot ${name}`);
  } catch (e) {
    if (isHoldfastError(e, 'LOCKED') || isHoldfastError(e, 'NOT_FOUND')) return { snapshot: name, state: 'skipped', errors: [toHoldfastError(e).message], quarantined: [] };
    throw e;
  }
  const errors: string[] = [];
  const fetchErrors: string[] = [];
  const quarantined: string[] = [];
  try {
    let manifest: Manifest;
    try {
      manifest = await store.readManifest(ref);
    } catch (e) {
      if (isHoldfastError(e, 'NOT_FOUND')) return { snapshot: name, state: 'skipped', errors: [`no manifest: ${toHoldfastError(e).message}`], quarantined };
      // A manifest that exists but does not parse (a crash at `none` can leave it empty) fails the
      // snapshot, as upstream; there is nowhere to record the state.
      const error = `manifest unreadable: ${toHoldfastError(e).message}`;
      o.log.warn(`verify ${name}: failed (${error})`);
      return { snapshot: name, state: 'failed', errors: [error], quarantined };
    }
    for (const f of manifest.files) {
      try {
        if (f.filename.endsWith('.blob')) await verifyBlobFile(store, ref, f);
        else await verifyIndexFile(store, ref, f, cache, { errors, fetchErrors, quarantined }, o);
      } catch (e) {
        errors.push(`${f.filename}: ${toHoldfastError(e).message}`);
      }
    }
    const state = errors.length === 0 && fetchErrors.length === 0 ? 'ok' : 'failed';
    if (errors.length > 0 || fetchErrors.length === 0) {
      await store.updateManifest(ref, (m) => {
        m.unprotected['verify_state'] = { upid: o.upid, state };
      });
    }
    errors.push(...fetchErrors);
    o.log[state === 'ok' ? 'info' : 'warn'](`verify ${name}: ${state}${errors.length ? ` (${errors.length} errors)` : ''}`);
    for (const e of errors) o.log.warn(`  ${e}`);
    return { snapshot: name, state, errors, quarantined };
  } finally {
    await lock.release();
  }
}

async function verifyBlobFile(store: Datastore, ref: SnapshotRef, f: Manifest['files'][number]): Promise<void> {
  const bytes = await store.readSnapshotFile(ref, f.filename);
  if (bytes.length !== f.size) throw new Error(`size ${bytes.length} differs from the manifest's ${f.size}`);
  if (toHex(sha256(bytes)) !== f.csum) throw new Error('checksum differs from the manifest');
  if (!blobHeader(bytes).encrypted) decodeBlob(bytes);
  else verifyBlobCrc(bytes);
}

async function verifyIndexFile(
  store: Datastore,
  ref: SnapshotRef,
  f: Manifest['files'][number],
  cache: VerifyCache,
  found: { readonly errors: string[]; readonly fetchErrors: string[]; readonly quarantined: string[] },
  o: VerifyOptions,
): Promise<void> {
  const { errors, quarantined } = found;
  const bytes = await store.readSnapshotFile(ref, f.filename);
  const { csum, size } = f.filename.endsWith('.didx') ? dynamicIndexCsum(parseDynamicIndex(bytes).entries) : fixedCsum(bytes);
  if (toHex(csum) !== f.csum || size !== f.size) throw new Error('index checksum or size differs from the manifest');
  const chunks = indexChunks(f.filename, bytes);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < chunks.length) {
      const c = chunks[next++]!;
      if (cache.ok.has(c.digest)) continue;
      if (cache.corrupt.has(c.digest)) {
        errors.push(`${f.filename}: chunk ${c.digest} is corrupt`);
        continue;
      }
      let problem: string | undefined;
      try {
        problem = await checkChunk(store, c.digest, c.size, f.cryptMode === 'encrypt', o.checker ?? inlineChunkChecker);
      } catch (e) {
        const err = toHoldfastError(e);
        found.fetchErrors.push(`${f.filename}: chunk ${c.digest} could not be read (${err.code}: ${err.message}); not judged`);
        continue;
      }
      if (problem === undefined) {
        cache.ok.add(c.digest);
        continue;
      }
      cache.corrupt.add(c.digest);
      errors.push(`${f.filename}: chunk ${c.digest} ${problem}`);
      const moved = await store.chunks.quarantine(c.digest);
      if (moved) quarantined.push(moved);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, o.readers ?? 4) }, worker));
}

function fixedCsum(bytes: Uint8Array): { csum: Uint8Array; size: number } {
  const idx = parseFixedIndex(bytes);
  return fixedIndexCsum(idx.digests, idx.size);
}

/** undefined when intact, else a short description of what is wrong; rejects when it cannot be read or checked. */
async function checkChunk(store: Datastore, digest: string, size: number, encrypted: boolean, checker: ChunkChecker): Promise<string | undefined> {
  let raw: Uint8Array;
  try {
    raw = await store.chunks.readStored(digest); // the stored chunk, not a cached copy of it
  } catch (e) {
    if (isHoldfastError(e, 'NOT_FOUND')) return 'is missing';
    throw e;
  }
  try {
    const h = blobHeader(raw);
    if (h.encrypted !== encrypted) return `is ${h.encrypted ? 'encrypted' : 'not encrypted'}, the index says otherwise`;
    // size, CRC, and for a plain chunk its decoded size and digest (an encrypted one: its CRC)
    await checkFetchedChunk(checker, { digestHex: digest, size, encodedSize: raw.length, bytes: raw });
    return undefined;
  } catch (e) {
    const err = toHoldfastError(e);
    if (CORRUPTION.has(err.code)) return `is corrupt (${err.code})`;
    throw e;
  }
}
