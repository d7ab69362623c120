/**
 * Browsing and downloading files of a pxar snapshot, on PBS's paths and parameters:
 * - `GET /api2/json/admin/datastore/{store}/catalog?backup-type&backup-id&backup-time[&ns]&filepath`
 *   lists a directory (`filepath` base64 of `/ARCHIVE/path`, or `root` for the archives);
 * - `GET …/pxar-file-download?…&filepath[&tar=1]` sends a file, or a folder as zip (`.tar.zst`
 *   with `tar`).
 *
 * Privileges as PBS: Datastore.Read on the store (or namespace), or Datastore.Backup for a group
 * the caller owns, checked before anything is read. The snapshot is share-locked while it is
 * read, so prune and forget wait for a download to end (server/pxar-browse/ has the reading).
 */
import { bool, requiredText, snapshotRef } from '../../core/args.ts';
import type { SnapshotRef } from '../../core/backup-ref.ts';
import type { Datastore } from '../../datastore/datastore.ts';
import { snapshotDir } from '../../datastore/layout.ts';
import type { DatastoreRegistry } from '../datastores/datastore-registry.ts';
import { listDirectory } from '../pxar-browse/archive-listing.ts';
import { parseArchivePath } from '../pxar-browse/archive-path.ts';
import { pxarDownload } from '../pxar-browse/pxar-download.ts';
import { PxarView } from '../pxar-browse/pxar-view.ts';
import type { Route, RouteInput } from '../router.ts';
import { needGroup, scopeOf, type DatastoreAccess } from './datastore-admin.ts';
import { fail } from '../../core/errors.ts';

const BASE = '/api2/json/admin/datastore';

interface Opened {
  readonly store: Datastore;
  readonly ref: SnapshotRef;
  release(): Promise<void>;
}

export function fileBrowseRoutes(registry: DatastoreRegistry, auth: DatastoreAccess): Route[] {
  /** Checks the caller may read the snapshot, then share-locks it. */
  const open = async (i: RouteInput): Promise<Opened> => {
    const scope = await scopeOf(auth, i, 'Datastore.Read', 'Datastore.Backup');
    const ref = snapshotRef(i.args);
    const store = await registry.get(i.params['store'] ?? '', 'read');
    await needGroup(store, scope, ref, i.authId);
    if (!(await store.snapshotExists(ref))) throw fail('NOT_FOUND', `snapshot ${store.show(ref)} does not exist`, { snapshot: store.show(ref) });
    const lock = await store.locker.lockDir(snapshotDir(store.base, ref), 'shared', `snapshot ${store.show(ref)}`);
    return { store, ref, release: () => lock.release() };
  };
  return [
    {
      method: 'GET',
      path: `${BASE}/{store}/catalog`,
      privilege: () => null,
      handler: async (i) => {
        const path = parseArchivePath(requiredText(i.args, 'filepath'));
        const o = await open(i);
        try {
          return await listDirectory(o.store, o.ref, path);
        } finally {
          await o.release();
        }
      },
    },
    {
      method: 'GET',
      path: `${BASE}/{store}/pxar-file-download`,
      privilege: () => null,
      handler: async (i) => {
        const path = parseArchivePath(requiredText(i.args, 'filepath'));
        const tar = bool(i.args, 'tar') ?? false;
        const archive = path.archive;
        if (archive === undefined) throw fail('INVALID_ARGUMENT', "parameter 'filepath' must name an archive and a path in it", { param: 'filepath' });
        const o = await open(i);
        try {
          const view = await PxarView.open(o.store, o.ref, archive, path.kind);
          return await pxarDownload(view, { ...path, archive }, tar, () => o.release());
        } catch (e) {
          await o.release();
          throw e;
        }
      },
    },
  ];
}
