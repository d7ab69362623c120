/**
 * FileSink: writes one restored file's data, in order, without making the caller wait for the
 * disk, and around the page cache (O_DIRECT) where the filesystem takes it.
 *
 * Why: a restore's main thread decodes (SHA-256 of every chunk, zstd, pxar) while the disk takes
 * the data. Awaiting each write before decoding on serialised the two. And a cached write copies
 * every byte into fresh page cache: on a VM whose host takes free guest memory back (free page
 * reporting, as on this project's test machines) each page first touched also costs a host
 * fault, about 1 s of CPU per GiB restored here; a direct write of the same GiB costs ~0.5 s of
 * device time and almost no CPU (docs/benchmarks.md).
 *
 * Invariants:
 * - `write` copies the bytes into a pooled, page-aligned buffer before it returns, so the caller
 *   may reuse or drop its memory at once. It waits only for a free buffer: at most `pool.max`
 *   buffers are filled or in flight over all files, which bounds a restore's write memory.
 * - A buffer covers file offsets from a multiple of ALIGN. Whole zero blocks (ALIGN bytes) are
 *   not written but skipped, so they read back as holes, as PBS's extractor makes them; the file
 *   must be new (an unwritten range reads as zeros), which is how restore opens it.
 * - The last block is padded with zeros to ALIGN and `finish` truncates the file to its real size,
 *   which also makes a trailing hole.
 * - `finish` resolves only once every write of the file has succeeded and the size is set; the
 *   first failed write fails `finish` and every later `write`. Nothing is retried, except that a
 *   direct write the filesystem refuses (EINVAL: it took O_DIRECT at open but not for I/O) is
 *   made again through a buffered descriptor of the same file, which takes every later write.
 * - The caller closes the handle(s) with `close`, also after a failure.
 */
import { constants as fsc, promises as fsp } from 'node:fs';
import { ALIGN, AlignedPool } from '../core/aligned-pool.ts';

const ZERO = Buffer.alloc(ALIGN);

/** Whether `bytes[from, to)` (at most ALIGN bytes) is all zeros. */
function isZeroRange(bytes: Uint8Array, from: number, to: number): boolean {
  // Dense data almost always has a non-zero first or last byte: answered without a view and a
  // memcmp per 4 KiB (a quarter of a million of each per GiB restored).
  if (bytes[from] !== 0 || bytes[to - 1] !== 0) return false;
  return Buffer.compare(Buffer.from(bytes.buffer, bytes.byteOffset + from, to - from), ZERO.subarray(0, to - from)) === 0;
}

const isEinval = (e: unknown): boolean => (e as NodeJS.ErrnoException | undefined)?.code === 'EINVAL';

/** Restored data filled or in flight: 8 × 4 MiB, shared by every restore of the process. */
export const RESTORE_POOL = new AlignedPool(8, 4 * 1024 * 1024);

/**
 * Creates `path` (`flags` must include O_CREAT | O_EXCL) and a sink on it: with O_DIRECT when
 * `direct` and the filesystem takes it. A refusal is EINVAL, which Linux reports after it has
 * created the file, so the file is then opened again without it: it is ours, the create was
 * exclusive. `refused` tells the caller to stop asking for O_DIRECT on that filesystem.
 */
export async function createFileSink(path: Buffer, flags: number, mode: number, direct: boolean, pool: AlignedPool = RESTORE_POOL): Promise<{ readonly sink: FileSink; readonly refused: boolean }> {
  if (direct) {
    try {
      return { sink: new FileSink(await fsp.open(path, flags | fsc.O_DIRECT, mode), path, true, pool), refused: false };
    } catch (e) {
      if (!isEinval(e)) throw e;
    }
    return { sink: new FileSink(await fsp.open(path, fsc.O_WRONLY | fsc.O_NOFOLLOW), path, false, pool), refused: true };
  }
  return { sink: new FileSink(await fsp.open(path, flags, mode), path, false, pool), refused: false };
}

export class FileSink {
  readonly #path: Buffer;
  readonly #pool: AlignedPool;
  #handle: fsp.FileHandle;
  #direct: boolean;
  /** the switch to a buffered descriptor, once a direct write was refused */
  #reopen: Promise<void> | undefined;
  /** the direct descriptor after that switch, closed by `close` */
  #retired: fsp.FileHandle | undefined;
  /** the buffer being filled and the file offset of its first byte */
  #buf: Uint8Array | undefined;
  #bufStart = 0;
  #bufFill = 0;
  /** bytes of file data taken so far */
  #size = 0;
  /** end of the last byte range written (padding included) */
  #extent = 0;
  readonly #inflight = new Set<Promise<void>>();
  #error: Error | undefined;

