/**
 * The "previous" snapshot of a backup: the newest finished snapshot of the group whose manifest
 * does not record a failed verification. A failed one is skipped on purpose, so the client
 * re-uploads every chunk and the next snapshot heals what verify quarantined. A manifest that
 * cannot be read counts as not usable either (beyond upstream, which would fail the backup), and
 * so does, after an unclean shutdown, a snapshot with a missing or broken chunk.
 */
import type { GroupRef, SnapshotRef } from '../core/backup-ref.ts';
import type { Datastore } from './datastore.ts';
import type { ManifestFile } from '../format/manifest.ts';
import { chunkDigestsOf } from './index-files.ts';
import { isHoldfastError } from '../core/errors.ts';

export async function findPrevious(store: Datastore, g: GroupRef): Promise<SnapshotRef | undefined> {
  const finished = (await store.listSnapshots(g)).filter((s) => s.finished);
  // Newest first; one removed by a concurrent prune since the listing is passed over.
  for (const newest of finished.reverse()) {
    let m;
    try {
      m = await store.readManifest(newest.ref);
    } catch (e) {
      if (isHoldfastError(e, 'NOT_FOUND')) continue;
      store.log.warn(`manifest of ${store.show(newest.ref)} is unreadable; not using it as the previous snapshot`);
      return undefined;
    }
    const vs = m.unprotected['verify_state'];
    if (typeof vs === 'object' && vs !== null && (vs as { state?: unknown }).state === 'failed') return undefined;
    if (store.uncleanShutdown && !(await isIntact(store, newest.ref, m.files).catch(() => false))) return undefined;
    return newest.ref;
  }
  return undefined;
}

/**
 * After an unclean shutdown a snapshot may reference chunks that never reached the disk. Before a
 * backup reuses it as its base (so the client skips uploading those chunks), every chunk it
 * references must exist and pass its CRC; otherwise it is not used and the client re-uploads.
 * Each snapshot is checked once per process.
 */
async function isIntact(store: Datastore, ref: SnapshotRef, files: readonly ManifestFile[]): Promise<boolean> {
  const key = store.show(ref);
  if (store.trusted.has(key)) return true;
  for (const f of files) {
    if (!f.filename.endsWith('.fidx') && !f.filename.endsWith('.didx')) continue;
    for (const digest of await chunkDigestsOf(store, ref, f.filename)) {
      if ((await store.chunks.state(digest)) !== 'intact') {
        store.log.warn(`snapshot ${key} references a missing or broken chunk ${digest} after an unclean shutdown; not using it as the previous snapshot`);
        return false;
      }
    }
  }
  store.trusted.add(key);
  return true;
}
