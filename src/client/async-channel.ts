/**
 * AsyncChannel: an unbounded single-consumer queue that one producer pushes into and an async
 * iterator drains. Used to hand the metadata stream of a split pxar archive, which the tree
 * walker produces as a side effect of the payload stream, to its own upload. It is unbounded
 * because the metadata stream is small next to the payload that drives it; `end(error)` makes
 * the consumer fail too, so neither side can hang on the other.
 */
export class AsyncChannel<T> implements AsyncIterable<T> {
  #items: T[] = [];
  #ended = false;
  #error: Error | undefined;
  #wake: (() => void) | undefined;

  push(...items: T[]): void {
    if (this.#ended || items.length === 0) return;
    this.#items.push(...items);
    this.#signal();
  }

  end(error?: Error): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    this.#signal();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    for (;;) {
      if (this.#items.length > 0) {
        const items = this.#items;
        this.#items = [];
        yield* items;
        continue;
      }
      if (this.#ended) {
        if (this.#error !== undefined) throw this.#error;
        return;
      }
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }

  #signal(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