  constructor(handle: fsp.FileHandle, path: Buffer, direct: boolean, pool: AlignedPool) {
    this.#handle = handle;
    this.#path = path;
    this.#direct = direct;
    this.#pool = pool;
  }

  /** Whether writes still go around the page cache. */
  get direct(): boolean {
    return this.#direct;
  }

  async write(bytes: Uint8Array): Promise<void> {
    this.#throwIfFailed();
    let at = 0;
    while (at < bytes.length) {
      if (this.#buf === undefined) {
        this.#buf = await this.#pool.take();
        this.#throwIfFailed();
        this.#bufStart = this.#size;
        this.#bufFill = 0;
      }
      const n = Math.min(bytes.length - at, this.#buf.length - this.#bufFill);
      this.#buf.set(bytes.subarray(at, at + n), this.#bufFill);
      this.#bufFill += n;
      this.#size += n;
      at += n;
      if (this.#bufFill === this.#buf.length) this.#submit();
    }
  }

  /** Writes what is buffered, waits for every write, and sets the file's size. */
  async finish(): Promise<void> {
    this.#submit();
    await this.#settled();
    this.#throwIfFailed();
    if (this.#extent !== this.#size) await this.#handle.truncate(this.#size);
  }

  /** fsync(2) of the file, after `finish` (a direct write's data is on the device, its size is not). */
  async sync(): Promise<void> {
    await this.#handle.sync();
  }

  /** Waits for writes in flight (their outcome is `finish`'s), then closes every descriptor. */
  async close(): Promise<void> {
    if (this.#buf !== undefined) this.#pool.give(this.#buf);
    this.#buf = undefined;
    await this.#settled();
    const handles = this.#retired === undefined ? [this.#handle] : [this.#handle, this.#retired];
    const results = await Promise.allSettled(handles.map((h) => h.close()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  }

  #throwIfFailed(): void {
    if (this.#error !== undefined) throw this.#error;
  }

  async #settled(): Promise<void> {
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
  }

  /** Starts writing the buffer being filled; the buffer goes back to the pool when it is done. */
  #submit(): void {
    const buf = this.#buf;
    if (buf === undefined) return;
    this.#buf = undefined;
    const start = this.#bufStart;
    const fill = this.#bufFill;
    const p = this.#writeBlocks(buf, start, fill)
      .catch((e: unknown) => {
        this.#error ??= e instanceof Error ? e : new Error(String(e));
      })
      .finally(() => {
        this.#pool.give(buf);
        this.#inflight.delete(p);
      });
    this.#inflight.add(p);
  }

  /** Writes the non-zero blocks of `buf[0, fill)` at `start`, the last one padded to ALIGN. */
  async #writeBlocks(buf: Uint8Array, start: number, fill: number): Promise<void> {
    const padded = Math.ceil(fill / ALIGN) * ALIGN;
    buf.fill(0, fill, padded);
    let run = 0; // start of the pending run of non-zero blocks
    for (let at = 0; at < padded; at += ALIGN) {
      if (!isZeroRange(buf, at, at + ALIGN)) continue;
      if (at > run) await this.#put(buf, run, at, start);
      run = at + ALIGN;
    }
    if (padded > run) await this.#put(buf, run, padded, start);
  }

  async #put(buf: Uint8Array, from: number, to: number, start: number): Promise<void> {
    for (let at = from; at < to; ) {
      const handle = this.#handle;
      let written: number;
      try {
        ({ bytesWritten: written } = await handle.write(buf, at, to - at, start + at));
      } catch (e) {
        if (!(this.#direct && isEinval(e))) throw e;
        await this.#fallBackToBuffered();
        continue;
      }
      if (written === 0) throw Object.assign(new Error(`write to ${this.#path.toString()} made no progress`), { code: 'EIO' });
      at += written;
      this.#extent = Math.max(this.#extent, start + at);
    }
  }

  /** Reopens the same file without O_DIRECT, once, for every write in flight and after. */
  #fallBackToBuffered(): Promise<void> {
    this.#reopen ??= (async () => {
      const buffered = await fsp.open(this.#path, fsc.O_WRONLY | fsc.O_NOFOLLOW);
      this.#retired = this.#handle;
      this.#handle = buffered;
      this.#direct = false;
    })();
    return this.#reopen;
  }
}
