/**
 * Restores a small regular file in one thread-pool task, through the native addon's `writefile`
 * (native/buzhash.c): create (O_EXCL, O_NOFOLLOW), write with whole zero 4 KiB blocks left as
 * holes, owner, mode, mtime, close.
 *
 * Why: restoring a file through node:fs takes six round trips through the thread pool (open,
 * write, truncate, close, lchown, chmod), each ~10–40 µs of the main thread's CPU to hand over
 * and take back; on a tree of small files that, not the disk, set the pace (20,000 files of
 * 0..8 KiB restored in 4.4 s, 2.1× restic; docs/benchmarks.md).
 *
 * Only for files with nothing more to apply: no xattrs, ACLs or fcaps (`isPlainFile`); the
 * extractor (pxar-extract.ts) takes the general path for the others. The result is the general
 * path's: the same bytes and holes, owner (or the same 'owner-skipped' warning on EPERM), mode
 * after owner (chown clears set-id bits), mtime last, atime untouched. Without the addon
 * `smallFileWriter()` is undefined and every file takes the general path.
 */
import { nativeFunction } from '../core/native-addon.ts';
import { EMPTY_ACL, type PxarMetadata } from '../format/pxar/metadata.ts';
import { errnoFail, errnoName } from './pxar-native.ts';
import type { HoldfastError } from '../core/errors.ts';

/**
 * Files below this size are gathered in memory and written by one task: every file the general
 * path would write through the page cache anyway (pxar-extract.ts writes larger ones around it,
 * with O_DIRECT). With 64 files in flight that is at most 8 MiB gathered.
 */
export const SMALL_FILE_MAX = 128 * 1024;

type WriteFile = (path: Uint8Array, data: Uint8Array, uid: number, gid: number, mode: number, secs: bigint, nanos: number) => Promise<number>;

/** What failed, by `writefile`'s step number; the op names are the general path's. */
const STEPS = ['', 'open', 'write', 'lchown', 'chmod', 'utimensat', 'close', 'ftruncate'] as const;

export type SmallFileResult =
  | { readonly ok: true; /** the owner was left unset (EPERM) */ readonly ownerSkipped: boolean }
  | { readonly ok: false; readonly error: HoldfastError; /** the file exists (the caller removes it) */ readonly created: boolean };

/** Writes one file; never rejects (a failure is a result). */
export type SmallFileWriter = (abs: Buffer, data: Uint8Array, meta: PxarMetadata, owner: boolean) => Promise<SmallFileResult>;

const NUL = Buffer.alloc(1);

export function smallFileWriter(): SmallFileWriter | undefined {
  const writefile = nativeFunction<WriteFile>('writefile');
  if (writefile === undefined) return undefined;
  return async (abs, data, meta, owner) => {
    const { stat } = meta;
    const rc = await writefile(Buffer.concat([abs, NUL]), data, owner ? stat.uid : -1, owner ? stat.gid : -1, stat.mode & 0o7777, stat.mtime.secs, stat.mtime.nanos);
    if (rc >= 0) return { ok: true, ownerSkipped: (rc & 1) === 1 };
    const step = Math.floor(-rc / 65536);
    return { ok: false, error: errnoFail(STEPS[step] ?? 'open', abs, errnoName(-(-rc % 65536))), created: step > 1 };
  };
}

/** A file with nothing to apply but owner, mode and mtime. */
export function isPlainFile(meta: PxarMetadata): boolean {
  return meta.xattrs.length === 0 && meta.acl === EMPTY_ACL && meta.fcaps === undefined;
}
