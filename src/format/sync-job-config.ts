/**
 * `sync.cfg`: sync jobs, in PBS's section-config format (`sync` sections), one per job:
 *
 *     sync: offsite-pull
 *     	store local1
 *     	remote offsite
 *     	remote-store store2
 *     	sync-direction pull
 *     	group-filter "type:vm","exclude:group:vm/100"
 *     	remove-vanished true
 *     	schedule hourly
 *
 * Keys are PBS's. Values are checked when a job is saved and again when the file is read (a
 * hand-edited file included), each failure INVALID_ARGUMENT naming the parameter (INVALID_CONFIG
 * naming the file when read):
 * - id, store, remote, remote-store: safe ids (a job id 3-32 characters, as PBS);
 * - ns, remote-ns: namespaces; max-depth 0..7;
 * - sync-direction: pull (default) or push;
 * - group-filter: group-filter.ts; stored as one value of quoted filters, since a regex may
 *   hold commas;
 * - transfer-last ≥ 1; worker-threads 1..32 (default 1);
 * - rate-in/burst-in/rate-out/burst-out: bytes per second, plain or with a unit (`10MiB`, `5MB`);
 * - schedule: a calendar event (calendar-event.ts), checked here so a typo is refused when it is
 *   set, not found later by a scheduler that could only log it.
 */
import { checkNamespace } from '../core/backup-ref.ts';
import { parseBooleanWord } from '../core/args.ts';
import { fail, isHoldfastError } from '../core/errors.ts';
import { MAX_NAMESPACE_DEPTH, parseAuthId, SAFE_ID } from '../core/names.ts';
import { parseCalendarEvent } from './calendar-event.ts';
import { formatGroupFilter, parseGroupFilter, type GroupFilter } from './group-filter.ts';
import { splitPropertyString } from './property-string.ts';
import type { Section } from './section-config.ts';

export const SYNC_CFG = 'sync.cfg';
export const SYNC_SECTION_TYPE = 'sync';
export const SYNC_DIRECTIONS = ['pull', 'push'] as const;
export type SyncDirection = (typeof SYNC_DIRECTIONS)[number];
export const MAX_WORKER_THREADS = 32;

export interface SyncJob {
  readonly id: string;
  readonly store: string;
  readonly remote: string;
  readonly remoteStore: string;
  readonly remoteNs: string;
  readonly ns: string;
  readonly maxDepth?: number;
  readonly direction: SyncDirection;
  readonly groupFilter: readonly GroupFilter[];
  readonly removeVanished: boolean;
  readonly transferLast?: number;
  readonly verifiedOnly: boolean;
  readonly encryptedOnly: boolean;
  readonly resyncCorrupt: boolean;
  readonly rateIn?: number;
  readonly burstIn?: number;
  readonly rateOut?: number;
  readonly burstOut?: number;
  readonly workerThreads: number;
  readonly schedule?: string;
  readonly owner?: string;
  readonly comment?: string;
}

/** Every config key, in file order; each is also the API parameter and the CLI option name. */
export const SYNC_JOB_KEYS = [
  'store',
  'remote',
  'remote-store',
  'remote-ns',
  'ns',
  'max-depth',
  'sync-direction',
  'group-filter',
  'remove-vanished',
  'transfer-last',
  'verified-only',
  'encrypted-only',
  'resync-corrupt',
  'rate-in',
  'burst-in',
  'rate-out',
  'burst-out',
  'worker-threads',
  'schedule',
  'owner',
  'comment',
] as const;
export type SyncJobKey = (typeof SYNC_JOB_KEYS)[number];

/** Keys an update may remove (`--delete KEY`), returning them to their defaults. */
export const SYNC_JOB_DELETABLE: readonly SyncJobKey[] = SYNC_JOB_KEYS.filter((k) => !['store', 'remote', 'remote-store'].includes(k));

const JOB_ID = /^[A-Za-z0-9_][A-Za-z0-9._-]{2,31}$/;
const UNITS: Readonly<Record<string, number>> = { '': 1, B: 1, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12, KIB: 1024, MIB: 1024 ** 2, GIB: 1024 ** 3, TIB: 1024 ** 4 };

