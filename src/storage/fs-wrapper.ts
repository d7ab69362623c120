/**
 * FsWrapper: an `Fs` that passes every call to the `Fs` it wraps. Cross-cutting wrappers (sync
 * counting, fault injection) extend it and override only the calls they change, so a new port
 * method needs one pass-through here, not one in every wrapper.
 */
import type { FileHandle, FileStat, Fs, OpenMode, ReadFileOptions } from './fs-port.ts';

export class FsWrapper implements Fs {
  protected readonly inner: Fs;

  constructor(inner: Fs) {
    this.inner = inner;
  }

  open(path: string, mode: OpenMode, perm?: number): Promise<FileHandle> {
    return this.inner.open(path, mode, perm);
  }
  readFile(path: string, into?: Uint8Array, options?: ReadFileOptions): Promise<Uint8Array> {
    return this.inner.readFile(path, into, options);
  }
  stat(path: string): Promise<FileStat | undefined> {
    return this.inner.stat(path);
  }
  rename(from: string, to: string): Promise<void> {
    return this.inner.rename(from, to);
  }
  unlink(path: string): Promise<void> {
    return this.inner.unlink(path);
  }
  mkdir(path: string, options?: { readonly recursive?: boolean; readonly mode?: number }): Promise<void> {
    return this.inner.mkdir(path, options);
  }
  rmdir(path: string): Promise<void> {
    return this.inner.rmdir(path);
  }
  readdir(path: string): Promise<string[]> {
    return this.inner.readdir(path);
  }
  touchAtime(path: string, atimeMs?: number): Promise<void> {
    return this.inner.touchAtime(path, atimeMs);
  }
  fsyncDir(path: string): Promise<void> {
    return this.inner.fsyncDir(path);
  }
  syncfs(path: string): Promise<void> {
    return this.inner.syncfs(path);
  }
}
