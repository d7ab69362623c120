/**
 * createPxarStream: walks a real directory and yields a v1 unified pxar archive (what Holdfast's
 * client uploads as `NAME.pxar.didx` in change-detection mode legacy) as a stream of buffers for
 * a content-defined chunker. createSplitPxar walks the same way into a SplitEncoder (v2: `.mpxar`
 * and `.ppxar` streams), which may defer unchanged files to reuse their previous payload
 * (pxar-split-encoder.ts); the walker then reads a file only when the encoder declines it.
 *
 * Byte compatibility with the PBS client: children sorted by raw name bytes, metadata from
 * lstat, xattrs filtered like PBS, hardlinks for the second and later names of a regular file
 * with st_nlink > 1 (keyed by st_dev/st_ino), file size fixed by lstat (zero-filled if the file
 * shrinks while read, cut if it grows), and directories on other filesystems encoded as empty
 * directories unless `crossFilesystems` is set. Names are handled as bytes end to end (Buffer
 * paths), so non-UTF-8 names are archived exactly. File contents are read in `readSize` pieces,
 * one piece ahead, into fresh buffers (or two reused ones, `reuseReadBuffer`) that are yielded
 * without copying. Children are stat'ed (and files up to 64 KiB read) 32 ahead (pxar-prefetch.ts),
 * so memory is about 2 × readSize + depth × 2 MiB.
 * Exclusions (`--exclude`, `.pxarexclude`) are decided by exclude-rules.ts through `exclude`.
 * With `--exclude` patterns the archive ends with PBS's `.pxarexclude-cli` record of them.
 * Not done: chattr flags (always 0), quota project ids.
 */
import { constants as fsc, promises as fsp, type BigIntStats } from 'node:fs';
import { resolve } from 'node:path';
import { fail } from '../core/errors.ts';
import type { CatalogWriter } from '../format/pxar/catalog.ts';
import { PxarEncoder } from '../format/pxar/encoder.ts';
import { deviceFromDevT, plainMetadata } from '../format/pxar/metadata.ts';
import { joinPath, pathText } from '../format/pxar/names.ts';
import { AsyncChannel } from './async-channel.ts';
import type { PayloadItem } from './payload-chunks.ts';
import type { PreviousArchive } from './previous-archive.ts';
import { nodeFail } from './pxar-native.ts';
import { SplitEncoder, type FileCandidate, type FileReader, type PxarSink, type SplitStats } from './pxar-split-encoder.ts';
import { hintWillRead } from './read-hint.ts';
import { prefetchChildren, readMode, readSmall, type Prefetched } from './pxar-prefetch.ts';
import { readMetadata, type MetadataOptions } from './pxar-read-meta.ts';
import type { PxarWarningCode, WarningSink } from './pxar-warnings.ts';
import { CLI_EXCLUDE_FILE, cliExcludeRecord, type ExcludeScope } from './exclude-rules.ts';

export interface CreateOptions extends MetadataOptions {
  /** Descend into directories on other filesystems (default false: they become empty). */
  readonly crossFilesystems?: boolean;
  /** Bytes per file read (default 4 MiB). */
  readonly readSize?: number;
  /**
   * Read file data into two reused buffers (one read ahead) instead of a fresh one per read: a
   * yielded piece is then valid only until the next one is pulled, so the consumer must copy it
   * first (`dynamicChunks` does). Saves the garbage of one 4 MiB buffer per read, which the GC collects only after tens
   * of MiB have piled up.
   */
  readonly reuseReadBuffer?: boolean;
  readonly onWarning?: WarningSink;
  /**
   * Receives every archived entry (PBS uploads a catalog with v1 archives). The caller opens the
   * archive's directory (`startDirectory('NAME.pxar.didx')`) before and closes it after.
   */
  readonly catalog?: CatalogWriter;
  /** `--exclude` patterns and `.pxarexclude` files (exclude-rules.ts); default: nothing excluded. */
  readonly exclude?: ExcludeScope;
  /** Devices to descend into besides the root's (`--include-dev`, exclude-rules.ts deviceFilter). */
  readonly descendInto?: (dev: bigint) => boolean;
}

const DEFAULT_READ_SIZE = 4 * 1024 * 1024;
/** Children stat'ed ahead, and files up to this size read ahead (memory ≤ 32 × 64 KiB). */
// hintWillRead: the kernel starts reading the next large files while this one is chunked
const PREFETCH = { window: 32, smallLimit: 64 * 1024, hintLarge: (abs: Buffer, size: number) => void hintWillRead(abs, size) };

