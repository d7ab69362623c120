/**
 * The pull worker of a sync job: copies the remote's namespaces, groups and snapshots (those the
 * job's options select) into a local datastore, and reports what it did.
 *
 * Per run:
 * - source namespaces: `remote-ns` and those below it, at most `max-depth` levels; each maps to
 *   `ns` plus the same relative path locally, created when missing;
 * - groups pass the group filter; `worker-threads` groups are pulled at once;
 * - per group, the source's finished snapshots, oldest first, after `verified-only`,
 *   `encrypted-only` and `transfer-last`; a snapshot already here is skipped (with
 *   `resync-corrupt`, re-pulled when its local verify state is failed), one older than the newest
 *   local snapshot is skipped, as PBS does;
 * - leftovers of an interrupted earlier run (unfinished snapshot directories nobody holds) are
 *   removed first, so the next run resumes: chunks it stored are found locally and not fetched
 *   again;
 * - `remove-vanished`, as PBS, touches only what the job covers: local snapshots of a synced group
 *   that the source no longer has; local groups (passing the filter, owned by the job's owner)
 *   that the source no longer has; then local namespaces under `ns` (within max-depth, never `ns`
 *   itself) that no source namespace maps to, deepest first, each after its vanished groups.
 *   Protected snapshots stay, and so do their group and namespace (with a log line); so does a
 *   namespace that holds a group the job does not cover, or a namespace below max-depth.
 *
 * A failure of one snapshot or group is logged and reported, and the run carries on with the
 * others; the task then ends with SYNC_INCOMPLETE.
 */
import type { ChunkChecker } from '../../chunks/chunk-check.ts';
import { type GroupRef, type SnapshotRef } from '../../core/backup-ref.ts';
import { fail, toHoldfastError } from '../../core/errors.ts';
import type { Datastore } from '../../datastore/datastore.ts';
import { removeEmptyNamespace, removeGroup } from '../../datastore/removal.ts';
import { ownerMatches } from '../../core/names.ts';
import type { Privilege } from '../../format/acl-config.ts';
import { applyGroupFilters } from '../../format/group-filter.ts';
import type { SyncJob } from '../../format/sync-job-config.ts';
import type { TaskContext } from '../task-registry.ts';
import { pullSnapshot, type PullCounters } from './pull-snapshot.ts';
import type { RemoteApi, RemoteSnapshot } from './remote-api.ts';
import { vanishedNamespaces } from './vanished.ts';

export interface SyncFailure {
  /** the group or snapshot, as `ns/…/type/id[/time]` */
  readonly item: string;
  readonly code: string;
  readonly message: string;
}

export interface SyncReport extends PullCounters {
  readonly direction: 'pull' | 'push';
  groups: number;
  snapshotsSynced: number;
  snapshotsSkipped: number;
  snapshotsRemoved: number;
  groupsRemoved: number;
  namespacesRemoved: number;
  /** bytes that crossed the wire (chunks, indexes, blobs, manifests) */
  bytes: number;
  /** the run's wall time, from login to the last snapshot committed */
  seconds: number;
  /** of those, the bytes drawn from the job's rate-limit bucket (all of them when a limit is set) */
  rateLimitedBytes: number;
  readonly failures: SyncFailure[];
}

export function emptyReport(direction: 'pull' | 'push'): SyncReport {
  return { direction, groups: 0, snapshotsSynced: 0, snapshotsSkipped: 0, snapshotsRemoved: 0, groupsRemoved: 0, namespacesRemoved: 0, chunksTransferred: 0, chunkBytes: 0, chunksReused: 0, bytes: 0, seconds: 0, rateLimitedBytes: 0, failures: [] };
}

/** Maps a namespace from below `from` to the same place below `to`. */
export function mapNamespace(ns: string, from: string, to: string): string {
  const rel = from === '' ? ns : ns === from ? '' : ns.slice(from.length + 1);
  return [to, rel].filter((s) => s !== '').join('/');
}

/** The source snapshots the job's options select, oldest first. */
export function selectSnapshots(list: readonly RemoteSnapshot[], job: Pick<SyncJob, 'verifiedOnly' | 'encryptedOnly' | 'transferLast'>): RemoteSnapshot[] {
  const picked = list.filter((s) => (!job.verifiedOnly || s.verifyState === 'ok') && (!job.encryptedOnly || s.encrypted));
  return job.transferLast === undefined ? picked : picked.slice(-job.transferLast);
}

/** Runs `fn` over `items` with at most `n` at once. */
export async function inParallel<T>(items: readonly T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(n, items.length)) }, worker));
}

/** Logs and reports a failed item; the run goes on. */
export function failed(report: SyncReport, task: TaskContext, item: string, e: unknown, what = 'sync'): void {
  const err = toHoldfastError(e);
  report.failures.push({ item, code: err.code, message: err.message });
  task.warn(`${item}: ${what} failed: [${err.code}] ${err.message}`);
}