function bad(param: string, value: string, why: string): never {
  throw fail('INVALID_ARGUMENT', `${param} '${value.slice(0, 200)}' ${why}`, { param, value: value.slice(0, 200) });
}

export function checkSyncJobId(id: string): string {
  if (!JOB_ID.test(id)) bad('id', id, 'is not a valid job id (3-32 of A-Z a-z 0-9 _ . -, not starting with . or -)');
  return id;
}

/** A byte rate: `1048576`, `10MiB`, `2.5 MB` (per second). */
export function parseByteRate(param: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT]i?B|B)?$/i.exec(text.trim());
  const unit = UNITS[(m?.[2] ?? '').toUpperCase()];
  const n = m && unit !== undefined ? Math.floor(Number(m[1]) * unit) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1) bad(param, text, 'is not a byte rate (e.g. 1048576, 10MiB, 5MB)');
  return n;
}

function intIn(param: string, text: string, min: number, max: number): number {
  const n = /^\d{1,9}$/.test(text) ? Number(text) : Number.NaN;
  if (!(n >= min && n <= max)) bad(param, text, `is not an integer in ${min}..${max}`);
  return n;
}

function boolOf(param: string, text: string): boolean {
  const b = parseBooleanWord(text);
  if (b === undefined) bad(param, text, 'is not a boolean (true/false)');
  return b;
}

function safeId(param: string, text: string): string {
  if (!SAFE_ID.test(text) || text.length > 32) bad(param, text, 'is not a valid name');
  return text;
}

function ns(param: string, text: string): string {
  try {
    return checkNamespace(text);
  } catch (e) {
    if (isHoldfastError(e)) bad(param, text, `is not a valid namespace: ${e.message}`);
    throw e;
  }
}

/** Group filters from the stored value: quoted filters separated by commas. */
export function parseGroupFilterList(text: string): GroupFilter[] {
  if (text.trim() === '') return [];
  return splitPropertyString(text).map((item) => parseGroupFilter(item.key === undefined ? item.value : `${item.key}=${item.value}`));
}

export function formatGroupFilterList(filters: readonly GroupFilter[]): string {
  return quoteGroupFilters(filters.map(formatGroupFilter));
}

/** Filter texts (as the CLI and the API take them, one per filter) as the stored value. */
export function quoteGroupFilters(texts: readonly string[]): string {
  return texts.map((t) => `"${t.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`).join(',');
}

/** The text form of every key that is set (for the config file, the API and listings). */
export function syncJobProps(j: SyncJob): Map<SyncJobKey, string> {
  const out = new Map<SyncJobKey, string>([
    ['store', j.store],
    ['remote', j.remote],
    ['remote-store', j.remoteStore],
  ]);
  const opt = (k: SyncJobKey, v: string | number | boolean | undefined, skip?: string | number | boolean): void => {
    if (v !== undefined && v !== skip) out.set(k, String(v));
  };
  opt('remote-ns', j.remoteNs, '');
  opt('ns', j.ns, '');
  opt('max-depth', j.maxDepth);
  opt('sync-direction', j.direction, 'pull');
  if (j.groupFilter.length > 0) out.set('group-filter', formatGroupFilterList(j.groupFilter));
  opt('remove-vanished', j.removeVanished, false);
  opt('transfer-last', j.transferLast);
  opt('verified-only', j.verifiedOnly, false);
  opt('encrypted-only', j.encryptedOnly, false);
  opt('resync-corrupt', j.resyncCorrupt, false);
  opt('rate-in', j.rateIn);
  opt('burst-in', j.burstIn);
  opt('rate-out', j.rateOut);
  opt('burst-out', j.burstOut);
  opt('worker-threads', j.workerThreads, 1);
  opt('schedule', j.schedule);
  opt('owner', j.owner);
  opt('comment', j.comment);
  return out;
}

