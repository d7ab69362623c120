/**
 * Garbage collection (PBS §8.1): phase 1 marks every chunk an index references (ChunkStore.touch;
 * locally its atime); phase 2 lists the chunk store and removes chunks (and quarantined copies
 * and debris) whose mark is older than the cutoff. It never builds a chunk path: both phases go
 * through ChunkStore and its backend.
 *
 * Why it is safe beside running backups:
 * - cutoff = phase-1 start − `gc-atime-cutoff` (default 24 h 5 min), clamped to the oldest running
 *   writer's start − 5 min: a chunk a backup inserted or deduplicated (insert touches it) since
 *   then has a newer atime and survives;
 * - chunks a backup reuses without upload come from its previous snapshot, which is share-locked
 *   (prune cannot remove it) and so is marked in phase 1;
 * - touch, insert and the sweep's stat+unlink of one digest are serialised by the store's mutex;
 * - a group moved to another namespace during the walk is walked again where it went (the
 *   datastore's move journal, datastore/move-journal.ts), so no snapshot escapes phase 1.
 * One GC per store at a time: an exclusive flock on `<base>/.gc.lck` (also against other processes).
 *
 * Durability: a crash mid-GC at worst leaves chunks GC meant to remove (harmless; the next GC
 * removes them). Removals are made durable as the level says (Durability.chunkRemovalsDone);
 * `.gc-status` too.
 */