/** Makes the missing local namespaces of `ns`, each only where the owner holds Datastore.Modify on its parent (as PBS). */
async function ensureNamespace(c: PullContext, ns: string): Promise<void> {
  const parts = ns === '' ? [] : ns.split('/');
  for (let i = 1; i <= parts.length; i++) {
    const sub = parts.slice(0, i).join('/');
    if (await c.store.namespaceExists(sub)) continue;
    await needOwnerPrivilege(c, parts.slice(0, i - 1).join('/'), 'Datastore.Modify', `create namespace '${sub}'`);
    await c.store.createNamespace(sub);
  }
}

function verifyStateOf(m: { unprotected: Record<string, unknown> }): string | undefined {
  const vs = m.unprotected['verify_state'] as { state?: unknown } | undefined;
  return typeof vs?.state === 'string' ? vs.state : undefined;
}

export interface PullContext {
  readonly job: SyncJob;
  readonly store: Datastore;
  readonly remote: RemoteApi;
  readonly task: TaskContext;
  readonly owner: string;
  readonly report: SyncReport;
  /** checks downloaded chunks off the main thread (JobHost.checker) */
  readonly checker?: ChunkChecker;
  /**
   * Whether the job's owner holds `priv` on a local namespace (its ACL path checked on its own: an
   * entry below the job's namespace may take away what the one above grants). Absent: yes.
   */
  readonly ownerMay?: (ns: string, priv: Privilege) => Promise<boolean>;
}

/** Throws FORBIDDEN unless the job's owner holds `priv` on local namespace `ns`. */
export async function needOwnerPrivilege(c: PullContext, ns: string, priv: Privilege, what: string): Promise<void> {
  if (c.ownerMay === undefined || (await c.ownerMay(ns, priv))) return;
  throw fail('FORBIDDEN', `the job's owner ${c.owner} lacks ${priv} on ${ns === '' ? 'the root namespace' : `namespace '${ns}'`} (needed to ${what})`, { owner: c.owner, ns, missing: [priv] });
}

/** Pulls one group: the selected snapshots, then (remove-vanished) the local ones gone there. */
async function pullGroup(c: PullContext, src: GroupRef, local: GroupRef): Promise<void> {
  const { store, task, report } = c;
  const listed = await c.remote.snapshots(src);
  const wanted = selectSnapshots(listed, c.job);
  await store.cleanupUnfinished(local);
  const here = new Map((await store.listSnapshots(local)).filter((s) => s.finished).map((s) => [s.ref.time, s]));
  const newest = Math.max(-1, ...here.keys());
  for (const s of wanted) {
    if (task.signal.aborted) throw fail('ABORTED', 'the sync was stopped', {});
    const ref: SnapshotRef = { ...local, time: s.ref.time };
    const existing = here.get(s.ref.time);
    const resync = existing !== undefined && c.job.resyncCorrupt && verifyStateOf(await store.readManifest(ref)) === 'failed';
    if ((existing && !resync) || (!existing && s.ref.time <= newest)) {
      report.snapshotsSkipped++;
      continue;
    }
    try {
      if (resync) {
        task.info(`${store.show(ref)}: local copy failed verification; pulling it again`);
        await store.deleteSnapshot(ref, { force: true });
      }
      await pullOne(c, s, ref, resync);
      report.snapshotsSynced++;
    } catch (e) {
      failed(report, task, c.remote.show(s.ref), e);
    }
  }
  if (c.job.removeVanished) await removeVanishedSnapshots(c, local, new Set(listed.map((s) => s.ref.time)));
}

async function pullOne(c: PullContext, listed: RemoteSnapshot, ref: SnapshotRef, resync: boolean): Promise<void> {
  const t = await c.remote.reader(listed.ref);
  // Counted per snapshot, then added to the job's report: groups pull in parallel, so a
  // before/after difference of the shared report would count the other groups' chunks too.
  const counters: PullCounters = { chunksTransferred: 0, chunkBytes: 0, chunksReused: 0 };
  try {
    await pullSnapshot(c.store, ref, t, { owner: c.owner, recheck: resync, allowOlder: resync, counters, signal: c.task.signal, ...(listed.files ? { expectedFiles: listed.files } : {}), ...(c.checker ? { checker: c.checker } : {}) });
    c.task.info(`${c.store.show(ref)}: synced (${counters.chunksTransferred} new chunks)`);
  } finally {
    c.report.chunksTransferred += counters.chunksTransferred;
    c.report.chunkBytes += counters.chunkBytes;
    c.report.chunksReused += counters.chunksReused;
    await t.close().catch(() => undefined);
  }
}

async function removeVanishedSnapshots(c: PullContext, local: GroupRef, source: ReadonlySet<number>): Promise<void> {
  for (const s of await c.store.listSnapshots(local)) {
    if (!s.finished || source.has(s.ref.time)) continue;
    if (s.protected) {
      c.task.warn(`${c.store.show(s.ref)}: vanished from the source, but protected: kept`);
      continue;
    }
    try {
      await c.store.deleteSnapshot(s.ref);
      c.report.snapshotsRemoved++;
      c.task.info(`${c.store.show(s.ref)}: vanished from the source: removed`);
    } catch (e) {
      failed(c.report, c.task, c.store.show(s.ref), e);
    }
  }
}

