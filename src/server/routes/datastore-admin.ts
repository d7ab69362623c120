/**
 * Datastore browsing and snapshot management under `/api2/json/admin/datastore` (PBS paths):
 * listings of namespaces, groups and snapshots, status (size, used, dedup), snapshot deletion,
 * the protected flag, snapshot notes and group notes (`group-notes`; the groups listing shows
 * their first line as `comment`, as PBS does).
 *
 * Privileges, as PBS checks them on `/datastore/{store}[/{ns}]` (docs/protocol.md has the table):
 * - the list of datastores shows only those on which the caller holds some privilege, at the
 *   store or below it;
 * - reading (listings, notes, protected flag) needs Datastore.Audit, or Datastore.Backup for the
 *   groups the caller owns (listings then show only those);
 * - creating or deleting a namespace needs Datastore.Modify on its parent; a namespace without
 *   groups (in it or below) is deleted together with those below it, one with groups only with
 *   delete-groups (NAMESPACE_NOT_EMPTY otherwise, and nothing is removed);
 * - changing notes or the protected flag needs Datastore.Modify, or Datastore.Backup as owner;
 *   deleting a snapshot needs Datastore.Modify, or Datastore.Prune as owner;
 * - adding a snapshot's client log (`upload-backup-log`) needs Datastore.Backup as owner, as in
 *   PBS (no other privilege stands in for ownership); the body must be one blob whose CRC
 *   matches (plain or encrypted, at most MAX_CLIENT_LOG bytes), and a snapshot takes one log.
 */
import { bool, groupRef, namespace, requiredText, snapshotRef, text } from '../../core/args.ts';
import { formatTime, type GroupRef } from '../../core/backup-ref.ts';
import { fail, isHoldfastError, toHoldfastError } from '../../core/errors.ts';
import type { Privilege } from '../../format/acl-config.ts';
import type { Datastore } from '../../datastore/datastore.ts';
import type { StoreAccess } from '../../datastore/maintenance.ts';
import { GC_STATUS_NAME } from '../../datastore/layout.ts';
import { blobHeader, verifyBlobCrc } from '../../format/blob.ts';
import { CLIENT_LOG_BLOB_NAME } from '../../core/names.ts';
import { noRemovals, removeGroup, removeNamespaceTree, type RemovalStats } from '../../datastore/removal.ts';
import type { DatastoreRegistry } from '../datastores/datastore-registry.ts';
import type { Route, RouteInput } from '../router.ts';
import { datastoreAclPath, ownerMatches } from './backup-protocols.ts';

const BASE = '/api2/json/admin/datastore';

/** The largest client log accepted (a blob: header and compressed or encrypted text). */
export const MAX_CLIENT_LOG = 32 * 1024 * 1024;

/** What these routes need from auth (AuthService has it). */
export interface DatastoreAccess {
  privileges(authId: string, path: string): Promise<Set<Privilege>>;
  anyPrivilegeBelow(authId: string, path: string): Promise<boolean>;
}

/** `full` on the path allows every group; `owned` only the caller's groups; neither is 403. */
type Scope = 'all' | 'owned';

/** `a/b` → `a`; `a` → the root (PBS checks namespace creation and deletion on the parent). */
const parentNamespace = (ns: string): string => (ns.includes('/') ? ns.slice(0, ns.lastIndexOf('/')) : '');

const aclPath = (i: RouteInput): string => datastoreAclPath(i.params['store'] ?? '', text(i.args, 'ns') ?? '');

export async function scopeOf(auth: DatastoreAccess, i: RouteInput, full: Privilege, owned: Privilege): Promise<Scope> {
  const path = aclPath(i);
  const have = await auth.privileges(i.authId, path);
  if (have.has(full)) return 'all';
  if (have.has(owned)) return 'owned';
  throw fail('FORBIDDEN', `permission check failed: '${i.authId}' lacks ${full} (or ${owned} as owner) on '${path}'`, { authId: i.authId, path, missing: [full, owned] });
}

