/**
 * Reads a small regular file whole in one thread-pool task, through the native addon's
 * `readfile` (native/buzhash.c): open (O_RDONLY | O_NOFOLLOW), read until the buffer is full or
 * the file ends, close. The walker's read-ahead (pxar-prefetch.ts) uses it for the small files it
 * reads whole; node:fs took three round trips through the thread pool (open, read, close) and a
 * FileHandle per file, which set the pace of a backup of small files (see small-file-writer.ts
 * for the restore side). Failures come back as node:fs errors do (an Error with `code` and
 * `syscall`), so the walker classifies them the same way. Without the addon
 * `smallFileReader()` is undefined and the read-ahead uses node:fs.
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
    const rc = await readfile(Buffer.concat([abs, NUL]), data);
    if (rc >= 0) return { data: data.subarray(0, rc) };
    const syscall = STEPS[Math.floor(-rc / 65536)] ?? 'open';
    const code = errnoName(-(-rc % 65536));
    return { error: Object.assign(new Error(`${code}: ${syscall} '${abs.toString()}'`), { code, syscall, path: abs.toString() }) };
  };
}
