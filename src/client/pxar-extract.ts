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
 * data become holes (sparse-writer.ts), as in PBS's extractor.
 */
import { constants as fsc, promises as fsp } from 'node:fs';
import { resolve } from 'node:path';
import { fail } from '../core/errors.ts';
import { decodePxar } from '../format/pxar/decoder.ts';
import type { PxarDirectoryEntry, PxarEntry, PxarFileEntry } from '../format/pxar/entry.ts';
import { deviceToDevT } from '../format/pxar/metadata.ts';
import { pathComponents, pathText, relativePathProblem } from '../format/pxar/names.ts';
import { applyMetadata, type ApplyOptions } from './pxar-apply-meta.ts';
import { mknod, nodeFail } from './pxar-native.ts';
import type { PxarWarningCode, WarningSink } from './pxar-warnings.ts';
import { SparseWriter } from './sparse-writer.ts';

export interface ExtractOptions {
  /** Allow a non-empty target; entries in the way are replaced. */
  readonly overwrite?: boolean;
  /** The payload stream (`.ppxar`) of a split archive. */
  readonly payload?: AsyncIterable<Uint8Array>;
  /** Restore uid/gid (default: when running as root). */
  readonly owner?: boolean;
  /** Restore xattrs, fcaps and ACLs (default true). */
  readonly xattrs?: boolean;
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
const isRoot = (): boolean => process.getuid?.() === 0;

/** Restores `source` into `targetDir` (created if missing). */
export async function extractPxar(source: AsyncIterable<Uint8Array>, targetDir: string, opts: ExtractOptions = {}): Promise<ExtractReport> {
  const target = Buffer.from(resolve(targetDir));
  await fsp.mkdir(target, { recursive: true }).catch((e: unknown) => { throw nodeFail('mkdir', target, e); });
  const existing = await fsp.readdir(target).catch((e: unknown) => { throw nodeFail('readdir', target, e); });
  if (opts.overwrite !== true && existing.length > 0) throw fail('DIRECTORY_NOT_EMPTY', 'restore target is not empty (set overwrite to restore into it)', { targetDir });
  const restorer = new Restorer(target, opts);
  try {
    for await (const ev of decodePxar(source, opts.payload === undefined ? {} : { payload: opts.payload })) {
      if (ev.type === 'data') await restorer.write(ev.bytes);
      else if (ev.type === 'entry') await restorer.entry(ev.entry);
      else if (ev.type === 'directory-end') await restorer.directoryEnd(ev.entry);
    }
  } finally {
    await restorer.abandonOpenFile();
  }
  return restorer.report();
}

interface OpenFile {
  readonly handle: fsp.FileHandle;
  readonly data: SparseWriter;
  readonly abs: Buffer;
  readonly entry: PxarFileEntry;
}

class Restorer {
  readonly #target: Buffer;
  readonly #opts: ExtractOptions;
  readonly #apply: (entry: PxarEntry) => ApplyOptions;
  readonly #devices: boolean;
  #file: OpenFile | undefined;
  #entries = 0;
  #bytes = 0;
  #skipped = 0;

  constructor(target: Buffer, opts: ExtractOptions) {
    this.#target = target;
    this.#opts = opts;
    this.#devices = opts.devices ?? isRoot();
    const base = { owner: opts.owner ?? isRoot(), xattrs: opts.xattrs !== false };
    this.#apply = (entry) => ({ ...base, warn: (code, message) => this.#warn(code, entry, message) });
  }

  report(): ExtractReport {
    return { entries: this.#entries, bytes: this.#bytes, skipped: this.#skipped };
  }

  async write(bytes: Uint8Array): Promise<void> {
    const file = this.#file;
    if (file === undefined) return;
    await file.data.write(bytes).catch((e: unknown) => { throw nodeFail('write', file.abs, e); });
    this.#bytes += bytes.length;
  }

  async entry(entry: PxarEntry): Promise<void> {
    await this.#closeFile();
    this.#entries++;
    if (entry.path.length === 0) return; // the root: the target itself, finished at its directory-end
    const abs = this.#abs(entry.path);
    switch (entry.kind) {
      case 'directory':
        if ((await this.#clear(abs, true)) === 'kept') return;
        await fsp.mkdir(abs, 0o700).catch((e: unknown) => { throw nodeFail('mkdir', abs, e); });
        return;
      case 'file': {
        await this.#clear(abs, false);
        const flags = fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW;
        const handle = await fsp.open(abs, flags, 0o600).catch((e: unknown) => { throw nodeFail('open', abs, e); });
        this.#file = { handle, abs, entry, data: new SparseWriter(handle) };
        return;
      }
      case 'symlink':
        await this.#clear(abs, false);
        await fsp.symlink(Buffer.from(entry.target), abs).catch((e: unknown) => { throw nodeFail('symlink', abs, e); });
        return applyMetadata(abs, entry.metadata, 'symlink', this.#apply(entry));
      case 'hardlink': {
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
    await this.#closeFile();
    const abs = entry.path.length === 0 ? this.#target : this.#abs(entry.path);
    await applyMetadata(abs, entry.metadata, 'directory', this.#apply(entry));
  }

  /** Closes a file left open by a failed decode (its metadata is not applied). */
  /**
   * After a failure: the file being written is incomplete, so it is removed rather than left to
   * look restored (entries finished before the failure stay, complete).
   */
  async abandonOpenFile(): Promise<void> {
    const file = this.#file;
    this.#file = undefined;
    if (file === undefined) return;
    await file.handle.close().catch(() => undefined);
    await fsp.unlink(file.abs).catch(() => undefined); // best effort: the original error is what matters
  }

  async #closeFile(): Promise<void> {
    const file = this.#file;
    if (file === undefined) return;
    this.#file = undefined;
    await file.data.finish().catch((e: unknown) => { throw nodeFail('ftruncate', file.abs, e); });
    await file.handle.close().catch((e: unknown) => { throw nodeFail('close', file.abs, e); });
    await applyMetadata(file.abs, file.entry.metadata, 'file', this.#apply(file.entry));
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