async function mayTouch(store: Datastore, scope: Scope, g: GroupRef, authId: string): Promise<boolean> {
  if (scope === 'all') return true;
  const owner = await store.getOwner(g);
  return owner !== undefined && ownerMatches(owner, authId);
}

/** Checks the scope against the group's owner; a group the caller may not touch is 403. */
export async function needGroup(store: Datastore, scope: Scope, g: GroupRef, authId: string): Promise<void> {
  if (!(await mayTouch(store, scope, g, authId))) throw fail('FORBIDDEN', `${authId} does not own the group ${g.type}/${g.id}`, { authId });
}

type OpenStore = (i: RouteInput, access: StoreAccess) => Promise<Datastore>;

/**
 * The group a request names and its datastore, once the caller may act on it: `full` on the
 * namespace, or `owned` as the group's owner (FORBIDDEN otherwise). `mustExist`: NOT_FOUND for a
 * group that does not exist (never a notes file for no group).
 */
async function groupFor(auth: DatastoreAccess, open: OpenStore, i: RouteInput, full: Privilege, owned: Privilege, access: StoreAccess, o: { readonly mustExist?: boolean } = {}): Promise<{ s: Datastore; g: GroupRef }> {
  const scope = await scopeOf(auth, i, full, owned);
  const g = groupRef(i.args);
  const s = await open(i, access);
  if (o.mustExist === true && (await s.getOwner(g)) === undefined) throw fail('NOT_FOUND', `backup group ${s.show(g)} does not exist`, { group: s.show(g) });
  await needGroup(s, scope, g, i.authId);
  return { s, g };
}

/** Size, use and dedup of a datastore's filesystem and its last GC. */
export async function storeStatus(s: Datastore): Promise<Record<string, unknown>> {
  const usage = await s.chunks.usage();
  let gc: unknown = null;
  try {
    gc = JSON.parse((await s.readStoreFile(GC_STATUS_NAME)) ?? 'null');
  } catch {
    gc = null;
  }
  const g = gc as { 'index-data-bytes'?: number; 'disk-bytes'?: number } | null;
  const dedup = g?.['index-data-bytes'] && g['disk-bytes'] ? g['index-data-bytes'] / g['disk-bytes'] : null;
  return {
    total: usage?.total ?? null,
    used: usage?.used ?? null,
    avail: usage?.avail ?? null,
    'sync-level': s.syncLevel,
    'sync-counts': s.syncCounts(),
    // as PBS: the deduplication factor of the last GC (referenced bytes / stored bytes)
    'deduplication-factor': dedup,
    'gc-status': gc,
    // an object store's request and byte counters (and its cache's hits), null for local storage
    'storage-counters': s.storageCounters() ?? null,
  };
}

/** The PBS answer of a group or namespace deletion (BackupGroupDeleteStats). */
function removalAnswer(r: RemovalStats, errorOnProtected: boolean, what: string): Record<string, number> {
  if (r.protectedSnapshots > 0 && errorOnProtected) {
    throw fail('PROTECTED', `${what} only partially deleted: ${r.protectedSnapshots} protected snapshot(s) remain`, { 'protected-snapshots': r.protectedSnapshots });
  }
  return { 'removed-groups': r.removedGroups, 'removed-snapshots': r.removedSnapshots, 'protected-snapshots': r.protectedSnapshots };
}

