/**
 * extractPxar: restores a pxar archive stream (v1, or v2 with its payload stream) into a
 * directory: contents, modes, owners (when root), nanosecond mtimes, symlinks, hardlinks,
 * xattrs/fcaps/ACLs, fifos and sockets, and device nodes (when root).
 *
 * Safety: names come from the decoder, which refuses "", ".", ".." and names with "/" or NUL,
 * and duplicate names (CORRUPT), so every path stays inside the target. Nothing is followed:
 * files are created with O_EXCL|O_NOFOLLOW, symlinks are created but never traversed, and a
 * hardlink target must resolve through real directories to a regular file inside the target.
 * A non-empty target is refused (DIRECTORY_NOT_EMPTY) unless `overwrite` is set, in which case
 * an existing entry in the way is removed (an existing directory is reused for a directory).
 * Directory metadata is applied after the directory's children, so mtimes and read-only modes
 * stick. Names are bytes end to end: non-UTF-8 names are restored exactly. Zero blocks of file
 * data become holes, as in PBS's extractor.
 *
 * Pipelining: file data goes through a FileSink (restore-sink.ts), which copies it and writes in
 * the background, large files around the page cache, so decoding never waits for the disk. A
 * file below SMALL_FILE_MAX with nothing to apply but owner, mode and mtime is instead gathered
 * in memory and written whole, metadata included, by one thread-pool task (small-file-writer.ts)
 * when the native addon is there: the general path's six round trips set the pace on trees of
 * small files. A file's size, close and metadata follow its last write in the background too; at most
 * FILES_IN_FLIGHT files are unfinished at once (open descriptors). A directory's metadata waits
 * for everything started before its end, so it is applied after all its children are complete; a
 * hardlink waits for every file before it, so it never names an incomplete file. The first
 * background failure fails the restore, and every file not completed then is removed.
 */
import { constants as fsc, promises as fsp } from 'node:fs';
import { resolve } from 'node:path';
import { fail } from '../core/errors.ts';
import { decodePxar } from '../format/pxar/decoder.ts';
import type { PxarDirectoryEntry, PxarEntry, PxarEvent, PxarFileEntry, PxarHardlinkEntry } from '../format/pxar/entry.ts';
import type { PayloadSource } from '../format/pxar/payload-reader.ts';
import { hardlinkTargetPath, type EntrySelection } from '../format/pxar/selection.ts';
import { deviceToDevT } from '../format/pxar/metadata.ts';
import { pathComponents, pathText, relativePathProblem } from '../format/pxar/names.ts';
import { applyMetadata, type ApplyOptions } from './pxar-apply-meta.ts';
import { mknod, nodeFail } from './pxar-native.ts';
import type { PxarWarningCode, WarningSink } from './pxar-warnings.ts';
import { createFileSink, type FileSink } from './restore-sink.ts';
import { isPlainFile, smallFileWriter, SMALL_FILE_MAX } from './small-file-writer.ts';

export interface ExtractOptions {
  /** Allow a non-empty target; entries in the way are replaced. */
  readonly overwrite?: boolean;
  /**
   * The payload stream (`.ppxar`) of a split archive, or a source of its parts (a partial restore,
   * ranged-payload.ts). Its pieces may be recycled: the extractor holds no view of a piece once
   * it asks for the next (file data is copied before that).
   */
  readonly payload?: AsyncIterable<Uint8Array> | PayloadSource;
  /**
   * Restore only these paths (and the directories leading to them, with their metadata); the
   * rest of the archive is passed over, and file data outside them is not read from a payload.
   */
  readonly select?: EntrySelection;
  /** Restore uid/gid (default: when running as root). */
  readonly owner?: boolean;
  /** Restore xattrs and fcaps (default true). */
  readonly xattrs?: boolean;
  /** Restore POSIX ACLs (default true). */
  readonly acls?: boolean;
  /** Create device nodes (default: when running as root; otherwise they are skipped with a warning). */
  readonly devices?: boolean;
  readonly onWarning?: WarningSink;
}

export interface ExtractReport {
  readonly entries: number;
  readonly bytes: number;
  readonly skipped: number;
}

