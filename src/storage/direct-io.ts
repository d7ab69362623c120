/**
 * Reads and writes that bypass the page cache (O_DIRECT): files opened with the `wx-direct` mode
 * of the Fs port, and `readFile(path, into, { direct: true })`. Both are for chunk data, which is
 * written once and read rarely (restore, verify, a sync's source). Cached, it only evicts what the
 * server does read again, and each page it first touches costs a page allocation and a copy. On a
 * VM whose host takes back free guest memory (free page reporting, as on this project's 2-core
 * test machines), that first touch also costs a host fault: 6.7 s of CPU for a 1 GiB file written
 * to fresh page cache, against 0.1 s for the same file overwritten. The target of a pull sync spent
 * more CPU in that copy than in everything else (docs/benchmarks.md).
 *
 * Invariants:
 * - O_DIRECT needs the buffer address, the file offset and the length aligned to the device's
 *   logical block size; ALIGN (4096) covers every common device. The data is copied into a
 *   pooled, page-aligned native buffer (core/aligned-pool.ts), SLOT bytes at a time; the last
 *   piece is padded with zeros up to ALIGN, and the file is then truncated back to its real end,
 *   so it holds exactly the data. Hence a direct write must start at a multiple of ALIGN and end
 *   the file (whole-file writes).
 * - A direct read goes through the same buffers: SLOT bytes at a time into an aligned buffer, then
 *   copied out. The copy replaces the kernel's copy from the page cache, so it costs nothing a
 *   cached read would not.
 * - At most MAX_SLOTS buffers ever exist (they are never freed, so no view outlives its memory);
 *   a write waits for a free one. libuv runs 16 file operations at once, so more would only queue.
 * - Durability is unchanged: a direct write may still sit in the device's volatile cache, and the
 *   file's size and extents are metadata. The fsync/syncfs barriers stay exactly as for buffered
 *   writes; this module never syncs anything.
 */
import type { promises as fsp } from 'node:fs';
import { ALIGN, AlignedPool } from '../core/aligned-pool.ts';

export { ALIGN };
/** One 4 MiB chunk with its blob header in one write; larger chunks take several. */
const SLOT = 4 * 1024 * 1024 + 64 * 1024;
const MAX_SLOTS = 16;

const pool = new AlignedPool(MAX_SLOTS, SLOT);
const take = (): Promise<Uint8Array> => pool.take();
const give = (slot: Uint8Array): void => pool.give(slot);

/** Aligned buffers made so far and free now (tests, status). */
export function directSlots(): { readonly made: number; readonly free: number; readonly max: number } {
  return pool.stats();
}

/**
 * Writes all of `data` at `position` (a multiple of ALIGN) through `h`, opened with O_DIRECT, and
 * leaves the file ending where the data ends. Node's errors are thrown as they are (EINVAL when
 * the filesystem accepts O_DIRECT at open but not at write); the caller maps them.
 */
export async function writeDirect(h: fsp.FileHandle, data: Uint8Array, position: number): Promise<void> {
  if (position % ALIGN !== 0) throw new RangeError(`a direct write must start at a multiple of ${ALIGN}, not ${position}`);
  const slot = await take();
  try {
    for (let off = 0; off < data.length; off += SLOT) {
      const n = Math.min(SLOT, data.length - off);
      const padded = Math.ceil(n / ALIGN) * ALIGN;
      slot.set(data.subarray(off, off + n));
      slot.fill(0, n, padded);
      let done = 0;
      while (done < padded) {
        const { bytesWritten } = await h.write(slot, done, padded - done, position + off + done);
        if (bytesWritten === 0) throw Object.assign(new Error(`direct write made no progress at ${position + off + done}`), { code: 'EIO' });
        done += bytesWritten;
      }
    }
  } finally {
    give(slot);
  }
  if (data.length % ALIGN !== 0) await h.truncate(position + data.length);
}

/**
 * Reads the whole file behind `h` (opened with O_DIRECT; `size` from its fstat) into `into` when it
 * fits, else into a new buffer, and returns the bytes read (fewer than `size` only if the file
 * shrank meanwhile). Node's errors are thrown as they are; EINVAL means the filesystem refuses
 * direct reads, and the caller reads through the cache instead.
 */
export async function readDirect(h: fsp.FileHandle, size: number, into?: Uint8Array): Promise<Uint8Array> {
  const out = into !== undefined && size <= into.length ? into.subarray(0, size) : Buffer.allocUnsafe(size);
  const slot = await take();
  let got = 0;
  try {
    while (got < size) {
      const want = Math.min(SLOT, Math.ceil((size - got) / ALIGN) * ALIGN);
      let piece = 0;
      while (piece < want) {
        const { bytesRead } = await h.read(slot, piece, want - piece, got + piece);
        if (bytesRead === 0) break;
        piece += bytesRead;
        if (bytesRead % ALIGN !== 0) break; // end of file: a direct read stops short there
      }
      const n = Math.min(piece, size - got);
      out.set(slot.subarray(0, n), got);
      got += n;
      if (piece < want) break;
    }
  } finally {
    give(slot);
  }
  return got === size ? out : out.subarray(0, got);
}