/** DELETE …/groups and …/namespace (see the module note). */
function removalRoutes(store: OpenStore, auth: DatastoreAccess): Route[] {
  return [
    {
      method: 'DELETE',
      path: `${BASE}/{store}/groups`,
      privilege: () => null,
      handler: async (i) => {
        const { s, g } = await groupFor(auth, store, i, 'Datastore.Modify', 'Datastore.Prune', 'write');
        return removalAnswer(await removeGroup(s, g), bool(i.args, 'error-on-protected') !== false, `group ${s.show(g)}`);
      },
    },
    {
      method: 'DELETE',
      path: `${BASE}/{store}/namespace`,
      privilege: (i) => {
        const ns = text(i.args, 'ns') ?? '';
        return { path: datastoreAclPath(i.params['store'] ?? '', parentNamespace(ns)), privs: ['Datastore.Modify'] };
      },
      handler: async (i) => {
        const ns = namespace({ ns: requiredText(i.args, 'ns') });
        const s = await store(i, 'write');
        if (bool(i.args, 'delete-groups') !== true) {
          // refuses (naming a group) and removes nothing when any namespace below holds a group
          await s.deleteNamespace(ns);
          return removalAnswer(noRemovals(), false, `namespace '${ns}'`);
        }
        // every namespace whose groups go must be the caller's to modify: an ACL entry below (NoAccess,
        // a lesser role) takes away what the parent grants (PBS does not check; Holdfast closes that)
        for (const sub of await s.listNamespaces(ns)) {
          if (!(await auth.privileges(i.authId, datastoreAclPath(i.params['store'] ?? '', sub))).has('Datastore.Modify')) {
            throw fail('FORBIDDEN', `permission check failed: '${i.authId}' lacks Datastore.Modify on a namespace below '${ns}'; nothing was removed`, { authId: i.authId, ns, missing: ['Datastore.Modify'] });
          }
        }
        const r = await removeNamespaceTree(s, ns, true);
        const answer = removalAnswer(r, bool(i.args, 'error-on-protected') !== false, `namespace '${ns}'`);
        if (!r.removedAll && r.protectedSnapshots === 0) throw fail('NAMESPACE_NOT_EMPTY', `namespace '${ns}' still holds groups (delete-groups removes them)`, { ns });
        return answer;
      },
    },
  ];
}

/**
 * The namespace a listing names, which must exist: a typo in `--ns` is NOT_FOUND, as a backup
 * into it is, not an empty listing that reads as "no backups here".
 */
async function existingNamespace(s: Datastore, args: RouteInput['args']): Promise<string> {
  const ns = namespace(args);
  if (ns !== '' && !(await s.namespaceExists(ns))) throw fail('NOT_FOUND', `namespace '${ns}' does not exist`, { ns });
  return ns;
}

export async function snapshotListing(store: Datastore, g: GroupRef): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  const owner = await store.getOwner(g);
  for (const s of await store.listSnapshots(g)) {
    if (!s.finished) continue;
    const entry: Record<string, unknown> = { 'backup-type': g.type, 'backup-id': g.id, 'backup-time': s.ref.time, time: formatTime(s.ref.time), protected: s.protected, owner };
    try {
      const m = await store.readManifest(s.ref);
      entry['files'] = m.files.map((f) => ({ filename: f.filename, size: f.size, 'crypt-mode': f.cryptMode }));
      // the client log is not in the manifest (it is added later); PBS lists it from the directory
      if (s.hasClientLog) (entry['files'] as unknown[]).push({ filename: CLIENT_LOG_BLOB_NAME });
      entry['size'] = m.files.reduce((a, f) => a + f.size, 0);
      const vs = m.unprotected['verify_state'];
      if (vs) entry['verification'] = vs;
      const fp = m.unprotected['key-fingerprint'];
      if (fp) entry['fingerprint'] = fp;
      if (typeof m.unprotected['notes'] === 'string') entry['comment'] = m.unprotected['notes'].split('\n')[0];
    } catch (e) {
      if (isHoldfastError(e, 'NOT_FOUND')) continue; // removed by a concurrent prune since the listing
      entry['error'] = toHoldfastError(e).message;
    }
    out.push(entry);
  }
  return out;
}

