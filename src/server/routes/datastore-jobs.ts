/**
 * Maintenance jobs of one datastore under `/api2/json/admin/datastore/{store}` (PBS paths):
 *
 *     POST …/gc               start a GC task → UPID                         Datastore.Modify
 *     GET  …/gc               the last `.gc-status`, plus schedule and next run  Datastore.Audit
 *                             (both on `/datastore/{store}`: GC is the whole datastore's, so a
 *                             privilege on one namespace does not reach it)
 *     POST …/verify           start a verify task → UPID                     Datastore.Verify, or
 *                             (ns, backup-type, backup-id, backup-time,      Datastore.Backup for the
 *                              ignore-verified, outdated-after)              groups it owns
 *     POST …/prune            prune one group now → one entry per snapshot   Datastore.Modify, or
 *                             (backup-type, backup-id, ns, keep-*, dry-run)  Datastore.Prune as owner
 *     POST …/move-group       start a task moving a group to another         see below
 *                             namespace → UPID (backup-type, backup-id, ns,
 *                             target-ns, merge-group: default true)
 *
 *     POST …/move-namespace   start a task moving what ns holds into         Datastore.Modify on every
 *                             target-ns → UPID (ns, target-ns, max-depth,    namespace it takes from or
 *                             merge-groups and delete-source: default true)  puts into, and on the
 *                                                                            target's parent
 *
 * move-group: on the group's namespace Datastore.Modify, or Datastore.Prune as the group's owner
 * (the group leaves it, as with a removal); on the target namespace Datastore.Modify, or, for an
 * owner moving its own group, Datastore.Backup (the group arrives as if backed up there).
 *
 * A verify or prune over a namespace tree acts only in the namespaces below where the caller holds
 * the privilege too, each checked on its own path (`permittedNamespaces`); the others are skipped
 * with a warning in the task log.
 *
 * The owner rules are PBS's: a DatastorePowerUser (Prune, Backup) on a datastore shared with
 * others may prune and verify its own groups, never another user's.
 *     POST …/prune-datastore  start a prune task over a namespace → UPID     Datastore.Modify
 *                             (ns, keep-* — default the datastore's own — dry-run)
 */
import { bool, groupRef, int, namespace, requiredText, snapshotRef, text, type Args } from '../../core/args.ts';
import type { SnapshotRef } from '../../core/backup-ref.ts';
import { fail, isHoldfastError } from '../../core/errors.ts';
import { GC_STATUS_NAME } from '../../datastore/layout.ts';
import { nextEvent } from '../../format/calendar-event.ts';
import { KEEP_KEYS, prunePolicyFrom, type PruneEntry } from '../../jobs/prune.ts';
import type { VerifyScope } from '../../jobs/verify-job.ts';
import { gcKind, pruneGroupKind, pruneJobKind, verifyKind } from '../../jobs/maintenance-kinds.ts';
import { moveGroupKind, moveNamespaceKind } from '../../jobs/move-kinds.ts';
import { namespaceMovePlan } from '../../datastore/namespace-move.ts';
import type { Privilege } from '../../format/acl-config.ts';
import type { JobServices } from '../job-services.ts';
import type { PrivilegeRequirement, Route, RouteInput } from '../router.ts';
import { datastoreAclPath } from './backup-protocols.ts';
import { needGroup, scopeOf, type DatastoreAccess } from './datastore-admin.ts';

const BASE = '/api2/json/admin/datastore/{store}';

const priv =
  (...privs: Privilege[]) =>
  (i: RouteInput): PrivilegeRequirement => ({ path: datastoreAclPath(i.params['store'] ?? '', text(i.args, 'ns') ?? ''), privs });

/** For what acts on the whole datastore (GC): checked on `/datastore/{store}`, whatever `ns` says. */
const storePriv =
  (...privs: Privilege[]) =>
  (i: RouteInput): PrivilegeRequirement => ({ path: datastoreAclPath(i.params['store'] ?? '', ''), privs });

/**
 * `ns` and the namespaces below it on which `authId` holds `priv`, each checked on its own path:
 * an ACL entry below (NoAccess, or a lesser role) takes away what one above grants, so a job over
 * a namespace tree acts only where the caller may (PBS lists only the groups a caller may access).
 */
