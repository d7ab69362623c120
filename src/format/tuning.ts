/**
 * Datastore tuning: the `tuning` property string of `datastore.cfg` (pbs-format.md §1.3).
 *
 * The config keeps the string verbatim; this module turns it into a complete `DatastoreTuning`
 * with every default filled in, each time it is used. Unknown keys, repeated keys and bad values
 * are `INVALID_TUNING` errors whose message names the key and the value, so an operator can fix
 * the config line without reading code.
 */
import { fail } from '../core/errors.ts';
import { DEFAULT_SYNC_LEVEL, SYNC_LEVELS, isSyncLevel, type SyncLevel } from '../core/sync-level.ts';
import { formatPropertyString, parseBoolean, splitPropertyString, type PropertyEntry } from './property-string.ts';

export const CHUNK_ORDERS = ['none', 'inode'] as const;
export type ChunkOrder = (typeof CHUNK_ORDERS)[number];

export interface DatastoreTuning {
  readonly syncLevel: SyncLevel;
  readonly chunkOrder: ChunkOrder;
  readonly gcAtimeSafetyCheck: boolean;
  /** Minutes, 1..2880. */
  readonly gcAtimeCutoffMinutes: number;
  readonly gcCacheCapacity: number;
  readonly verificationWorkers: number;
  readonly verificationReaders: number;
}

export const DEFAULT_TUNING: DatastoreTuning = Object.freeze({
  syncLevel: DEFAULT_SYNC_LEVEL,
  chunkOrder: 'inode',
  gcAtimeSafetyCheck: true,
  gcAtimeCutoffMinutes: 24 * 60 + 5,
  gcCacheCapacity: 1024 * 1024,
  verificationWorkers: 4,
  verificationReaders: 1,
});

type Field = keyof DatastoreTuning;
type MutableTuning = { -readonly [K in Field]: DatastoreTuning[K] };

interface KeySpec {
  readonly field: Field;
  readonly set: (into: MutableTuning, key: string, value: string) => void;
}

function spec<K extends Field>(field: K, parse: (key: string, value: string) => DatastoreTuning[K]): KeySpec {
  return {
    field,
    set: (into, key, value) => {
      into[field] = parse(key, value);
    },
  };
}

function bad(key: string, value: string, expected: string): never {
  throw fail('INVALID_TUNING', `${key}=${value}: expected ${expected}`, { key, value });
}

function integerIn(min: number, max: number) {
  return (key: string, value: string): number => {
    const n = /^[+-]?\d{1,10}$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isInteger(n) || n < min || n > max) bad(key, value, `an integer in ${min}..${max}`);
    return n;
  };
}

function syncLevel(key: string, value: string): SyncLevel {
  if (!isSyncLevel(value)) bad(key, value, `one of ${SYNC_LEVELS.join(', ')}`);
  return value;
}

export function isChunkOrder(s: string): s is ChunkOrder {
  return (CHUNK_ORDERS as readonly string[]).includes(s);
}

function chunkOrder(key: string, value: string): ChunkOrder {
  if (!isChunkOrder(value)) bad(key, value, `one of ${CHUNK_ORDERS.join(', ')}`);
  return value;
}

function bool(key: string, value: string): boolean {
  return parseBoolean(value) ?? bad(key, value, 'a boolean (1|on|yes|true|0|off|no|false)');
}

/** Config key → field; the order here is the order `formatTuning` writes. */
const KEYS = new Map<string, KeySpec>([
  ['chunk-order', spec('chunkOrder', chunkOrder)],
  ['sync-level', spec('syncLevel', syncLevel)],
  ['gc-atime-safety-check', spec('gcAtimeSafetyCheck', bool)],
  ['gc-atime-cutoff', spec('gcAtimeCutoffMinutes', integerIn(1, 2880))],
  ['gc-cache-capacity', spec('gcCacheCapacity', integerIn(0, 8 * 1024 * 1024))],
  ['default-verification-workers', spec('verificationWorkers', integerIn(1, 32))],
  ['default-verification-readers', spec('verificationReaders', integerIn(1, 32))],
]);

export const TUNING_KEYS: readonly string[] = [...KEYS.keys()];

function splitTuning(text: string): ReturnType<typeof splitPropertyString> {
  try {
    return splitPropertyString(text);
  } catch (e) {
    throw fail('INVALID_TUNING', `tuning '${text}': ${e instanceof Error ? e.message : String(e)}`, { value: text }, e);
  }
}

/** Parses a tuning property string (absent or empty = all defaults). */
export function parseTuning(text: string | undefined): DatastoreTuning {
  const result: MutableTuning = { ...DEFAULT_TUNING };
  const seen = new Set<string>();
  for (const { key, value } of splitTuning(text ?? '')) {
    if (key === undefined) bad('(no key)', value, `key=value; tuning has no default key`);
    const keySpec = KEYS.get(key) ?? bad(key, value, `a known key: ${TUNING_KEYS.join(', ')}`);
    if (seen.has(key)) bad(key, value, 'each key at most once');
    seen.add(key);
    keySpec.set(result, key, value);
  }
  return result;
}

function entryFor(key: string, keySpec: KeySpec, tuning: DatastoreTuning): PropertyEntry {
  return [key, String(tuning[keySpec.field])];
}

/**
 * Formats tuning as a property string. By default only values that differ from the defaults are
 * written, so the result is the shortest string that parses back to `tuning`.
 */
export function formatTuning(tuning: DatastoreTuning, options: { includeDefaults?: boolean } = {}): string {
  const entries = [...KEYS]
    .filter(([, s]) => options.includeDefaults === true || tuning[s.field] !== DEFAULT_TUNING[s.field])
    .map(([key, s]) => entryFor(key, s, tuning));
  return formatPropertyString(entries);
}
