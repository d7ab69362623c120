/**
 * SplitEncoder: the encoder side of a split pxar backup (`NAME.mpxar` + `NAME.ppxar`, pxar
 * format v2) with metadata change detection. The tree walker drives it like a PxarEncoder; a
 * regular file that `tryReuse` accepts (change-detection.ts) is not read: it is deferred, and so
 * is every entry after it, until a file must be read from disk, the cache is full or the archive
 * ends. Then `settle` plans the run: the previous payload chunks covering the deferred files are
 * injected whole (by digest, never read or uploaded) and each file gets a PAYLOAD_REF into them;
 * if the padding rule refuses, the deferred files are read and encoded after all (small ones
 * read ahead, `readAheadFiles`). Deferred entries are replayed in walk order, so the archive is
 * the same as without deferral.
 *
 * Output: `take()` returns payload items (bytes, suggested boundaries before each new file,
 * injections) in stream order for `payloadChunks`, and passes metadata pieces to `onArchive`.
 * Every regular file added (read or reused) also gets its identity (inode, ctime) recorded, in
 * archive order, for the next backup.
 */
import type { BigIntStats } from 'node:fs';
import { fail } from '../core/errors.ts';
import { PxarEncoder } from '../format/pxar/encoder.ts';
import type { PxarDevice, PxarMetadata } from '../format/pxar/metadata.ts';
import { chunkAlignedSplit, planInjectionGroups, REUSE_CACHE_LIMIT, REUSE_CACHE_SIZE, type FileIdentity, type InjectionPlan } from './change-detection.ts';
import { FileIdentityWriter } from './file-identities.ts';
import type { PayloadItem } from './payload-chunks.ts';
import type { SmallContent } from './pxar-prefetch.ts';
import { pathKey, type PathCursor, type PreviousArchive } from './previous-archive.ts';

/** The PxarEncoder calls the tree walker makes. */
export interface PxarSink {
  enterDirectory(name: Uint8Array, meta: PxarMetadata): void;
  leaveDirectory(): void;
  beginFile(name: Uint8Array, meta: PxarMetadata, size: number): number;
  writeFileData(bytes: Uint8Array): void;
  endFile(): void;
  addSymlink(name: Uint8Array, meta: PxarMetadata, target: Uint8Array): void;
  addDevice(name: Uint8Array, meta: PxarMetadata, device: PxarDevice): void;
  addSpecial(name: Uint8Array, meta: PxarMetadata): void;
  addHardlink(name: Uint8Array, targetPath: Uint8Array, targetFileOffset: number): void;
}

/** A regular file the walker found, before it is read. */
export interface FileCandidate {
  readonly name: Uint8Array;
  readonly abs: Buffer;
  readonly rel: Uint8Array;
  readonly meta: PxarMetadata;
  readonly size: number;
  /**
   * Its inode and ctime, not its whole lstat: a deferred candidate lives until its run is
   * settled, hundreds of files later, and Node's BigIntStats (18 BigInts) then outlived V8's
   * young generation, every file's: ~0.5 KB a file of old-space garbage, and the heap of an
   * unchanged re-backup of a million files grew to 280 MiB between collections (60 MiB live).
   */
  readonly id: FileIdentity;
  /** Set to the file's FILENAME offset once it is encoded (hardlinks to a deferred file wait for it). */
  readonly offset?: { value?: number };
}

/**
 * How the encoder has the walker read the files it deferred and must read after all (a run the
 * padding rule refused).
 */
export interface FileReader {
  /** Encodes a candidate from disk (through this encoder's `beginFile`…`endFile`); `small`: its content read ahead. */
  read(c: FileCandidate, small?: SmallContent): AsyncGenerator<PayloadItem>;
  /** Starts reading a small file whole, or undefined for one that is read in pieces. */
  readAhead(c: FileCandidate): Promise<SmallContent> | undefined;
}

