/**
 * The verify job: `verifySnapshot` (verify.ts) over a scope (the datastore, a namespace and every
 * namespace below it, a group, or one snapshot), bound to a task.
 *
 * - Filter (PBS `ignore-verified` / `outdated-after`): without `ignoreVerified` every finished
 *   snapshot is verified; with it, a snapshot that already has a verify state is skipped, unless
 *   `outdatedAfterDays` is given and that verification (the start time in its UPID) is older.
 * - Parallelism from the tuning, as PBS's: `default-verification-workers` threads check chunks
 *   (CRC, zstd, SHA-256; at most one per CPU) on a pool the job starts and stops, and as many
 *   snapshots are verified at once; each index has `default-verification-readers` plus that many
 *   chunks in flight (each read, then checked), so reading overlaps checking. One cache is shared,
 *   so a chunk is read once per job and a corrupt chunk fails every snapshot that references it.
 * - The stop signal is checked between snapshots. A snapshot that is locked or vanished is
 *   skipped with a warning; any failed snapshot fails the task (CORRUPT), after the report is set.
 *
 * Durability: quarantine renames and the manifest's verify state follow the level (verify.ts).
 */
import { availableParallelism } from 'node:os';
import type { SnapshotRef, GroupRef } from '../core/backup-ref.ts';
import { inlineChunkChecker, type ChunkChecker } from '../chunks/chunk-check.ts';
import { ownerMatches } from '../core/names.ts';
import { fail, isHoldfastError, toHoldfastError } from '../core/errors.ts';
import { parseUpid } from '../core/upid.ts';
import type { Datastore, ListingWarn } from '../datastore/datastore.ts';
import type { DatastoreTuning } from '../format/tuning.ts';
import { newVerifyCache, verifySnapshot, type SnapshotVerifyResult, type VerifyCache } from './verify.ts';
import type { TaskContext } from './task-registry.ts';

export const VERIFY_WORKER_TYPE = 'verify';

/**
 * For a datastore or namespace scope: `namespaces`, only these of the namespaces below are
 * verified (those a caller may verify, checked one by one when the task was asked for: an ACL
 * below may take away what one above grants); absent, all of them (a scheduled verify).
 * `ownedBy`: only the groups that auth id owns (a caller with Datastore.Backup alone, as PBS).
 */
export type VerifyScope =
  | { readonly kind: 'datastore'; readonly namespaces?: readonly string[]; readonly ownedBy?: string }
  | { readonly kind: 'namespace'; readonly ns: string; readonly namespaces?: readonly string[]; readonly ownedBy?: string }
  | { readonly kind: 'group'; readonly group: GroupRef }
  | { readonly kind: 'snapshot'; readonly snapshot: SnapshotRef };

export interface VerifyFilter {
  readonly ignoreVerified: boolean;
  readonly outdatedAfterDays?: number;
}

export interface VerifyJobOptions {
  readonly filter: VerifyFilter;
  readonly tuning: Pick<DatastoreTuning, 'verificationReaders' | 'verificationWorkers'>;
  /** ms since the epoch, for `outdatedAfterDays`; default Date.now */
  readonly now?: () => number;
  /** starts the job's chunk-checking threads (JobHost.checkerPool); absent, chunks are checked inline */
  readonly checkerPool?: (threads: number) => ChunkChecker;
}

export interface VerifyReport {
  readonly store: string;
  readonly snapshots: SnapshotVerifyResult[];
  /** snapshots left out by the filter */
  readonly filtered: number;
  readonly ok: number;
  readonly failed: number;
  readonly skipped: number;
}

/**
 * Whether a snapshot with this `verify_state` (from the manifest's unprotected section) must be
 * verified under `filter` at `nowSeconds`.
 */
export function needsVerify(verifyState: unknown, filter: VerifyFilter, nowSeconds: number): boolean {
  if (!filter.ignoreVerified) return true;
  if (typeof verifyState !== 'object' || verifyState === null) return true;
  if (filter.outdatedAfterDays === undefined) return false;
  const upid = (verifyState as { upid?: unknown }).upid;
  if (typeof upid !== 'string') return true;
  let started: number;
  try {
    started = parseUpid(upid).startTime;
  } catch {
    return true;
  }
  return nowSeconds - started > filter.outdatedAfterDays * 86_400;
}

export function describeScope(store: Datastore, scope: VerifyScope): string {
  switch (scope.kind) {
    case 'datastore':
      return `datastore ${store.name}`;
    case 'namespace':
      return `namespace '${scope.ns}' of datastore ${store.name}`;
    case 'group':
      return `group ${store.show(scope.group)} of datastore ${store.name}`;
    case 'snapshot':
      return `snapshot ${store.show(scope.snapshot)} of datastore ${store.name}`;
  }
}

