/**
 * Moves within a datastore as tasks, the job kinds around datastore/group-move.ts and
 * datastore/namespace-move.ts:
 * - `move-group` (PBS 4.1.9): a group to another namespace; answers `{target-ns,
 *   moved-snapshots, merged}`;
 * - `move-namespace` (PBS 4.1.10): what a namespace holds into another; answers
 *   `{target-ns, moved-groups, moved-snapshots, removed-namespaces}`.
 * `prepare` refuses, before any task exists, what does not exist and a move onto itself; the task
 * logs what lands where.
 */
import type { GroupRef } from '../core/backup-ref.ts';
import { fail } from '../core/errors.ts';
import { moveGroup } from '../datastore/group-move.ts';
import { moveNamespace, namespaceMovePlan } from '../datastore/namespace-move.ts';
import type { JobKind } from './job-kinds.ts';

export const MOVE_GROUP_WORKER_TYPE = 'move-group';

export interface MoveGroupParams {
  readonly store: string;
  readonly group: GroupRef;
  readonly targetNs: string;
  /** PBS's `merge-group` (default true): into a group of the same owner that exists there */
  readonly merge: boolean;
}

export interface MoveGroupReport {
  readonly 'target-ns': string;
  readonly 'moved-snapshots': number;
  readonly merged: boolean;
}

export const moveGroupKind: JobKind<MoveGroupParams, MoveGroupReport> = {
  workerType: MOVE_GROUP_WORKER_TYPE,
  async prepare(host, p) {
    const { store } = await host.openStore(p.store);
    const shown = store.show(p.group);
    if (p.targetNs === p.group.ns) throw fail('INVALID_ARGUMENT', `backup group ${shown} is in namespace '${p.targetNs}' already`, { ns: p.targetNs });
    if ((await store.getOwner(p.group)) === undefined) throw fail('NOT_FOUND', `backup group ${shown} does not exist`, { group: shown });
    if (!(await store.namespaceExists(p.targetNs))) throw fail('NOT_FOUND', `namespace '${p.targetNs}' does not exist`, { ns: p.targetNs });
    return {
      id: `${p.store}:${shown}`,
      run: async (task) => {
        const where = p.targetNs === '' ? 'the root namespace' : `namespace '${p.targetNs}'`;
        task.info(`moving backup group ${shown} of datastore ${p.store} to ${where}${p.merge ? '' : ' (no merge)'}`);
        const r = await moveGroup(store, p.group, p.targetNs, { merge: p.merge, onSnapshot: (from, to) => task.info(`moved ${store.show(from)} to ${store.show(to)}`) });
        task.info(`moved ${r.movedSnapshots} snapshot(s) ${r.merged ? 'into the existing' : 'into the new'} group ${store.show(r.target)}`);
        return { 'target-ns': p.targetNs, 'moved-snapshots': r.movedSnapshots, merged: r.merged };
      },
    };
  },
};

export const MOVE_NAMESPACE_WORKER_TYPE = 'move-namespace';

export interface MoveNamespaceParams {
  readonly store: string;
  readonly ns: string;
  readonly targetNs: string;
  readonly maxDepth: number | undefined;
  readonly merge: boolean;
  readonly deleteSource: boolean;
}

export interface MoveNamespaceReport {
  readonly 'target-ns': string;
  readonly 'moved-groups': number;
  readonly 'moved-snapshots': number;
  readonly 'removed-namespaces': number;
}

export const moveNamespaceKind: JobKind<MoveNamespaceParams, MoveNamespaceReport> = {
  workerType: MOVE_NAMESPACE_WORKER_TYPE,
  async prepare(host, p) {
    const { store } = await host.openStore(p.store);
    await namespaceMovePlan(store, p.ns, p.targetNs, p.maxDepth); // refuses before a task exists
    return {
      id: `${p.store}:${p.ns}`,
      run: async (task) => {
        const where = p.targetNs === '' ? 'the root namespace' : `namespace '${p.targetNs}'`;
        task.info(`moving namespace '${p.ns}' of datastore ${p.store}${p.maxDepth === undefined ? '' : ` (${p.maxDepth} level(s) deep)`} into ${where}${p.merge ? '' : ' (no merge)'}`);
        const r = await moveNamespace(store, p.ns, p.targetNs, {
          ...(p.maxDepth === undefined ? {} : { maxDepth: p.maxDepth }),
          merge: p.merge,
          deleteSource: p.deleteSource,
          onGroup: (from, to, n) => task.info(`moved ${store.show(from)} to ${store.show(to)} (${n} snapshot(s))`),
        });
        task.info(`moved ${r.movedGroups} group(s) with ${r.movedSnapshots} snapshot(s); removed ${r.removedNamespaces} emptied source namespace(s)`);
        return { 'target-ns': p.targetNs, 'moved-groups': r.movedGroups, 'moved-snapshots': r.movedSnapshots, 'removed-namespaces': r.removedNamespaces };
      },
    };
  },
};
