/**
 * The sync jobs of a server: `sync.cfg` in the config dir (format/sync-job-config.ts), changed
 * only under its flock by one durable atomic write (storage/config-files.ts). A job may only name
 * a remote that exists in `remote.cfg` (read under the same lock order as remote-store.ts: the
 * sync lock first, then the remote file is only read, never written) and a local datastore that
 * exists in `datastore.cfg` (only read): a typo in either is refused when the job is made, not
 * found by its first run.
 */
import { fail } from '../../core/errors.ts';
import { DatastoreConfigFile } from '../../datastore/datastore-config.ts';
import { REMOTE_CFG, remoteFromSection, remoteToSection, type Remote } from '../../format/remote-config.ts';
import { makeSyncJob, SYNC_CFG, syncJobFromSection, syncJobProps, syncJobToSection, type SyncJob, type SyncJobKey } from '../../format/sync-job-config.ts';
import { SectionConfigFile } from '../../storage/config-files.ts';
import type { Fs } from '../../storage/fs-port.ts';

export const SYNC_LOCK = '.sync.lck';

/** A change: a text value sets a key, null returns it to its default. */
export type SyncJobPatch = Readonly<Partial<Record<SyncJobKey, string | null>>>;

export function remoteConfigFile(fs: Fs, configDir: string): SectionConfigFile<Remote> {
  return new SectionConfigFile(fs, configDir, { file: REMOTE_CFG, lock: '.remote.lck', fromSection: remoteFromSection, toSection: remoteToSection, mode: 0o640 });
}

export class SyncJobStore {
  readonly #config: SectionConfigFile<SyncJob>;
  readonly #remotes: SectionConfigFile<Remote>;
  readonly #stores: DatastoreConfigFile;

  constructor(fs: Fs, configDir: string) {
    this.#stores = new DatastoreConfigFile(fs, configDir);
    this.#config = new SectionConfigFile(fs, configDir, { file: SYNC_CFG, lock: SYNC_LOCK, fromSection: syncJobFromSection, toSection: syncJobToSection, mode: 0o640 });
    this.#remotes = remoteConfigFile(fs, configDir);
  }

  list(): Promise<SyncJob[]> {
    return this.#config.list();
  }

  async get(id: string): Promise<SyncJob> {
    const job = (await this.list()).find((j) => j.id === id);
    if (!job) throw fail('NOT_FOUND', `sync job '${id}' does not exist`, { id });
    return job;
  }

  async create(id: string, props: ReadonlyMap<string, string>): Promise<SyncJob> {
    const job = makeSyncJob(id, props);
    return this.#config.locked(async () => {
      const all = await this.list();
      if (all.some((j) => j.id === id)) throw fail('ALREADY_EXISTS', `sync job '${id}' exists already`, { id });
      await this.#checkRemote(job);
      await this.#config.write([...all, job]);
      return job;
    });
  }

  /** Applies `patch`; `check` may refuse the job as it would become (a privilege check). */
  async update(id: string, patch: SyncJobPatch, check?: (next: SyncJob) => Promise<void>): Promise<SyncJob> {
    return this.#config.locked(async () => {
      const all = await this.list();
      const old = all.find((j) => j.id === id);
      if (!old) throw fail('NOT_FOUND', `sync job '${id}' does not exist`, { id });
      const props = new Map<string, string>(syncJobProps(old));
      for (const [k, v] of Object.entries(patch)) {
        if (v === null || v === undefined) props.delete(k);
        else props.set(k, v);
      }
      const next = makeSyncJob(id, props);
      await check?.(next);
      await this.#checkRemote(next);
      await this.#config.write(all.map((j) => (j.id === id ? next : j)));
      return next;
    });
  }

  async remove(id: string): Promise<void> {
    await this.#config.update((all) => {
      if (!all.some((j) => j.id === id)) throw fail('NOT_FOUND', `sync job '${id}' does not exist`, { id });
      return all.filter((j) => j.id !== id);
    });
  }

  async #checkRemote(job: SyncJob): Promise<void> {
    if (!(await this.#remotes.list()).some((r) => r.name === job.remote)) throw fail('NOT_FOUND', `remote '${job.remote}' does not exist`, { remote: job.remote });
    if (!(await this.#stores.list()).some((d) => d.name === job.store)) throw fail('DATASTORE_NOT_FOUND', `datastore '${job.store}' does not exist`, { name: job.store });
  }
}
