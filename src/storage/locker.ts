/**
 * The `Locker` port: named, non-blocking shared/exclusive locks for groups, snapshots and GC.
 * `FlockLocker` locks real paths with flock(2) (so they also exclude other processes and vanish
 * when a process dies); `MemoryLocker` serves the power-loss simulator, where there is no kernel.
 *
 * Contract: `tryLock` either returns a held lock or throws LOCKED at once; a shared lock excludes
 * exclusive ones and vice versa; release is idempotent.
 */
import { fail } from '../core/errors.ts';
import { heldLock, tryLock, type HeldLock, type LockKind } from './file-lock.ts';

export type { HeldLock, LockKind };

export interface Locker {
  tryLock(path: string, kind: LockKind, what: string): Promise<HeldLock>;
}

export class FlockLocker implements Locker {
  tryLock(path: string, kind: LockKind, what: string): Promise<HeldLock> {
    return tryLock(path, kind, what);
  }
}

export class MemoryLocker implements Locker {
  readonly #held = new Map<string, { kind: LockKind; count: number }>();

  async tryLock(path: string, kind: LockKind, what: string): Promise<HeldLock> {
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
