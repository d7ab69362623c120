/**
 * Pulls one snapshot from a reader session into the local datastore, through the datastore's own
 * backup path (`BackupSession`), so a synced snapshot is committed exactly as a backup is:
 *
 *   1. chunks the local store lacks are downloaded, checked and inserted (durable one by one at
 *      `file`); chunks it has are only marked (so a running GC keeps them) and never cross the
 *      wire;
 *   2. the indexes are rebuilt from the source's digests and written, blobs are copied as they are;
 *   3. `finish`: the barrier of the store's sync level, then the manifest, durably; only then is
 *      the snapshot listed. Any failure aborts the session, which removes the snapshot directory.
 *   4. the client log (`client.log.blob`), when the source lists one, is added to the committed
 *      snapshot, as `upload-backup-log` adds it.
 *
 * Encrypted snapshots need no key: chunks and blobs are copied as stored blobs (CRC and shape are
 * checked; an unencrypted chunk is also checked against its digest and size, as an upload is).
 * The manifest is copied with its signature; only its verify state is dropped, since this store
 * has not verified the copy.
 *
 * `recheck` (resync-corrupt), and always after an unclean shutdown of the target: local chunks are
 * read and checked instead of only marked, and a missing or broken one is downloaded again (the
 * insert replaces a broken copy).
 */
import { toHex } from '../../core/digest.ts';
import { fail, HoldfastError, toHoldfastError } from '../../core/errors.ts';
import type { SnapshotRef } from '../../core/backup-ref.ts';
import { checkFetchedChunk, inlineChunkChecker, type CheckedChunk, type CheckOptions, type ChunkChecker } from '../../chunks/chunk-check.ts';
import { BackupSession } from '../../datastore/backup-session.ts';
import type { Datastore } from '../../datastore/datastore.ts';
import { MANIFEST_NAME } from '../../datastore/layout.ts';
import { CLIENT_LOG_BLOB_NAME } from '../../core/names.ts';
import { verifyBlobCrc } from '../../format/blob.ts';
import { dynamicIndexCsum, parseDynamicIndex } from '../../format/dynamic-index.ts';
import { FIXED_CHUNK_SIZE, fixedIndexCsum, parseFixedIndex } from '../../format/fixed-index.ts';
import { decodeManifestBlob, encodeManifestBlob } from '../../format/manifest.ts';
import { DEFAULT_LINK_TARGET, MAX_CHUNK_BLOB, readAheadFor, type LinkTarget } from '../../remote/link-target.ts';
import type { ProtocolTransport } from '../../remote/protocol-transport.ts';

export interface PullCounters {
  /** chunks that crossed the wire (pull: downloaded and inserted; push: uploaded) */
  chunksTransferred: number;
  /** their encoded bytes */
  chunkBytes: number;
  /** chunks the receiving side had already, not sent */
  chunksReused: number;
}

export interface PullSnapshotOptions {
  readonly owner: string;
  readonly recheck: boolean;
  /** a re-pull may be older than the group's newest snapshot */
  readonly allowOlder: boolean;
  readonly counters: PullCounters;
  /** chunk downloads in flight (default DEFAULT_PULL_WINDOW) */
  readonly window?: number;
  /** checks downloaded chunks (default: inline, on this thread) */
  readonly checker?: ChunkChecker;
  readonly signal?: AbortSignal;
  /**
   * Files the source's listing named: the first FILES_AHEAD are requested with the manifest
   * instead of after it (a round trip less per snapshot). Only the manifest's own list is used;
   * a hinted file it does not name is dropped unread.
   */
  readonly expectedFiles?: readonly string[];
}

export interface IndexChunk {
  readonly digest: Uint8Array;
  readonly size: number;
}

