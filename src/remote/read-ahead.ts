/**
 * fetchInOrder: fetches a list of items (chunks) with several requests outstanding and yields
 * the answers in list order, as restore and a pull sync need them. How many are outstanding
 * follows a `ReadAhead` (link-target.ts): more are requested while fewer than `bytes` are
 * outstanding (by the items' sizes) and fewer than `maxChunks` requests; at least `minChunks`.
 *
 * Invariants: answers come out in item order; at most `maxChunks` fetches run at once, and the
 * outstanding bytes exceed `bytes` by at most one item unless `minChunks` asks for more; a failed
 * fetch rejects the generator when its turn comes (later fetches are left to settle unobserved,
 * never as unhandled rejections).
 */
import type { ReadAhead } from './link-target.ts';

export async function* fetchInOrder<T extends { readonly size: number }, R>(items: readonly T[], fetch: (item: T) => Promise<R>, ahead: ReadAhead): AsyncGenerator<R> {
  const queue: { readonly size: number; readonly answer: Promise<R> }[] = [];
  let outstanding = 0;
  let next = 0;
  const wantMore = (): boolean => {
    if (next >= items.length || queue.length >= ahead.maxChunks) return false;
    return queue.length < ahead.minChunks || outstanding < ahead.bytes;
  };
  while (next < items.length || queue.length > 0) {
    while (wantMore()) {
      const item = items[next++]!;
      const answer = fetch(item);
      answer.catch(() => undefined); // observed when its turn comes
      queue.push({ size: item.size, answer });
      outstanding += item.size;
    }
    const head = queue.shift()!;
    const value = await head.answer;
    outstanding -= head.size;
    yield value;
  }
}
