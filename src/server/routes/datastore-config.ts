/**
 * Datastore configuration CRUD under `/api2/json/config/datastore` (PBS paths), including the
 * tuning property string (`sync-level`, …). Creation builds the chunk store, which takes a few
 * seconds; a failed create leaves nothing behind (see DatastoreAdmin).
 */
import { parseMaintenanceMode } from '../../datastore/maintenance.ts';
import { bool, list, requiredText, text } from '../../core/args.ts';
import type { DatastoreRegistry } from '../datastores/datastore-registry.ts';
import type { Route } from '../router.ts';
import type { AuthPort } from '../auth/authenticator.ts';
import { sectionListRoute } from './section-list.ts';
import { describeDatastore } from '../../datastore/datastore-config.ts';

const BASE = '/api2/json/config/datastore';
/** a removal with destroy-data logs its progress every this many objects (a large S3 store) */
const LOG_EVERY = 10_000;
const UPDATABLE = ['comment', 'tuning', 'gc-schedule', 'prune-schedule', 'verify-schedule', 'verify-new', 'keep-last', 'keep-hourly', 'keep-daily', 'keep-weekly', 'keep-monthly', 'keep-yearly', 'maintenance-mode'] as const;

/** As PBS: anybody may list, and sees the datastores on which it holds Datastore.Audit. */
export function datastoreConfigRoutes(registry: DatastoreRegistry, auth: Pick<AuthPort, 'checkPrivilege'>): Route[] {
  return [
    sectionListRoute({ path: BASE, sections: () => registry.list(), priv: 'Datastore.Audit', acl: { perSection: (c) => `/datastore/${c.name}`, auth }, show: describeDatastore }),
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
        const name = requiredText(i.args, 'name');
        const path = requiredText(i.args, 'path');
        const tuning = text(i.args, 'tuning');
        const comment = text(i.args, 'comment');
        const backend = text(i.args, 'backend');
        const cfg = await registry.admin.create({
          name,
          path,
          ...(tuning !== undefined ? { tuning } : {}),
          ...(comment !== undefined ? { comment } : {}),
          ...(backend !== undefined ? { backend } : {}),
          reuse: bool(i.args, 'reuse-datastore') === true,
        });
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
          const v = text(i.args, k);
          if (v !== undefined) changes[k] = v;
        }
        for (const k of list(i.args, 'delete')) changes[k] = '';
        const cfg = await registry.admin.update(i.params['name'] ?? '', changes);
        if (changes['tuning'] !== undefined && parseMaintenanceMode(cfg.props.get('maintenance-mode'))?.type !== 'offline') await registry.get(cfg.name, 'read'); // apply a new sync level now
        return describeDatastore(cfg);
      },
    },
    {
      method: 'DELETE',
      path: `${BASE}/{name}`,
      privilege: () => ({ path: '/datastore', privs: ['Datastore.Allocate'] }),
      handler: async (i) => {
        const name = i.params['name'] ?? '';
        let logged = 0;
        const progress = (n: number): void => {
          if (n - logged < LOG_EVERY) return;
          logged = n;
          i.log.info(`datastore ${name}: removed ${n} objects of its storage so far`);
        };
        const { objectsRemoved } = await registry.remove(name, { destroyData: bool(i.args, 'destroy-data') === true, onProgress: progress });
        if (objectsRemoved > 0) i.log.info(`datastore ${name}: removed, with ${objectsRemoved} objects of its storage`);
        return null;
      },
    },
  ];
}
