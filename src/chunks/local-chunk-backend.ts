/**
 * LocalChunkBackend: the ChunkBackend port on a local filesystem (the `Fs` port), in PBS's layout:
 * `<base>/.chunks/XXXX/<64 hex digest>`, the 65536 prefix dirs `0000`..`ffff` made by `init`;
 * `<digest>.<n>.bad` for quarantined copies; `<name>.tmp_<rand>` for in-flight puts (leftovers
 * after a crash are listed as `temp` and swept by GC). The layout is private to this module and
 * chunk-path.ts: a chunk's key is its digest; a `.bad` or temp entry's key is `XXXX/<name>`.
 *
 * Invariants:
 * - A chunk appears under its final name only by rename of a fully written temp file
 *   (atomicWrite); with `durable` the file is fsynced before the rename and its prefix dir after.
 *   Chunk files are written and read with O_DIRECT where the filesystem allows it (the port's
 *   'wx-direct' and `readFile(…, { direct })`), which changes what is cached, never what is durable.
 * - A mark is the file's atime (utimensat; the atime safety check proves the filesystem keeps
 *   it); a temp entry's `markMs` is its mtime, since nothing marks debris.
 * - `flush()` is one syncfs(2) of the filesystem under `base`: it covers the datastore's
 *   metadata as well (`flushScope: 'filesystem'`).
 */
import { statfs as nodeStatfs } from 'node:fs/promises';
import { join } from 'node:path';
import { fail, isHoldfastError } from '../core/errors.ts';
import { atomicWrite, isTempName } from '../storage/atomic-write.ts';
import type { Fs } from '../storage/fs-port.ts';
import { removeTree } from '../storage/remove-tree.ts';
import type { ChunkBackend, ChunkBackendUsage, ChunkEntry, ChunkEntryKind, ChunkObjectStat, InitProgress, PutOptions } from './chunk-backend.ts';
import { badChunkName, CHUNK_DIR, isBadChunkName, isChunkName, digestOfName, PREFIX_COUNT, prefixDirs, prefixName } from './chunk-path.ts';

/** statfs(2) as far as `usage()` needs it; injectable because the simulator has no statfs. */
export type StatfsFn = (path: string) => Promise<{ readonly blocks: number; readonly bfree: number; readonly bavail: number; readonly bsize: number }>;

export interface LocalChunkBackendDeps {
  readonly fs: Fs;
  /** the datastore's base directory; chunks live in `<base>/.chunks` */
  readonly base: string;
  readonly statfs?: StatfsFn;
}

const MKDIR_PARALLEL = 64;
const READ_AHEAD = 16;
const ENTRY_KEY_RE = /^[0-9a-f]{4}\/((?!\.\.?$)[^/\0]+)$/;

export class LocalChunkBackend implements ChunkBackend {
  readonly flushScope = 'filesystem' as const;
  readonly #fs: Fs;
  readonly #base: string;
  readonly #dir: string;
  readonly #statfs: StatfsFn;

  constructor(deps: LocalChunkBackendDeps) {
    this.#fs = deps.fs;
    this.#base = deps.base;
    this.#dir = join(deps.base, CHUNK_DIR);
    this.#statfs = deps.statfs ?? nodeStatfs;
  }

  get location(): string {
    return this.#base;
  }

