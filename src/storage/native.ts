/**
 * The libc calls node lacks, called through koffi: syncfs(2), so that the `filesystem` sync level
 * flushes only the datastore's filesystem instead of sync(2)-ing every mounted one;
 * utimensat(2) with UTIME_OMIT, so that touching a chunk's atime never rewrites its mtime; and
 * malloc_trim(3), so that the server hands freed upload buffers back to the system (glibc keeps
 * freed 4 MiB blocks in its arenas once its mmap threshold has grown past them); and
 * sync_file_range(2), so that chunk data a later syncfs must flush starts on its way to the device
 * at once. syncfs and sync_file_range run on koffi's worker thread so the event loop keeps serving
 * while they wait. (The aligned buffers O_DIRECT needs come from core/aligned-pool.ts.)
 */
import koffi from 'koffi';

const libc = koffi.load('libc.so.6');
koffi.struct('hf_timespec', { tv_sec: 'int64_t', tv_nsec: 'long' });
const syncfsFn = libc.func('int syncfs(int fd)');
const utimensatFn = libc.func('int utimensat(int dirfd, const char *path, hf_timespec *times, int flags)');
const mallocTrimFn = libc.func('int malloc_trim(size_t pad)');
const syncFileRangeFn = libc.func('int sync_file_range(int fd, int64_t offset, int64_t nbytes, unsigned int flags)');
const SYNC_FILE_RANGE_WRITE = 2;
const errnoFn = koffi.errno;

const AT_FDCWD = -100;
const AT_SYMLINK_NOFOLLOW = 0x100;
const UTIME_NOW = (1 << 30) - 1;
const UTIME_OMIT = (1 << 30) - 2;

export class ErrnoError extends Error {
  constructor(
    readonly syscall: string,
    readonly errno: number,
  ) {
    super(`${syscall} failed with errno ${errno}`);
  }
}

/** syncfs(2) on the filesystem containing the open descriptor `fd`. */
export function syncfs(fd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    syncfsFn.async(fd, (err: unknown, rc: number) => {
      if (err) reject(err instanceof Error ? err : new Error('syncfs call failed'));
      else if (rc !== 0) reject(new ErrnoError('syncfs', errnoFn()));
      else resolve();
    });
  });
}

/**
 * sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE): starts writeback of the whole file and returns
 * without waiting for it. On koffi's worker thread: with a full device queue the call may block.
 */
export function startWriteback(fd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    syncFileRangeFn.async(fd, 0, 0, SYNC_FILE_RANGE_WRITE, (err: unknown, rc: number) => {
      if (err) reject(err instanceof Error ? err : new Error('sync_file_range call failed'));
      else if (rc !== 0) reject(new ErrnoError('sync_file_range', errnoFn()));
      else resolve();
    });
  });
}

/** Sets atime to now (or `atimeMs`), leaves mtime untouched, does not follow a final symlink. */
export function touchAtime(path: string, atimeMs?: number): void {
  const times = [
    atimeMs === undefined ? { tv_sec: 0, tv_nsec: UTIME_NOW } : { tv_sec: Math.floor(atimeMs / 1000), tv_nsec: Math.round((atimeMs % 1000) * 1e6) },
    { tv_sec: 0, tv_nsec: UTIME_OMIT },
  ];
  const rc = utimensatFn(AT_FDCWD, path, times, AT_SYMLINK_NOFOLLOW) as number;
  if (rc !== 0) throw new ErrnoError('utimensat', errnoFn());
}

/** Returns the free memory at the top of glibc's arenas, and their free whole pages, to the system. */
export function mallocTrim(): void {
  mallocTrimFn(0);
}
