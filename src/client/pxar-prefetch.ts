/**
 * Read-ahead for the pxar walker. Encoding is strictly sequential, but each child costs several
 * thread-pool round trips (lstat, open, read, close); done one after another they leave the
 * process mostly idle on trees of small files. This fetches the next `window` children ahead:
 * their lstat and, for small single-link regular files, their whole content (except those
 * `skipContent` marks: change detection will not read them), so memory stays bounded by
 * window × smallLimit. Results never reject: errors are returned as values for the walker to
 * classify (vanished, permission denied, fatal).
 *
 * The lstat is a direct system call while the inodes are cached, and goes to the thread pool
 * (`window` at once) once one is slow. A cached lstat costs ~2 µs on the main thread; through
 * the pool it cost ~20 µs of CPU (a queue lock, a wake-up, a promise) and three times the wall
 * time on 20,000 cached files, which is what an unchanged re-backup of small files spends its
 * time on. Even after the page cache is dropped, ext4 reads inodes a table block at a time and
 * 99% of direct lstats stay under 10 µs. When they are slow all the same (a network filesystem,
 * a busy disk: SLOW_LSTATS of them over SLOW_LSTAT_MS in one directory; one alone may just be
 * the thread being preempted) overlapping them wins, and the rest of the directory uses the pool.
 */
import { constants as fsc, lstatSync, promises as fsp, type BigIntStats } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { smallFileReader, smallFileReaderNow } from './small-file-reader.ts';

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
  /** a regular file over `smallLimit` that will be read (not one `skipContent` marks) */
  readonly large?: true;
}

export interface PrefetchOptions {
  readonly window: number;
  readonly smallLimit: number;
  /** True for a file whose content will likely not be read (change detection reuses it). */
  readonly skipContent?: (name: Buffer, st: BigIntStats) => boolean;
  /** false: every lstat through the thread pool from the start (default: direct until slow). */
  readonly directLstat?: boolean;
  /**
   * Called for the next HINT_FILES regular files too large to read ahead (`large`), as each
   * child is handed out, each file once: pxar-create.ts passes read-hint.ts's `hintWillRead`.
   */
  readonly hintLarge?: (abs: Buffer, size: number) => unknown;
}

const SLASH = Buffer.from('/');
const SLOW_LSTAT_MS = 0.5;
const SLOW_LSTATS = 8;

/** Whether lstat runs on the main thread (until SLOW_LSTATS were slow); one per directory. */
interface StatMode {
  direct: boolean;
  slow: number;
}

/**
 * Large files hinted ahead of the walker: the next two, so the disk has the next file's start on
 * the way, but not so many that hinted reads queue ahead of the current file's own.
 */
const HINT_FILES = 2;

/** The children `names` of `dir` in order, each with its lstat (and small content) fetched ahead. */
export async function* prefetchChildren(dir: Buffer, names: readonly Buffer[], opts: PrefetchOptions): AsyncGenerator<Prefetched> {
  const pending: Promise<Prefetched>[] = [];
  const mode: StatMode = { direct: opts.directLstat !== false, slow: 0 };
  const reads = readMode();
  const hints = opts.hintLarge === undefined ? undefined : new HintCursor(opts.hintLarge);
  let next = 0;
  while (next < names.length || pending.length > 0) {
    while (next < names.length && pending.length < opts.window) {
      const i = next++;
      const p = fetchOne(dir, names[i] as Buffer, opts, mode, reads);
      if (hints !== undefined) void p.then((r) => hints.settled(i, r));
      pending.push(p);
    }
    const child = await (pending.shift() as Promise<Prefetched>);
    hints?.handedOut();
    yield child;
  }
}

/**
 * Which large files to hint: in order, each once, at most HINT_FILES of them among the children
 * not yet handed out. Children settle out of order (a small file's content is still being read
 * when later lstats are done), so the cursor moves on both when a child settles and when one is
 * handed out, and stops at the first child not yet settled.
 */
