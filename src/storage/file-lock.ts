/**
 * flock(2) locks, called through koffi (node:fs has none). A lock belongs to an open file
 * description, so two opens in the same process conflict just as two processes do; that makes one
 * primitive serve both in-process and cross-process exclusion (config writers, group and snapshot
 * locks, GC against GC). Locks vanish when the process dies, so a crash never leaves one behind.
 *
 * `tryLock` never blocks. `lock` waits on koffi's worker thread, so the event loop keeps running.
 *
 * Two kinds of target (`LockTarget`):
 * - `file`: a lock file, created when missing (config writers, GC's `.gc.lck`).
 * - `directory`: an existing directory that *is* the locked object (a backup group or snapshot).
 *   It is opened with O_DIRECTORY and never created: a lock must not put anything at the path of
 *   the object it locks. (It once fell back to O_CREAT when the path was not a directory, so a
 *   snapshot lock taken while a concurrent prune removed the snapshot left an empty regular file in
 *   its place, and every later readdir of the group failed with ENOTDIR.) A directory removed —
 *   or removed and made anew — between the open and the flock is caught by comparing the locked
 *   descriptor's inode with the path's after the flock: the lock then fails NOT_FOUND. Holding
 *   the lock therefore means the path named that very directory at a moment the lock was held.
 *   Directory locks rather than lock files in a separate directory (PBS's choice since its locks
 *   moved to a tmpfs) because they leave nothing behind to clean up and no second namespace that
 *   must stay in step with the datastore's own.
 */
import { promises as fsp, constants as fsc } from 'node:fs';
import koffi from 'koffi';
import { fail, type HoldfastError } from '../core/errors.ts';
import { mapErrno } from './node-fs.ts';

const libc = koffi.load('libc.so.6');
const flockFn = libc.func('int flock(int fd, int operation)');
const LOCK_SH = 1;
const LOCK_EX = 2;
const LOCK_NB = 4;
const EWOULDBLOCK = 11;

export type LockKind = 'shared' | 'exclusive';

export interface HeldLock {
  readonly path: string;
  readonly kind: LockKind;
  release(): Promise<void>;
}

export type LockTarget = 'file' | 'directory';

function vanished(what: string, path: string): HoldfastError {
  return fail('NOT_FOUND', `${what} does not exist (it may have been removed by a concurrent prune or forget)`, { path });
}

async function openForLock(path: string, target: LockTarget, what: string): Promise<fsp.FileHandle> {
  try {
    if (target === 'directory') return await fsp.open(path, fsc.O_RDONLY | fsc.O_DIRECTORY | fsc.O_NOFOLLOW);
    return await fsp.open(path, fsc.O_RDWR | fsc.O_CREAT, 0o644);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // ENOTDIR/ELOOP: something that is not a directory stands at the path; it is not the object.
    if (target === 'directory' && (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP')) throw vanished(what, path);
    throw mapErrno(e, 'open', path);
  }
}

/** After the flock: does `path` still name the directory whose descriptor we locked? */
async function stillThere(h: fsp.FileHandle, path: string): Promise<boolean> {
  const [mine, now] = await Promise.all([h.stat(), fsp.lstat(path).catch(() => undefined)]);
  return now !== undefined && now.ino === mine.ino && now.dev === mine.dev;
}

/** A held lock whose `release` runs `drop` once, however often it is called. */
export function heldLock(path: string, kind: LockKind, drop: () => Promise<void> | void): HeldLock {
  let released = false;
  return {
    path,
    kind,
    release: async () => {
      if (released) return;
      released = true;
      await drop();
    },
  };
}

function held(h: fsp.FileHandle, path: string, kind: LockKind): HeldLock {
  return heldLock(path, kind, () => h.close()); // closing the descriptor drops the flock
}

/**
 * Takes the lock or throws LOCKED at once. `what` names the locked object in the error. A
 * `directory` target that is missing, or vanishes before the lock is held, throws NOT_FOUND.
 */
export async function tryLock(path: string, kind: LockKind, what: string, target: LockTarget = 'file'): Promise<HeldLock> {
  return lockOpened(await openForLock(path, target, what), path, kind, what, target);
}

/**
 * The second half of `tryLock`: flock an opened descriptor and, for a directory, check it is still
 * the one at `path`. Exported so a test can drive the open-to-flock window deterministically.
 */
export async function lockOpened(h: fsp.FileHandle, path: string, kind: LockKind, what: string, target: LockTarget): Promise<HeldLock> {
  const rc = flockFn(h.fd, (kind === 'shared' ? LOCK_SH : LOCK_EX) | LOCK_NB) as number;
  if (rc !== 0) {
    const errno = koffi.errno();
    await h.close();
    if (errno === EWOULDBLOCK) throw fail('LOCKED', `${what} is locked by another operation`, { path, kind });
    throw fail('IO_ERROR', `flock ${path} failed with errno ${errno}`, { path, errno });
  }
  if (target === 'directory' && !(await stillThere(h, path).catch(() => false))) {
    await h.close();
    throw vanished(what, path);
  }
  return held(h, path, kind);
}

/** Waits for the lock without blocking the event loop. */
export async function lock(path: string, kind: LockKind): Promise<HeldLock> {
  const h = await openForLock(path, 'file', path);
  const rc = await new Promise<number>((resolve, reject) => {
    flockFn.async(h.fd, kind === 'shared' ? LOCK_SH : LOCK_EX, (err: unknown, r: number) => {
      if (err) reject(err instanceof Error ? err : new Error('flock call failed'));
      else resolve(r);
    });
  });
  if (rc !== 0) {
    await h.close();
    throw fail('IO_ERROR', `flock ${path} failed`, { path });
  }
  return held(h, path, kind);
}

/** Runs `fn` under an exclusive lock on `path`, releasing it however `fn` ends. */
export async function withLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const l = await lock(path, 'exclusive');
  try {
    return await fn();
  } finally {
    await l.release();
  }
}
