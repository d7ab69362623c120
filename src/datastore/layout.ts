/**
 * Where things live inside a datastore (PBS layout):
 *
 *   <base>/.lock                          lock file (exists so tools recognise a datastore)
 *   <base>/.chunks/0000 .. ffff           chunk store (see chunks/local-chunk-backend.ts)
 *   <base>/.gc-status                     JSON status of the last GC
 *   <base>[/ns/<a>/ns/<b>…]/<type>/<id>/  a backup group; holds `owner` and optional `notes`
 *                                         (a namespace is its directory; a content mirror also
 *                                         keeps an empty `ns/<a>/.namespace`, so an empty one
 *                                         survives a re-attach)
 *   <group>/<YYYY-MM-DDTHH:MM:SSZ>/       a snapshot: *.fidx, *.didx, *.blob, `.protected`,
 *                                         and `index.json.blob`, the manifest, whose presence
 *                                         alone marks the snapshot finished.
 */
import { join } from 'node:path';
import { formatTime, type GroupRef, type SnapshotRef } from '../core/backup-ref.ts';

export const MANIFEST_NAME = 'index.json.blob';
export const OWNER_NAME = 'owner';
export const NOTES_NAME = 'notes';
export const PROTECTED_NAME = '.protected';
export const LOCK_NAME = '.lock';
export const GC_STATUS_NAME = '.gc-status';
/** a namespace's record in a content mirror (PBS's S3 `.namespace` object); locally its directory is the record */
export const NAMESPACE_MARKER_NAME = '.namespace';
export const ARCHIVE_RE = /^[^/]+\.(fidx|didx|blob)$/;

export function nsDir(base: string, ns: string): string {
  if (ns === '') return base;
  return join(base, ...ns.split('/').flatMap((c) => ['ns', c]));
}

export function groupDir(base: string, g: GroupRef): string {
  return join(nsDir(base, g.ns), g.type, g.id);
}

export function snapshotDir(base: string, s: SnapshotRef): string {
  return join(groupDir(base, s), formatTime(s.time));
}