const SLASH = Buffer.from('/');
/** Files whose writes, close or metadata may still be under way: bounds open descriptors. */
const FILES_IN_FLIGHT = 64;
/**
 * Files at least this large are written around the page cache. A smaller file would pay a padded
 * block and a truncate for little, and many small files are more often read back soon.
 */
const DIRECT_MIN = SMALL_FILE_MAX;
const FILE_FLAGS = fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW;
const isRoot = (): boolean => process.getuid?.() === 0;

/** Restores `source` into `targetDir` (created if missing). */
export async function extractPxar(source: AsyncIterable<Uint8Array>, targetDir: string, opts: ExtractOptions = {}): Promise<ExtractReport> {
  const target = Buffer.from(resolve(targetDir));
  await fsp.mkdir(target, { recursive: true }).catch((e: unknown) => { throw nodeFail('mkdir', target, e); });
  const existing = await fsp.readdir(target).catch((e: unknown) => { throw nodeFail('readdir', target, e); });
  if (opts.overwrite !== true && existing.length > 0) throw fail('DIRECTORY_NOT_EMPTY', 'restore target is not empty (set overwrite to restore into it)', { targetDir });
  const restorer = new Restorer(target, opts);
  try {
    for await (const ev of selectedEvents(source, opts)) {
      if (ev.type === 'data') await restorer.write(ev.bytes);
      else if (ev.type === 'entry') await restorer.entry(ev.entry);
      else if (ev.type === 'directory-end') await restorer.directoryEnd(ev.entry);
    }
    await restorer.finish();
  } finally {
    await restorer.abandon();
  }
  return restorer.report();
}

function selectedEvents(source: AsyncIterable<Uint8Array>, opts: ExtractOptions): AsyncIterable<PxarEvent> {
  const select = opts.select;
  const events = decodePxar(source, {
    ...(opts.payload === undefined ? {} : { payload: opts.payload }),
    ...(select === undefined ? {} : { payloadFor: (e: PxarFileEntry) => select.covers(e.path, false) }),
  });
  return select === undefined ? events : select.select(events);
}

interface OpenFile {
  readonly abs: Buffer;
  readonly entry: PxarFileEntry;
  /** a file written as its data arrives */
  readonly sink?: FileSink;
  /** a small plain file gathered in memory, written whole by one task (small-file-writer.ts) */
  readonly small?: { readonly bytes: Buffer; fill: number };
}

class Restorer {
  readonly #target: Buffer;
  readonly #opts: ExtractOptions;
  readonly #apply: (entry: PxarEntry) => ApplyOptions;
  readonly #devices: boolean;
  /** the file receiving data now */
  #file: OpenFile | undefined;
  /** files created and not yet complete (data, size, close, metadata): removed on failure */
  readonly #incomplete = new Set<OpenFile>();
  /** background completions of files and directories; each settles without rejecting */
  readonly #pending = new Set<Promise<void>>();
  /** the first background failure */
  #error: Error | undefined;
  /** false once the target's filesystem refused O_DIRECT at open */
  #direct = true;
  /** one-task writes of small plain files, when the native addon is there */
  readonly #writeSmall = smallFileWriter();
  #entries = 0;
  #bytes = 0;
  #skipped = 0;

  constructor(target: Buffer, opts: ExtractOptions) {
    this.#target = target;
    this.#opts = opts;
    this.#devices = opts.devices ?? isRoot();
    const base = { owner: opts.owner ?? isRoot(), xattrs: opts.xattrs !== false, acls: opts.acls !== false };
    this.#apply = (entry) => ({ ...base, warn: (code, message) => this.#warn(code, entry, message) });
  }

