/**
 * CountingFs: an `Fs` wrapper that counts the sync calls passing through it, and the seconds they
 * took (failed calls included). The datastore keeps one per open store, so tests, the benchmark,
 * the status API and `/metrics` read real per-level counts and latencies.
 */
import type { FileHandle, OpenMode, SyncCounts } from './fs-port.ts';
import { FsWrapper } from './fs-wrapper.ts';

export class CountingFs extends FsWrapper {
  readonly counts: SyncCounts = { fsyncFile: 0, fsyncDir: 0, syncfs: 0 };
  readonly seconds: SyncCounts = { fsyncFile: 0, fsyncDir: 0, syncfs: 0 };
  /** called with every error a sync call throws, before it propagates */
  onSyncError: (e: unknown) => void = () => undefined;

  async #sync(kind: keyof SyncCounts, call: () => Promise<void>): Promise<void> {
    this.counts[kind]++;
    const started = process.hrtime.bigint();
    try {
      await call();
    } catch (e) {
      this.onSyncError(e);
      throw e;
    } finally {
      this.seconds[kind] += Number(process.hrtime.bigint() - started) / 1e9;
    }
  }
  snapshot(): SyncCounts {
    return { ...this.counts };
  }

  secondsSnapshot(): SyncCounts {
    return { ...this.seconds };
  }
  override async open(path: string, mode: OpenMode, perm?: number): Promise<FileHandle> {
    const h = await this.inner.open(path, mode, perm);
    return {
      write: (d, p) => h.write(d, p),
      read: (p, l) => h.read(p, l),
      truncate: (l) => h.truncate(l),
      stat: () => h.stat(),
      sync: () => this.#sync('fsyncFile', () => h.sync()),
      startWriteback: () => h.startWriteback(),
      close: () => h.close(),
    };
  }
  override fsyncDir(path: string): Promise<void> {
    return this.#sync('fsyncDir', () => this.inner.fsyncDir(path));
  }
  override syncfs(path: string): Promise<void> {
    return this.#sync('syncfs', () => this.inner.syncfs(path));
  }
}
