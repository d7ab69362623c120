/**
 * CountingFs: an `Fs` wrapper that counts the sync calls passing through it. The datastore keeps
 * one per open store, so tests, the benchmark and the status API read real per-level counts.
 */
import type { FileHandle, FileStat, Fs, OpenMode, SyncCounts } from './fs-port.ts';

export class CountingFs implements Fs {
  readonly counts: SyncCounts = { fsyncFile: 0, fsyncDir: 0, syncfs: 0 };
  readonly #inner: Fs;
  /** called with every error a sync call throws, before it propagates */
  onSyncError: (e: unknown) => void = () => undefined;
  constructor(inner: Fs) {
    this.#inner = inner;
  }

  async #sync(kind: keyof SyncCounts, call: () => Promise<void>): Promise<void> {
    this.counts[kind]++;
    try {
      await call();
    } catch (e) {
      this.onSyncError(e);
      throw e;
    }
  }
  snapshot(): SyncCounts {
    return { ...this.counts };
  }
  async open(path: string, mode: OpenMode, perm?: number): Promise<FileHandle> {
    const h = await this.#inner.open(path, mode, perm);
    return {
      write: (d, p) => h.write(d, p),
      read: (p, l) => h.read(p, l),
      truncate: (l) => h.truncate(l),
      stat: () => h.stat(),
      sync: () => this.#sync('fsyncFile', () => h.sync()),
      close: () => h.close(),
    };
  }
  readFile(path: string): Promise<Uint8Array> {
    return this.#inner.readFile(path);
  }
  stat(path: string): Promise<FileStat | undefined> {
    return this.#inner.stat(path);
  }
  rename(from: string, to: string): Promise<void> {
    return this.#inner.rename(from, to);
  }
  unlink(path: string): Promise<void> {
    return this.#inner.unlink(path);
  }
  mkdir(path: string, options?: { readonly recursive?: boolean; readonly mode?: number }): Promise<void> {
    return this.#inner.mkdir(path, options);
  }
  rmdir(path: string): Promise<void> {
    return this.#inner.rmdir(path);
  }
  readdir(path: string): Promise<string[]> {
    return this.#inner.readdir(path);
  }
  touchAtime(path: string, atimeMs?: number): Promise<void> {
    return this.#inner.touchAtime(path, atimeMs);
  }
  fsyncDir(path: string): Promise<void> {
    return this.#sync('fsyncDir', () => this.#inner.fsyncDir(path));
  }
  syncfs(path: string): Promise<void> {
    return this.#sync('syncfs', () => this.#inner.syncfs(path));
  }
}
