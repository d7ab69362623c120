/**
 * Moving a backup group to another namespace of the same datastore (PBS 4.1.9's `move-group`),
 * snapshot by snapshot, into a group of the same type and id there: made anew with the group's
 * owner (and notes), or, with `merge`, one that exists already when it has the same owner and no
 * snapshot at the same time.
 *
 * Locks, all taken before anything moves (LOCKED, and nothing moved, when one is held):
 * - the source group, exclusive: no backup runs in it;
 * - every snapshot of it, exclusive: no reader, verify or prune holds one;
 * - the target group, exclusive (made when missing, as a backup makes it): no backup runs there.
 * Unfinished snapshots (a crashed backup's leftovers) are removed first, as group removal does.
 *
 * Each snapshot moves by one rename (Datastore.moveSnapshot: durable at `filesystem` and `file`,
 * its mirror copy first on an object store, and heard of by a running GC). The source group (its
 * owner and notes files) is removed once it is empty. A failure stops the move where it is: every
 * snapshot is then whole in one of the two groups, both owned by the same owner, and the same move
 * with `merge` finishes it. A target group made for a move that then moved nothing is removed.
 */
import { checkNamespace, type GroupRef, type SnapshotRef } from '../core/backup-ref.ts';
import { fail, toHoldfastError } from '../core/errors.ts';
import type { HeldLock } from '../storage/locker.ts';
import { lockGroup } from './backup-session.ts';
import type { Datastore } from './datastore.ts';
import { groupDir, snapshotDir } from './layout.ts';

export interface MoveGroupOptions {
  /** move into a group that exists in the target namespace (same owner, no time in common) */
  readonly merge: boolean;
  /** hears of each snapshot once it is in its new place (a task log) */
  readonly onSnapshot?: (from: SnapshotRef, to: SnapshotRef) => void;
}

export interface MoveGroupResult {
  readonly target: GroupRef;
  readonly movedSnapshots: number;
  /** whether the target group existed before (a merge) */
  readonly merged: boolean;
}

/**
 * Moves group `from` into namespace `targetNs`. NOT_FOUND: no such group or namespace;
 * INVALID_ARGUMENT: the group is in `targetNs` already; ALREADY_EXISTS: the target group exists
 * and `merge` is off, or it has a snapshot at a time the source has too; OWNER_MISMATCH: it has
 * another owner; LOCKED: a backup, reader, verify or prune holds one of the groups or snapshots.
 */
export async function moveGroup(store: Datastore, from: GroupRef, targetNs: string, o: MoveGroupOptions): Promise<MoveGroupResult> {
  checkNamespace(targetNs);
  const shown = store.show(from);
  if (targetNs === from.ns) throw fail('INVALID_ARGUMENT', `backup group ${shown} is in namespace '${targetNs}' already`, { ns: targetNs });
  if (!(await store.namespaceExists(targetNs))) throw fail('NOT_FOUND', `namespace '${targetNs}' does not exist`, { ns: targetNs });
  const owner = await store.getOwner(from);
  if (owner === undefined) throw fail('NOT_FOUND', `backup group ${shown} does not exist`, { group: shown });
  const target: GroupRef = { ns: targetNs, type: from.type, id: from.id };
  const locks: HeldLock[] = [];
  try {
    locks.push(await store.locker.lockDir(groupDir(store.base, from), 'exclusive', `backup group ${shown}`));
    await store.cleanupUnfinished(from);
    const snapshots = await store.listSnapshots(from);
    const unfinished = snapshots.find((s) => !s.finished);
    if (unfinished) throw fail('LOCKED', `snapshot ${store.show(unfinished.ref)} is unfinished and in use`, { snapshot: store.show(unfinished.ref) });
    for (const s of snapshots) locks.push(await store.locker.lockDir(snapshotDir(store.base, s.ref), 'exclusive', `snapshot ${store.show(s.ref)}`));

    const created = await lockGroup(store, target, locks);
    let moved = 0;
    let fresh: boolean;
    try {
      fresh = await checkTarget(store, target, owner, snapshots.map((s) => s.ref), created, o.merge);
      if (fresh) {
        await store.setOwner(target, owner);
        const notes = await store.getGroupNotes(from);
        if (notes !== undefined) await store.setGroupNotes(target, notes);
      }
      await store.durability.moveTargetReady();
      for (const s of snapshots) {
        const to = await store.moveSnapshot(s.ref, target);
        moved++;
        o.onSnapshot?.(s.ref, to);
      }
    } catch (e) {
      if (created && moved === 0) await dropNewGroup(store, target);
      throw e;
    }
    // only the owner and notes files are left: no backup could add a snapshot under the lock
    await store.durability.removeTree(groupDir(store.base, from));
    return { target, movedSnapshots: moved, merged: !fresh };
  } finally {
    for (const l of locks.reverse()) await l.release();
  }
}

/** Whether the target group is new (its owner and notes to be written); throws when it may not take the snapshots. */
async function checkTarget(store: Datastore, target: GroupRef, owner: string, moving: readonly SnapshotRef[], created: boolean, merge: boolean): Promise<boolean> {
  const shown = store.show(target);
  if (created) return true;
  const targetOwner = await store.getOwner(target);
  // a directory without an owner is what a crash leaves of a new group (a backup's or a move's)
  if (targetOwner === undefined && (await store.listSnapshots(target)).length === 0) return true;
  if (!merge) throw fail('ALREADY_EXISTS', `backup group ${shown} exists already (and merging into it was not asked for)`, { group: shown });
  if (targetOwner !== owner) throw fail('OWNER_MISMATCH', `backup group ${shown} is owned by ${targetOwner ?? 'nobody'}, not ${owner}: snapshots are only merged into a group of the same owner`, { owner: targetOwner ?? null, expected: owner });
  const times = new Set((await store.listSnapshots(target)).map((s) => s.ref.time));
  const clash = moving.find((s) => times.has(s.time));
  if (clash) throw fail('ALREADY_EXISTS', `backup group ${shown} has a snapshot at the time of ${store.show(clash)} already`, { snapshot: store.show({ ...target, time: clash.time }) });
  return false;
}

/** Removes the target group a failed move made (empty but for what the move wrote there). */
async function dropNewGroup(store: Datastore, g: GroupRef): Promise<void> {
  try {
    await store.durability.discard(groupDir(store.base, g));
  } catch (e) {
    store.log.warn(`could not remove the empty new group ${store.show(g)}: ${toHoldfastError(e).message}`);
  }
}
