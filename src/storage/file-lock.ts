/**
 * flock(2) locks, called through koffi (node:fs has none). A lock belongs to an open file
 * description, so two opens in the same process conflict just as two processes do; that makes one
 * primitive serve both in-process and cross-process exclusion (config writers, group and snapshot
 * locks, GC against GC). Locks vanish when the process dies, so a crash never leaves one behind.
 *
 * `tryLock` never blocks. `lock` waits on koffi's worker thread, so the event loop keeps running.
 */
import { promises as fsp, constants as fsc } from 'node:fs';
import koffi from 'koffi';
import { fail } from '../core/errors.ts';
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

async function openForLock(path: string, create: boolean): Promise<fsp.FileHandle> {
  try {
    const st = await fsp.stat(path).catch(() => undefined);
    if (st?.isDirectory()) return await fsp.open(path, fsc.O_RDONLY | fsc.O_DIRECTORY);
    return await fsp.open(path, create ? fsc.O_RDWR | fsc.O_CREAT : fsc.O_RDWR, 0o644);
  } catch (e) {
    throw mapErrno(e, 'open', path);
  }
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

/** Takes the lock or throws LOCKED at once. `what` names the locked object in the error. */
export async function tryLock(path: string, kind: LockKind, what: string, create = true): Promise<HeldLock> {
  const h = await openForLock(path, create);
  const rc = flockFn(h.fd, (kind === 'shared' ? LOCK_SH : LOCK_EX) | LOCK_NB) as number;
  if (rc !== 0) {
    const errno = koffi.errno();
    await h.close();
    if (errno === EWOULDBLOCK) throw fail('LOCKED', `${what} is locked by another operation`, { path, kind });
    throw fail('IO_ERROR', `flock ${path} failed with errno ${errno}`, { path, errno });
  }
  return held(h, path, kind);
}

/** Waits for the lock without blocking the event loop. */
export async function lock(path: string, kind: LockKind, create = true): Promise<HeldLock> {
  const h = await openForLock(path, create);
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
