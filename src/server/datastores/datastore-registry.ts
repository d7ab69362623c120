/**
 * DatastoreRegistry: the server's open datastores, by name. Each lookup re-reads `datastore.cfg`
 * (a small file) so changes made by `holdfast datastore update` reach the running server: a new
 * sync level is applied to the open store (leaving `filesystem` syncs first, see Datastore).
 * A store is opened once per process, marked in use, and marked closed on clean shutdown.
 *
 * A store being removed (`remove`) is not opened again until the removal ends: opening writes
 * the in-use marker into its directory, and a dashboard refresh or the usage sampler doing that
 * while the tree is deleted made the removal fail with "not empty" (and left the marker behind).
 */
import type { Logger } from '../../core/log.ts';
import { fail } from '../../core/errors.ts';
import { DatastoreAdmin, openConfigured, type RemoveDatastoreOptions } from '../../datastore/datastore-admin.ts';
import { tuningOf, type DatastoreConfig } from '../../datastore/datastore-config.ts';
import type { Datastore } from '../../datastore/datastore.ts';
import { checkMaintenance, parseMaintenanceMode, type StoreAccess } from '../../datastore/maintenance.ts';
import type { Fs } from '../../storage/fs-port.ts';
import type { Locker } from '../../storage/locker.ts';
import { KeyedMutex } from '../../core/keyed-mutex.ts';

export class DatastoreRegistry {
  readonly admin: DatastoreAdmin;
  readonly #fs: Fs;
  readonly #locker: Locker;
  readonly #log: Logger;
  readonly #open = new Map<string, { store: Datastore; path: string }>();
  readonly #mutex = new KeyedMutex();
  readonly #removing = new Set<string>();
  readonly #configDir: string;

  constructor(deps: { readonly fs: Fs; readonly configDir: string; readonly locker: Locker; readonly log: Logger }) {
    this.#fs = deps.fs;
    this.#locker = deps.locker;
    this.#log = deps.log;
    this.#configDir = deps.configDir;
    this.admin = new DatastoreAdmin(deps.fs, deps.configDir);
  }

  async config(name: string): Promise<DatastoreConfig> {
    return this.admin.config.get(name);
  }

  async list(): Promise<DatastoreConfig[]> {
    return this.admin.config.list();
  }

  /**
   * The open store `name`, for an operation that will `access` it: refused with
   * DATASTORE_MAINTENANCE when the store's maintenance mode does not allow that (maintenance.ts).
   */
  async get(name: string, access: StoreAccess): Promise<Datastore> {
    const cfg = await this.admin.config.get(name);
    checkMaintenance(name, parseMaintenanceMode(cfg.props.get('maintenance-mode')), access);
    return this.#mutex.run(name, async () => {
      if (this.#removing.has(name)) throw fail('LOCKED', `datastore '${name}' is being removed`, { name });
      const cur = this.#open.get(name);
      if (cur && cur.path === cfg.path) {
        await cur.store.setSyncLevel(tuningOf(cfg).syncLevel);
        return cur.store;
      }
      const store = await openConfigured(cfg, { fs: this.#fs, locker: this.#locker, log: this.#log, configDir: this.#configDir });
      if (await store.markInUse()) {
        this.#log.warn(`datastore '${name}' was not closed cleanly; snapshots are checked before a backup reuses them`);
      }
      this.#open.set(name, { store, path: cfg.path });
      return store;
    });
  }

  /** Forgets a store (after its config entry was removed). */
  /**
   * Closes store `name` and removes it (DatastoreAdmin.remove), refusing to open it meanwhile.
   * The flag is set under the store's mutex, so an open that was already under way finishes
   * before the store is closed, and none starts after.
   */
  async remove(name: string, opts: RemoveDatastoreOptions = {}): Promise<{ readonly objectsRemoved: number }> {
    await this.#mutex.run(name, async () => {
      if (this.#removing.has(name)) throw fail('LOCKED', `datastore '${name}' is being removed`, { name });
      this.#removing.add(name);
      await this.drop(name);
    });
    try {
      return await this.admin.remove(name, opts);
    } finally {
      this.#removing.delete(name);
    }
  }

  async drop(name: string): Promise<void> {
    const cur = this.#open.get(name);
    this.#open.delete(name);
    await cur?.store.markClosed();
  }

  async closeAll(): Promise<void> {
    for (const name of [...this.#open.keys()]) await this.drop(name);
  }
}