export function datastoreAdminRoutes(registry: DatastoreRegistry, auth: DatastoreAccess): Route[] {
  const store = (i: RouteInput, access: StoreAccess): Promise<Datastore> => registry.get(i.params['store'] ?? '', access);
  /** The snapshot a request names, after checking the caller may act on its group. */
  const snapshotFor = async (i: RouteInput, full: Privilege, owned: Privilege, access: StoreAccess): Promise<{ s: Datastore; ref: ReturnType<typeof snapshotRef> }> => {
    const scope = await scopeOf(auth, i, full, owned);
    const ref = snapshotRef(i.args);
    const s = await store(i, access);
    await needGroup(s, scope, ref, i.authId);
    return { s, ref };
  };
  return [
    ...removalRoutes(store, auth),
    {
      method: 'GET',
      path: BASE,
      privilege: () => null,
      handler: async (i) => {
        const out = [];
        for (const c of await registry.list()) {
          if (await auth.anyPrivilegeBelow(i.authId, datastoreAclPath(c.name))) out.push({ store: c.name, comment: c.props.get('comment') });
        }
        return out;
      },
    },
    {
      method: 'GET',
      path: `${BASE}/{store}/status`,
      privilege: () => null,
      handler: async (i) => {
        // the figures are the whole datastore's: a privilege on one namespace (`ns`) does not reach them
        await scopeOf(auth, { ...i, args: {} }, 'Datastore.Audit', 'Datastore.Backup');
        return storeStatus(await store(i, 'read'));
      },
    },
    {
      method: 'GET',
      path: `${BASE}/{store}/namespace`,
      privilege: () => null,
      handler: async (i) => {
        await scopeOf(auth, { ...i, args: { ns: text(i.args, 'parent') } }, 'Datastore.Audit', 'Datastore.Backup');
        const all = await (await store(i, 'read')).listNamespaces(namespace(i.args, 'parent'));
        // a namespace an ACL entry closes to the caller (NoAccess below a grant) is not listed,
        // unless something below it is open to the caller again (PBS lists what it may access)
        const storeName = i.params['store'] ?? '';
        const visible: { ns: string }[] = [];
        for (const ns of all) if (await auth.anyPrivilegeBelow(i.authId, datastoreAclPath(storeName, ns))) visible.push({ ns });
        return visible;
      },
    },
    {
      method: 'POST',
      path: `${BASE}/{store}/namespace`,
      privilege: (i) => ({ path: datastoreAclPath(i.params['store'] ?? '', text(i.args, 'parent') ?? ''), privs: ['Datastore.Modify'] }),
      handler: async (i) => {
        const parent = namespace(i.args, 'parent');
        const ns = namespace({ ns: parent === '' ? requiredText(i.args, 'name') : `${parent}/${requiredText(i.args, 'name')}` });
        await (await store(i, 'write')).createNamespace(ns);
        return { ns };
      },
    },
    {
      method: 'GET',
      path: `${BASE}/{store}/groups`,
      privilege: () => null,
      handler: async (i) => {
        const scope = await scopeOf(auth, i, 'Datastore.Audit', 'Datastore.Backup');
        const s = await store(i, 'read');
        const out = [];
        for (const g of await s.listGroups(await existingNamespace(s, i.args))) {
          const owner = await s.getOwner(g);
          if (scope === 'owned' && (owner === undefined || !ownerMatches(owner, i.authId))) continue;
          const snaps = (await s.listSnapshots(g)).filter((x) => x.finished);
          const notes = await s.getGroupNotes(g);
          // PBS's listing: the first line of the group's notes as its comment
          const comment = notes?.split('\n')[0];
          out.push({ 'backup-type': g.type, 'backup-id': g.id, 'backup-count': snaps.length, 'last-backup': snaps.at(-1)?.ref.time ?? null, owner, ...(comment ? { comment } : {}) });
        }
        return out;
      },
    },
    {
      method: 'GET',
      path: `${BASE}/{store}/snapshots`,
      privilege: () => null,
      handler: async (i) => {
        const scope = await scopeOf(auth, i, 'Datastore.Audit', 'Datastore.Backup');
        const s = await store(i, 'read');
        const groups = text(i.args, 'backup-type') ? [groupRef(i.args)] : await s.listGroups(await existingNamespace(s, i.args));
        const out = [];
        for (const g of groups) if (await mayTouch(s, scope, g, i.authId)) out.push(...(await snapshotListing(s, g)));
        return out;
      },
    },
    {
      method: 'DELETE',
      path: `${BASE}/{store}/snapshots`,
      privilege: () => null,
      handler: async (i) => {
        const { s, ref } = await snapshotFor(i, 'Datastore.Modify', 'Datastore.Prune', 'write');
        await s.deleteSnapshot(ref);
        return null;
      },
    },
    {
      method: 'GET',
      path: `${BASE}/{store}/protected`,
      privilege: () => null,
      handler: async (i) => {
        const { s, ref } = await snapshotFor(i, 'Datastore.Audit', 'Datastore.Backup', 'read');
        return (await s.listSnapshots(ref)).find((x) => x.ref.time === ref.time)?.protected ?? false;
      },
    },
    {
      method: 'PUT',
      path: `${BASE}/{store}/protected`,
      privilege: () => null,
      handler: async (i) => {
        const on = bool(i.args, 'protected');
        if (on === undefined) throw fail('INVALID_ARGUMENT', "parameter 'protected' is required", { param: 'protected' });
        const { s, ref } = await snapshotFor(i, 'Datastore.Modify', 'Datastore.Backup', 'write');
        await s.setProtected(ref, on);
        return null;
      },
    },
    {
      method: 'POST',
      path: `${BASE}/{store}/upload-backup-log`,
      privilege: () => null,
      rawBody: true,
      bodyLimit: MAX_CLIENT_LOG,
      handler: async (i) => {
        const path = aclPath(i);
        if (!(await auth.privileges(i.authId, path)).has('Datastore.Backup')) {
          throw fail('FORBIDDEN', `permission check failed: '${i.authId}' lacks Datastore.Backup on '${path}'`, { authId: i.authId, path, missing: ['Datastore.Backup'] });
        }
        const { s, ref } = await snapshotFor(i, 'Datastore.Backup', 'Datastore.Backup', 'write');
        await needGroup(s, 'owned', ref, i.authId);
        const body = i.body ?? Buffer.alloc(0);
        try {
          blobHeader(body);
          verifyBlobCrc(body);
        } catch (e) {
          const err = toHoldfastError(e);
          throw fail('INVALID_ARGUMENT', `the client log is not a valid blob: ${err.message}`, { reason: err.code });
        }
        await s.addClientLog(ref, body);
        return null;
      },
    },
    {
      method: 'GET',
      path: `${BASE}/{store}/group-notes`,
      privilege: () => null,
      handler: async (i) => {
        const { s, g } = await groupFor(auth, store, i, 'Datastore.Audit', 'Datastore.Backup', 'read', { mustExist: true });
        return (await s.getGroupNotes(g)) ?? '';
      },
    },
    {
      method: 'PUT',
      path: `${BASE}/{store}/group-notes`,
      privilege: () => null,
      handler: async (i) => {
        const notes = text(i.args, 'notes') ?? '';
        const { s, g } = await groupFor(auth, store, i, 'Datastore.Modify', 'Datastore.Backup', 'write', { mustExist: true });
        await s.setGroupNotes(g, notes);
        return null;
      },
    },
    {
      method: 'GET',
      path: `${BASE}/{store}/notes`,
      privilege: () => null,
      handler: async (i) => {
        const { s, ref } = await snapshotFor(i, 'Datastore.Audit', 'Datastore.Backup', 'read');
        const m = await s.readManifest(ref);
        return typeof m.unprotected['notes'] === 'string' ? m.unprotected['notes'] : '';
      },
    },
    {
      method: 'PUT',
      path: `${BASE}/{store}/notes`,
      privilege: () => null,
      handler: async (i) => {
        const notes = text(i.args, 'notes') ?? '';
        const { s, ref } = await snapshotFor(i, 'Datastore.Modify', 'Datastore.Backup', 'write');
        await s.updateManifest(ref, (m) => {
          m.unprotected['notes'] = notes;
        });
        return null;
      },
    },
  ];
}
