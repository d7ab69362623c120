/**
 * The atime safety check (PBS `gc-atime-safety-check`, §8.1): GC's sweep deletes chunks whose
 * atime is old, so on a filesystem that silently drops explicit atime updates (some FUSE and
 * network mounts) it would delete live chunks. Before GC, and when a datastore is created, we
 * prove the filesystem stores explicit atime updates on a real chunk (the all-zero 4 MiB chunk).
 *
 * Unlike upstream this needs no one-second sleep: we first set the atime to a fixed old value and
 * read it back, then touch it to now and read again. A filesystem that drops explicit updates
 * fails the first step; one with coarse timestamps still passes the second. `noatime`/`relatime`
 * do not matter: they govern implicit atime updates on read, not utimensat.
 */
import { fail } from '../core/errors.ts';
import { sha256, toHex } from '../core/digest.ts';
import { encodeBlob } from '../format/blob.ts';
import type { ChunkStore } from './chunk-store.ts';
import type { Fs } from '../storage/fs-port.ts';

const ZERO_CHUNK_SIZE = 4 * 1024 * 1024;
const OLD_ATIME_MS = 1_000_000_000_000; // 2001-09-09

export async function checkAtimeSupport(fs: Fs, store: ChunkStore): Promise<void> {
  const zero = new Uint8Array(ZERO_CHUNK_SIZE);
  const digest = toHex(sha256(zero));
  await store.insert(digest, encodeBlob(zero, { compress: true }));
  const path = store.pathOf(digest);
  await fs.touchAtime(path, OLD_ATIME_MS);
  const old = await fs.stat(path);
  await fs.touchAtime(path);
  const now = await fs.stat(path);
  if (!old || !now || Math.abs(old.atimeMs - OLD_ATIME_MS) > 1000 || now.atimeMs <= old.atimeMs) {
    throw fail('ATIME_UNSUPPORTED', `the filesystem of ${store.base} does not store explicit atime updates; garbage collection would delete live chunks (set gc-atime-safety-check=false only if you know better)`, {
      path,
      set: OLD_ATIME_MS,
      read: old?.atimeMs,
    });
  }
}