/** A job from its id and text properties (config, API or CLI); every value checked. */
export function makeSyncJob(id: string, props: ReadonlyMap<string, string>): SyncJob {
  for (const k of props.keys()) if (!(SYNC_JOB_KEYS as readonly string[]).includes(k)) bad(k, props.get(k) ?? '', 'is not a sync job option');
  const get = (k: SyncJobKey): string | undefined => {
    const v = props.get(k);
    return v === undefined || v === '' ? undefined : v;
  };
  const need = (k: SyncJobKey): string => get(k) ?? bad(k, '', 'is required');
  const direction = get('sync-direction') ?? 'pull';
  if (!(SYNC_DIRECTIONS as readonly string[]).includes(direction)) bad('sync-direction', direction, 'must be pull or push');
  const num = (k: SyncJobKey, f: (v: string) => number): number | undefined => {
    const v = get(k);
    return v === undefined ? undefined : f(v);
  };
  const flag = (k: SyncJobKey): boolean => {
    const v = get(k);
    return v === undefined ? false : boolOf(k, v);
  };
  const owner = get('owner');
  const comment = get('comment');
  if (comment !== undefined && (comment.length > 256 || /[\r\n\0]/.test(comment))) bad('comment', comment, 'must be one line of at most 256 characters');
  const schedule = get('schedule');
  if (schedule !== undefined) {
    try {
      parseCalendarEvent(schedule);
    } catch {
      bad('schedule', schedule, "is not a calendar event (e.g. 'hourly', 'daily', 'mon..fri 02:30')");
    }
  }
  const optional = <T>(k: string, v: T | undefined): Record<string, T> => (v === undefined ? {} : { [k]: v });
  return {
    id: checkSyncJobId(id),
    store: safeId('store', need('store')),
    remote: safeId('remote', need('remote')),
    remoteStore: safeId('remote-store', need('remote-store')),
    remoteNs: ns('remote-ns', get('remote-ns') ?? ''),
    ns: ns('ns', get('ns') ?? ''),
    direction: direction as SyncDirection,
    groupFilter: parseGroupFilterList(get('group-filter') ?? ''),
    removeVanished: flag('remove-vanished'),
    verifiedOnly: flag('verified-only'),
    encryptedOnly: flag('encrypted-only'),
    resyncCorrupt: flag('resync-corrupt'),
    workerThreads: num('worker-threads', (v) => intIn('worker-threads', v, 1, MAX_WORKER_THREADS)) ?? 1,
    ...optional('maxDepth', num('max-depth', (v) => intIn('max-depth', v, 0, MAX_NAMESPACE_DEPTH))),
    ...optional('transferLast', num('transfer-last', (v) => intIn('transfer-last', v, 1, 1_000_000_000))),
    ...optional('rateIn', num('rate-in', (v) => parseByteRate('rate-in', v))),
    ...optional('burstIn', num('burst-in', (v) => parseByteRate('burst-in', v))),
    ...optional('rateOut', num('rate-out', (v) => parseByteRate('rate-out', v))),
    ...optional('burstOut', num('burst-out', (v) => parseByteRate('burst-out', v))),
    ...optional('schedule', schedule),
    ...optional('owner', owner === undefined ? undefined : checkOwner(owner)),
    ...optional('comment', comment),
  };
}

function checkOwner(owner: string): string {
  try {
    return parseAuthId(owner);
  } catch (e) {
    if (isHoldfastError(e)) bad('owner', owner, 'is not a user or API token');
    throw e;
  }
}

export function syncJobToSection(j: SyncJob): Section {
  return { type: SYNC_SECTION_TYPE, id: j.id, props: syncJobProps(j) };
}

export function syncJobFromSection(s: Section, file: string): SyncJob {
  if (s.type !== SYNC_SECTION_TYPE) throw fail('INVALID_CONFIG', `${file}: unknown section type '${s.type}'`, { file, type: s.type });
  try {
    return makeSyncJob(s.id, s.props);
  } catch (e) {
    throw fail('INVALID_CONFIG', `${file}: sync job '${s.id}': ${(e as Error).message}`, { file, id: s.id }, e);
  }
}

/** The job as the API and `--output-format json` show it: PBS keys, set values only. */
export function describeSyncJob(j: SyncJob): Record<string, unknown> {
  return { id: j.id, ...Object.fromEntries(syncJobProps(j)) };
}
