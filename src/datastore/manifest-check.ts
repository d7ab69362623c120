/**
 * The manifest check at `finish`: the manifest a client uploads must describe the snapshot the
 * session writes, and only files this session wrote, with their real sizes and checksums. PBS
 * itself only parses the manifest; without this check a client could finish a snapshot whose
 * manifest names another group, a file that does not exist, or one with a forged checksum, and
 * restore and verify would trust it.
 *
 * Rules (docs/protocol.md, "Manifest check at finish"):
 * - `backup-type`, `backup-id` and `backup-time` equal the session's snapshot.
 * - Every listed file has a safe archive name (`[A-Za-z0-9_][A-Za-z0-9._-]*` ending in `.fidx`,
 *   `.didx` or `.blob`, at most 255 bytes, not the manifest itself), is listed once, and was
 *   written in this session: an index closed (size = its stream size, csum = its index csum) or a
 *   blob uploaded (size = its encoded length, csum = SHA-256 of its encoded bytes).
 * - As in PBS, a file written but not listed is allowed (it stays in the snapshot directory).
 *
 * Pure: no I/O. Every failure is MANIFEST_MISMATCH with the offending file in `details`.
 */
import type { SnapshotRef } from '../core/backup-ref.ts';
import { fail } from '../core/errors.ts';
import type { Manifest } from '../format/manifest.ts';
import { MANIFEST_NAME } from './layout.ts';

/** What the session wrote under one file name. */
export interface WrittenFile {
  readonly size: number;
  readonly csumHex: string;
}

const SAFE_FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]*\.(fidx|didx|blob)$/;
export const MAX_FILE_NAME_BYTES = 255;

export function checkManifest(m: Manifest, ref: SnapshotRef, written: ReadonlyMap<string, WrittenFile>): void {
  checkSnapshot(m, ref);
  const seen = new Set<string>();
  for (const f of m.files) {
    if (!isSafeFileName(f.filename)) mismatch(`manifest lists the unsafe file name '${f.filename}'`, { file: f.filename });
    if (seen.has(f.filename)) mismatch(`manifest lists '${f.filename}' twice`, { file: f.filename });
    seen.add(f.filename);
    const w = written.get(f.filename);
    if (!w) mismatch(`manifest lists '${f.filename}', which this session did not write`, { file: f.filename });
    if (w.size !== f.size) mismatch(`manifest says '${f.filename}' has ${f.size} bytes, the session wrote ${w.size}`, { file: f.filename, size: f.size, written: w.size });
    if (w.csumHex !== f.csum) mismatch(`manifest checksum of '${f.filename}' differs from what the session wrote`, { file: f.filename, csum: f.csum, written: w.csumHex });
  }
}

export function isSafeFileName(name: string): boolean {
  return SAFE_FILE_NAME.test(name) && name !== MANIFEST_NAME && Buffer.byteLength(name) <= MAX_FILE_NAME_BYTES;
}

function checkSnapshot(m: Manifest, ref: SnapshotRef): void {
  const want = { 'backup-type': ref.type, 'backup-id': ref.id, 'backup-time': ref.time };
  const got = { 'backup-type': m.backupType, 'backup-id': m.backupId, 'backup-time': m.backupTime };
  for (const key of Object.keys(want) as (keyof typeof want)[]) {
    if (got[key] !== want[key]) mismatch(`manifest ${key} ${JSON.stringify(got[key])} is not the session's ${JSON.stringify(want[key])}`, { field: key, value: got[key], expected: want[key] });
  }
}

function mismatch(message: string, details: Record<string, unknown>): never {
  throw fail('MANIFEST_MISMATCH', message, details);
}
