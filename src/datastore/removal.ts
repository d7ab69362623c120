/**
 * Removing whole groups and namespaces (the API's DELETE …/groups and …/namespace, and a sync
 * job's remove-vanished).
 *
 * A group is removed under its exclusive lock, so no backup runs in it meanwhile (a backup that
 * starts afterwards finds the directory gone and makes it anew): leftovers of an interrupted
 * backup go first, then every finished snapshot that is not protected, each as `deleteSnapshot`
 * does it (manifest first). Only when nothing is left does the group directory (owner, notes) go.
 * A protected snapshot keeps its group.
 *
 * A namespace is removed only when it is empty, and only with rmdir, never `rm -r`: its type
 * directories and its `ns` directory must be empty too, so a group a backup is creating right now
 * makes the removal fail instead of being swept with it (Datastore.deleteNamespace, which also
 * removes an S3 store's `.namespace` record). The root namespace is never removed.
 */
import { dirname } from 'node:path';
import { checkNamespace, type GroupRef, type SnapshotRef } from '../core/backup-ref.ts';
import { fail, isHoldfastError } from '../core/errors.ts';
import type { Datastore } from './datastore.ts';
import { groupDir, nsDir } from './layout.ts';

/** What a removal did (PBS's BackupGroupDeleteStats). */
export interface RemovalStats {
  removedGroups: number;
  removedSnapshots: number;
  protectedSnapshots: number;
}

export type SnapshotOutcome = 'removed' | 'protected';

export function noRemovals(): RemovalStats {
  return { removedGroups: 0, removedSnapshots: 0, protectedSnapshots: 0 };
}

/**
 * Removes a group: its snapshots but the protected ones, then the group itself when nothing is
 * left. `onSnapshot` hears about each finished snapshot (for a task log). Throws NOT_FOUND for a
 * missing group and LOCKED while a backup runs in it.
 */
export async function removeGroup(store: Datastore, g: GroupRef, onSnapshot?: (s: SnapshotRef, outcome: SnapshotOutcome) => void): Promise<RemovalStats> {
  const stats = noRemovals();
  const dir = groupDir(store.base, g);
  const lock = await store.locker.lockDir(dir, 'exclusive', `backup group ${store.show(g)}`);
  try {
    await store.cleanupUnfinished(g);
    let left = 0;
    for (const s of await store.listSnapshots(g)) {
      if (!s.finished) left++;
      else if (s.protected) {
        stats.protectedSnapshots++;
        onSnapshot?.(s.ref, 'protected');
      } else {
        await store.deleteSnapshot(s.ref);
        stats.removedSnapshots++;
        onSnapshot?.(s.ref, 'removed');
      }
    }
    if (left + stats.protectedSnapshots === 0) {
      await store.durability.removeTree(dir);
      stats.removedGroups++;
    }
  } finally {
    await lock.release();
  }
  return stats;
}

/**
 * Removes `ns` when it holds no group and no namespace (false, and nothing done, when it does).
 * Throws NOT_FOUND for a missing namespace, INVALID_ARGUMENT for the root.
 */
export async function removeEmptyNamespace(store: Datastore, ns: string): Promise<boolean> {
  checkNamespace(ns);
  if (ns === '') throw fail('INVALID_ARGUMENT', 'the root namespace cannot be removed', { ns });
  if (!(await store.namespaceExists(ns))) throw fail('NOT_FOUND', `namespace '${ns}' does not exist`, { ns });
  if ((await store.listGroups(ns)).length > 0 || (await store.listNamespaces(ns)).length > 1) return false;
  try {
    // Datastore.deleteNamespace removes the directory and (S3) its mirror record; a group made
    // meanwhile by a backup makes it refuse, and then the namespace simply stays
    await store.deleteNamespace(ns);
  } catch (e) {
    if (isHoldfastError(e, 'NAMESPACE_NOT_EMPTY')) return false;
    throw e;
  }
  // the parent's `ns` directory, when this was its last child namespace
  await store.durability.rmdirDurably(dirname(nsDir(store.base, ns))).catch((e: unknown) => {
    if (!isHoldfastError(e, 'DIRECTORY_NOT_EMPTY')) throw e;
  });
  return true;
}

/**
 * Removes `ns` and the namespaces below it, deepest first. With `deleteGroups` their groups go
 * first (as `removeGroup`); a namespace that still holds something (a protected snapshot, or any
 * group without `deleteGroups`) stays, and so do the namespaces above it. `removedAll` tells.
 */
export async function removeNamespaceTree(store: Datastore, ns: string, deleteGroups: boolean): Promise<RemovalStats & { removedAll: boolean }> {
  checkNamespace(ns);
  if (ns === '') throw fail('INVALID_ARGUMENT', 'the root namespace cannot be removed', { ns });
  if (!(await store.namespaceExists(ns))) throw fail('NOT_FOUND', `namespace '${ns}' does not exist`, { ns });
  const stats = noRemovals();
  let removedAll = true;
  for (const sub of (await store.listNamespaces(ns)).reverse()) {
    if (deleteGroups) {
      for (const g of await store.listGroups(sub)) {
        const r = await removeGroup(store, g);
        stats.removedGroups += r.removedGroups;
        stats.removedSnapshots += r.removedSnapshots;
        stats.protectedSnapshots += r.protectedSnapshots;
      }
    }
    if (!(await removeEmptyNamespace(store, sub))) removedAll = false;
  }
  return { ...stats, removedAll };
}