/** Yields the pxar (v1) archive of the directory `rootDir`. */
export async function* createPxarStream(rootDir: string, opts: CreateOptions = {}): AsyncGenerator<Uint8Array> {
  const { root, st } = await openRoot(rootDir);
  const encoder = new PxarEncoder(readMetadata(root, st, opts));
  const walker = new TreeWalker<Uint8Array>(encoder, () => encoder.takeArchive(), st.dev, opts);
  yield* walker.directory(root, new Uint8Array(0));
  if (opts.exclude) addCliExcludeRecord(encoder, opts.exclude, opts.catalog);
  encoder.finish();
  yield* encoder.takeArchive();
}

/** PBS's record of `--exclude` patterns: `.pxarexclude-cli`, mode 0600, mtime 0, last at the root. */
function addCliExcludeRecord(encoder: PxarSink, exclude: ExcludeScope, catalog: CatalogWriter | undefined): void {
  const data = cliExcludeRecord(exclude);
  if (data === undefined) return;
  const name = Buffer.from(CLI_EXCLUDE_FILE);
  const stat = { mode: 0o100600, flags: 0n, uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0, mtime: { secs: 0n, nanos: 0 } };
  encoder.beginFile(name, plainMetadata(stat), data.length);
  encoder.writeFileData(data);
  encoder.endFile();
  catalog?.addFile(name, data.length, 0);
}

/** What a directory archive would hold (`holdfast backup --dry-run`): entries by kind, file bytes. */
export interface TreeSurvey {
  files: number;
  directories: number;
  symlinks: number;
  hardlinks: number;
  /** devices, fifos and sockets */
  other: number;
  /** the sum of the regular files' sizes (a hardlink's once) */
  bytes: number;
}

/**
 * Walks `rootDir` as a backup of it would (the same walker: exclusions, `.pxarexclude` files,
 * filesystem boundaries, hardlinks, skipped unreadable entries through `onWarning`) and counts what
 * it finds, reading metadata but no file content. The root directory itself is not counted.
 */
export async function surveyTree(rootDir: string, opts: CreateOptions = {}): Promise<TreeSurvey> {
  const { root, st } = await openRoot(rootDir);
  const sink = new SurveySink();
  const walker = new TreeWalker<never>(sink, () => [], st.dev, opts, undefined, true);
  const walk = walker.directory(root, new Uint8Array(0));
  while ((await walk.next()).done !== true) {
    // a survey yields nothing: the walk is the work
  }
  return sink.survey;
}

class SurveySink implements PxarSink {
  readonly survey: TreeSurvey = { files: 0, directories: 0, symlinks: 0, hardlinks: 0, other: 0, bytes: 0 };
  enterDirectory(): void {
    this.survey.directories++;
  }
  leaveDirectory(): void {}
  beginFile(_name: Uint8Array, _meta: unknown, size: number): number {
    this.survey.files++;
    this.survey.bytes += size;
    return 0;
  }
  writeFileData(): void {}
  endFile(): void {}
  addSymlink(): void {
    this.survey.symlinks++;
  }
  addDevice(): void {
    this.survey.other++;
  }
  addSpecial(): void {
    this.survey.other++;
  }
  addHardlink(): void {
    this.survey.hardlinks++;
  }
}

async function openRoot(rootDir: string): Promise<{ root: Buffer; st: BigIntStats }> {
  const root = Buffer.from(await fsp.realpath(resolve(rootDir)));
  const st = await fsp.lstat(root, { bigint: true });
  if (!st.isDirectory()) throw fail('INVALID_ARGUMENT', 'the archive root must be a directory', { rootDir });
  return { root, st };
}

export interface SplitCreateOptions extends CreateOptions {
  /** The previous snapshot's archive: unchanged files reuse its payload (metadata mode). */
  readonly previous?: PreviousArchive;
}

export interface SplitPxar {
  /** The payload stream (`.ppxar`) as items for `payloadChunks`; pulling it drives the walk. */
  readonly payload: AsyncGenerator<PayloadItem>;
  /** The metadata stream (`.mpxar`), produced alongside; ends when the payload does. */
  readonly metadata: AsyncIterable<Uint8Array>;
  /** Inode and ctime of every file, in archive order (valid once `payload` is done). */
  identities(): Uint8Array;
  readonly stats: SplitStats;
  /** Ends the metadata stream with an error unless it ended already (the payload was abandoned). */
  abort(): void;
}

