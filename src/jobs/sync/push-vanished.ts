/**
 * remove-vanished for a push: what the remote has under the job's `remote-ns` and the local side
 * no longer has goes, through the remote's API and so with the remote user's privileges (as
 * PBS: Datastore.Prune, or Datastore.Modify, for groups; Datastore.Modify on the parent for a
 * namespace). A refusal is logged and reported, and the rest of the run goes on.
 *
 * As PBS, only what the job covers is touched: groups that pass the filter and that the remote
 * auth-id owns (a group of another owner is never removed, so its namespace stays too), and
 * namespaces within max-depth, never the `remote-ns` anchor. A namespace is removed after its
 * vanished groups, deepest first, and only when nothing is left in it: the remote is asked to
 * delete it without `delete-groups`, so it refuses rather than remove a group it still holds.
 * Protected snapshots stay there, and keep their group and namespace (with a log line).
 */
import type { GroupRef } from '../../core/backup-ref.ts';
import { ownerMatches } from '../../core/names.ts';
import { applyGroupFilters } from '../../format/group-filter.ts';
import { failed, type PullContext } from './pull.ts';
import type { RemoteGroup } from './remote-api.ts';
import { vanishedNamespaces } from './vanished.ts';

const key = (g: GroupRef): string => `${g.type}/${g.id}`;

function covers(c: PullContext, g: RemoteGroup): boolean {
  return applyGroupFilters(c.job.groupFilter, g) && g.owner !== undefined && ownerMatches(g.owner, c.remote.authId);
}

async function removeRemoteGroup(c: PullContext, g: GroupRef): Promise<void> {
  try {
    const r = await c.remote.deleteGroup(g);
    c.report.snapshotsRemoved += r.removedSnapshots;
    c.report.groupsRemoved += r.removedGroups;
    if (r.protectedSnapshots > 0) c.task.warn(`${c.remote.show(g)}: vanished locally, but ${r.protectedSnapshots} protected snapshot(s) there: group kept (${r.removedSnapshots} snapshot(s) removed)`);
    else c.task.info(`${c.remote.show(g)}: group vanished locally: removed from the remote (${r.removedSnapshots} snapshot(s))`);
  } catch (e) {
    failed(c.report, c.task, c.remote.show(g), e, 'remove-vanished');
  }
}

/** Removes the covered groups of remote namespace `ns` that are not in `here` (by `type/id`). */
async function removeVanishedGroups(c: PullContext, ns: string, here: ReadonlySet<string>): Promise<void> {
  for (const g of await c.remote.groups(ns)) if (!here.has(key(g)) && covers(c, g)) await removeRemoteGroup(c, g);
}

async function removeVanishedNamespace(c: PullContext, ns: string): Promise<void> {
  await removeVanishedGroups(c, ns, new Set());
  const left = (await c.remote.groups(ns)).length + (await c.remote.namespaces(ns, 1)).length - 1;
  if (left > 0) {
    c.task.warn(`namespace '${ns}' on the remote: vanished locally, but kept: it still holds protected snapshots, groups of another owner or outside the filter, or namespaces`);
    return;
  }
  await c.remote.deleteNamespace(ns);
  c.report.namespacesRemoved++;
  c.task.info(`namespace '${ns}' on the remote: vanished locally: removed`);
}

/**
 * The push's remove-vanished, after its snapshots went: `pushed` maps each remote namespace the
 * local side has (under the anchor) to the `type/id` of its local groups.
 */
export async function removeVanishedOnRemote(c: PullContext, pushed: ReadonlyMap<string, ReadonlySet<string>>): Promise<void> {
  for (const [ns, here] of pushed) {
    await removeVanishedGroups(c, ns, here).catch((e: unknown) => failed(c.report, c.task, `namespace '${ns}' on the remote`, e, 'remove-vanished'));
  }
  let present: string[];
  try {
    present = await c.remote.namespaces(c.job.remoteNs, c.job.maxDepth);
  } catch (e) {
    failed(c.report, c.task, `namespace '${c.job.remoteNs}' on the remote`, e, 'remove-vanished');
    return;
  }
  for (const ns of vanishedNamespaces(present, new Set(pushed.keys()), c.job.remoteNs, c.job.maxDepth)) {
    await removeVanishedNamespace(c, ns).catch((e: unknown) => failed(c.report, c.task, `namespace '${ns}' on the remote`, e, 'remove-vanished'));
  }
}
