/**
 * The `Locker` port: named, non-blocking shared/exclusive locks for groups, snapshots and GC.
 * `FlockLocker` locks real paths with flock(2) (so they also exclude other processes and vanish
 * when a process dies); `MemoryLocker` serves the power-loss simulator, where there is no kernel.
 *
 * Contract, for every adapter:
 * - `lockDir` and `lockFile` either return a held lock or throw at once: LOCKED when a conflicting
 *   lock is held; a shared lock excludes exclusive ones and vice versa; release is idempotent.
 * - `lockDir` locks an existing directory that is the object itself (a group or a snapshot). It
 *   never creates anything, and throws NOT_FOUND when the directory is missing or is removed
 *   before the lock is held — so an operation racing a prune or forget fails with a clear code
 *   instead of leaving debris where the object was.
 * - `lockFile` locks a lock file, creating it when missing (GC's `.gc.lck`).
 */
import { fail } from '../core/errors.ts';
import { heldLock, tryLock, type HeldLock, type LockKind } from './file-lock.ts';
import type { Fs } from './fs-port.ts';

export type { HeldLock, LockKind };

export interface Locker {
  lockDir(path: string, kind: LockKind, what: string): Promise<HeldLock>;
  lockFile(path: string, kind: LockKind, what: string): Promise<HeldLock>;
}

export class FlockLocker implements Locker {
  lockDir(path: string, kind: LockKind, what: string): Promise<HeldLock> {
    return tryLock(path, kind, what, 'directory');
  }

  lockFile(path: string, kind: LockKind, what: string): Promise<HeldLock> {
    return tryLock(path, kind, what, 'file');
  }
}

/** Locks kept in a map; directory locks ask the (simulated) filesystem whether the object exists. */
export class MemoryLocker implements Locker {
  readonly #held = new Map<string, { kind: LockKind; count: number }>();
  readonly #fs: Fs;

  constructor(fs: Fs) {
    this.#fs = fs;
  }

  async lockDir(path: string, kind: LockKind, what: string): Promise<HeldLock> {
    if (!(await this.#fs.stat(path))?.isDirectory) {
      throw fail('NOT_FOUND', `${what} does not exist (it may have been removed by a concurrent prune or forget)`, { path });
    }
    return this.#take(path, kind, what);
  }

  async lockFile(path: string, kind: LockKind, what: string): Promise<HeldLock> {
    return this.#take(path, kind, what);
  }

  #take(path: string, kind: LockKind, what: string): HeldLock {
    const cur = this.#held.get(path);
    if (cur && (cur.kind === 'exclusive' || kind === 'exclusive')) {
      throw fail('LOCKED', `${what} is locked by another operation`, { path, kind });
    }
    if (cur) cur.count++;
    else this.#held.set(path, { kind, count: 1 });
    return heldLock(path, kind, () => {
      const c = this.#held.get(path);
      if (c && --c.count === 0) this.#held.delete(path);
    });
  }
}
