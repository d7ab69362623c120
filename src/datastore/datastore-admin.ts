/**
 * Administration of datastores as a whole: create, update (tuning, comment), remove, and open by
 * name from `datastore.cfg`. Shared by the CLI (like proxmox-backup-manager) and the server API.
 *
 * Create order: validate everything (name, path, tuning, backend) → make the directory tree and
 * the chunk store → atime check (if enabled) → add the config entry. Any failure undoes the tree,
 * so a failed create leaves no config entry and no half-made directory tree.
 *
 * `reuse` attaches the store a path (or bucket prefix) already holds (attach-datastore.ts) and
 * never removes anything; without it such a path is refused (ALREADY_EXISTS, naming the option).
 *
 * Remove order with `destroyData`: what the storage keeps outside the directory (an object store's
 * objects under the store's prefix) → the directory tree → the config entry, so a removal that
 * fails part-way leaves the datastore configured and can be run again.
 *
 * Where the chunks live is the `backend` property (`type=…`, default the local layout under the
 * path); chunks/chunk-backend-types.ts turns it into storage, so nothing here knows a type.
 */
import { fail, isHoldfastError } from '../core/errors.ts';
import { parseDatastoreName } from '../core/names.ts';
import type { Logger } from '../core/log.ts';
import { parseMaintenanceMode } from './maintenance.ts';
import { parseTuning } from '../format/tuning.ts';
import { ChunkStore } from '../chunks/chunk-store.ts';
import { backendTypeOf, parseBackendSpec, type StoreStorage } from '../chunks/chunk-backend-types.ts';
import type { Fs } from '../storage/fs-port.ts';
import type { Locker } from '../storage/locker.ts';
import { removeTree } from '../storage/remove-tree.ts';
import { writePolicy } from '../core/sync-level.ts';
import { join } from 'node:path';
import { attachDatastore } from './attach-datastore.ts';
import { LOCK_NAME } from './layout.ts';
import { createDatastoreTree, type CreateProgress } from './create-datastore.ts';
import { Datastore } from './datastore.ts';
import { checkDatastoreProps, DatastoreConfigFile, tuningOf, type DatastoreConfig } from './datastore-config.ts';


export interface CreateDatastoreParams {
  readonly name: string;
  readonly path: string;
  readonly tuning?: string;
  readonly comment?: string;
  /** where the chunks live: `type=…,…` (chunks/chunk-backend-types.ts); default the local layout */
  readonly backend?: string;
  /** attach the store the path (or bucket prefix) holds already, instead of making one */
  readonly reuse?: boolean;
  readonly onProgress?: CreateProgress;
}

export interface RemoveDatastoreOptions {
  /** also delete the store's data: its directory and what its storage keeps elsewhere */
  readonly destroyData?: boolean;
  /** objects removed so far from a remote storage (for large stores) */
  readonly onProgress?: (removed: number) => void;
}

export class DatastoreAdmin {
  readonly config: DatastoreConfigFile;
  readonly #fs: Fs;
  readonly #configDir: string;

  constructor(fs: Fs, configDir: string) {
    this.#fs = fs;
    this.#configDir = configDir;
    this.config = new DatastoreConfigFile(fs, configDir);
  }

