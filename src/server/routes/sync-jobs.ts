/**
 * Sync jobs under `/api2/json/config/sync` and their runs under `/api2/json/admin/sync` (PBS
 * paths):
 *
 *     GET    /config/sync          the jobs the caller may see
 *     POST   /config/sync          create (id and the sync.cfg keys)
 *     GET    /config/sync/{id}     one job
 *     PUT    /config/sync/{id}     set the given keys; `delete` lists keys to return to default
 *     DELETE /config/sync/{id}
 *     POST   /admin/sync/{id}/run  start the job now as a `syncjob` task → UPID
 *
 * Privileges, as PBS checks sync jobs (checked on every route, against the job as it is and, for
 * an update, as it will be):
 * - seeing a job: Datastore.Audit on the local `/datastore/{store}[/{ns}]` and Remote.Audit on
 *   `/remote/{remote}`;
 * - creating, changing, deleting or running one, pull: Datastore.Backup on the local namespace,
 *   Datastore.Prune with remove-vanished, Datastore.Modify when the owner is not the caller, and
 *   Remote.Read on `/remote/{remote}/{remote-store}[/{remote-ns}]`;
 * - push: Datastore.Read on the local namespace (and Datastore.Modify when the job's owner, whose
 *   access it reads with, is not the caller; a push job made without an owner gets the caller),
 *   and on the remote path Remote.DatastoreBackup, with remove-vanished also Remote.DatastorePrune.
 *
 * When it runs, a job acts as its owner namespace by namespace (jobs/sync: `ownerMay`): a pull
 * makes a local namespace only with Datastore.Modify on its parent, and syncs into one only with
 * Datastore.Backup there; a push reads a namespace with Datastore.Read (every group) or
 * Datastore.Backup (the owner's groups), and skips one an ACL below closes.
 */
import { list, requiredText, text } from '../../core/args.ts';
import { fail } from '../../core/errors.ts';
import type { Privilege } from '../../format/acl-config.ts';
import { describeSyncJob, makeSyncJob, quoteGroupFilters, SYNC_JOB_DELETABLE, SYNC_JOB_KEYS, type SyncJob } from '../../format/sync-job-config.ts';
import { SyncJobStore, type SyncJobPatch } from '../../jobs/sync/sync-job-store.ts';
import { DEFAULT_SYNC_OWNER, syncKind } from '../../jobs/sync/sync-kind.ts';
import type { AuthPort } from '../auth/authenticator.ts';
import type { JobServices } from '../job-services.ts';
import type { Route, RouteInput } from '../router.ts';
import { datastoreAclPath, hasPrivilege, ownerMatches } from './backup-protocols.ts';

const CONFIG = '/api2/json/config/sync';
const ADMIN = '/api2/json/admin/sync';

const remotePath = (j: SyncJob): string => `/remote/${j.remote}/${j.remoteStore}${j.remoteNs === '' ? '' : `/${j.remoteNs}`}`;

/** The privileges a job needs, as [path, privileges] pairs (see the module note). */
export function syncJobRequirements(j: SyncJob, authId: string, purpose: 'see' | 'modify'): [string, Privilege[]][] {
  const local = datastoreAclPath(j.store, j.ns);
  if (purpose === 'see') return [[local, ['Datastore.Audit']], [`/remote/${j.remote}`, ['Remote.Audit']]];
  if (j.direction === 'push') {
    // the job reads as its owner (root@pam when none is set): another owner than the caller is an admin's choice
    const localPrivs: Privilege[] = ownerMatches(j.owner ?? DEFAULT_SYNC_OWNER, authId) ? ['Datastore.Read'] : ['Datastore.Read', 'Datastore.Modify'];
    return [
      [local, localPrivs],
      [remotePath(j), j.removeVanished ? ['Remote.DatastoreBackup', 'Remote.DatastorePrune'] : ['Remote.DatastoreBackup']],
    ];
  }
  const localPrivs: Privilege[] = ['Datastore.Backup'];
  if (j.removeVanished) localPrivs.push('Datastore.Prune');
  if (!ownerMatches(j.owner ?? DEFAULT_SYNC_OWNER, authId)) localPrivs.push('Datastore.Modify');
  return [
    [local, localPrivs],
    [remotePath(j), ['Remote.Read']],
  ];
}

