/**
 * KeyedMutex: serialises async critical sections per key (a chunk digest, a path) inside one
 * process. Insert, touch, GC sweep and the verify rename of the same chunk must not interleave;
 * different chunks proceed in parallel. Entries are dropped when their queue drains.
 */
export class KeyedMutex {
  readonly #tails = new Map<string, Promise<void>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = prev.then(() => mine);
    this.#tails.set(key, tail);
    await prev;
    try {
      return await fn();
    } finally {
      release();
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }
}