/** The split (v2) archive of `rootDir`: `.mpxar` and `.ppxar` streams (change-detection mode data/metadata). */
export function createSplitPxar(rootDir: string, opts: SplitCreateOptions = {}): SplitPxar {
  const metadata = new AsyncChannel<Uint8Array>();
  let encoder: SplitEncoder | undefined;
  const stats: SplitStats = { reusedFiles: 0, reusedBytes: 0, readFiles: 0, newFiles: 0, injectedChunks: 0, injectedBytes: 0, paddingFallbacks: 0 };
  async function* payload(): AsyncGenerator<PayloadItem> {
    try {
      const { root, st } = await openRoot(rootDir);
      const enc = new SplitEncoder(readMetadata(root, st, opts), { ...(opts.previous ? { previous: opts.previous } : {}), onArchive: (p) => metadata.push(...p) });
      encoder = enc;
      const walker = new TreeWalker<PayloadItem>(enc, () => enc.take(), st.dev, opts, enc);
      yield* walker.directory(root, new Uint8Array(0));
      const reader = walker.fileReader();
      if (opts.exclude) {
        // the record is a file read now, so the reused files deferred before it are settled first
        yield* enc.settle(reader);
        addCliExcludeRecord(enc, opts.exclude, opts.catalog);
        yield* enc.take();
      }
      yield* enc.finish(reader);
      Object.assign(stats, enc.stats);
      metadata.end();
    } catch (e) {
      metadata.end(e instanceof Error ? e : new Error(String(e)));
      throw e;
    } finally {
      metadata.end(fail('ABORTED', 'the payload stream was abandoned'));
    }
  }
  const abort = (): void => metadata.end(fail('ABORTED', 'the payload stream was abandoned'));
  return { payload: payload(), metadata, identities: () => encoder?.identities.bytes() ?? new Uint8Array(0), stats, abort };
}

interface LinkTarget {
  readonly path: Uint8Array;
  /** FILENAME offset of the first name; filled in later when that file is deferred (split mode). */
  readonly offset: { value?: number };
}

class TreeWalker<T> {
  readonly #encoder: PxarSink;
  readonly #take: () => T[];
  readonly #split: SplitEncoder | undefined;
  readonly #rootDev: bigint;
  readonly #opts: CreateOptions;
  readonly #readSize: number;
  readonly #links = new Map<string, LinkTarget>();
  /** the exclusion scope of each directory being walked, innermost last */
  readonly #scopes: ExcludeScope[] = [];
  /** With `reuseReadBuffer`: two buffers, one being read into while the other is consumed. */
  readonly #readBuffers: (Buffer | undefined)[] = [undefined, undefined];
  /** A survey (`surveyTree`): files are announced to the sink with their size, never opened. */
  readonly #contentless: boolean;

  constructor(encoder: PxarSink, take: () => T[], rootDev: bigint, opts: CreateOptions, split?: SplitEncoder, contentless = false) {
    this.#contentless = contentless;
    this.#encoder = encoder;
    this.#take = take;
    this.#split = split;
    this.#rootDev = rootDev;
    this.#opts = opts;
    this.#readSize = opts.readSize ?? DEFAULT_READ_SIZE;
  }

