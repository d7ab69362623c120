/**
 * References to what a datastore holds: namespace, group (type + id) and snapshot (group + time).
 * Namespaces are written in API form (`a/b/c`, '' for the root). Times are epoch seconds; on disk
 * and in listings they appear as RFC 3339 UTC with second precision, `YYYY-MM-DDTHH:MM:SSZ`.
 */
import { fail } from './errors.ts';

export const BACKUP_TYPES = ['vm', 'ct', 'host'] as const;
export type BackupType = (typeof BACKUP_TYPES)[number];

export interface GroupRef {
  readonly ns: string;
  readonly type: BackupType;
  readonly id: string;
}

export interface SnapshotRef extends GroupRef {
  readonly time: number;
}

const SAFE_ID = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
export const MAX_NS_DEPTH = 7;

export function isBackupType(s: string): s is BackupType {
  return (BACKUP_TYPES as readonly string[]).includes(s);
}

export function checkBackupType(s: string): BackupType {
  if (!isBackupType(s)) throw fail('INVALID_NAME', `backup type '${s}' is not one of ${BACKUP_TYPES.join(', ')}`, { value: s });
  return s;
}

export function checkBackupId(s: string): string {
  if (!SAFE_ID.test(s) || s.length > 128) throw fail('INVALID_NAME', `backup id '${s}' is not allowed (expected ${SAFE_ID.source})`, { value: s });
  return s;
}

export function checkNamespace(ns: string): string {
  if (ns === '') return ns;
  const parts = ns.split('/');
  if (ns.length > 256 || parts.length > MAX_NS_DEPTH || parts.some((p) => !SAFE_ID.test(p) || p.length > 32)) {
    throw fail('INVALID_NAME', `namespace '${ns}' is not allowed (components ${SAFE_ID.source}, depth ≤ ${MAX_NS_DEPTH})`, { value: ns });
  }
  return ns;
}

export function checkBackupTime(t: number): number {
  if (!Number.isSafeInteger(t) || t < 1 || t > 253402300799) throw fail('INVALID_ARGUMENT', `backup time ${t} is out of range`, { value: t });
  return t;
}

export function formatTime(epoch: number): string {
  return new Date(epoch * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

export function parseTime(s: string): number {
  const ms = TIME_RE.test(s) ? Date.parse(s) : NaN;
  if (Number.isNaN(ms) || formatTime(ms / 1000) !== s) throw fail('INVALID_ARGUMENT', `'${s}' is not a snapshot time (YYYY-MM-DDTHH:MM:SSZ)`, { value: s });
  return ms / 1000;
}

export function isSnapshotTimeName(s: string): boolean {
  return TIME_RE.test(s);
}

export function groupPath(g: GroupRef): string {
  return `${g.type}/${g.id}`;
}

export function snapshotPath(s: SnapshotRef): string {
  return `${groupPath(s)}/${formatTime(s.time)}`;
}


/** Parses `type/id` or `type/id/time` (the CLI and API snapshot spelling). */
export function parseSnapshotPath(ns: string, s: string): SnapshotRef {
  const parts = s.split('/');
  if (parts.length !== 3) throw fail('INVALID_ARGUMENT', `snapshot '${s}' must be TYPE/ID/TIME`, { value: s });
  const [type, id, time] = parts as [string, string, string];
  return { ns: checkNamespace(ns), type: checkBackupType(type), id: checkBackupId(id), time: /^\d+$/.test(time) ? Number(time) : parseTime(time) };
}

export function parseGroupPath(ns: string, s: string): GroupRef {
  const parts = s.split('/');
  if (parts.length !== 2) throw fail('INVALID_ARGUMENT', `group '${s}' must be TYPE/ID`, { value: s });
  const [type, id] = parts as [string, string];
  return { ns: checkNamespace(ns), type: checkBackupType(type), id: checkBackupId(id) };
}
