/**
 * `datastore.cfg`: the datastore configuration in PBS section-config format, in the config dir.
 *
 *   datastore: store1
 *   	path /srv/store1
 *   	tuning sync-level=file
 *
 * The tuning value is kept verbatim, as the user gave it (PBS does the same), and parsed each time
 * it is used. Writers hold an exclusive flock on `.datastore.lck` for the whole read-modify-write,
 * and the file is replaced atomically and durably, so concurrent `holdfast datastore` commands and
 * the server never lose each other's updates and a power loss leaves the old or the new file.
 */
import { join } from 'node:path';
import { fail } from '../core/errors.ts';
import { formatSectionConfig, parseSectionConfig, type Section } from '../format/section-config.ts';
import { formatTuning, parseTuning, type DatastoreTuning } from '../format/tuning.ts';
import { atomicWrite } from '../storage/atomic-write.ts';
import { readTextIfExists } from '../storage/read-text.ts';
import { withLock } from '../storage/file-lock.ts';
import type { Fs } from '../storage/fs-port.ts';

export const DATASTORE_CFG = 'datastore.cfg';
const LOCK_FILE = '.datastore.lck';

/** Known keys besides `path`; others found in the file are kept as they are. */
export const DATASTORE_KEYS = ['path', 'comment', 'tuning', 'gc-schedule', 'prune-schedule', 'verify-new', 'keep-last', 'keep-hourly', 'keep-daily', 'keep-weekly', 'keep-monthly', 'keep-yearly', 'maintenance-mode'] as const;

export interface DatastoreConfig {
  readonly name: string;
  readonly path: string;
  /** every property except `path`, in file order */
  readonly props: ReadonlyMap<string, string>;
}

export function tuningOf(c: DatastoreConfig): DatastoreTuning {
  return parseTuning(c.props.get('tuning'));
}

/** The JSON shape of a datastore's configuration, shared by the API and the CLI. */
export function describeDatastore(c: DatastoreConfig): Record<string, unknown> {
  const t = tuningOf(c);
  return {
    name: c.name,
    path: c.path,
    comment: c.props.get('comment'),
    tuning: c.props.get('tuning') ?? '',
    'sync-level': t.syncLevel,
    'effective-tuning': formatTuning(t, { includeDefaults: true }),
    ...Object.fromEntries([...c.props].filter(([k]) => !['comment', 'tuning'].includes(k))),
  };
}

export class DatastoreConfigFile {
  readonly #fs: Fs;
  readonly #dir: string;

  constructor(fs: Fs, configDir: string) {
    this.#fs = fs;
    this.#dir = configDir;
  }

  get path(): string {
    return join(this.#dir, DATASTORE_CFG);
  }

  async list(): Promise<DatastoreConfig[]> {
    const text = await readTextIfExists(this.#fs, this.path);
    return text === undefined ? [] : parseSectionConfig(text, this.path).map(fromSection(this.path));
  }

  async get(name: string): Promise<DatastoreConfig> {
    const found = (await this.list()).find((c) => c.name === name);
    if (!found) throw fail('DATASTORE_NOT_FOUND', `datastore '${name}' does not exist`, { name });
    return found;
  }

  /** Read-modify-write under the config lock; `fn` returns the new list. */
  async update(fn: (current: DatastoreConfig[]) => DatastoreConfig[] | Promise<DatastoreConfig[]>): Promise<void> {
    await this.#fs.mkdir(this.#dir, { recursive: true, mode: 0o700 });
    await withLock(join(this.#dir, LOCK_FILE), async () => {
      const next = await fn(await this.list());
      const text = formatSectionConfig(next.map(toSection));
      await atomicWrite(this.#fs, this.path, Buffer.from(text), { durable: true, perm: 0o640 });
    });
  }
}

function fromSection(file: string) {
  return (s: Section): DatastoreConfig => {
    if (s.type !== 'datastore') throw fail('INVALID_CONFIG', `${file}: unknown section type '${s.type}'`, { file, type: s.type });
    const path = s.props.get('path');
    if (!path) throw fail('INVALID_CONFIG', `${file}: datastore '${s.id}' has no path`, { file, name: s.id });
    const props = new Map(s.props);
    props.delete('path');
    return { name: s.id, path, props };
  };
}

function toSection(c: DatastoreConfig): Section {
  return { type: 'datastore', id: c.name, props: new Map([['path', c.path], ...c.props]) };
}