/** The finished snapshots a scope covers, namespace by namespace, group by group, oldest first. */
export async function snapshotsInScope(store: Datastore, scope: VerifyScope, warn?: ListingWarn): Promise<SnapshotRef[]> {
  if (scope.kind === 'snapshot') {
    const found = (await store.listSnapshots(scope.snapshot, warn)).find((s) => s.ref.time === scope.snapshot.time && s.finished);
    if (!found) throw fail('NOT_FOUND', `snapshot ${store.show(scope.snapshot)} does not exist or is unfinished`, { snapshot: store.show(scope.snapshot) });
    return [found.ref];
  }
  let groups: GroupRef[];
  if (scope.kind === 'group') groups = [scope.group];
  else {
    const ns = scope.kind === 'namespace' ? scope.ns : '';
    if (!(await store.namespaceExists(ns))) throw fail('NOT_FOUND', `namespace '${ns}' does not exist`, { ns });
    groups = [];
    const allowed = scope.namespaces === undefined ? undefined : new Set(scope.namespaces);
    let skipped = 0;
    for (const n of await store.listNamespaces(ns, warn)) {
      if (allowed !== undefined && !allowed.has(n)) skipped++;
      else groups.push(...(await store.listGroups(n, warn)));
    }
    if (scope.ownedBy !== undefined) {
      const by = scope.ownedBy;
      const owned: GroupRef[] = [];
      for (const g of groups) if (ownerMatches((await store.getOwner(g)) ?? '', by)) owned.push(g);
      groups = owned;
    }
    // not named: the caller may not even see them
    if (skipped > 0) warn?.(`skipped ${skipped} namespace(s) below that the caller may not verify`);
  }
  const out: SnapshotRef[] = [];
  for (const g of groups) out.push(...(await store.listSnapshots(g, warn)).filter((s) => s.finished).map((s) => s.ref));
  return out;
}

async function selectByFilter(store: Datastore, refs: readonly SnapshotRef[], filter: VerifyFilter, nowSeconds: number, task: TaskContext): Promise<SnapshotRef[]> {
  if (!filter.ignoreVerified) return [...refs];
  const out: SnapshotRef[] = [];
  for (const ref of refs) {
    let state: unknown;
    try {
      state = (await store.readManifest(ref)).unprotected['verify_state'];
    } catch (e) {
      if (isHoldfastError(e, 'NOT_FOUND')) continue; // pruned meanwhile
      state = undefined; // unreadable: verify reports it
    }
    if (needsVerify(state, filter, nowSeconds)) out.push(ref);
    else task.info(`SKIPPED: ${store.show(ref)} (recently verified)`);
  }
  return out;
}

export async function runVerifyJob(store: Datastore, scope: VerifyScope, task: TaskContext, o: VerifyJobOptions): Promise<VerifyReport> {
  const now = o.now ?? Date.now;
  task.info(`verify ${describeScope(store, scope)}`);
  const all = await snapshotsInScope(store, scope, (m) => task.warn(m));
  const todo = await selectByFilter(store, all, o.filter, Math.floor(now() / 1000), task);
  const threads = Math.max(1, Math.min(o.tuning.verificationWorkers, availableParallelism()));
  const checker = o.checkerPool?.(threads) ?? inlineChunkChecker;
  try {
    return await verifyAll(store, todo, all.length, task, { checker, threads, readers: o.tuning.verificationReaders + (o.checkerPool ? threads : 0), snapshotsAtOnce: o.tuning.verificationWorkers });
  } finally {
    await checker.close();
  }
}

async function verifyAll(store: Datastore, todo: readonly SnapshotRef[], total: number, task: TaskContext, p: { checker: ChunkChecker; threads: number; readers: number; snapshotsAtOnce: number }): Promise<VerifyReport> {
  task.info(`${todo.length} of ${total} snapshots to verify (${p.snapshotsAtOnce} at a time, ${p.readers} chunks in flight each, checked on ${p.checker === inlineChunkChecker ? 'this thread' : `${p.threads} threads`})`);
  const cache = newVerifyCache();
  const results: SnapshotVerifyResult[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < todo.length) {
      if (task.signal.aborted) throw fail('ABORTED', 'verification was stopped', {});
      const ref = todo[next++]!;
      results.push(await verifyOne(store, ref, task, cache, p));
      task.progress(results.length, todo.length, 'snapshots');
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(p.snapshotsAtOnce, todo.length)) }, worker));
  const count = (state: SnapshotVerifyResult['state']): number => results.filter((r) => r.state === state).length;
  const report: VerifyReport = { store: store.name, snapshots: results, filtered: total - todo.length, ok: count('ok'), failed: count('failed'), skipped: count('skipped') };
  task.setResult(report);
  if (report.failed > 0) {
    const failed = results.filter((r) => r.state === 'failed').map((r) => r.snapshot);
    task.warn(`failed to verify: ${failed.join(', ')}`);
    throw fail('CORRUPT', `verification failed for ${report.failed} snapshot(s) - please check the log for details`, { failed });
  }
  return report;
}

async function verifyOne(store: Datastore, ref: SnapshotRef, task: TaskContext, cache: VerifyCache, p: { checker: ChunkChecker; readers: number }): Promise<SnapshotVerifyResult> {
  task.info(`verify ${store.name}:${store.show(ref)}`);
  try {
    const r = await verifySnapshot(store, ref, { upid: task.upid, log: task, cache, readers: p.readers, checker: p.checker });
    if (r.state === 'skipped') task.warn(`SKIPPED: ${store.show(ref)}: ${r.errors.join('; ')}`);
    for (const q of r.quarantined) task.info(`  quarantined as ${q}`);
    return r;
  } catch (e) {
    const message = toHoldfastError(e).message;
    task.warn(`verify ${store.show(ref)}: ${message}`);
    return { snapshot: store.show(ref), state: 'failed', errors: [message], quarantined: [] };
  }
}
