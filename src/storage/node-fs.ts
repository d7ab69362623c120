/**
 * NodeFs: the real `Fs` adapter over node:fs/promises plus the native syncfs/utimensat calls.
 * This is the only module that turns errno codes into HoldfastErrors (see the port's contract).
 */
import { promises as fsp, constants as fsc } from 'node:fs';
import type { Stats } from 'node:fs';
type NodeHandle = fsp.FileHandle;
import { fail, type HoldfastError } from '../core/errors.ts';
import type { FileHandle, FileStat, Fs, OpenMode, ReadFileOptions } from './fs-port.ts';
import { readDirect, writeDirect } from './direct-io.ts';
import { ErrnoError, startWriteback as nativeStartWriteback, syncfs as nativeSyncfs, touchAtime as nativeTouchAtime } from './native.ts';
import os from 'node:os';

const ERRNO_NAMES = new Map<number, string>(Object.entries(os.constants.errno).map(([k, v]) => [v, k]));

export function mapErrno(e: unknown, op: string, path: string): HoldfastError {
  let errno: string | undefined;
  if (e instanceof ErrnoError) errno = ERRNO_NAMES.get(e.errno) ?? String(e.errno);
  else if (e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string') errno = (e as NodeJS.ErrnoException).code;
  const details = { op, path, errno };
  const sync = op === 'fsync' || op === 'fsyncDir' || op === 'syncfs';
  if (sync) return fail('SYNC_FAILED', `${op} of ${path} failed: ${errno ?? String(e)}`, details, e);
  switch (errno) {
    case 'ENOENT':
      return fail('NOT_FOUND', `${op}: ${path} does not exist`, details, e);
    case 'EEXIST':
      return fail('ALREADY_EXISTS', `${op}: ${path} exists already`, details, e);
    case 'ENOTEMPTY':
      return fail('DIRECTORY_NOT_EMPTY', `${op}: ${path} is not empty`, details, e);
    default:
      return fail('IO_ERROR', `${op} ${path} failed: ${errno ?? String(e)}`, details, e);
  }
}

function toStat(s: Stats): FileStat {
  return {
    size: s.size,
    isFile: s.isFile(),
    isDirectory: s.isDirectory(),
    isSymlink: s.isSymbolicLink(),
    ino: s.ino,
    mode: s.mode,
    atimeMs: s.atimeMs,
    mtimeMs: s.mtimeMs,
  };
}

const FLAGS: Record<OpenMode, number> = {
  r: fsc.O_RDONLY,
  w: fsc.O_WRONLY | fsc.O_CREAT | fsc.O_TRUNC,
  wx: fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL,
  'wx-direct': fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_DIRECT,
  'r+': fsc.O_RDWR,
};

const isEinval = (e: unknown): boolean => (e as NodeJS.ErrnoException | undefined)?.code === 'EINVAL';

class NodeFileHandle implements FileHandle {
  #h: NodeHandle;
  readonly #path: string;
  /** opened with O_DIRECT: writes go through direct-io.ts */
  #direct: boolean;
  constructor(h: NodeHandle, path: string, direct = false) {
    this.#h = h;
    this.#direct = direct;
    this.#path = path;
  }
  async #do<T>(op: string, f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (e) {
      throw mapErrno(e, op, this.#path);
    }
  }
  /** Whether writes bypass the page cache (tests). */
  get direct(): boolean {
    return this.#direct;
  }
  async write(data: Uint8Array, position: number): Promise<void> {
    if (this.#direct) {
      try {
        await writeDirect(this.#h, data, position);
        return;
      } catch (e) {
        if (!isEinval(e)) throw mapErrno(e, 'write', this.#path);
        // The filesystem took O_DIRECT at open but refuses it for I/O (some FUSE and network
        // filesystems): the same file, reopened without it, takes the write through the cache.
        await this.#reopenBuffered();
      }
    }
    let done = 0;
    while (done < data.length) {
      const { bytesWritten } = await this.#do('write', () =>
        this.#h.write(data, done, data.length - done, position + done),
      );
      if (bytesWritten === 0) throw fail('IO_ERROR', `write to ${this.#path} made no progress`, { path: this.#path });
      done += bytesWritten;
    }
  }
  async read(position: number, length: number): Promise<Uint8Array> {
    const buf = Buffer.allocUnsafe(length);
    let got = 0;
    while (got < length) {
      const { bytesRead } = await this.#do('read', () => this.#h.read(buf, got, length - got, position + got));
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return got === length ? buf : buf.subarray(0, got);
  }
  truncate(length: number): Promise<void> {
    return this.#do('truncate', () => this.#h.truncate(length));
  }
  async stat(): Promise<FileStat> {
    return toStat(await this.#do('fstat', () => this.#h.stat()));
  }
  sync(): Promise<void> {
    return this.#do('fsync', () => this.#h.sync());
  }
  async startWriteback(): Promise<void> {
    if (this.#direct) return; // a direct write left nothing in the cache to start
    await this.#do('sync_file_range', () => nativeStartWriteback(this.#h.fd));
  }
  close(): Promise<void> {
    return this.#do('close', () => this.#h.close());
  }
  async #reopenBuffered(): Promise<void> {
    const buffered = await this.#do('open', () => fsp.open(this.#path, fsc.O_WRONLY));
    const direct = this.#h;
    this.#h = buffered;
    this.#direct = false;
    await direct.close().catch(() => undefined);
  }
}

export class NodeFs implements Fs {
  async #do<T>(op: string, path: string, f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (e) {
      throw mapErrno(e, op, path);
    }
  }
  async open(path: string, mode: OpenMode, perm = 0o644): Promise<FileHandle> {
    if (mode === 'wx-direct') return this.#openDirect(path, perm);
    const h = await this.#do('open', path, () => fsp.open(path, FLAGS[mode], perm));
    return new NodeFileHandle(h, path);
  }
  /**
   * O_DIRECT where the filesystem takes it, else a plain 'wx' open. A refusal is EINVAL, which
   * Linux reports after it has created the file: the fallback then opens that file, which is
   * ours (the create was exclusive), instead of failing on its existence.
   */
  async #openDirect(path: string, perm: number): Promise<FileHandle> {
    try {
      return new NodeFileHandle(await fsp.open(path, FLAGS['wx-direct'], perm), path, true);
    } catch (e) {
      if (!isEinval(e)) throw mapErrno(e, 'open', path);
    }
    try {
      return new NodeFileHandle(await fsp.open(path, FLAGS.wx, perm), path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw mapErrno(e, 'open', path);
    }
    return new NodeFileHandle(await this.#do('open', path, () => fsp.open(path, fsc.O_WRONLY)), path);
  }
  async readFile(path: string, into?: Uint8Array, options: ReadFileOptions = {}): Promise<Uint8Array> {
    if (options.direct === true) {
      const bytes = await this.#readDirect(path, into);
      if (bytes !== undefined) return bytes;
    }
    return this.#do('read', path, () => (into === undefined ? fsp.readFile(path) : readInto(path, into)));
  }
  /** The file read with O_DIRECT, or undefined when the filesystem refuses it (EINVAL). */
  async #readDirect(path: string, into: Uint8Array | undefined): Promise<Uint8Array | undefined> {
    let h: NodeHandle;
    try {
      h = await fsp.open(path, fsc.O_RDONLY | fsc.O_DIRECT);
    } catch (e) {
      if (isEinval(e)) return undefined;
      throw mapErrno(e, 'read', path);
    }
    try {
      const { size } = await h.stat();
      return await readDirect(h, size, into);
    } catch (e) {
      if (isEinval(e)) return undefined;
      throw mapErrno(e, 'read', path);
    } finally {
      await h.close().catch(() => undefined);
    }
  }
  async stat(path: string): Promise<FileStat | undefined> {
    try {
      return toStat(await fsp.lstat(path));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw mapErrno(e, 'stat', path);
    }
  }
  rename(from: string, to: string): Promise<void> {
    return this.#do('rename', to, () => fsp.rename(from, to));
  }
  unlink(path: string): Promise<void> {
    return this.#do('unlink', path, () => fsp.unlink(path));
  }
  async mkdir(path: string, options: { readonly recursive?: boolean; readonly mode?: number } = {}): Promise<void> {
    await this.#do('mkdir', path, () => fsp.mkdir(path, { recursive: options.recursive ?? false, mode: options.mode ?? 0o755 }));
  }
  rmdir(path: string): Promise<void> {
    return this.#do('rmdir', path, () => fsp.rmdir(path));
  }
  readdir(path: string): Promise<string[]> {
    return this.#do('readdir', path, () => fsp.readdir(path));
  }
  async touchAtime(path: string, atimeMs?: number): Promise<void> {
    try {
      nativeTouchAtime(path, atimeMs);
    } catch (e) {
      throw mapErrno(e, 'utimensat', path);
    }
  }
  async fsyncDir(path: string): Promise<void> {
    const h = await this.#do('open', path, () => fsp.open(path, fsc.O_RDONLY | fsc.O_DIRECTORY));
    try {
      await this.#do('fsyncDir', path, () => h.sync());
    } finally {
      await h.close();
    }
  }
  async syncfs(path: string): Promise<void> {
    const h = await this.#do('open', path, () => fsp.open(path, fsc.O_RDONLY | fsc.O_DIRECTORY));
    try {
      await this.#do('syncfs', path, () => nativeSyncfs(h.fd));
    } finally {
      await h.close();
    }
  }
}

/**
 * A whole file read into `into`: open, reads until end of file, close. Besides sparing an
 * allocation, that is four calls into the thread pool for a 4 MiB chunk where fsp.readFile makes
 * eleven (an fstat and 512 KiB reads). A file larger than `into` continues into a new buffer.
 */
async function readInto(path: string, into: Uint8Array): Promise<Uint8Array> {
  const h = await fsp.open(path, 'r');
  try {
    let filled = 0;
    while (filled < into.byteLength) {
      const { bytesRead } = await h.read(into, filled, into.byteLength - filled, null);
      if (bytesRead === 0) return into.subarray(0, filled);
      filled += bytesRead;
    }
    const rest = await h.readFile(); // from the current position on
    if (rest.byteLength === 0) return into;
    return Buffer.concat([into, rest]);
  } finally {
    await h.close();
  }
}