  /** A partial restore leaves out a hardlink to a file it does not restore. */
  #hardlinkNotSelected(entry: PxarHardlinkEntry): void {
    this.#skipped++;
    this.#warn('hardlink-not-selected', entry, `hardlink to '${pathText(hardlinkTargetPath(entry))}', which is not among the selected entries: not restored`);
  }

  report(): ExtractReport {
    return { entries: this.#entries, bytes: this.#bytes, skipped: this.#skipped };
  }

  async write(bytes: Uint8Array): Promise<void> {
    const file = this.#file;
    if (file === undefined) return;
    if (file.small !== undefined) {
      // copied: the payload stream's memory is recycled once the next piece is asked for
      const { small } = file;
      if (small.fill + bytes.length > small.bytes.length) throw fail('CORRUPT', `${pathText(file.entry.path)}: more data than the entry's size`, { size: file.entry.size });
      small.bytes.set(bytes, small.fill);
      small.fill += bytes.length;
    } else {
      await file.sink?.write(bytes).catch((e: unknown) => { throw nodeFail('write', file.abs, e); });
    }
    this.#bytes += bytes.length;
  }

  async entry(entry: PxarEntry): Promise<void> {
    this.#closeFile();
    this.#throwIfFailed();
    this.#entries++;
    if (entry.path.length === 0) return; // the root: the target itself, finished at its directory-end
    const abs = this.#abs(entry.path);
    switch (entry.kind) {
      case 'directory':
        if ((await this.#clear(abs, true)) === 'kept') return;
        await fsp.mkdir(abs, 0o700).catch((e: unknown) => { throw nodeFail('mkdir', abs, e); });
        return;
      case 'file': {
        while (this.#pending.size >= FILES_IN_FLIGHT) await Promise.race(this.#pending);
        await this.#clear(abs, false);
        if (this.#writeSmall !== undefined && entry.size < SMALL_FILE_MAX && isPlainFile(entry.metadata)) {
          this.#file = { abs, entry, small: { bytes: Buffer.allocUnsafe(entry.size), fill: 0 } };
          return;
        }
        const direct = this.#direct && entry.size >= DIRECT_MIN;
        const { sink, refused } = await createFileSink(abs, FILE_FLAGS, 0o600, direct).catch((e: unknown) => { throw nodeFail('open', abs, e); });
        if (refused) this.#direct = false;
        this.#file = { abs, entry, sink };
        this.#incomplete.add(this.#file);
        return;
      }
      case 'symlink':
        await this.#clear(abs, false);
        await fsp.symlink(Buffer.from(entry.target), abs).catch((e: unknown) => { throw nodeFail('symlink', abs, e); });
        return applyMetadata(abs, entry.metadata, 'symlink', this.#apply(entry));
      case 'hardlink': {
        const select = this.#opts.select;
        if (select !== undefined && !select.covers(hardlinkTargetPath(entry), false)) return this.#hardlinkNotSelected(entry);
        await this.#drain();
        const existing = await this.#linkTarget(entry.target);
        await this.#clear(abs, false);
        await fsp.link(existing, abs).catch((e: unknown) => { throw nodeFail('link', abs, e); });
        return;
      }
      case 'char-device':
      case 'block-device':
        if (!this.#devices) {
          this.#skipped++;
          return this.#warn('device-skipped', entry, 'device node not created (needs root)');
        }
        await this.#clear(abs, false);
        mknod(abs, entry.metadata.stat.mode, deviceToDevT(entry.device));
        return applyMetadata(abs, entry.metadata, 'other', this.#apply(entry));
      case 'fifo':
      case 'socket':
        await this.#clear(abs, false);
        mknod(abs, entry.metadata.stat.mode, 0n);
        return applyMetadata(abs, entry.metadata, 'other', this.#apply(entry));
    }
  }

  async directoryEnd(entry: PxarDirectoryEntry): Promise<void> {
    this.#closeFile();
    this.#throwIfFailed();
    const abs = entry.path.length === 0 ? this.#target : this.#abs(entry.path);
    const children = [...this.#pending]; // everything under it was started before its end
    this.#track(Promise.all(children).then(() => (this.#error === undefined ? applyMetadata(abs, entry.metadata, 'directory', this.#apply(entry)) : undefined)));
  }

  /** Completes the last file and waits for everything in the background; throws its first failure. */
  async finish(): Promise<void> {
    this.#closeFile();
    await this.#drain();
  }

  /**
   * After a failure: waits for the background work to stop, then removes every file not
   * complete, rather than leave it to look restored (entries complete before the failure stay).
   */
  async abandon(): Promise<void> {
    const file = this.#file;
    this.#file = undefined;
    if (file?.sink !== undefined) await file.sink.close().catch(() => undefined);
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
    for (const f of this.#incomplete) await fsp.unlink(f.abs).catch(() => undefined); // best effort: the original error is what matters
    this.#incomplete.clear();
  }

  /** Hands the file being written to the background: its last data, size, close and metadata. */
  #closeFile(): void {
    const file = this.#file;
    if (file === undefined) return;
    this.#file = undefined;
    this.#track(this.#complete(file));
  }

  async #complete(file: OpenFile): Promise<void> {
    if (file.small !== undefined) return this.#completeSmall(file, file.small);
    const sink = file.sink!;
    try {
      await sink.finish().catch((e: unknown) => { throw nodeFail('write', file.abs, e); });
    } catch (e) {
      await sink.close().catch(() => undefined);
      throw e;
    }
    await sink.close().catch((e: unknown) => { throw nodeFail('close', file.abs, e); });
    await applyMetadata(file.abs, file.entry.metadata, 'file', this.#apply(file.entry));
    this.#incomplete.delete(file);
  }

  async #completeSmall(file: OpenFile, small: { readonly bytes: Buffer; fill: number }): Promise<void> {
    if (small.fill !== small.bytes.length) throw fail('CORRUPT', `${pathText(file.entry.path)}: less data than the entry's size`, { size: file.entry.size, got: small.fill });
    this.#incomplete.add(file); // from now on it may exist
    const apply = this.#apply(file.entry);
    const r = await this.#writeSmall!(file.abs, small.bytes, file.entry.metadata, apply.owner);
    if (!r.ok) {
      if (!r.created) this.#incomplete.delete(file); // the open failed: whatever is there is not ours
      throw r.error;
    }
    const { stat } = file.entry.metadata;
    if (r.ownerSkipped) apply.warn('owner-skipped', `could not set owner ${stat.uid}:${stat.gid}`);
    this.#incomplete.delete(file);
  }

  #track(work: Promise<void>): void {
    const p: Promise<void> = work
      .catch((e: unknown) => {
        this.#error ??= e instanceof Error ? e : new Error(String(e));
      })
      .finally(() => this.#pending.delete(p));
    this.#pending.add(p);
  }

  async #drain(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
    this.#throwIfFailed();
  }

  #throwIfFailed(): void {
    if (this.#error !== undefined) throw this.#error;
  }

  #abs(rel: Uint8Array): Buffer {
    return Buffer.concat([this.#target, SLASH, rel]);
  }

  /** With `overwrite`, removes what is in the way; returns 'kept' for a directory to reuse. */
  async #clear(abs: Buffer, wantDirectory: boolean): Promise<'kept' | 'free'> {
    if (this.#opts.overwrite !== true) return 'free';
    const st = await fsp.lstat(abs).catch(() => undefined);
    if (st === undefined) return 'free';
    if (st.isDirectory() && wantDirectory) return 'kept';
    await fsp.rm(abs, { recursive: true, force: true }).catch((e: unknown) => { throw nodeFail('rm', abs, e); });
    return 'free';
  }

  /** Resolves a hardlink target through real directories (no symlinks) to a regular file. */
  async #linkTarget(target: Uint8Array): Promise<Buffer> {
    const problem = relativePathProblem(target);
    if (problem !== undefined) throw fail('CORRUPT', `unsafe hardlink target: ${problem}`, { reason: 'unsafe-name', target: pathText(target) });
    const parts = pathComponents(target);
    let abs = this.#target;
    for (const [i, part] of parts.entries()) {
      abs = Buffer.concat([abs, SLASH, part]);
      const st = await fsp.lstat(abs).catch(() => undefined);
      const ok = i === parts.length - 1 ? st?.isFile() : st?.isDirectory();
      if (ok !== true) throw fail('CORRUPT', 'hardlink target is not an extracted regular file', { target: pathText(target) });
    }
    return abs;
  }

  #warn(code: PxarWarningCode, entry: PxarEntry, message: string): void {
    this.#opts.onWarning?.({ code, path: pathText(entry.path), message });
  }
}
