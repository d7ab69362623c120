/**
 * DeferredPuts: the chunk PUTs an S3ChunkBackend has started but not yet seen answered, after the
 * put that started them resolved (the port's deferred puts, chunk-backend.ts).
 *
 * Invariants:
 * - At most `limit` are pending; `start` waits for a free slot before it registers a key, so the
 *   bytes held in memory are bounded by `limit` chunks.
 * - A key is pending from `start` until its write settles; in that time `bytesOf` answers for it.
 *   One write per key at a time: callers `settled(key)` before they touch the stored object.
 * - A failed write leaves the pending set and is counted in `failures` in the same step, so no
 *   moment exists at which the key is neither pending nor failed-and-counted; then `undo` drops
 *   its marker, and only then is the key `settled` (a new put of it cannot race the undo).
 * - A write's promise never rejects unobserved: failures are data here, reported by `settle` to
 *   whoever waited for that write, and by the count to everyone else.
 */
import { fail, toHoldfastError, type HoldfastError } from '../core/errors.ts';

interface Pending {
  readonly bytes: Uint8Array;
  /** resolves with the write's failure, or undefined when it was stored; never rejects */
  readonly done: Promise<HoldfastError | undefined>;
}

export class DeferredPuts {
  readonly #limit: number;
  readonly #undo: (key: string) => Promise<void>;
  readonly #pending = new Map<string, Pending>();
  #failures = 0;

  /** `limit` 0 disables deferral (`enabled` false); `undo` runs for the key of a failed write. */
  constructor(limit: number, undo: (key: string) => Promise<void>) {
    if (!Number.isSafeInteger(limit) || limit < 0) throw fail('INVALID_ARGUMENT', `put concurrency ${limit} is not a whole number ≥ 0`, { param: 'put-concurrency', value: limit });
    this.#limit = limit;
    this.#undo = undo;
  }

  get enabled(): boolean {
    return this.#limit > 0;
  }

  /** How many deferred writes failed since this was made. */
  get failures(): number {
    return this.#failures;
  }

  bytesOf(key: string): Uint8Array | undefined {
    return this.#pending.get(key)?.bytes;
  }

  keys(): string[] {
    return [...this.#pending.keys()];
  }

  /** Resolves when no write of `key` is pending (whatever its outcome). */
  async settled(key: string): Promise<void> {
    await this.#pending.get(key)?.done;
  }

  /**
   * Waits for a free slot, then starts `write` for `key` and returns without waiting for it.
   * `bytes` must stay unchanged until the write settles (the caller passes its own copy).
   */
  async start(key: string, bytes: Uint8Array, write: () => Promise<void>): Promise<void> {
    while (this.#pending.size >= this.#limit) await Promise.race([...this.#pending.values()].map((p) => p.done));
    await this.settled(key);
    const done = write().then(
      () => {
        this.#pending.delete(key);
        return undefined;
      },
      async (e: unknown) => {
        this.#pending.delete(key);
        this.#failures++;
        await this.#undo(key).catch(() => undefined); // a stale marker only makes GC keep nothing longer
        return toHoldfastError(e, 'OBJECT_STORE_ERROR');
      },
    );
    this.#pending.set(key, { bytes, done });
  }

  /**
   * Waits for every write pending now; rejects when any of them failed. (A write that failed
   * before is reported by the `failures` count only: a backup it did not concern must not fail.)
   */
  async settle(): Promise<void> {
    const failed = (await Promise.all([...this.#pending.values()].map((p) => p.done))).filter((e) => e !== undefined);
    const first = failed[0];
    if (first === undefined) return;
    throw fail(
      'OBJECT_STORE_ERROR',
      `${failed.length} chunk PUT(s) failed after their upload was answered; the backups that were running then fail (first: ${first.message})`,
      { failed: failed.length, first: first.details },
      first,
    );
  }
}
