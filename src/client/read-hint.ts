/**
 * Read-ahead hints for files the pxar walker is about to read: `hintWillRead(path, size)` opens
 * the file, asks the kernel to start reading its first bytes into the page cache
 * (posix_fadvise WILLNEED through the native addon, native/buzhash.c), and closes it again.
 *
 * Why: the walker reads one file at a time, with one 4 MiB piece in flight. With a cold page cache
 * every file then starts with a wait for the disk while both cores idle: measured on the 1 GiB
 * daily tree, a first backup from a cold cache took 0.6 s (11%) longer than from a warm one
 * (docs/benchmarks.md). The prefetcher (pxar-prefetch.ts) already runs a window of children
 * ahead; it hints the large files among them, so their reads are under way while earlier files
 * are chunked.
 *
 * Invariants: a hint changes only what is in the page cache, never what is read or archived; it
 * never fails (a file that cannot be opened now is reported when the walker opens it), and without
 * the addon it does nothing. At most HINT_BYTES of a file are hinted: the walker's own reads keep
 * the rest of a large file coming.
 */
import { constants as fsc, promises as fsp } from 'node:fs';
import { nativeFunction } from '../core/native-addon.ts';

/** The first bytes of a file worth asking for: two of the walker's 4 MiB reads. */
export const HINT_BYTES = 8 * 1024 * 1024;

type WillNeedFn = (fd: number, offset: number, length: number) => number;

const willNeed = nativeFunction<WillNeedFn>('willneed');

/** Whether hints do anything here (tests). */
export const readHintsAvailable = willNeed !== undefined;

/** Starts the kernel reading the first bytes of `path` (`size` bytes long); resolves when asked. */
export async function hintWillRead(path: Buffer | string, size: number): Promise<void> {
  if (willNeed === undefined || size <= 0) return;
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(path, fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_NONBLOCK);
  } catch {
    return; // vanished, no permission, a FIFO that slipped in: the walker sees it itself
  }
  try {
    willNeed(handle.fd, 0, Math.min(size, HINT_BYTES));
  } finally {
    await handle.close().catch(() => undefined);
  }
}
