/**
 * The prune runner: lists a group's snapshots, asks the pure `computePrune` what to keep, and
 * removes the rest (`Datastore.deleteSnapshot`, under the snapshot's exclusive lock).
 *
 * - `dryRun` removes nothing and reports what would happen, with the reason per snapshot.
 * - A protected snapshot is never removed (computePrune keeps it; deleteSnapshot refuses it too).
 * - A locked snapshot (a reader's, or a running backup's base or target) is skipped with a
 *   warning; so is one that vanished meanwhile. Prune goes on with the others.
 * - `pruneDatastore` prunes every group of a namespace and the namespaces below it.
 *
 * Durability: each removal unlinks the manifest first (from then on the snapshot is unfinished),
 * with directory fsyncs at `file` (deleteSnapshot). At `filesystem` one syncfs ends a prune that
 * removed something, so a removal the task reported stays removed after a power loss.
 */
import { formatTime, type GroupRef, type SnapshotRef } from '../core/backup-ref.ts';
import { fail, isHoldfastError, toHoldfastError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { Datastore } from '../datastore/datastore.ts';
import { computePrune, KEEP_OPTIONS, type KeepOption, type PruneReason, type PrunePolicy } from './prune-policy.ts';

export const PRUNE_WORKER_TYPE = 'prune';
export const PRUNE_JOB_WORKER_TYPE = 'prunejob';

/** The option names of the API, the CLI and `datastore.cfg`, in KEEP_OPTIONS order. */
export const KEEP_KEYS = ['keep-last', 'keep-hourly', 'keep-daily', 'keep-weekly', 'keep-monthly', 'keep-yearly'] as const;
export type KeepKey = (typeof KEEP_KEYS)[number];

export const PRUNE_OUTCOMES = ['kept', 'removed', 'would-remove', 'skipped'] as const;
export type PruneOutcome = (typeof PRUNE_OUTCOMES)[number];

export interface PruneEntry {
  readonly ref: SnapshotRef;
  /** `ns/…/type/id/time` */
  readonly snapshot: string;
  readonly keep: boolean;
  readonly reason: PruneReason;
  readonly protected: boolean;
  readonly outcome: PruneOutcome;
  readonly warning?: string;
}

export interface PruneOptions {
  readonly dryRun: boolean;
  readonly log: Logger;
  readonly signal?: AbortSignal;
  /** IANA zone for the period rules; default the process's zone, as upstream */
  readonly timeZone?: string;
}

/** A policy from `keep-*` values (numbers or decimal strings); absent or empty keys are unset. */
export function prunePolicyFrom(get: (key: KeepKey) => unknown): PrunePolicy {
  const policy: { [K in KeepOption]?: number } = {};
  KEEP_KEYS.forEach((key, i) => {
    const raw = get(key);
    if (raw === undefined || raw === null || raw === '') return;
    const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < 0) throw fail('INVALID_ARGUMENT', `${key} must be a non-negative integer, got ${JSON.stringify(raw)}`, { option: key, value: raw });
    policy[KEEP_OPTIONS[i]!] = n;
  });
  return policy;
}

/** `keep-last 3, keep-daily 7` (only the options set), or `keep-all`. */
export function describePolicy(policy: PrunePolicy): string {
  const parts = KEEP_KEYS.flatMap((key, i) => {
    const n = policy[KEEP_OPTIONS[i]!];
    return n === undefined || n === 0 ? [] : [`${key} ${n}`];
  });
  return parts.length === 0 ? 'keep-all (no keep option set)' : parts.join(', ');
}

/** Prunes one group; newest first in the result, as `computePrune` orders it. */
export async function pruneGroup(store: Datastore, group: GroupRef, policy: PrunePolicy, o: PruneOptions): Promise<PruneEntry[]> {
  const entries = await pruneGroupNoSync(store, group, policy, o);
  await syncRemovals(store, entries, o);
  return entries;
}

/**
 * Prunes every group of `ns` and of the namespaces below it; with `namespaces`, only of those
 * (the ones a caller may prune, checked one by one: an ACL below may take away what one above
 * grants), the others skipped with a warning.
 */
export async function pruneDatastore(
  store: Datastore,
  policy: PrunePolicy,
  o: PruneOptions & { readonly ns?: string; readonly namespaces?: readonly string[]; readonly progress?: (done: number, total: number) => void },
): Promise<PruneEntry[]> {
  const ns = o.ns ?? '';
  if (!(await store.namespaceExists(ns))) throw fail('NOT_FOUND', `namespace '${ns}' does not exist`, { ns });
  const groups: GroupRef[] = [];
  const warn = (m: string): void => o.log.warn(m);
  const allowed = o.namespaces === undefined ? undefined : new Set(o.namespaces);
  let skipped = 0;
  for (const n of await store.listNamespaces(ns, warn)) {
    if (allowed !== undefined && !allowed.has(n)) skipped++;
    else groups.push(...(await store.listGroups(n, warn)));
  }
  // not named: the caller may not even see them
  if (skipped > 0) warn(`skipped ${skipped} namespace(s) below that the caller may not prune`);
  const out: PruneEntry[] = [];
  for (const [i, g] of groups.entries()) {
    if (o.signal?.aborted) throw fail('ABORTED', 'prune was stopped', {});
    o.log.info(`group ${store.show(g)}`);
    out.push(...(await pruneGroupNoSync(store, g, policy, o)));
    o.progress?.(i + 1, groups.length);
  }
  await syncRemovals(store, out, o);
  return out;
}

async function pruneGroupNoSync(store: Datastore, group: GroupRef, policy: PrunePolicy, o: PruneOptions): Promise<PruneEntry[]> {
  const infos = await store.listSnapshots(group, (m) => o.log.warn(m));
  const byTime = new Map(infos.map((s) => [s.ref.time, s]));
  const decisions = computePrune(
    infos.map((s) => ({ time: s.ref.time, finished: s.finished, protected: s.protected })),
    policy,
    o.timeZone,
  );
  const out: PruneEntry[] = [];
  for (const d of decisions) {
    const info = byTime.get(d.time);
    if (!info) continue;
    const base = { ref: info.ref, snapshot: store.show(info.ref), keep: d.keep, reason: d.reason, protected: info.protected };
    if (d.keep) {
      o.log.info(`keep ${formatTime(d.time)} (${d.reason})`);
      out.push({ ...base, outcome: 'kept' });
    } else if (o.dryRun) {
      o.log.info(`would remove ${formatTime(d.time)}`);
      out.push({ ...base, outcome: 'would-remove' });
    } else {
      if (o.signal?.aborted) throw fail('ABORTED', 'prune was stopped', {});
      out.push({ ...base, ...(await removeOne(store, info.ref, o.log)) });
    }
  }
  return out;
}

async function removeOne(store: Datastore, ref: SnapshotRef, log: Logger): Promise<{ outcome: PruneOutcome; warning?: string }> {
  try {
    await store.deleteSnapshot(ref);
    log.info(`removed ${formatTime(ref.time)}`);
    return { outcome: 'removed' };
  } catch (e) {
    if (!isHoldfastError(e, 'LOCKED') && !isHoldfastError(e, 'PROTECTED') && !isHoldfastError(e, 'NOT_FOUND')) throw e;
    const warning = `not removing ${store.show(ref)}: ${toHoldfastError(e).message}`;
    log.warn(warning);
    return { outcome: 'skipped', warning };
  }
}

async function syncRemovals(store: Datastore, entries: readonly PruneEntry[], o: PruneOptions): Promise<void> {
  if (o.dryRun || !entries.some((e) => e.outcome === 'removed')) return;
  await store.durability.metadataBarrier();
}
