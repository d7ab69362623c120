/**
 * PendingLog: the simulator's durable image plus the micro-ops that are not durable yet, in
 * program order (crash-model.md §2.6). A sync moves the ops in its scope into the durable image;
 * a failed sync drops them instead.
 *
 * Failed syncs follow Linux since "fsyncgate": after fsync reports EIO the kernel marks the dirty
 * pages clean, so the data is lost for good, a later fsync returns 0 and the page cache (our
 * volatile view) still shows the data until it is evicted. Here the ops in the failed sync's scope
 * leave the log without reaching the durable image, and no later sync can bring them back.
 * (Linux writes a lost page again if a later write dirties it; here only the later write's own
 * bytes become durable, the stricter outcome.) A failed fsyncDir or syncfs drops its scope too.
 */
import { applyOp, isEntryOp, isInodeOpOf, type PendingOp } from './pending-ops.ts';
import type { Image } from './sim-image.ts';

/** What a sync covers: one file's data and size, one directory's entries, or everything. */
export type SyncScope =
  | { readonly kind: 'file'; readonly ino: number }
  | { readonly kind: 'dir'; readonly ino: number }
  | { readonly kind: 'all' };

/** The durable image and pending ops at one moment; both are immutable from here on. */
export interface DurableSnapshot {
  readonly durable: Image;
  readonly pending: readonly PendingOp[];
}

function inScope(op: PendingOp, scope: SyncScope): boolean {
  switch (scope.kind) {
    case 'all':
      return true;
    case 'file':
      return isInodeOpOf(op, scope.ino);
    case 'dir':
      return isEntryOp(op) && op.dir.ino === scope.ino;
  }
}

export class PendingLog {
  readonly #durable: Image;
  #ops: PendingOp[] = [];
  #nextId = 1;

  constructor(durable: Image) {
    this.#durable = durable;
  }

  get size(): number {
    return this.#ops.length;
  }

  /** The id the next recorded op must carry. */
  nextId(): number {
    return this.#nextId++;
  }

  record(op: PendingOp): void {
    this.#ops.push(op);
  }

  /** Makes the ops in scope durable, in program order. Returns how many there were. */
  persist(scope: SyncScope): number {
    return this.#take(scope, (op) => applyOp(this.#durable, op));
  }

  /** Drops the ops in scope without making them durable (a failed sync). Returns how many. */
  lose(scope: SyncScope): number {
    return this.#take(scope, () => undefined);
  }

  #take(scope: SyncScope, use: (op: PendingOp) => void): number {
    const kept: PendingOp[] = [];
    let taken = 0;
    for (const op of this.#ops) {
      if (inScope(op, scope)) {
        use(op);
        taken++;
      } else {
        kept.push(op);
      }
    }
    this.#ops = kept;
    return taken;
  }

  /** O(pending) copy; the durable image is forked, so later syncs do not change the snapshot. */
  snapshot(): DurableSnapshot {
    return { durable: this.#durable.fork(), pending: this.#ops.slice() };
  }
}
