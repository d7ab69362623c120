/**
 * References to what a datastore holds: namespace, group (type + id) and snapshot (group + time).
 * Namespaces are written in API form (`a/b/c`, '' for the root). Times are epoch seconds; on disk
 * and in listings they appear as RFC 3339 UTC with second precision, `YYYY-MM-DDTHH:MM:SSZ`.
 */
import { fail } from './errors.ts';
import { BACKUP_TYPES, isBackupType, parseBackupId, parseBackupType, parseNamespace, type BackupType } from './names.ts';
import { formatRfc3339, parseBackupTime } from './time.ts';

export { BACKUP_TYPES, isBackupType, type BackupType };

export interface GroupRef {
  readonly ns: string;
  readonly type: BackupType;
  readonly id: string;
}

export interface SnapshotRef extends GroupRef {
  readonly time: number;
}

export const checkBackupType = parseBackupType;
export const checkBackupId = (s: string): string => parseBackupId(s);
export const checkNamespace = (s: string): string => parseNamespace(s);

export function checkBackupTime(t: number): number {
  if (!Number.isSafeInteger(t) || t < 1 || t > 253402300799) throw fail('INVALID_ARGUMENT', `backup time ${t} is out of range`, { value: t });
  return t;
}

export const formatTime = formatRfc3339;
export const parseTime = parseBackupTime;

export function isSnapshotTimeName(s: string): boolean {
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(s);
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