async function permittedNamespaces(auth: DatastoreAccess, jobs: JobServices, storeName: string, ns: string, priv: Privilege, authId: string): Promise<string[]> {
  const store = await jobs.registry.get(storeName, 'read');
  const out: string[] = [];
  for (const n of await store.listNamespaces(ns)) if ((await auth.privileges(authId, datastoreAclPath(storeName, n))).has(priv)) out.push(n);
  return out;
}

/** The verify scope the parameters name: a snapshot, a group, a namespace or the datastore. */
export function verifyScopeArgs(args: Args): VerifyScope {
  const ns = namespace(args);
  if (text(args, 'backup-time') !== undefined) return { kind: 'snapshot', snapshot: snapshotRef(args) };
  if (text(args, 'backup-type') !== undefined || text(args, 'backup-id') !== undefined) return { kind: 'group', group: groupRef(args) };
  return ns === '' ? { kind: 'datastore' } : { kind: 'namespace', ns };
}

function pruneItem(e: PruneEntry): Record<string, unknown> {
  const r: SnapshotRef = e.ref;
  return {
    'backup-type': r.type,
    'backup-id': r.id,
    'backup-time': r.time,
    ...(r.ns === '' ? {} : { ns: r.ns }),
    keep: e.keep,
    protected: e.protected,
    reason: e.reason,
    outcome: e.outcome,
    ...(e.warning === undefined ? {} : { warning: e.warning }),
  };
}

function policyArgs(args: Args): ReturnType<typeof prunePolicyFrom> | undefined {
  if (!KEEP_KEYS.some((k) => text(args, k) !== undefined)) return undefined;
  return prunePolicyFrom((k) => text(args, k));
}