  async init(onProgress: InitProgress = () => undefined): Promise<void> {
    if (await this.#fs.stat(this.#dir)) throw fail('ALREADY_EXISTS', `'${this.#base}' already holds a chunk store`, { path: this.#base });
    await this.#fs.mkdir(this.#dir, { mode: 0o750 });
    try {
      await this.#makePrefixDirs(onProgress);
      await this.#fs.fsyncDir(this.#dir);
      await this.#fs.fsyncDir(this.#base);
    } catch (e) {
      await removeTree(this.#fs, this.#dir).catch(() => undefined);
      throw e;
    }
  }

  async open(): Promise<void> {
    if (!(await this.#fs.stat(this.#dir))?.isDirectory) throw fail('NOT_FOUND', `no chunk store at ${this.#base}`, { path: this.#base });
  }

  async put(digest: string, bytes: Uint8Array, options: PutOptions): Promise<void> {
    if (!isChunkName(digest)) throw fail('INVALID_ARGUMENT', `'${digest}' is not a chunk digest`, { value: digest });
    // Around the page cache: chunk data is written once and read rarely (restore, verify), and
    // cached it would evict what is read again (indexes, metadata); see storage/direct-io.ts.
    await atomicWrite(this.#fs, this.#pathOf(digest), bytes, { durable: options.durable, writeback: options.writeback === true, direct: true });
  }

  async get(key: string, into?: Uint8Array): Promise<Uint8Array> {
    // Around the page cache too: a chunk is read once per restore, verify or sync, and on this
    // project's VMs fresh page cache costs more than the read (storage/direct-io.ts).
    return this.#fs.readFile(this.#pathOf(key), into, { direct: true });
  }

  async stat(key: string): Promise<ChunkObjectStat | undefined> {
    const path = this.#pathOf(key);
    const st = await this.#fs.stat(path);
    if (!st) return undefined;
    if (!st.isFile) throw fail('IO_ERROR', `chunk path ${path} exists but is not a regular file`, { path, notObject: true });
    return { size: st.size, markMs: isTempName(key) ? st.mtimeMs : st.atimeMs };
  }

  async mark(key: string, atMs?: number): Promise<boolean> {
    try {
      await this.#fs.touchAtime(this.#pathOf(key), atMs);
      return true;
    } catch (e) {
      if (isHoldfastError(e, 'NOT_FOUND')) return false;
      throw e;
    }
  }

  async remove(key: string): Promise<boolean> {
    try {
      await this.#fs.unlink(this.#pathOf(key));
      return true;
    } catch (e) {
      if (isHoldfastError(e, 'NOT_FOUND')) return false;
      throw e;
    }
  }

  async quarantine(digest: string, options: PutOptions): Promise<string | undefined> {
    const path = this.#pathOf(digest);
    if (!(await this.#fs.stat(path))) return undefined;
    let target = badChunkName(digest, 9);
    for (let n = 0; n < 10; n++) {
      if (!(await this.#fs.stat(this.#pathOf(badKey(digest, n))))) {
        target = badChunkName(digest, n);
        break;
      }
    }
    const key = `${digest.slice(0, 4)}/${target}`;
    await this.#fs.rename(path, this.#pathOf(key));
    if (options.durable) await this.#fs.fsyncDir(join(this.#dir, digest.slice(0, 4)));
    return key;
  }

  async quarantinedCopies(digest: string): Promise<string[]> {
    const keys: string[] = [];
    for (let n = 0; n < 10; n++) {
      const key = badKey(digest, n);
      if (await this.#fs.stat(this.#pathOf(key))) keys.push(key);
    }
    return keys;
  }

  /**
   * Prefix dir by prefix dir in `0000`..`ffff` order; a missing prefix dir is skipped. The next
   * few directories are read ahead while the caller works (a sweep of 65536 dirs is mostly
   * waiting for readdir).
   */
  async *list(): AsyncGenerator<ChunkEntry> {
    const ahead: Promise<Settled<string[]>>[] = [];
    const prefixes = prefixDirs();
    const readNext = (): void => {
      const p = prefixes.next();
      if (!p.done) ahead.push(settle(this.#readdirOrNone(join(this.#dir, p.value))));
    };
    for (let i = 0; i < READ_AHEAD; i++) readNext();
    for (let i = 0; i < PREFIX_COUNT; i++) {
      const read = await ahead.shift()!;
      readNext();
      if ('error' in read) throw read.error;
      yield* this.#entriesOf(prefixName(i), read.value);
    }
  }

  async *#entriesOf(prefix: string, names: readonly string[]): AsyncGenerator<ChunkEntry> {
    for (const name of names) {
      const kind: ChunkEntryKind | undefined = isChunkName(name) ? 'chunk' : isBadChunkName(name) ? 'bad' : isTempName(name) ? 'temp' : undefined;
      if (!kind) continue;
      const key = kind === 'chunk' ? name : `${prefix}/${name}`;
      const st = await this.#fs.stat(join(this.#dir, prefix, name));
      if (!st?.isFile) continue; // gone meanwhile, or not ours to judge
      const markMs = kind === 'temp' ? st.mtimeMs : st.atimeMs;
      yield { key, kind, digest: kind === 'temp' ? undefined : digestOfName(name), size: st.size, markMs };
    }
  }

  async flush(): Promise<void> {
    await this.#fs.syncfs(this.#base);
  }

  async usage(): Promise<ChunkBackendUsage> {
    const st = await this.#statfs(this.#base);
    return { total: st.blocks * st.bsize, used: (st.blocks - st.bfree) * st.bsize, avail: st.bavail * st.bsize };
  }

  /** The file of a key: a digest, or `XXXX/<name>` for `.bad` and temp entries. */
  #pathOf(key: string): string {
    if (isChunkName(key)) return join(this.#dir, key.slice(0, 4), key);
    const m = ENTRY_KEY_RE.exec(key);
    if (m && (isBadChunkName(m[1]!) || isTempName(m[1]!))) return join(this.#dir, key);
    throw fail('INVALID_ARGUMENT', `'${key}' is not a chunk-store key`, { value: key });
  }

  async #readdirOrNone(dir: string): Promise<string[]> {
    try {
      return await this.#fs.readdir(dir);
    } catch (e) {
      if (isHoldfastError(e, 'NOT_FOUND')) return [];
      throw e;
    }
  }

  async #makePrefixDirs(onProgress: InitProgress): Promise<void> {
    let next = 0;
    let done = 0;
    let lastPct = -1;
    const worker = async (): Promise<void> => {
      while (next < PREFIX_COUNT) {
        const i = next++;
        await this.#fs.mkdir(join(this.#dir, prefixName(i)), { mode: 0o750 });
        done++;
        const pct = Math.floor((done * 100) / PREFIX_COUNT);
        if (pct !== lastPct) {
          lastPct = pct;
          onProgress(done, PREFIX_COUNT);
        }
      }
    };
    await Promise.all(Array.from({ length: MKDIR_PARALLEL }, worker));
  }
}

type Settled<T> = { readonly value: T } | { readonly error: unknown };

/** A promise that never rejects, so a read-ahead the caller never reaches cannot go unhandled. */
function settle<T>(p: Promise<T>): Promise<Settled<T>> {
  return p.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
}

function badKey(digest: string, n: number): string {
  return `${digest.slice(0, 4)}/${badChunkName(digest, n)}`;
}