  async create(p: CreateDatastoreParams): Promise<DatastoreConfig> {
    parseDatastoreName(p.name);
    const tuning = parseTuning(p.tuning);
    const storage = await prepareStorage({ name: p.name, path: p.path, backend: p.backend }, this.#fs, this.#configDir);
    try {
      return await this.#create(p, storage, tuning.gcAtimeSafetyCheck ? writePolicy(tuning.syncLevel).fsyncChunks : undefined);
    } finally {
      storage.close();
    }
  }

  /** `checkMarksDurable`: undefined to skip the atime check, else whether its put is durable. */
  async #create(p: CreateDatastoreParams, storage: StoreStorage, checkMarksDurable: boolean | undefined): Promise<DatastoreConfig> {
    if ((await this.config.list()).some((c) => c.name === p.name)) throw fail('ALREADY_EXISTS', `datastore '${p.name}' exists already`, { name: p.name });
    const backend = storage.makeBackend(this.#fs, p.path);
    if (p.reuse === true) {
      await attachDatastore(this.#fs, p.path, backend, storage.mirror);
      return this.#addEntry(p); // the store is not ours to undo or to test
    }
    try {
      if (await this.#fs.stat(join(p.path, LOCK_NAME))) throw fail('ALREADY_EXISTS', `'${p.path}' holds a datastore`, { path: p.path });
      await createDatastoreTree(this.#fs, p.path, p.onProgress, backend);
    } catch (e) {
      if (!isHoldfastError(e, 'ALREADY_EXISTS')) throw e;
      throw fail('ALREADY_EXISTS', `${e.message}: a datastore exists there already (re-add it with --reuse-datastore)`, { ...e.details, name: p.name, path: p.path }, e);
    }
    try {
      if (checkMarksDurable !== undefined) {
        const store = new ChunkStore({ backend, durableWrites: () => checkMarksDurable, log: { info: () => undefined, warn: () => undefined } });
        await store.checkMarks();
      }
      return await this.#addEntry(p);
    } catch (e) {
      await removeCreatedTree(this.#fs, p.path);
      throw e;
    }
  }

  /** Adds the config entry (ALREADY_EXISTS when a concurrent create took the name). */
  async #addEntry(p: CreateDatastoreParams): Promise<DatastoreConfig> {
    const entry: DatastoreConfig = {
      name: p.name,
      path: p.path,
      props: new Map([...(p.comment ? [['comment', p.comment] as const] : []), ...(p.tuning ? [['tuning', p.tuning] as const] : []), ...(p.backend ? [['backend', p.backend] as const] : [])]),
    };
    await this.config.update((list) => {
      if (list.some((c) => c.name === p.name)) throw fail('ALREADY_EXISTS', `datastore '${p.name}' exists already`, { name: p.name });
      return [...list, entry];
    });
    return entry;
  }

  /**
   * Sets (a value) or clears (`''`) the named properties and leaves the others (`undefined` or
   * absent) as they are; a new tuning or maintenance mode is validated before anything is written.
   */
  async update(name: string, changes: Readonly<Record<string, string | undefined>>): Promise<DatastoreConfig> {
    if (changes['tuning'] !== undefined) parseTuning(changes['tuning']);
    if (changes['backend'] !== undefined) throw fail('INVALID_ARGUMENT', `the backend of datastore '${name}' cannot be changed`, { param: 'backend' });
    if (changes['maintenance-mode'] !== undefined) parseMaintenanceMode(changes['maintenance-mode']);
    checkDatastoreProps(changes);
    let updated: DatastoreConfig | undefined;
    await this.config.update((list) => {
      const cur = list.find((c) => c.name === name);
      if (!cur) throw fail('DATASTORE_NOT_FOUND', `datastore '${name}' does not exist`, { name });
      const props = new Map(cur.props);
      for (const [k, v] of Object.entries(changes)) {
        if (v === undefined) continue; // not named: unchanged (an update of the comment once dropped the tuning)
        if (v === '') props.delete(k);
        else props.set(k, v);
      }
      updated = { ...cur, props };
      return list.map((c) => (c.name === name ? updated! : c));
    });
    return updated!;
  }

  /**
   * Drops the config entry; with `destroyData` first everything the store holds: what its storage
   * keeps elsewhere (an object store's objects under the store's prefix, `onProgress` counting
   * them), then its directory tree. The entry goes last, so a removal that fails (an unreachable
   * endpoint) leaves the datastore configured, and running it again finishes the job. Without
   * `destroyData` nothing of the store is touched (`--reuse-datastore` can attach it again).
   */
  async remove(name: string, opts: RemoveDatastoreOptions = {}): Promise<{ readonly objectsRemoved: number }> {
    const cfg = await this.config.get(name);
    let objectsRemoved = 0;
    if (opts.destroyData === true) {
      const storage = await prepareStorage({ name: cfg.name, path: cfg.path, backend: cfg.props.get('backend') }, this.#fs, this.#configDir);
      try {
        objectsRemoved = (await storage.destroy?.(opts.onProgress)) ?? 0;
      } finally {
        storage.close();
      }
      await removeTree(this.#fs, cfg.path);
    }
    await this.config.update((list) => list.filter((c) => c.name !== name));
    return { objectsRemoved };
  }

  async open(name: string, deps: { readonly locker: Locker; readonly log: Logger; readonly fs?: Fs }): Promise<Datastore> {
    const cfg = await this.config.get(name);
    return openConfigured(cfg, { fs: deps.fs ?? this.#fs, locker: deps.locker, log: deps.log, configDir: this.#configDir });
  }
}

export interface OpenDeps {
  readonly fs: Fs;
  readonly locker: Locker;
  readonly log: Logger;
  /** where the backend type finds its own configuration (a remote store's endpoints and secrets) */
  readonly configDir: string;
}

/** Opens a configured datastore over the storage its `backend` names. */
export async function openConfigured(cfg: DatastoreConfig, deps: OpenDeps): Promise<Datastore> {
  const tuning = tuningOf(cfg);
  const storage = await prepareStorage({ name: cfg.name, path: cfg.path, backend: cfg.props.get('backend') }, deps.fs, deps.configDir);
  try {
    if (!(await deps.fs.stat(cfg.path))?.isDirectory) throw fail('NOT_FOUND', `no directory ${cfg.path}`, { path: cfg.path });
    await storage.makeBackend(deps.fs, cfg.path).open();
  } catch (e) {
    storage.close();
    if (isHoldfastError(e, 'NOT_FOUND')) throw fail('NOT_FOUND', `datastore '${cfg.name}' has no chunk store at ${cfg.path}`, { name: cfg.name, path: cfg.path }, e);
    throw e;
  }
  return new Datastore({
    name: cfg.name,
    base: cfg.path,
    fs: deps.fs,
    locker: deps.locker,
    log: deps.log,
    syncLevel: tuning.syncLevel,
    makeBackend: storage.makeBackend,
    mirror: storage.mirror,
    onClose: storage.close,
  });
}

async function prepareStorage(d: { readonly name: string; readonly path: string; readonly backend: string | undefined }, fs: Fs, configDir: string): Promise<StoreStorage> {
  const spec = parseBackendSpec(d.backend);
  return (await backendTypeOf(spec)).prepare({ store: d.name, base: d.path, configDir, configFs: fs, options: spec.options });
}

/** Undo of createDatastoreTree for a later failure: the tree goes, an existing empty base stays. */
async function removeCreatedTree(fs: Fs, base: string): Promise<void> {
  for (const name of await fs.readdir(base).catch(() => [] as string[])) await removeTree(fs, `${base}/${name}`);
  const left = await fs.readdir(base).catch(() => ['?']);
  if (left.length === 0) await fs.rmdir(base).catch(() => undefined);
}