/**
 * Files of a refused run read ahead of the one being encoded. Such runs are the rule on a tree of
 * small files where 1% changed (a changed file in almost every previous chunk): read one after
 * another, each file's open, read and close were thread-pool round trips that left the client idle
 * most of the time (20,000 files of 0..8 KiB: 5.2 s, against 1.9 s for the first backup, which the
 * walker's read-ahead serves). Memory: at most this many small files (pxar-create.ts: 64 KiB each).
 */
const READ_AHEAD_FILES = 32;

export interface SplitStats {
  /** Files whose payload was reused without reading them. */
  reusedFiles: number;
  reusedBytes: number;
  /** Files read from disk. */
  readFiles: number;
  /** Of those, files the previous archive did not have (0 without a previous archive). */
  newFiles: number;
  /** Chunks of the previous payload stream injected. */
  injectedChunks: number;
  /** Their bytes: payload taken from the previous snapshot, neither read nor uploaded. */
  injectedBytes: number;
  /** Runs of unchanged files read after all because their chunks had too much padding. */
  paddingFallbacks: number;
}

type Op = { readonly kind: 'apply'; readonly apply: (e: PxarEncoder) => void } | { readonly kind: 'file'; readonly file: FileCandidate; readonly prevOffset: number };

export interface SplitEncoderOptions {
  readonly previous?: PreviousArchive;
  readonly prelude?: Uint8Array;
  readonly onArchive: (pieces: Uint8Array[]) => void;
}

export class SplitEncoder implements PxarSink {
  readonly #enc: PxarEncoder;
  readonly #o: SplitEncoderOptions;
  readonly identities = new FileIdentityWriter();
  readonly stats: SplitStats = { reusedFiles: 0, reusedBytes: 0, readFiles: 0, newFiles: 0, injectedChunks: 0, injectedBytes: 0, paddingFallbacks: 0 };
  #ops: Op[] = [];
  #deferredFiles = 0;
  /** `cacheFull` turns true at this many deferred files (moved on while no cut is possible). */
  #settleAt = REUSE_CACHE_SIZE;
  #lastPrevOffset = -1;
  /** where the walker's read-ahead and the walk itself look up previous files (each mostly in walk order) */
  #aheadCursor: PathCursor | undefined;
  #walkCursor: PathCursor | undefined;
  #suggestions: number[] = [];
  #items: PayloadItem[] = [];

  constructor(root: PxarMetadata, o: SplitEncoderOptions) {
    this.#enc = new PxarEncoder(root, { split: true, ...(o.prelude === undefined ? {} : { prelude: o.prelude }) });
    this.#o = o;
  }

  enterDirectory(name: Uint8Array, meta: PxarMetadata): void {
    this.#do((e) => e.enterDirectory(name, meta));
  }

  leaveDirectory(): void {
    this.#do((e) => e.leaveDirectory());
  }

  addSymlink(name: Uint8Array, meta: PxarMetadata, target: Uint8Array): void {
    this.#do((e) => e.addSymlink(name, meta, target));
  }

  addDevice(name: Uint8Array, meta: PxarMetadata, device: PxarDevice): void {
    this.#do((e) => e.addDevice(name, meta, device));
  }

  addSpecial(name: Uint8Array, meta: PxarMetadata): void {
    this.#do((e) => e.addSpecial(name, meta));
  }

  addHardlink(name: Uint8Array, targetPath: Uint8Array, targetFileOffset: number): void {
    this.#do((e) => e.addHardlink(name, targetPath, targetFileOffset));
  }

