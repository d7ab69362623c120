/**
 * Moving what a namespace holds into another namespace of the same datastore (PBS 4.1.10's
 * `move-namespace`): its groups, and its namespaces down to `maxDepth` levels with theirs, so that
 * `ns/x/…` becomes `target/x/…`. The target namespaces are made where missing; each group moves
 * as `moveGroup` moves one (locks, merge rules, the GC move journal), merging into a group of the
 * same name only with `merge`. With `deleteSource` the emptied source namespaces are removed
 * afterwards, deepest first and only when empty (rmdir), so a group that stayed (one below
 * `maxDepth`, or one a backup made meanwhile) keeps its namespace.
 *
 * Everything that can be checked is checked before anything moves: the source exists and is not
 * the root, the target is neither the source nor inside it, every mapped namespace fits the depth
 * limit, and no group would meet one of the same name in the target unless merging is asked for.
 * A failure after that (a lock, a refused merge) stops the move where it is: what moved is whole
 * in the target, what did not is whole in the source, and the same move finishes the rest.
 */
import { checkNamespace, type GroupRef } from '../core/backup-ref.ts';
import { fail, isHoldfastError } from '../core/errors.ts';
import type { Datastore } from './datastore.ts';
import { moveGroup } from './group-move.ts';
import { removeEmptyNamespace } from './removal.ts';

export interface MoveNamespaceOptions {
  /** namespace levels below `ns` to move (0: only its own groups); default all */
  readonly maxDepth?: number;
  /** PBS's `merge-groups`: into groups of the same name and owner in the target */
  readonly merge: boolean;
  /** PBS's `delete-source` (default true): remove the emptied source namespaces */
  readonly deleteSource: boolean;
  /** hears of each group once it is in its new namespace */
  readonly onGroup?: (from: GroupRef, to: GroupRef, snapshots: number) => void;
}

export interface MoveNamespaceResult {
  readonly movedGroups: number;
  readonly movedSnapshots: number;
  readonly removedNamespaces: number;
}

/** `sub` (at or below `from`) as it is called below `to`. */
export function mappedNamespace(sub: string, from: string, to: string): string {
  const rel = sub === from ? '' : sub.slice(from.length + 1);
  return [to, rel].filter((s) => s !== '').join('/');
}

const depthBelow = (sub: string, ns: string): number => (sub === ns ? 0 : sub.slice(ns.length + 1).split('/').length);

/** The source namespaces a move covers (parents first), each with its target. */
export async function namespaceMovePlan(store: Datastore, ns: string, targetNs: string, maxDepth: number | undefined): Promise<{ readonly from: string; readonly to: string }[]> {
  checkNamespace(ns);
  checkNamespace(targetNs);
  if (ns === '') throw fail('INVALID_ARGUMENT', 'the root namespace cannot be moved (move its groups one by one)', { param: 'ns' });
  if (maxDepth !== undefined && !(Number.isInteger(maxDepth) && maxDepth >= 0 && maxDepth <= 7)) throw fail('INVALID_ARGUMENT', `max-depth ${maxDepth} is not 0..7`, { param: 'max-depth', value: maxDepth });
  if (targetNs === ns || targetNs.startsWith(`${ns}/`)) throw fail('INVALID_ARGUMENT', `namespace '${ns}' cannot be moved into itself ('${targetNs}')`, { param: 'target-ns', value: targetNs });
  if (!(await store.namespaceExists(ns))) throw fail('NOT_FOUND', `namespace '${ns}' does not exist`, { ns });
  const subs = (await store.listNamespaces(ns)).filter((s) => maxDepth === undefined || depthBelow(s, ns) <= maxDepth);
  return subs.map((from) => {
    const to = mappedNamespace(from, ns, targetNs);
    try {
      checkNamespace(to);
    } catch {
      throw fail('INVALID_ARGUMENT', `namespace '${from}' would become '${to}', deeper than a namespace may be`, { ns: from, target: to });
    }
    return { from, to };
  });
}

export async function moveNamespace(store: Datastore, ns: string, targetNs: string, o: MoveNamespaceOptions): Promise<MoveNamespaceResult> {
  const plan = await namespaceMovePlan(store, ns, targetNs, o.maxDepth);
  if (!o.merge) {
    for (const { from, to } of plan) {
      if (!(await store.namespaceExists(to))) continue;
      const there = new Set((await store.listGroups(to)).map((g) => `${g.type}/${g.id}`));
      const clash = (await store.listGroups(from)).find((g) => there.has(`${g.type}/${g.id}`));
      if (clash) throw fail('ALREADY_EXISTS', `backup group ${store.show({ ...clash, ns: to })} exists already (and merging into it was not asked for)`, { group: store.show({ ...clash, ns: to }) });
    }
  }
  let movedGroups = 0;
  let movedSnapshots = 0;
  for (const { from, to } of plan) {
    await ensureNamespace(store, to);
    for (const g of await store.listGroups(from)) {
      const r = await moveGroup(store, g, to, { merge: o.merge });
      movedGroups++;
      movedSnapshots += r.movedSnapshots;
      o.onGroup?.(g, r.target, r.movedSnapshots);
    }
  }
  let removedNamespaces = 0;
  if (o.deleteSource) {
    for (const { from } of [...plan].reverse()) if (await removeEmptyNamespace(store, from)) removedNamespaces++;
  }
  return { movedGroups, movedSnapshots, removedNamespaces };
}

async function ensureNamespace(store: Datastore, ns: string): Promise<void> {
  const parts = ns === '' ? [] : ns.split('/');
  for (let i = 1; i <= parts.length; i++) {
    const sub = parts.slice(0, i).join('/');
    if (await store.namespaceExists(sub)) continue;
    try {
      await store.createNamespace(sub);
    } catch (e) {
      if (!isHoldfastError(e, 'ALREADY_EXISTS')) throw e; // made meanwhile
    }
  }
}