export function datastoreJobRoutes(jobs: JobServices, auth: DatastoreAccess): Route[] {
  const storeName = (i: RouteInput): string => i.params['store'] ?? '';
  return [
    {
      method: 'POST',
      path: `${BASE}/gc`,
      privilege: storePriv('Datastore.Modify'),
      handler: async (i) => jobs.start(gcKind, { store: storeName(i) }, i.authId),
    },
    {
      method: 'GET',
      path: `${BASE}/gc`,
      privilege: storePriv('Datastore.Audit'),
      handler: async (i) => {
        const name = storeName(i);
        const cfg = await jobs.registry.config(name);
        const store = await jobs.registry.get(name, 'read');
        let status: Record<string, unknown> = { upid: null };
        try {
          const text = await store.readStoreFile(GC_STATUS_NAME);
          if (text !== undefined) status = JSON.parse(text) as Record<string, unknown>;
        } catch (e) {
          if (!isHoldfastError(e, 'NOT_FOUND') && !(e instanceof SyntaxError)) throw e;
        }
        const schedule = cfg.props.get('gc-schedule');
        let next: number | undefined;
        try {
          next = schedule === undefined ? undefined : nextEvent(schedule, Math.floor(jobs.clock.now() / 1000));
        } catch {
          next = undefined;
        }
        return { ...status, store: name, ...(schedule === undefined ? {} : { schedule }), ...(next === undefined ? {} : { 'next-run': next }) };
      },
    },
    {
      method: 'POST',
      path: `${BASE}/verify`,
      privilege: () => null,
      handler: async (i) => {
        let scope = verifyScopeArgs(i.args);
        const access = await scopeOf(auth, i, 'Datastore.Verify', 'Datastore.Backup');
        if (scope.kind === 'group' || scope.kind === 'snapshot') {
          if (access === 'owned') await needGroup(await jobs.registry.get(storeName(i), 'read'), access, scope.kind === 'group' ? scope.group : scope.snapshot, i.authId);
        } else {
          // a tree: the namespaces below the caller may act in, and with Datastore.Backup alone only its own groups
          const priv = access === 'all' ? 'Datastore.Verify' : 'Datastore.Backup';
          const namespaces = await permittedNamespaces(auth, jobs, storeName(i), scope.kind === 'namespace' ? scope.ns : '', priv, i.authId);
          scope = { ...scope, namespaces, ...(access === 'owned' ? { ownedBy: i.authId } : {}) };
        }
        const outdated = int(i.args, 'outdated-after');
        const filter = { ignoreVerified: bool(i.args, 'ignore-verified') === true, ...(outdated === undefined ? {} : { outdatedAfterDays: outdated }) };
        return jobs.start(verifyKind, { store: storeName(i), scope, filter }, i.authId);
      },
    },
    {
      method: 'POST',
      path: `${BASE}/prune`,
      privilege: () => null,
      handler: async (i) => {
        const access = await scopeOf(auth, i, 'Datastore.Modify', 'Datastore.Prune');
        const group = groupRef(i.args);
        if (access === 'owned') await needGroup(await jobs.registry.get(storeName(i), 'read'), access, group, i.authId);
        const entries = await jobs.run(pruneGroupKind, { store: storeName(i), group, policy: policyArgs(i.args) ?? {}, dryRun: bool(i.args, 'dry-run') === true }, i.authId);
        return entries.map(pruneItem);
      },
    },
    {
      method: 'POST',
      path: `${BASE}/move-group`,
      privilege: () => null,
      handler: async (i) => {
        const group = groupRef(i.args);
        const targetNs = namespace({ ns: text(i.args, 'target-ns') });
        const access = await scopeOf(auth, i, 'Datastore.Modify', 'Datastore.Prune');
        if (access === 'owned') await needGroup(await jobs.registry.get(storeName(i), 'read'), access, group, i.authId);
        const targetPath = datastoreAclPath(storeName(i), targetNs);
        const have = await auth.privileges(i.authId, targetPath);
        if (!have.has('Datastore.Modify') && !(access === 'owned' && have.has('Datastore.Backup'))) {
          const need = access === 'owned' ? 'Datastore.Modify or Datastore.Backup' : 'Datastore.Modify';
          throw fail('FORBIDDEN', `permission check failed: '${i.authId}' lacks ${need} on the target '${targetPath}'`, { authId: i.authId, path: targetPath });
        }
        return jobs.start(moveGroupKind, { store: storeName(i), group, targetNs, merge: bool(i.args, 'merge-group') !== false }, i.authId);
      },
    },
    {
      method: 'POST',
      path: `${BASE}/move-namespace`,
      privilege: () => null,
      handler: async (i) => {
        const ns = namespace({ ns: requiredText(i.args, 'ns') });
        const targetNs = namespace({ ns: text(i.args, 'target-ns') });
        const maxDepth = int(i.args, 'max-depth');
        const store = await jobs.registry.get(storeName(i), 'read');
        const plan = await namespaceMovePlan(store, ns, targetNs, maxDepth);
        const parent = targetNs.includes('/') ? targetNs.slice(0, targetNs.lastIndexOf('/')) : '';
        for (const path of new Set([parent, ...plan.flatMap((p) => [p.from, p.to])])) {
          const acl = datastoreAclPath(storeName(i), path);
          if (!(await auth.privileges(i.authId, acl)).has('Datastore.Modify')) {
            throw fail('FORBIDDEN', `permission check failed: '${i.authId}' lacks Datastore.Modify on '${acl}'`, { authId: i.authId, path: acl, missing: ['Datastore.Modify'] });
          }
        }
        const params = { store: storeName(i), ns, targetNs, maxDepth, merge: bool(i.args, 'merge-groups') !== false, deleteSource: bool(i.args, 'delete-source') !== false };
        return jobs.start(moveNamespaceKind, params, i.authId);
      },
    },
    {
      method: 'POST',
      path: `${BASE}/prune-datastore`,
      privilege: priv('Datastore.Modify'),
      handler: async (i) => {
        const ns = namespace(i.args);
        const namespaces = await permittedNamespaces(auth, jobs, storeName(i), ns, 'Datastore.Modify', i.authId);
        return jobs.start(pruneJobKind, { store: storeName(i), policy: policyArgs(i.args), ns, namespaces, dryRun: bool(i.args, 'dry-run') === true }, i.authId);
      },
    },
  ];
}