  /** A hardlink to a file that may still be deferred: its offset is read when the link is written. */
  addHardlinkTo(name: Uint8Array, targetPath: Uint8Array, target: { value?: number }): void {
    this.#do((e) => {
      if (target.value === undefined) return; // the first name vanished before it was read (warned there)
      e.addHardlink(name, targetPath, target.value);
    });
  }

  /** A file read from disk; only when nothing is deferred (the walker settles first). */
  beginFile(name: Uint8Array, meta: PxarMetadata, size: number): number {
    if (this.#ops.length > 0) throw fail('INTERNAL', 'a file is encoded while entries before it are deferred');
    this.#suggestions.push(this.#enc.payloadPosition);
    this.stats.readFiles++;
    return this.#enc.beginFile(name, meta, size);
  }

  writeFileData(bytes: Uint8Array): void {
    this.#enc.writeFileData(bytes);
  }

  endFile(): void {
    this.#enc.endFile();
  }

  recordIdentity(id: FileIdentity): void {
    this.identities.add(id);
  }

  /** A cheap pre-check (path, size, inode, ctime) so the walker need not read ahead what is reused. */
  likelyUnchanged(rel: Uint8Array, st: BigIntStats): boolean {
    const files = this.#o.previous?.files;
    if (files === undefined) return false;
    const i = files.find(pathKey(rel), (this.#aheadCursor ??= files.cursor()));
    return i !== undefined && files.sizeOf(i) === Number(st.size) && files.identityIs(i, st.ino, st.ctimeNs);
  }

  /** True when the file is unchanged and deferred for reuse; false when it must be read. */
  tryReuse(c: FileCandidate): boolean {
    const files = this.#o.previous?.files;
    if (files === undefined) return false;
    const i = files.find(pathKey(c.rel), (this.#walkCursor ??= files.cursor()));
    if (i === undefined) this.stats.newFiles++;
    if (i === undefined || files.sizeOf(i) !== c.size) return false;
    if (!files.identityIs(i, c.id.ino, c.id.ctimeNs) || !files.metadataIs(i, c.meta)) return false;
    // PBS ≥ 4.2: payload references must increase strictly; an older order is re-encoded.
    const prevOffset = files.payloadOffsetOf(i);
    if (prevOffset <= this.#lastPrevOffset) return false;
    this.#lastPrevOffset = prevOffset;
    this.#ops.push({ kind: 'file', file: c, prevOffset });
    this.#deferredFiles++;
    return true;
  }

  /** The walker settles (keeping the last chunk's files) when this is true; see `settle`. */
  get cacheFull(): boolean {
    return this.#deferredFiles >= this.#settleAt;
  }

  /**
   * Injects or reads the deferred files and replays the deferred entries (see module comment).
   * `keepLastChunk` (the cache is full, nothing forces the run to end): the entries from the last
   * file that starts a previous chunk on stay deferred, so the next run starts on a chunk boundary
   * (change-detection.ts, `chunkAlignedSplit`); with no such file the run keeps gathering, up to
   * REUSE_CACHE_LIMIT files.
   */
  async *settle(read: FileReader, { keepLastChunk = false }: { keepLastChunk?: boolean } = {}): AsyncGenerator<PayloadItem> {
    if (this.#ops.length === 0) return;
    let ops = this.#ops;
    let tail: Op[] = [];
    if (keepLastChunk) {
      const deferred = ops.flatMap((op) => (op.kind === 'file' ? [op] : []));
      const cut = chunkAlignedSplit(deferred.map((f) => f.prevOffset), this.#o.previous?.chunks ?? []);
      if (cut === undefined && deferred.length < REUSE_CACHE_LIMIT) {
        // try again a little later rather than on every file: the search is linear in the run
        this.#settleAt = deferred.length + REUSE_CACHE_SIZE / 8;
        return;
      }
      if (cut !== undefined) {
        const at = ops.indexOf(deferred[cut]!);
        tail = ops.slice(at);
        ops = ops.slice(0, at);
      }
    }
    this.#ops = [];
    this.#deferredFiles = 0;
    this.#settleAt = REUSE_CACHE_SIZE;
    yield* this.#settleRun(ops, read);
    // deferred again only now: files of the run that are read after all go through beginFile
    this.#ops = tail;
    this.#deferredFiles = tail.filter((op) => op.kind === 'file').length;
  }

  async *#settleRun(ops: Op[], read: FileReader): AsyncGenerator<PayloadItem> {
    const files = ops.flatMap((op) => (op.kind === 'file' ? [op] : []));
    const groups = planInjectionGroups(files.map((f) => ({ offset: f.prevOffset, size: f.file.size })), this.#o.previous?.chunks ?? []);
    this.stats.paddingFallbacks += groups.filter((g) => g.plan === undefined).length;
    const toRead = groups.flatMap((group) => (group.plan === undefined ? files.slice(group.first, group.first + group.count).map((f) => f.file) : []));
    const ahead = readAheadFiles(toRead, read);
    let k = 0;
    let g = 0;
    let start = 0;
    for (const op of ops) {
      if (op.kind === 'apply') {
        op.apply(this.#enc);
        yield* this.take();
        continue;
      }
      const group = groups[g]!;
      const plan = group.plan;
      if (plan === undefined) {
        const small = await ahead.next(op.file);
        yield* small === undefined ? read.read(op.file) : read.read(op.file, small);
      } else {
        if (k === group.first) start = this.#inject(plan);
        const f = op.file;
        const offset = this.#enc.addFileRef(f.name, f.meta, start + plan.offsets[k - group.first]!, f.size);
        if (f.offset !== undefined) f.offset.value = offset;
        this.recordIdentity(f.id);
        this.stats.reusedFiles++;
        this.stats.reusedBytes += f.size;
      }
      if (++k === group.first + group.count) g++;
      yield* this.take();
    }
  }

  /** Queues the plan's chunks after what is written so far; returns their payload-stream offset. */
  #inject(plan: InjectionPlan): number {
    this.#enc.skipPayload(0); // seals the partly filled segment, so it is drained ahead of the injection
    this.#drain();
    this.#items.push({ inject: plan.chunks });
    const start = this.#enc.payloadPosition;
    this.#enc.skipPayload(plan.total);
    this.stats.injectedChunks += plan.chunks.length;
    this.stats.injectedBytes += plan.total;
    return start;
  }

  /** Settles, writes the root goodbye and the payload tail marker. */
  async *finish(read: FileReader): AsyncGenerator<PayloadItem> {
    yield* this.settle(read);
    this.#enc.finish();
    yield* this.take();
  }

  /** Payload items completed so far, in stream order; hands metadata pieces to `onArchive`. */
  take(): PayloadItem[] {
    const archive = this.#enc.takeArchive();
    if (archive.length > 0) this.#o.onArchive(archive);
    this.#drain();
    const out = this.#items;
    this.#items = [];
    return out;
  }

  #do(apply: (e: PxarEncoder) => void): void {
    if (this.#ops.length === 0) apply(this.#enc);
    else this.#ops.push({ kind: 'apply', apply });
  }

  /** Suggested boundaries go ahead of the bytes they fall in (the chunker keeps them queued). */
  #drain(): void {
    for (const s of this.#suggestions) this.#items.push({ suggest: s });
    this.#suggestions = [];
    for (const p of this.#enc.takePayload()) this.#items.push(p);
  }
}

/**
 * Keeps READ_AHEAD_FILES of `files` being read ahead of the one `next` is asked for; `next` must be
 * asked for each file in order. A file `readAhead` declines (a large one) is read when its turn comes.
 */
export function readAheadFiles(files: readonly FileCandidate[], reader: Pick<FileReader, 'readAhead'>): { next(f: FileCandidate): Promise<SmallContent | undefined> } {
  const started = new Map<FileCandidate, Promise<SmallContent> | undefined>();
  let at = 0;
  let from = 0;
  return {
    next: async (f) => {
      while (at < files.length && at < from + 1 + READ_AHEAD_FILES) {
        const c = files[at++]!;
        started.set(c, reader.readAhead(c));
      }
      from++;
      const p = started.get(f);
      started.delete(f);
      return p;
    },
  };
}