  async *directory(abs: Buffer, rel: Uint8Array): AsyncGenerator<T> {
    let names: Buffer[];
    try {
      names = await fsp.readdir(abs, { encoding: 'buffer' });
    } catch (e) {
      if (this.#skippable(e, rel, 'readdir')) return;
      throw nodeFail('readdir', abs, e);
    }
    names.sort((a, b) => Buffer.compare(a, b));
    const scope = await this.#enterScope(abs, rel);
    const split = this.#split;
    const opts = this.#contentless
      ? { window: PREFETCH.window, smallLimit: PREFETCH.smallLimit, skipContent: () => true }
      : split === undefined
        ? PREFETCH
        : { ...PREFETCH, skipContent: (name: Buffer, st: BigIntStats) => split.likelyUnchanged(joinPath(rel, name), st) };
    for await (const child of prefetchChildren(abs, names, opts)) {
      const childRel = joinPath(rel, child.name);
      if (child.st === undefined) {
        if (this.#skippable(child.error, childRel, 'lstat')) continue;
        throw nodeFail('lstat', child.abs, child.error);
      }
      if (scope?.excludes(Buffer.from(childRel).toString('latin1'), child.st.isDirectory())) continue;
      yield* this.#child(child, childRel, child.st);
      yield* this.#take();
    }
    if (scope) this.#scopes.pop(); // a walk abandoned by an error is never resumed
  }

  async #enterScope(abs: Buffer, rel: Uint8Array): Promise<ExcludeScope | undefined> {
    const parent = this.#scopes.at(-1) ?? this.#opts.exclude;
    if (!parent) return undefined;
    const scope = await parent.enter(abs, Buffer.from(rel).toString('latin1'));
    this.#scopes.push(scope);
    return scope;
  }

  async *#child(child: Prefetched, rel: Uint8Array, st: BigIntStats): AsyncGenerator<T> {
    const { name, abs } = child;
    const enc = this.#encoder;
    if (st.isFile()) {
      yield* this.#file(child, rel, st);
    } else if (st.isDirectory()) {
      enc.enterDirectory(name, readMetadata(abs, st, this.#opts));
      this.#opts.catalog?.startDirectory(name);
      if (st.dev === this.#rootDev || this.#opts.crossFilesystems === true || this.#opts.descendInto?.(st.dev) === true) yield* this.directory(abs, rel);
      enc.leaveDirectory();
      this.#opts.catalog?.endDirectory();
    } else if (st.isSymbolicLink()) {
      let target: Buffer;
      try {
        target = await fsp.readlink(abs, { encoding: 'buffer' });
      } catch (e) {
        if (this.#skippable(e, rel, 'readlink')) return;
        throw nodeFail('readlink', abs, e);
      }
      enc.addSymlink(name, readMetadata(abs, st, this.#opts), target);
      this.#opts.catalog?.addOther('symlink', name);
    } else if (st.isCharacterDevice() || st.isBlockDevice()) {
      enc.addDevice(name, readMetadata(abs, st, this.#opts), deviceFromDevT(st.rdev));
      this.#opts.catalog?.addOther(st.isBlockDevice() ? 'block-device' : 'char-device', name);
    } else {
      enc.addSpecial(name, readMetadata(abs, st, this.#opts)); // fifo or socket
      this.#opts.catalog?.addOther(st.isFIFO() ? 'fifo' : 'socket', name);
    }
  }

  async *#file(child: Prefetched, rel: Uint8Array, st: BigIntStats): AsyncGenerator<T> {
    const { name, abs, small } = child;
    const key = `${st.dev}:${st.ino}`;
    const earlier = st.nlink > 1n ? this.#links.get(key) : undefined;
    // (unified mode: a first name that could not be read leaves no offset; this name is then the file)
    if (earlier !== undefined && (this.#split !== undefined || earlier.offset.value !== undefined)) {
      if (this.#split !== undefined) this.#split.addHardlinkTo(name, earlier.path, earlier.offset);
      else this.#encoder.addHardlink(name, earlier.path, earlier.offset.value!);
      this.#opts.catalog?.addOther('hardlink', name);
      return;
    }
    const offset: { value?: number } = {};
    if (st.nlink > 1n) this.#links.set(key, { path: rel, offset });
    if (this.#contentless) {
      offset.value = this.#encoder.beginFile(name, readMetadata(abs, st, this.#opts), Number(st.size));
      this.#encoder.endFile();
      return;
    }
    const candidate: FileCandidate = { name, abs, rel, id: { ino: st.ino, ctimeNs: st.ctimeNs }, size: Number(st.size), meta: readMetadata(abs, st, this.#opts), offset };
    const split = this.#split;
    if (split !== undefined) {
      // split mode only: T is PayloadItem there
      const settle = (keepLastChunk: boolean): AsyncGenerator<T> => split.settle(this.fileReader(), { keepLastChunk }) as AsyncGenerator<T>;
      if (split.tryReuse(candidate)) {
        if (split.cacheFull) yield* settle(true);
        return;
      }
      yield* settle(false);
    }
    yield* this.readFile(candidate, small);
  }

  /** For the split encoder: reads deferred files, small ones whole and ahead, as the prefetch does. */
  fileReader(): FileReader {
    const reads = readMode();
    return {
      read: (c, small) => this.readFile(c, small) as AsyncGenerator<PayloadItem>, // split mode: T is PayloadItem
      readAhead: (c) => (c.size <= PREFETCH.smallLimit ? readSmall(c.abs, c.size, reads) : undefined),
    };
  }

  /** Encodes a regular file from disk (`small`: its content read ahead). */
  async *readFile(c: FileCandidate, small?: Prefetched['small']): AsyncGenerator<T> {
    const { name, abs, rel, id, size, meta } = c;
    const opened = small ?? (await fsp.open(abs, fsc.O_RDONLY | fsc.O_NOFOLLOW).then((h) => ({ handle: h }), (e: unknown) => ({ error: e })));
    if ('error' in opened && opened.error !== undefined) {
      if (this.#skippable(opened.error, rel, 'open')) return;
      throw nodeFail('open', abs, opened.error);
    }
    const handle = 'handle' in opened ? opened.handle : undefined;
    try {
      const offset = this.#encoder.beginFile(name, meta, size);
      if (c.offset !== undefined) c.offset.value = offset;
      this.#split?.recordIdentity(id);
      this.#opts.catalog?.addFile(name, size, meta.stat.mtime.secs);
      if (handle !== undefined) yield* this.#copy(handle, abs, rel, size);
      else this.#writeSmall(small?.data ?? Buffer.alloc(0), rel, size);
      this.#encoder.endFile();
    } finally {
      await handle?.close();
    }
  }

  #writeSmall(data: Buffer, rel: Uint8Array, size: number): void {
    this.#encoder.writeFileData(data);
    if (data.length < size) this.#zeroFill(rel, size - data.length);
  }

  #zeroFill(rel: Uint8Array, left: number): void {
    this.#warn('file-changed', rel, `file shrank while reading; ${left} bytes zero-filled`);
    for (let rest = left; rest > 0; rest -= Math.min(rest, this.#readSize)) this.#encoder.writeFileData(new Uint8Array(Math.min(rest, this.#readSize)));
  }

  /**
   * Reads a file in pieces, one read ahead: the next piece is read (on the thread pool) while the
   * consumer chunks the current one, so the main thread does not wait for the disk between pieces.
   * Reads name their position, as a read is started before the consumer is done with the last one.
   */
  async *#copy(handle: fsp.FileHandle, abs: Buffer, rel: Uint8Array, size: number): AsyncGenerator<T> {
    // A read ahead may fail while nobody awaits it: it settles to a value, never to a rejection.
    type Piece = { buf: Buffer; got: number; error?: never } | { error: unknown };
    const read = (slot: number, at: number): Promise<Piece> => {
      const buf = this.#bufferFor(slot, Math.min(this.#readSize, size - at));
      return handle.read(buf, 0, buf.length, at).then(
        (r) => ({ buf, got: r.bytesRead }),
        (error: unknown) => ({ error }),
      );
    };
    let pos = 0;
    let slot = 0;
    let next: Promise<Piece> | undefined = size > 0 ? read(slot, 0) : undefined;
    try {
      while (next !== undefined) {
        const piece = await next;
        next = undefined;
        if (piece.error !== undefined) throw nodeFail('read', abs, piece.error);
        const { buf, got } = piece as { buf: Buffer; got: number };
        if (got === 0) {
          this.#zeroFill(rel, size - pos);
          break;
        }
        pos += got;
        // the other buffer was yielded last time round; the consumer has pulled since, so it is free
        slot ^= 1;
        if (pos < size) next = read(slot, pos);
        this.#encoder.writeFileData(buf.subarray(0, got));
        yield* this.#take();
      }
    } finally {
      // abandoned mid-file: let the read in flight finish before the handle closes
      await next;
    }
  }

  /** A buffer for a read: fresh, or with `reuseReadBuffer` one of two reused ones (`slot` 0 or 1). */
  #bufferFor(slot: number, length: number): Buffer {
    if (!this.#opts.reuseReadBuffer) return Buffer.allocUnsafe(length);
    const b = (this.#readBuffers[slot] ??= Buffer.allocUnsafeSlow(this.#readSize));
    return b.subarray(0, length);
  }

  /** ENOENT (vanished) and EACCES/EPERM become warnings; anything else is fatal. */
  #skippable(e: unknown, rel: Uint8Array, op: string): boolean {
    const code = e instanceof Error ? (e as NodeJS.ErrnoException).code : undefined;
    if (code === 'ENOENT') this.#warn('vanished', rel, `${op}: entry vanished; left out`);
    else if (code === 'EACCES' || code === 'EPERM') this.#warn('permission-denied', rel, `${op}: permission denied; left out`);
    else return false;
    return true;
  }

  #warn(code: PxarWarningCode, rel: Uint8Array, message: string): void {
    this.#opts.onWarning?.({ code, path: pathText(rel), message });
  }
}