import type { GroupRef } from '../core/backup-ref.ts';
import { fail, isHoldfastError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { Datastore } from '../datastore/datastore.ts';
import { indexChunks } from '../datastore/index-files.ts';
import { GC_STATUS_NAME } from '../datastore/layout.ts';
import { join } from 'node:path';
import { LruSet } from './lru-set.ts';

export interface GcOptions {
  readonly cutoffMinutes: number;
  readonly cacheCapacity: number;
  readonly atimeSafetyCheck: boolean;
  readonly upid?: string;
  readonly now?: () => number;
  readonly log: Logger;
  readonly signal?: AbortSignal;
  /** Tests only: runs after phase 1 has walked a group (to move groups at a chosen moment). */
  readonly afterGroupMarked?: (g: GroupRef) => Promise<void>;
}

export interface GcStatus {
  readonly upid: string | undefined;
  'index-file-count': number;
  'index-data-bytes': number;
  'disk-bytes': number;
  'disk-chunks': number;
  'removed-bytes': number;
  'removed-chunks': number;
  'pending-bytes': number;
  'pending-chunks': number;
  'removed-bad': number;
  'still-bad': number;
  'removed-temp': number;
  'missing-chunks': number;
  'cache-stats': { hits: number; misses: number };
}

const SAFETY_MARGIN_MS = 300_000;
/**
 * File timestamps come from the kernel's coarse clock, which may be a tick behind the process
 * clock that stamped phase 1's start: a chunk marked right after the start can carry an atime a
 * few ms before it. Counting "marked in this GC" from 1 s earlier keeps such chunks in the
 * on-disk figures (and the dedup factor) instead of "pending". It only moves chunks between two
 * reported counts; what is removed depends on the cutoff alone.
 */
const MARK_CLOCK_SLACK_MS = 1_000;

export async function garbageCollect(store: Datastore, o: GcOptions): Promise<GcStatus> {
  const now = o.now ?? Date.now;
  const lock = await store.locker.lockFile(join(store.base, '.gc.lck'), 'exclusive', `garbage collection of ${store.name}`);
  try {
    if (o.atimeSafetyCheck) await store.chunks.checkMarks();
    const phase1Start = now();
    let minAtime = phase1Start - o.cutoffMinutes * 60_000;
    const oldest = store.oldestWriter();
    if (oldest !== undefined && oldest < minAtime) minAtime = oldest - SAFETY_MARGIN_MS;
    const status: GcStatus = emptyStatus(o.upid);
    o.log.info(`starting garbage collection on store ${store.name}; cutoff ${new Date(minAtime).toISOString()}`);
    await markPhase(store, o, status);
    o.log.info(`phase 1 done: ${status['index-file-count']} index files, ${status['missing-chunks']} missing chunks`);
    // At `filesystem` snapshot removals (prune, forget) are not synced: make them durable before
    // the sweep unlinks their chunks, so a power loss cannot bring back a snapshot whose chunks are
    // gone. (`file` fsyncs each removal already; `none` promises nothing.)
    await store.durability.metadataBarrier();
    await sweepPhase(store, o, status, minAtime, (oldest ?? phase1Start) - MARK_CLOCK_SLACK_MS);
    o.log.info(
      `phase 2 done: removed ${status['removed-chunks']} chunks (${status['removed-bytes']} bytes), ${status['pending-chunks']} pending, ${status['disk-chunks']} on disk (${status['disk-bytes']} bytes)`,
    );
    if (status['disk-bytes'] > 0) o.log.info(`deduplication factor: ${(status['index-data-bytes'] / status['disk-bytes']).toFixed(2)}`);
    await store.writeMeta(join(store.base, GC_STATUS_NAME), JSON.stringify(status));
    return status;
  } finally {
    await lock.release();
  }
}

function emptyStatus(upid: string | undefined): GcStatus {
  return {
    upid,
    'index-file-count': 0,
    'index-data-bytes': 0,
    'disk-bytes': 0,
    'disk-chunks': 0,
    'removed-bytes': 0,
    'removed-chunks': 0,
    'pending-bytes': 0,
    'pending-chunks': 0,
    'removed-bad': 0,
    'still-bad': 0,
    'removed-temp': 0,
    'missing-chunks': 0,
    'cache-stats': { hits: 0, misses: 0 },
  };
}

async function markPhase(store: Datastore, o: GcOptions, status: GcStatus): Promise<void> {
  const cache = new LruSet(o.cacheCapacity);
  const warn = (m: string): void => o.log.warn(m);
  const journal = await store.moves.open();
  try {
    for (const ns of await store.listNamespaces('', warn)) {
      for (const group of await store.listGroups(ns, warn)) await markGroup(store, group, o, status, cache);
    }
    // groups that snapshots moved into meanwhile, until no move is left unwalked; `close` follows
    // the last empty `take` with no await between them
    for (let moved = journal.take(); moved.length > 0; moved = journal.take()) {
      o.log.info(`walking ${moved.length} group(s) that snapshots moved into during phase 1`);
      for (const group of moved) await markGroup(store, group, o, status, cache);
    }
  } finally {
    journal.close();
  }
  status['cache-stats'] = { hits: cache.hits, misses: cache.misses };
}

async function markGroup(store: Datastore, group: GroupRef, o: GcOptions, status: GcStatus, cache: LruSet): Promise<void> {
  // newest first, as upstream: a snapshot pruned meanwhile only ever drops older references
  for (const snap of (await store.listSnapshots(group, (m) => o.log.warn(m))).reverse()) {
    if (o.signal?.aborted) throw fail('ABORTED', 'garbage collection was stopped', {});
    const names = await store.listSnapshotFiles(snap.ref);
    for (const name of names.filter((n) => n.endsWith('.fidx') || n.endsWith('.didx'))) {
      let bytes: Uint8Array;
      try {
        bytes = await store.readSnapshotFile(snap.ref, name);
      } catch (e) {
        if (isHoldfastError(e, 'NOT_FOUND')) continue; // pruned, or moved (then walked again where it went)
        throw e;
      }
      status['index-file-count']++;
      for (const c of indexChunks(name, bytes)) {
        status['index-data-bytes'] += c.size;
        if (cache.seen(c.digest)) continue;
        if (!(await store.chunks.touch(c.digest))) {
          status['missing-chunks']++;
          o.log.warn(`unable to access non-existent chunk ${c.digest}, required by ${join(store.show(snap.ref), name)}`);
          await store.chunks.touchQuarantined(c.digest);
        }
      }
    }
  }
  await o.afterGroupMarked?.(group);
}

async function sweepPhase(store: Datastore, o: GcOptions, status: GcStatus, minAtime: number, oldestWriter: number): Promise<void> {
  let removedAny = false;
  for await (const e of store.chunks.list()) {
    if (o.signal?.aborted) throw fail('ABORTED', 'garbage collection was stopped', {});
    // a mark only moves forward, so an entry listed as fresh needs no second look
    const found = e.markMs < minAtime ? await store.chunks.sweep(e, minAtime) : { removed: false, stat: e };
    if (!found) continue;
    const { removed, stat } = found;
    if (removed) {
      removedAny = true;
      if (e.kind === 'chunk') {
        status['removed-chunks']++;
        status['removed-bytes'] += stat.size;
      } else if (e.kind === 'bad') status['removed-bad']++;
      else status['removed-temp']++;
    } else if (e.kind === 'bad') status['still-bad']++;
    else if (e.kind === 'chunk') {
      if (stat.markMs < oldestWriter) {
        status['pending-chunks']++;
        status['pending-bytes'] += stat.size;
      } else {
        status['disk-chunks']++;
        status['disk-bytes'] += stat.size;
      }
    }
  }
  if (removedAny) await store.durability.chunkRemovalsDone();
}
