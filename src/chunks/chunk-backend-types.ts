/**
 * Chunk backend types: how a datastore's `backend` property (`type=NAME,key=value,…`, as in
 * PBS's datastore.cfg) becomes the storage it runs on: a ChunkBackend and a ContentMirror. The
 * datastore layer asks this registry and never names a type: `filesystem` (the default, the
 * local `.chunks` layout) is built in, and every other type is registered by the composition root
 * (cli/backend-types.ts) as a loader of its module, imported only when a datastore uses it (an object
 * store's SDK is heavy). So a new kind of storage arrives as one more module, never as branches in the
 * datastore.
 */
import { fail } from '../core/errors.ts';
import { parsePropertyMap } from '../format/property-string.ts';
import type { Fs } from '../storage/fs-port.ts';
import type { ChunkBackend } from './chunk-backend.ts';
import { NO_MIRROR, type ContentMirror } from './content-mirror.ts';
import { LocalChunkBackend } from './local-chunk-backend.ts';

export const DEFAULT_BACKEND_TYPE = 'filesystem';

export interface BackendSpec {
  readonly type: string;
  /** every key but `type`, in text order */
  readonly options: ReadonlyMap<string, string>;
}

export interface StorageContext {
  /** the datastore's name (an object store's key prefix) */
  readonly store: string;
  /** the datastore's directory: the whole store locally, the cache for a remote backend */
  readonly base: string;
  /** where the type finds its own configuration (endpoints and their secrets) */
  readonly configDir: string;
  readonly configFs: Fs;
  readonly options: ReadonlyMap<string, string>;
}

export interface StoreStorage {
  /** builds the backend over the datastore's own (sync-counting) `Fs` */
  readonly makeBackend: (fs: Fs, base: string) => ChunkBackend;
  readonly mirror: ContentMirror;
  /** releases what `prepare` opened (sockets); the storage is not used afterwards */
  readonly close: () => void;
  /**
   * Removes what the store keeps outside its directory (an object store's `<store>/` objects, and
   * only those); resolves how many objects went, reporting the count so far to `onProgress`.
   * Rejects when anything could not be removed; running it again finishes the job. Absent: the
   * directory holds everything.
   */
  readonly destroy?: (onProgress?: (removed: number) => void) => Promise<number>;
}

export interface ChunkBackendType {
  readonly type: string;
  /** Checks the options (INVALID_ARGUMENT naming the bad one), before anything is made. */
  checkOptions(options: ReadonlyMap<string, string>): void;
  /** Resolves what the storage needs (configuration, secrets, clients). */
  prepare(ctx: StorageContext): Promise<StoreStorage>;
}

const filesystemType: ChunkBackendType = {
  type: DEFAULT_BACKEND_TYPE,
  checkOptions: (options) => {
    const extra = [...options.keys()];
    if (extra.length > 0) throw fail('INVALID_ARGUMENT', `backend type ${DEFAULT_BACKEND_TYPE} takes no option '${extra[0] ?? ''}'`, { param: 'backend', key: extra[0] });
  },
  prepare: async () => ({ makeBackend: (fs, base) => new LocalChunkBackend({ fs, base }), mirror: NO_MIRROR, close: () => undefined }),
};

type Loader = () => Promise<ChunkBackendType>;
const types = new Map<string, Loader>([[filesystemType.type, async () => filesystemType]]);

/** Makes a backend type known: `load` imports its module when a datastore first uses it. */
export function registerChunkBackendType(type: string, load: Loader): void {
  types.set(type, load);
}

/** Parses a `backend` property (absent or empty: the default type); INVALID_ARGUMENT when bad. */
export function parseBackendSpec(text: string | undefined): BackendSpec {
  if (text === undefined || text.trim() === '') return { type: DEFAULT_BACKEND_TYPE, options: new Map() };
  let map: Map<string, string>;
  try {
    map = parsePropertyMap(text);
  } catch (e) {
    throw fail('INVALID_ARGUMENT', `backend '${text.slice(0, 200)}': ${e instanceof Error ? e.message : String(e)}`, { param: 'backend', value: text.slice(0, 200) }, e);
  }
  const type = map.get('type');
  if (type === undefined) throw fail('INVALID_ARGUMENT', `backend '${text.slice(0, 200)}' has no type=…`, { param: 'backend', value: text.slice(0, 200) });
  map.delete('type');
  return { type, options: map };
}

/** The registered type of a spec, with its options checked. */
export async function backendTypeOf(spec: BackendSpec): Promise<ChunkBackendType> {
  const load = types.get(spec.type);
  if (!load) throw fail('INVALID_ARGUMENT', `unknown backend type '${spec.type}' (known: ${[...types.keys()].join(', ')})`, { param: 'backend', type: spec.type });
  const t = await load();
  t.checkOptions(spec.options);
  return t;
}