/** Whether remove-vanished may touch a local group: it passes the filter and the job's owner owns it. */
async function covers(c: PullContext, g: GroupRef): Promise<boolean> {
  if (!applyGroupFilters(c.job.groupFilter, g)) return false;
  const owner = await c.store.getOwner(g);
  return owner !== undefined && ownerMatches(owner, c.owner);
}

/** Removes a local group the source no longer has: its snapshots, then (if none is protected) the group. */
async function removeVanishedGroup(c: PullContext, g: GroupRef): Promise<void> {
  const r = await removeGroup(c.store, g, (s, outcome) => {
    if (outcome === 'protected') c.task.warn(`${c.store.show(s)}: vanished from the source, but protected: kept`);
    else {
      c.report.snapshotsRemoved++;
      c.task.info(`${c.store.show(s)}: vanished from the source: removed`);
    }
  });
  c.report.groupsRemoved += r.removedGroups;
  if (r.removedGroups > 0) c.task.info(`${c.store.show(g)}: group vanished from the source: removed`);
}

/** Removes the covered local groups of `ns` whose `type/id` is not in `there`. */
async function removeVanishedGroups(c: PullContext, ns: string, there: ReadonlySet<string>): Promise<void> {
  for (const g of await c.store.listGroups(ns)) {
    if (there.has(`${g.type}/${g.id}`) || !(await covers(c, g))) continue;
    await removeVanishedGroup(c, g).catch((e: unknown) => failed(c.report, c.task, c.store.show(g), e));
  }
}

/** Removes the covered local namespaces no source namespace maps to (`synced`), deepest first. */
async function removeVanishedNamespaces(c: PullContext, synced: ReadonlySet<string>): Promise<void> {
  for (const ns of vanishedNamespaces(await c.store.listNamespaces(c.job.ns), synced, c.job.ns, c.job.maxDepth)) {
    try {
      await needOwnerPrivilege(c, ns.includes('/') ? ns.slice(0, ns.lastIndexOf('/')) : '', 'Datastore.Modify', `remove namespace '${ns}'`);
      await removeVanishedGroups(c, ns, new Set());
      if (await removeEmptyNamespace(c.store, ns)) {
        c.report.namespacesRemoved++;
        c.task.info(`namespace '${ns}': vanished from the source: removed`);
      } else {
        c.task.warn(`namespace '${ns}': vanished from the source, but kept: it still holds protected snapshots, groups the job does not cover, or namespaces below max-depth`);
      }
    } catch (e) {
      failed(c.report, c.task, `namespace '${ns}'`, e);
    }
  }
}

/** The whole pull: every selected namespace and group (see the module note). */
export async function runPull(c: PullContext): Promise<void> {
  const { job, task } = c;
  task.info(`pull from ${c.remote.store}${job.remoteNs === '' ? '' : ` namespace '${job.remoteNs}'`} into datastore ${c.store.name}${job.ns === '' ? '' : ` namespace '${job.ns}'`} (sync-level ${c.store.syncLevel}, ${job.workerThreads} worker thread(s))`);
  const work: { src: GroupRef; local: GroupRef }[] = [];
  const synced = new Set<string>();
  for (const ns of await c.remote.namespaces(job.remoteNs, job.maxDepth)) {
    const localNs = mapNamespace(ns, job.remoteNs, job.ns);
    synced.add(localNs);
    try {
      await ensureNamespace(c, localNs);
      await needOwnerPrivilege(c, localNs, 'Datastore.Backup', 'back up into it');
      if (job.removeVanished) await needOwnerPrivilege(c, localNs, 'Datastore.Prune', 'remove vanished groups');
    } catch (e) {
      failed(c.report, task, `namespace '${localNs}'`, e); // its groups are not synced; the others go on
      continue;
    }
    const groups = (await c.remote.groups(ns)).filter((g) => applyGroupFilters(job.groupFilter, g));
    for (const g of groups) work.push({ src: g, local: { ns: localNs, type: g.type, id: g.id } });
    if (job.removeVanished) await removeVanishedGroups(c, localNs, new Set(groups.map((g) => `${g.type}/${g.id}`)));
  }
  c.report.groups = work.length;
  let done = 0;
  await inParallel(work, job.workerThreads, async (w) => {
    try {
      await pullGroup(c, w.src, w.local);
    } catch (e) {
      failed(c.report, task, c.remote.show(w.src), e);
    }
    task.progress(++done, work.length, 'groups');
  });
  if (job.removeVanished) await removeVanishedNamespaces(c, synced);
  c.report.bytes = c.remote.counters.bytes;
  task.info(
    `pulled ${c.report.snapshotsSynced} snapshot(s), skipped ${c.report.snapshotsSkipped}, removed ${c.report.snapshotsRemoved} snapshot(s), ${c.report.groupsRemoved} group(s) and ${c.report.namespacesRemoved} namespace(s); ` +
      `${c.report.chunksTransferred} chunk(s) downloaded (${c.report.chunkBytes} bytes), ${c.report.chunksReused} found locally; ${c.report.bytes} bytes read`,
  );
}