/** The chunks of an index with their plain sizes, and what closing the index must match. */
function indexChunks(name: string, bytes: Uint8Array): { chunks: IndexChunk[]; size: number; csumHex: string; fixed: boolean } {
  if (name.endsWith('.fidx')) {
    const idx = parseFixedIndex(bytes);
    if (idx.chunkSize !== FIXED_CHUNK_SIZE) throw fail('CORRUPT', `${name}: chunk size ${idx.chunkSize} is not ${FIXED_CHUNK_SIZE}`, { archive: name });
    const chunks = idx.digests.map((digest, i) => ({ digest, size: Math.min(idx.chunkSize, idx.size - i * idx.chunkSize) }));
    return { chunks, size: idx.size, csumHex: toHex(fixedIndexCsum(idx.digests, idx.size).csum), fixed: true };
  }
  const entries = parseDynamicIndex(bytes).entries;
  let start = 0;
  const chunks = entries.map((e) => {
    const c = { digest: e.digest, size: e.end - start };
    start = e.end;
    return c;
  });
  return { chunks, size: start, csumHex: toHex(dynamicIndexCsum(entries).csum), fixed: false };
}

/**
 * Downloads a chunk (into `into` when it fits) and checks it as the server checks an upload (plus
 * the stored CRC).
 */
async function fetchChunk(t: ProtocolTransport, hex: string, size: number, checker: ChunkChecker, into: Uint8Array, opts: CheckOptions): Promise<CheckedChunk> {
  const bytes = await t.download('chunk', { digest: hex }, into);
  try {
    return await checkFetchedChunk(checker, { digestHex: hex, size, encodedSize: bytes.length, bytes }, opts);
  } catch (e) {
    const err = toHoldfastError(e);
    throw new HoldfastError(err.code, `chunk ${hex} of the source is bad: ${err.message}`, { ...err.details, digest: hex }, e);
  }
}

/**
 * Chunk downloads in flight for one snapshot: enough bytes to cover twice the bandwidth-delay
 * product of the link the client is tuned for (link-target.ts), by the chunks' mean size, within
 * the read-ahead's bounds (at least as many as on a LAN; never past the server's stream limit).
 */
export function pullWindow(chunks: readonly IndexChunk[], target: LinkTarget = DEFAULT_LINK_TARGET): number {
  const ahead = readAheadFor(target);
  if (chunks.length === 0) return ahead.minChunks;
  const mean = chunks.reduce((n, c) => n + c.size, 0) / chunks.length;
  return Math.min(ahead.maxChunks, Math.max(ahead.minChunks, Math.ceil(ahead.bytes / mean)));
}

class ChunkPuller {
  readonly #seen = new Set<string>();
  /**
   * Download buffers, one per chunk in flight, reused from chunk to chunk: a fresh 4 MiB buffer
   * per chunk made the GC the puller's largest cost. Shared memory, so the checker thread reads a
   * chunk in place. A buffer is back here only after its chunk was inserted (the store keeps no
   * reference to the bytes it was given, ChunkBackend.put).
   */
  readonly #buffers: Uint8Array[] = [];

  constructor(
    readonly store: Datastore,
    readonly session: BackupSession,
    readonly t: ProtocolTransport,
    readonly o: PullSnapshotOptions,
  ) {}

  /** Makes every chunk of the list known to the session, downloading those the store lacks. */
  async ensure(chunks: readonly IndexChunk[]): Promise<void> {
    const todo = chunks.filter((c) => {
      const hex = toHex(c.digest);
      if (this.#seen.has(hex)) return false;
      this.#seen.add(hex);
      return true;
    });
    const window = this.o.window ?? pullWindow(todo);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < todo.length) {
        if (this.o.signal?.aborted) throw fail('ABORTED', 'the sync was stopped', {});
        await this.#one(todo[next++]!);
      }
    };
    await Promise.all(Array.from({ length: Math.min(window, todo.length) }, worker));
  }

  async #one(c: IndexChunk): Promise<void> {
    const hex = toHex(c.digest);
    // After an unclean shutdown a stored chunk may be broken at any level that did not sync it,
    // so its presence proves nothing: check it, as a backup checks its base (previous.ts).
    const recheck = this.o.recheck || this.store.uncleanShutdown;
    const present = recheck ? (await this.store.chunks.state(hex)) === 'intact' && (await this.store.chunks.touch(hex)) : await this.store.chunks.touch(hex);
    if (present) {
      this.session.known.set(hex, c.size);
      this.o.counters.chunksReused++;
      return;
    }
    const buffer = this.#buffers.pop() ?? new Uint8Array(new SharedArrayBuffer(MAX_CHUNK_BLOB));
    try {
      const checked = await fetchChunk(this.t, hex, c.size, this.o.checker ?? inlineChunkChecker, buffer, { blobSha256: this.session.store.chunks.wantsBlobSha256 });
      await this.session.insertChunk(hex, checked.bytes, c.size, checked.blobSha256);
      this.o.counters.chunksTransferred++;
      this.o.counters.chunkBytes += checked.bytes.length;
    } finally {
      this.#buffers.push(buffer);
    }
  }
}

