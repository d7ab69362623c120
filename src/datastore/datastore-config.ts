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
import { parseBooleanWord } from '../core/args.ts';
import { fail, toHoldfastError } from '../core/errors.ts';
import { parseCalendarEvent } from '../format/calendar-event.ts';
import type { Section } from '../format/section-config.ts';
import { formatTuning, parseTuning, type DatastoreTuning } from '../format/tuning.ts';
import { SectionConfigFile } from '../storage/config-files.ts';
import type { Fs } from '../storage/fs-port.ts';

export const DATASTORE_CFG = 'datastore.cfg';
const LOCK_FILE = '.datastore.lck';

/** Known keys besides `path`; others found in the file are kept as they are. */
export const DATASTORE_KEYS = ['path', 'backend', 'comment', 'tuning', 'gc-schedule', 'prune-schedule', 'verify-schedule', 'verify-new', 'keep-last', 'keep-hourly', 'keep-daily', 'keep-weekly', 'keep-monthly', 'keep-yearly', 'maintenance-mode'] as const;

export interface DatastoreConfig {
  readonly name: string;
  readonly path: string;
  /** every property except `path`, in file order */
  readonly props: ReadonlyMap<string, string>;
}

/** The properties that hold a calendar event (format/calendar-event.ts). */
export const SCHEDULE_KEYS = ['gc-schedule', 'prune-schedule', 'verify-schedule'] as const;

/**
 * Checks the values of schedule, keep-* and verify-new properties a user sets, so that a typo is
 * refused when it is made rather than found by the scheduler, which could only log it and never
 * run the job. An empty value clears a property and is always fine. Values already in the file
 * are not checked here: a server keeps loading a config an older release wrote.
 */
export function checkDatastoreProps(changes: Readonly<Record<string, string | undefined>>): void {
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined || value === '') continue;
    if ((SCHEDULE_KEYS as readonly string[]).includes(key)) {
      try {
        parseCalendarEvent(value);
      } catch (e) {
        throw fail('INVALID_ARGUMENT', `${key} '${value}' is not a calendar event (e.g. 'daily', 'sat 03:00', 'mon..fri 02:30'): ${toHoldfastError(e).message}`, { param: key, value }, e);
      }
    } else if (key.startsWith('keep-')) {
      if (!/^\d{1,9}$/.test(value)) throw fail('INVALID_ARGUMENT', `${key} must be a non-negative integer, got '${value}'`, { param: key, value });
    } else if (key === 'verify-new') {
      if (parseBooleanWord(value) === undefined) throw fail('INVALID_ARGUMENT', `verify-new must be true or false, got '${value}'`, { param: key, value });
    }
  }
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

/** datastore.cfg: the configured datastores (storage/config-files.ts does the file handling). */
export class DatastoreConfigFile extends SectionConfigFile<DatastoreConfig> {
  constructor(fs: Fs, configDir: string) {
    super(fs, configDir, { file: DATASTORE_CFG, lock: LOCK_FILE, fromSection: (s, path) => fromSection(path)(s), toSection });
  }

  async get(name: string): Promise<DatastoreConfig> {
    const found = (await this.list()).find((c) => c.name === name);
    if (!found) throw fail('DATASTORE_NOT_FOUND', `datastore '${name}' does not exist`, { name });
    return found;
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