class HintCursor {
  readonly #hint: (abs: Buffer, size: number) => unknown;
  /** settled children not yet handed out, by index */
  readonly #settled = new Map<number, Prefetched>();
  /** indexes of hinted children not yet handed out */
  readonly #ahead: number[] = [];
  #taken = 0;
  #at = 0;

  constructor(hint: (abs: Buffer, size: number) => unknown) {
    this.#hint = hint;
  }

  settled(i: number, child: Prefetched): void {
    if (i < this.#taken) return; // handed out already
    this.#settled.set(i, child);
    this.#advance();
  }

  handedOut(): void {
    this.#settled.delete(this.#taken);
    this.#taken++;
    while (this.#ahead.length > 0 && (this.#ahead[0] as number) < this.#taken) this.#ahead.shift();
    this.#at = Math.max(this.#at, this.#taken);
    this.#advance();
  }

  #advance(): void {
    while (this.#ahead.length < HINT_FILES) {
      const c = this.#settled.get(this.#at);
      if (c === undefined) return; // not settled yet: considered when it is
      if (c.large === true && c.st !== undefined) {
        this.#hint(c.abs, Number(c.st.size));
        this.#ahead.push(this.#at);
      }
      this.#at++;
    }
  }
}

async function lstatOf(abs: Buffer, mode: StatMode): Promise<BigIntStats> {
  if (!mode.direct) return fsp.lstat(abs, { bigint: true });
  const started = performance.now();
  try {
    return lstatSync(abs, { bigint: true });
  } finally {
    if (performance.now() - started > SLOW_LSTAT_MS && ++mode.slow >= SLOW_LSTATS) mode.direct = false;
  }
}

async function fetchOne(dir: Buffer, name: Buffer, opts: PrefetchOptions, mode: StatMode, reads: ReadMode): Promise<Prefetched> {
  const abs = Buffer.concat([dir, SLASH, name]);
  let st: BigIntStats;
  try {
    st = await lstatOf(abs, mode);
  } catch (error) {
    return { name, abs, error };
  }
  if (!st.isFile() || opts.skipContent?.(name, st) === true) return { name, abs, st };
  if (st.size > BigInt(opts.smallLimit)) return { name, abs, st, large: true };
  if (st.nlink !== 1n) return { name, abs, st };
  return { name, abs, st, small: await readSmall(abs, Number(st.size), reads) };
}

/** One-task reads through the native addon, when it is there (small-file-reader.ts). */
const nativeRead = smallFileReader();
/** Reads from the page cache on the main thread, when the addon has them (small-file-reader.ts). */
const nativeReadNow = smallFileReaderNow();

/**
 * Whether small files are first read at once from the page cache (`readfilenow`), one per
 * directory (or per run of files the split encoder reads after all). Through the thread pool a
 * cached small file cost ~30 µs of CPU (a task, a wake-up, a promise) against ~4 µs at once: a
 * first backup of 200,000 cached files of 0..8 KiB took 13.3 s instead of 7.8 s. A file that is
 * not cached is not waited for: the read says so and goes to the pool; after READ_MISSES such
 * misses (an uncached tree, as after a reboot) the rest go straight to the pool.
 */
export interface ReadMode {
  now: boolean;
  misses: number;
}

const READ_MISSES = 8;

export function readMode(): ReadMode {
  return { now: nativeReadNow !== undefined, misses: 0 };
}

/**
 * Up to `size` bytes of the small file at `abs`, or the error as a value (never a rejection).
 * Also used by the split encoder to read ahead the unchanged files it reads after all.
 */
export async function readSmall(abs: Buffer, size: number, mode?: ReadMode): Promise<SmallContent> {
  if (mode?.now === true && nativeReadNow !== undefined) {
    const now = nativeReadNow(abs, size);
    if (now !== undefined) return now;
    if (++mode.misses >= READ_MISSES) mode.now = false;
  }
  if (nativeRead !== undefined) return nativeRead(abs, size);
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
