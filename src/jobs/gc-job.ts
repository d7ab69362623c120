/**
 * The garbage-collection job: `garbageCollect` (gc.ts) with the datastore's tuning, bound to a
 * task (its log, UPID and stop signal). The GC status it returns is also written to `.gc-status`.
 *
 * Tuning keys used: `gc-atime-cutoff` (minutes), `gc-cache-capacity` (LRU slots of phase 1),
 * `gc-atime-safety-check` (refuse with ATIME_UNSUPPORTED on a filesystem that drops explicit
 * atime updates; `noatime`/`relatime` do not matter, they never stop an explicit utimensat).
 */
import type { Datastore } from '../datastore/datastore.ts';
import type { DatastoreTuning } from '../format/tuning.ts';
import { garbageCollect, type GcStatus } from './gc.ts';
import type { TaskContext } from './task-registry.ts';

export const GC_WORKER_TYPE = 'garbage_collection';

export interface GcJobOptions {
  readonly tuning: DatastoreTuning;
  /** TEST ONLY: the clock of the cutoff (ms); default Date.now */
  readonly now?: () => number;
}

export async function runGcJob(store: Datastore, task: TaskContext, o: GcJobOptions): Promise<GcStatus> {
  const t = o.tuning;
  task.info(`gc-atime-cutoff ${t.gcAtimeCutoffMinutes} min, gc-cache-capacity ${t.gcCacheCapacity}, atime safety check ${t.gcAtimeSafetyCheck ? 'on' : 'off'}, sync-level ${store.syncLevel}`);
  return garbageCollect(store, {
    cutoffMinutes: t.gcAtimeCutoffMinutes,
    cacheCapacity: t.gcCacheCapacity,
    atimeSafetyCheck: t.gcAtimeSafetyCheck,
    upid: task.upid,
    log: task,
    signal: task.signal,
    ...(o.now === undefined ? {} : { now: o.now }),
  });
}
