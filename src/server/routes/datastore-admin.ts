/**
 * Datastore browsing and snapshot management under `/api2/json/admin/datastore` (PBS paths):
 * listings of namespaces, groups and snapshots, status (size, used, dedup), snapshot deletion,
 * the protected flag and notes. Every route checks the PBS privilege on `/datastore/{store}[/{ns}]`.
 */
import { statfs } from 'node:fs/promises';
import { checkBackupId, checkBackupTime, checkBackupType, checkNamespace, formatTime, type GroupRef, type SnapshotRef } from '../../core/backup-ref.ts';
import { fail } from '../../core/errors.ts';
import { isHoldfastError, toHoldfastError } from '../../core/errors.ts';
import type { Datastore } from '../../datastore/datastore.ts';
import { GC_STATUS_NAME } from '../../datastore/layout.ts';
import type { DatastoreRegistry } from '../datastores/datastore-registry.ts';
import type { Args, Route, RouteInput } from '../router.ts';
import { datastoreAclPath } from './backup-protocols.ts';

const BASE = '/api2/json/admin/datastore';

function arg(args: Args, name: string): string | undefined {
  const v = args[name];
  if (v === undefined || v === null || v === '') return undefined;
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function need(args: Args, name: string): string {
  const v = arg(args, name);
  if (v === undefined) throw fail('INVALID_ARGUMENT', `parameter '${name}' is required`, { param: name });
  return v;
}

export function groupArgs(args: Args): GroupRef {
  return { ns: checkNamespace(arg(args, 'ns') ?? ''), type: checkBackupType(need(args, 'backup-type')), id: checkBackupId(need(args, 'backup-id')) };
}

export function snapshotArgs(args: Args): SnapshotRef {
  const t = need(args, 'backup-time');
  if (!/^\d+$/.test(t)) throw fail('INVALID_ARGUMENT', `backup-time '${t}' is not an epoch`, { value: t });
  return { ...groupArgs(args), time: checkBackupTime(Number(t)) };
}

const priv = (privs: RouteInputPrivs) => (i: RouteInput) => ({ path: datastoreAclPath(i.params['store'] ?? '', arg(i.args, 'ns') ?? ''), privs });
type RouteInputPrivs = ('Datastore.Audit' | 'Datastore.Read' | 'Datastore.Backup' | 'Datastore.Modify' | 'Datastore.Prune')[];

export async function snapshotListing(store: Datastore, g: GroupRef): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  const owner = await store.getOwner(g);
  for (const s of await store.listSnapshots(g)) {
    if (!s.finished) continue;
    const entry: Record<string, unknown> = { 'backup-type': g.type, 'backup-id': g.id, 'backup-time': s.ref.time, time: formatTime(s.ref.time), protected: s.protected, owner };
    try {
      const m = await store.readManifest(s.ref);
      entry['files'] = m.files.map((f) => ({ filename: f.filename, size: f.size, 'crypt-mode': f.cryptMode }));
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

export function datastoreAdminRoutes(registry: DatastoreRegistry): Route[] {
  const store = (i: RouteInput): Promise<Datastore> => registry.get(i.params['store'] ?? '');
  return [
    {
      method: 'GET',
      path: BASE,
      privilege: () => null,
      handler: async () => (await registry.list()).map((c) => ({ store: c.name, comment: c.props.get('comment') })),
    },
    {
      method: 'GET',
      path: `${BASE}/{store}/status`,
      privilege: priv(['Datastore.Audit']),
      handler: async (i) => {
        const s = await store(i);
        const st = await statfs(s.base);
        let gc: unknown = null;
        try {
          gc = JSON.parse(Buffer.from(await s.fs.readFile(`${s.base}/${GC_STATUS_NAME}`)).toString('utf8'));
        } catch {
          gc = null;
        }
        const g = gc as { 'index-data-bytes'?: number; 'disk-bytes'?: number } | null;
        const dedup = g?.['index-data-bytes'] && g['disk-bytes'] ? g['index-data-bytes'] / g['disk-bytes'] : null;
        return {
          total: st.blocks * st.bsize,
          used: (st.blocks - st.bfree) * st.bsize,
          avail: st.bavail * st.bsize,
          'sync-level': s.syncLevel,
          'sync-counts': s.syncCounts(),
          // as PBS: the deduplication factor of the last GC (referenced bytes / stored bytes)
          'deduplication-factor': dedup,
          'gc-status': gc,
        };
      },
    },
    {
      method: 'GET',
      path: `${BASE}/{store}/namespace`,
      privilege: priv(['Datastore.Audit']),
      handler: async (i) => (await (await store(i)).listNamespaces(checkNamespace(arg(i.args, 'parent') ?? ''))).map((ns) => ({ ns })),
    },
    {
      method: 'POST',
      path: `${BASE}/{store}/namespace`,
      privilege: priv(['Datastore.Modify']),
      handler: async (i) => {
        const parent = checkNamespace(arg(i.args, 'parent') ?? '');
        const ns = checkNamespace(parent === '' ? need(i.args, 'name') : `${parent}/${need(i.args, 'name')}`);
        await (await store(i)).createNamespace(ns);
        return { ns };
      },
    },
    {
      method: 'GET',
      path: `${BASE}/{store}/groups`,
      privilege: priv(['Datastore.Audit']),
      handler: async (i) => {
        const s = await store(i);
        const out = [];
        for (const g of await s.listGroups(checkNamespace(arg(i.args, 'ns') ?? ''))) {
          const snaps = (await s.listSnapshots(g)).filter((x) => x.finished);
          out.push({ 'backup-type': g.type, 'backup-id': g.id, 'backup-count': snaps.length, 'last-backup': snaps.at(-1)?.ref.time ?? null, owner: await s.getOwner(g) });
        }
        return out;
      },
    },
    {
      method: 'GET',
      path: `${BASE}/{store}/snapshots`,
      privilege: priv(['Datastore.Audit']),
      handler: async (i) => {
        const s = await store(i);
        const ns = checkNamespace(arg(i.args, 'ns') ?? '');
        const groups = arg(i.args, 'backup-type') ? [groupArgs(i.args)] : await s.listGroups(ns);
        const out = [];
        for (const g of groups) out.push(...(await snapshotListing(s, g)));
        return out;
      },
    },
    {
      method: 'DELETE',
      path: `${BASE}/{store}/snapshots`,
      privilege: priv(['Datastore.Prune']),
      handler: async (i) => {
        await (await store(i)).deleteSnapshot(snapshotArgs(i.args));
        return null;
      },
    },
    {
      method: 'GET',
      path: `${BASE}/{store}/protected`,
      privilege: priv(['Datastore.Audit']),
      handler: async (i) => {
        const ref = snapshotArgs(i.args);
        return (await (await store(i)).listSnapshots(ref)).find((x) => x.ref.time === ref.time)?.protected ?? false;
      },
    },
    {
      method: 'PUT',
      path: `${BASE}/{store}/protected`,
      privilege: priv(['Datastore.Modify']),
      handler: async (i) => {
        const on = need(i.args, 'protected');
        await (await store(i)).setProtected(snapshotArgs(i.args), /^(1|true|yes|on)$/i.test(on));
        return null;
      },
    },
    {
      method: 'GET',
      path: `${BASE}/{store}/notes`,
      privilege: priv(['Datastore.Audit']),
      handler: async (i) => {
        const m = await (await store(i)).readManifest(snapshotArgs(i.args));
        return typeof m.unprotected['notes'] === 'string' ? m.unprotected['notes'] : '';
      },
    },
    {
      method: 'PUT',
      path: `${BASE}/{store}/notes`,
      privilege: priv(['Datastore.Modify']),
      handler: async (i) => {
        const notes = arg(i.args, 'notes') ?? '';
        await (await store(i)).updateManifest(snapshotArgs(i.args), (m) => {
          m.unprotected['notes'] = notes;
        });
        return null;
      },
    },
  ];
}
