/**
 * Moving a backup group to another namespace as a task (`move-group`, PBS 4.1.9's move-group):
 * the job kind around datastore/group-move.ts. `prepare` refuses, before any task exists, a
 * group or namespace that does not exist and a move within one namespace; the task logs each
 * snapshot as it lands and answers `{target-ns, moved-snapshots, merged}`.
 */
import type { GroupRef } from '../core/backup-ref.ts';
import { fail } from '../core/errors.ts';
import { moveGroup } from '../datastore/group-move.ts';
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