/** Copies one index (already downloaded): its chunks first, then the index through the session's writer. */
async function pullIndex(session: BackupSession, puller: ChunkPuller, name: string, bytes: Uint8Array): Promise<void> {
  const idx = indexChunks(name, bytes);
  await puller.ensure(idx.chunks);
  const wid = idx.fixed ? session.createFixedIndex(name, idx.size) : session.createDynamicIndex(name);
  let offset = 0;
  const BATCH = 1024;
  for (let i = 0; i < idx.chunks.length; i += BATCH) {
    const part = idx.chunks.slice(i, i + BATCH);
    const offsets = part.map((c) => ((offset += c.size), offset - c.size));
    session.appendToIndex(
      wid,
      part.map((c) => toHex(c.digest)),
      offsets,
    );
  }
  await session.closeIndex(wid, { chunkCount: idx.chunks.length, size: idx.size, csumHex: idx.csumHex });
}

/** Snapshot files (indexes, blobs) downloaded ahead of the one being processed. */
const FILES_AHEAD = 3;

/** Pulls `ref` over the reader session `t`; resolves once the snapshot is committed locally. */
export async function pullSnapshot(store: Datastore, ref: SnapshotRef, t: ProtocolTransport, o: PullSnapshotOptions): Promise<void> {
  const early = new Map<string, Promise<Uint8Array>>();
  const fetchFile = (name: string): Promise<Uint8Array> => {
    const bytes = early.get(name) ?? t.download('download', { 'file-name': name });
    bytes.catch(() => undefined); // observed when its turn comes; a failure before then must not go unhandled
    return bytes;
  };
  for (const name of (o.expectedFiles ?? []).slice(0, FILES_AHEAD)) early.set(name, fetchFile(name));
  const manifestBlob = await t.download('download', { 'file-name': MANIFEST_NAME });
  const manifest = decodeManifestBlob(manifestBlob);
  const session = await BackupSession.begin(store, ref, { owner: o.owner, allowOlder: o.allowOlder });
  try {
    const puller = new ChunkPuller(store, session, t, o);
    // Indexes and blobs are requested FILES_AHEAD at a time, ahead of their turn: fetched one by
    // one, each cost a round trip with the chunk pipeline drained (a blob listed after an index
    // was requested only once that index's last chunk was in). Bounded, since a large archive's
    // index can be megabytes. Each is still processed in the manifest's order.
    const names = manifest.files.map((f) => f.filename);
    const fetched: Promise<Uint8Array>[] = [];
    const fetchUpTo = (n: number): void => {
      for (let i = fetched.length; i < Math.min(n, names.length); i++) fetched.push(fetchFile(names[i]!));
    };
    for (let i = 0; i < names.length; i++) {
      fetchUpTo(i + 1 + FILES_AHEAD);
      const name = names[i]!;
      const bytes = await fetched[i]!;
      if (name.endsWith('.didx') || name.endsWith('.fidx')) await pullIndex(session, puller, name, bytes);
      else {
        verifyBlobCrc(bytes);
        await session.writeBlob(name, bytes);
      }
    }
    delete manifest.unprotected['verify_state'];
    await session.writeBlob(MANIFEST_NAME, encodeManifestBlob(manifest));
    await session.finish();
  } catch (e) {
    await session.abort();
    throw e;
  }
  // the client log is outside the manifest (added after the backup), so it follows the committed
  // snapshot, as in PBS, when the source's listing names it; its CRC is all there is to check
  if (o.expectedFiles?.includes(CLIENT_LOG_BLOB_NAME) === true) {
    const log = await fetchFile(CLIENT_LOG_BLOB_NAME);
    verifyBlobCrc(log);
    await store.addClientLog(ref, log);
  }
}
