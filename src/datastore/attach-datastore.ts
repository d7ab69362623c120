/**
 * Re-attaching an existing datastore (`datastore create … --reuse-datastore`): the directory (or,
 * for a remote backend, the bucket prefix) already holds a store, and the config entry is made
 * anew. Nothing of the store is changed or removed, also when the attach fails.
 *
 * A backend with a content mirror (an object store) is attached from an empty or stale cache: the
 * whole metadata tree is pulled into the cache directory first, each file written atomically, and
 * made durable by one syncfs, so the new server lists and restores every snapshot the bucket holds,
 * and lists every namespace (an empty one is only its `.namespace` record there: its directory is made).
 * Snapshots whose manifest never reached the mirror come back unfinished and are cleaned up as
 * any crash leftover.
 */
import { basename, dirname, join } from 'node:path';
import { fail } from '../core/errors.ts';
import type { ChunkBackend } from '../chunks/chunk-backend.ts';
import type { ContentMirror } from '../chunks/content-mirror.ts';
import { atomicWrite } from '../storage/atomic-write.ts';
import type { Fs } from '../storage/fs-port.ts';
import { GC_STATUS_NAME, LOCK_NAME, NAMESPACE_MARKER_NAME } from './layout.ts';

/** Opens the existing store and pulls its metadata; resolves how many files were pulled. */
export async function attachDatastore(fs: Fs, base: string, backend: ChunkBackend, mirror: ContentMirror): Promise<number> {
  if (mirror.active) await fs.mkdir(base, { recursive: true, mode: 0o755 });
  else if (!(await fs.stat(base))?.isDirectory) throw fail('NOT_FOUND', `no datastore to reuse at ${base}`, { path: base });
  await backend.open();
  if ((await fs.stat(join(base, LOCK_NAME))) === undefined) await atomicWrite(fs, join(base, LOCK_NAME), new Uint8Array(0), { durable: true, perm: 0o644 });
  if (!mirror.active) return 0;
  const made = new Set<string>();
  let pulled = 0;
  for await (const f of mirror.pull()) {
    const top = f.path.split('/')[0] ?? '';
    if (top.startsWith('.') && top !== GC_STATUS_NAME) continue; // the store's own files and caches are never pulled
    const path = join(base, ...f.path.split('/'));
    const dir = dirname(path);
    if (!made.has(dir)) {
      await fs.mkdir(dir, { recursive: true, mode: 0o755 });
      made.add(dir);
    }
    // a namespace's record is its directory here, made just above
    if (basename(path) !== NAMESPACE_MARKER_NAME) await atomicWrite(fs, path, f.bytes, { durable: false });
    pulled++;
  }
  await fs.syncfs(base);
  return pulled;
}