async function may(auth: AuthPort, authId: string, j: SyncJob, purpose: 'see' | 'modify'): Promise<boolean> {
  for (const [path, privs] of syncJobRequirements(j, authId, purpose)) if (!(await hasPrivilege(auth, authId, path, privs))) return false;
  return true;
}

async function need(auth: AuthPort, authId: string, j: SyncJob, purpose: 'see' | 'modify'): Promise<void> {
  for (const [path, privs] of syncJobRequirements(j, authId, purpose)) await auth.checkPrivilege(authId, path, privs);
}

function propsOf(i: RouteInput): Map<string, string> {
  const out = new Map<string, string>();
  for (const k of SYNC_JOB_KEYS) {
    if (k === 'group-filter') continue;
    const v = text(i.args, k);
    if (v !== undefined) out.set(k, v);
  }
  const filters = i.args['group-filter'];
  if (filters !== undefined) {
    const items = Array.isArray(filters) ? (filters as unknown[]) : [filters];
    if (items.some((f) => typeof f !== 'string')) throw fail('INVALID_ARGUMENT', 'group-filter must be text', { param: 'group-filter' });
    out.set('group-filter', quoteGroupFilters(items as string[]));
  }
  return out;
}

function patchOf(i: RouteInput): SyncJobPatch {
  const patch: Record<string, string | null> = Object.fromEntries(propsOf(i));
  for (const k of list(i.args, 'delete')) {
    if (!(SYNC_JOB_DELETABLE as readonly string[]).includes(k)) throw fail('INVALID_ARGUMENT', `cannot delete '${k}'`, { param: 'delete', value: k });
    patch[k] = null;
  }
  return patch;
}

export function syncJobRoutes(jobs: JobServices, auth: AuthPort, store: SyncJobStore): Route[] {
  const idOf = (i: RouteInput): string => i.params['id'] ?? '';
  return [
    {
      method: 'GET',
      path: CONFIG,
      privilege: () => null,
      handler: async (i) => {
        const out = [];
        for (const j of await store.list()) if (await may(auth, i.authId, j, 'see')) out.push(describeSyncJob(j));
        return out;
      },
    },
    {
      method: 'POST',
      path: CONFIG,
      privilege: () => null,
      handler: async (i) => {
        const id = requiredText(i.args, 'id');
        const props = propsOf(i);
        // a push job reads as its owner: by default the caller, never root@pam by omission
        if (props.get('sync-direction') === 'push' && !props.has('owner')) props.set('owner', i.authId);
        await need(auth, i.authId, makeSyncJob(id, props), 'modify');
        return describeSyncJob(await store.create(id, props));
      },
    },
    {
      method: 'GET',
      path: `${CONFIG}/{id}`,
      privilege: () => null,
      handler: async (i) => {
        const j = await store.get(idOf(i));
        await need(auth, i.authId, j, 'see');
        return describeSyncJob(j);
      },
    },
    {
      method: 'PUT',
      path: `${CONFIG}/{id}`,
      privilege: () => null,
      handler: async (i) => {
        await need(auth, i.authId, await store.get(idOf(i)), 'modify');
        const patch = patchOf(i);
        const next = await store.update(idOf(i), patch, (j) => need(auth, i.authId, j, 'modify'));
        return describeSyncJob(next);
      },
    },
    {
      method: 'DELETE',
      path: `${CONFIG}/{id}`,
      privilege: () => null,
      handler: async (i) => {
        await need(auth, i.authId, await store.get(idOf(i)), 'modify');
        await store.remove(idOf(i));
        return null;
      },
    },
    {
      method: 'POST',
      path: `${ADMIN}/{id}/run`,
      privilege: () => null,
      handler: async (i) => {
        await need(auth, i.authId, await store.get(idOf(i)), 'modify');
        return jobs.start(syncKind, { id: idOf(i) }, i.authId);
      },
    },
  ];
}
