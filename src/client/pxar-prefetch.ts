/**
 * Read-ahead for the pxar walker. Encoding is strictly sequential, but each child costs several
 * thread-pool round trips (lstat, open, read, close); done one after another they leave the
 * process mostly idle on trees of small files. This runs the lstat of the next `window`
 * children concurrently and, for small single-link regular files, reads their whole content
 * too (except those `skipContent` marks: change detection will not read them), so memory stays bounded by window × smallLimit. Results never reject: errors are
 * returned as values for the walker to classify (vanished, permission denied, fatal).
 */
import { constants as fsc, promises as fsp, type BigIntStats } from 'node:fs';

export interface SmallContent {
  /** At most the lstat size; shorter when the file shrank in between. */
  readonly data?: Buffer;
  readonly error?: unknown;
}

export interface Prefetched {
  readonly name: Buffer;
  readonly abs: Buffer;
  readonly st?: BigIntStats;
  readonly error?: unknown;
  readonly small?: SmallContent;
}

export interface PrefetchOptions {
  readonly window: number;
  readonly smallLimit: number;
  /** True for a file whose content will likely not be read (change detection reuses it). */
  readonly skipContent?: (name: Buffer, st: BigIntStats) => boolean;
}

const SLASH = Buffer.from('/');

/** The children `names` of `dir` in order, each with its lstat (and small content) fetched ahead. */
export async function* prefetchChildren(dir: Buffer, names: readonly Buffer[], opts: PrefetchOptions): AsyncGenerator<Prefetched> {
  const pending: Promise<Prefetched>[] = [];
  let next = 0;
  while (next < names.length || pending.length > 0) {
    while (next < names.length && pending.length < opts.window) pending.push(fetchOne(dir, names[next++] as Buffer, opts));
    yield await (pending.shift() as Promise<Prefetched>);
  }
}

async function fetchOne(dir: Buffer, name: Buffer, opts: PrefetchOptions): Promise<Prefetched> {
  const abs = Buffer.concat([dir, SLASH, name]);
  let st: BigIntStats;
  try {
    st = await fsp.lstat(abs, { bigint: true });
  } catch (error) {
    return { name, abs, error };
  }
  if (!st.isFile() || st.nlink !== 1n || st.size > BigInt(opts.smallLimit) || opts.skipContent?.(name, st) === true) return { name, abs, st };
  return { name, abs, st, small: await readSmall(abs, Number(st.size)) };
}

async function readSmall(abs: Buffer, size: number): Promise<SmallContent> {
  try {
    const handle = await fsp.open(abs, fsc.O_RDONLY | fsc.O_NOFOLLOW);
    try {
      const data = Buffer.allocUnsafe(size);
      let got = 0;
      while (got < size) {
        const { bytesRead } = await handle.read(data, got, size - got, null);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return { data: data.subarray(0, got) };
    } finally {
      await handle.close();
    }
  } catch (error) {
    return { error };
  }
}
