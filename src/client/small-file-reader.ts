/**
 * Reads a small regular file whole in one thread-pool task, through the native addon's
 * `readfile` (native/buzhash.c): open (O_RDONLY | O_NOFOLLOW), read until the buffer is full or
 * the file ends, close. The walker's read-ahead (pxar-prefetch.ts) uses it for the small files it
 * reads whole; node:fs took three round trips through the thread pool (open, read, close) and a
 * FileHandle per file, which set the pace of a backup of small files (see small-file-writer.ts
 * for the restore side). Failures come back as node:fs errors do (an Error with `code` and
 * `syscall`), so the walker classifies them the same way. Without the addon
 * `smallFileReader()` is undefined and the read-ahead uses node:fs. `smallFileReaderNow` reads a
 * file that is in the page cache at once instead, without the pool (`readfilenow`).
 */
import { nativeFunction } from '../core/native-addon.ts';
import { errnoName } from './pxar-native.ts';

type ReadFile = (path: Uint8Array, dest: Uint8Array) => Promise<number>;

const STEPS = ['', 'open', 'read', 'close'] as const;
const NUL = Buffer.alloc(1);

/** Reads up to `size` bytes of the file at `abs`: its data (shorter when the file shrank), or the error. */
export type SmallFileReader = (abs: Buffer, size: number) => Promise<{ readonly data: Buffer } | { readonly error: Error }>;

export function smallFileReader(): SmallFileReader | undefined {
  const readfile = nativeFunction<ReadFile>('readfile');
  if (readfile === undefined) return undefined;
  return async (abs, size) => {
    const data = Buffer.allocUnsafe(size);
    return outcome(await readfile(Buffer.concat([abs, NUL]), data), data, abs);
  };
}

/** readfilenow's answer when the read would have waited for the disk (native/buzhash.c). */
const NOT_CACHED = -((4 << 16) | 11); // EAGAIN

/**
 * The same read done at once on the calling thread, from the page cache only (native/buzhash.c
 * `readfilenow`): undefined when a byte was not cached (or the path is no longer a regular file),
 * and the caller reads through `smallFileReader` instead. Never blocks on the disk: a cached
 * small file costs a few µs this way, against a thread-pool task, a wake-up and a promise.
 */
export type SmallFileReaderNow = (abs: Buffer, size: number) => { readonly data: Buffer } | { readonly error: Error } | undefined;

export function smallFileReaderNow(): SmallFileReaderNow | undefined {
  const readfilenow = nativeFunction<(path: Uint8Array, dest: Uint8Array) => number>('readfilenow');
  if (readfilenow === undefined) return undefined;
  return (abs, size) => {
    const data = Buffer.allocUnsafe(size);
    const rc = readfilenow(Buffer.concat([abs, NUL]), data);
    return rc === NOT_CACHED ? undefined : outcome(rc, data, abs);
  };
}

function outcome(rc: number, data: Buffer, abs: Buffer): { readonly data: Buffer } | { readonly error: Error } {
  if (rc >= 0) return { data: data.subarray(0, rc) };
  const syscall = STEPS[Math.floor(-rc / 65536)] ?? 'open';
  const code = errnoName(-(-rc % 65536));
  return { error: Object.assign(new Error(`${code}: ${syscall} '${abs.toString()}'`), { code, syscall, path: abs.toString() }) };
}
