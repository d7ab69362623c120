/**
 * Datastore configuration CRUD under `/api2/json/config/datastore` (PBS paths), including the
 * tuning property string (`sync-level`, …). Creation builds the chunk store, which takes a few
 * seconds; a failed create leaves nothing behind (see DatastoreAdmin).
 */
import { fail } from '../../core/errors.ts';
import type { DatastoreRegistry } from '../datastores/datastore-registry.ts';
import type { Args, Route } from '../router.ts';
import { describeDatastore } from '../../datastore/datastore-config.ts';

const BASE = '/api2/json/config/datastore';
const UPDATABLE = ['comment', 'tuning', 'gc-schedule', 'prune-schedule', 'verify-new', 'keep-last', 'keep-hourly', 'keep-daily', 'keep-weekly', 'keep-monthly', 'keep-yearly'] as const;

function str(args: Args, k: string): string | undefined {
  const v = args[k];
  if (v === undefined || v === null) return undefined;
  return typeof v === 'string' ? v : JSON.stringify(v);
}

export function datastoreConfigRoutes(registry: DatastoreRegistry): Route[] {
  return [
    {
      method: 'GET',
      path: BASE,
      privilege: () => ({ path: '/datastore', privs: ['Datastore.Audit'] }),
      handler: async () => (await registry.list()).map(describeDatastore),
    },
    {
      method: 'GET',
      path: `${BASE}/{name}`,
      privilege: (i) => ({ path: `/datastore/${i.params['name'] ?? ''}`, privs: ['Datastore.Audit'] }),
      handler: async (i) => describeDatastore(await registry.config(i.params['name'] ?? '')),
    },
    {
      method: 'POST',
      path: BASE,
      privilege: () => ({ path: '/datastore', privs: ['Datastore.Allocate'] }),
      handler: async (i) => {
        const name = str(i.args, 'name');
        const path = str(i.args, 'path');
        if (!name || !path) throw fail('INVALID_ARGUMENT', "parameters 'name' and 'path' are required", {});
        const tuning = str(i.args, 'tuning');
        const comment = str(i.args, 'comment');
        const cfg = await registry.admin.create({ name, path, ...(tuning !== undefined ? { tuning } : {}), ...(comment !== undefined ? { comment } : {}) });
        return describeDatastore(cfg);
      },
    },
    {
      method: 'PUT',
      path: `${BASE}/{name}`,
      privilege: (i) => ({ path: `/datastore/${i.params['name'] ?? ''}`, privs: ['Datastore.Modify'] }),
      handler: async (i) => {
        const changes: Record<string, string | undefined> = {};
        for (const k of UPDATABLE) {
          const v = str(i.args, k);
          if (v !== undefined) changes[k] = v;
        }
        for (const k of (str(i.args, 'delete') ?? '').split(',').filter(Boolean)) changes[k] = '';
        const cfg = await registry.admin.update(i.params['name'] ?? '', changes);
        if (changes['tuning'] !== undefined) await registry.get(cfg.name); // apply a new sync level now
        return describeDatastore(cfg);
      },
    },
    {
      method: 'DELETE',
      path: `${BASE}/{name}`,
      privilege: () => ({ path: '/datastore', privs: ['Datastore.Allocate'] }),
      handler: async (i) => {
        const name = i.params['name'] ?? '';
        await registry.drop(name);
        await registry.admin.remove(name, { destroyData: /^(1|true|yes|on)$/i.test(str(i.args, 'destroy-data') ?? '') });
        return null;
      },
    },
  ];
}
