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
 *   logical block size; ALIGN (4096) covers every common device. Data that starts at an aligned
 *   address (the server's upload slots, core/slot-pool.ts) is written in place, all but its last
 *   partial block; the rest, and all of any other data, is copied into a pooled, page-aligned
 *   buffer (core/aligned-pool.ts), SLOT bytes at a time. The last piece is padded with zeros up
 *   to ALIGN, and the file is then truncated back to its real end, so it holds exactly the data.
 *   Hence a direct write must start at a multiple of ALIGN and end the file (whole-file writes).
 *   Writing in place saves the server a copy of every chunk it stores (0.1–0.2 CPU-s per GiB).
 * - A direct read lands in place when the caller's buffer is aligned and has room for the size
 *   rounded up to ALIGN (the reader session's pooled buffers, core/buffer-pool.ts); otherwise it
 *   goes through the same pooled buffers, SLOT bytes at a time, and is copied out. That copy
 *   replaces the kernel's copy from the page cache, so it costs nothing a cached read would not.
 * - The caller's bytes are only read by a write and only written up to the rounded size by a
 *   read; `directIoStats` counts the bytes moved each way (tests, status).
 * - At most MAX_SLOTS buffers ever exist (they are never freed, so no view outlives its memory);
 *   a write waits for a free one. libuv runs 16 file operations at once, so more would only queue.
 * - Durability is unchanged: a direct write may still sit in the device's volatile cache, and the
 *   file's size and extents are metadata. The fsync/syncfs barriers stay exactly as for buffered
 *   writes; this module never syncs anything.
 */
import type { promises as fsp } from 'node:fs';
import { ALIGN, AlignedPool, isAligned } from '../core/aligned-pool.ts';

export { ALIGN };
/** One 4 MiB chunk with its blob header in one write; larger chunks take several. */
const SLOT = 4 * 1024 * 1024 + 64 * 1024;
const MAX_SLOTS = 16;

const pool = new AlignedPool(MAX_SLOTS, SLOT);
const stats = { inPlaceBytes: 0, copiedBytes: 0 };
const take = (): Promise<Uint8Array> => pool.take();
const give = (slot: Uint8Array): void => pool.give(slot);

/** Aligned buffers made so far and free now (tests, status). */
export function directSlots(): { readonly made: number; readonly free: number; readonly max: number } {
  return pool.stats();
}

/** Bytes written or read in place and through a copy since the process started. */
export function directIoStats(): { readonly inPlaceBytes: number; readonly copiedBytes: number } {
  return { ...stats };
}

/**
 * Writes all of `data` at `position` (a multiple of ALIGN) through `h`, opened with O_DIRECT, and
 * leaves the file ending where the data ends. Node's errors are thrown as they are (EINVAL when
 * the filesystem accepts O_DIRECT at open but not at write); the caller maps them.
 */
export async function writeDirect(h: fsp.FileHandle, data: Uint8Array, position: number): Promise<void> {
  if (position % ALIGN !== 0) throw new RangeError(`a direct write must start at a multiple of ${ALIGN}, not ${position}`);
  const inPlace = isAligned(data) ? data.length - (data.length % ALIGN) : 0;
  if (inPlace > 0) {
    await writeFully(h, data, inPlace, position);
    stats.inPlaceBytes += inPlace;
  }
  if (inPlace < data.length) await writeCopied(h, data.subarray(inPlace), position + inPlace);
  if (data.length % ALIGN !== 0) await h.truncate(position + data.length);
}

/** Writes `data` (its length a multiple of ALIGN, from an aligned buffer) at `position`. */
async function writeFully(h: fsp.FileHandle, data: Uint8Array, length: number, position: number): Promise<void> {
  let done = 0;
  while (done < length) {
    const { bytesWritten } = await h.write(data, done, length - done, position + done);
    if (bytesWritten === 0) throw Object.assign(new Error(`direct write made no progress at ${position + done}`), { code: 'EIO' });
    done += bytesWritten;
  }
}

/** Writes `data` through pooled aligned buffers, the last piece padded with zeros to ALIGN. */
async function writeCopied(h: fsp.FileHandle, data: Uint8Array, position: number): Promise<void> {
  const slot = await take();
  try {
    for (let off = 0; off < data.length; off += SLOT) {
      const n = Math.min(SLOT, data.length - off);
      const padded = Math.ceil(n / ALIGN) * ALIGN;
      slot.set(data.subarray(off, off + n));
      slot.fill(0, n, padded);
      await writeFully(h, slot, padded, position + off);
      stats.copiedBytes += n;
    }
  } finally {
    give(slot);
  }
}

/**
 * Reads the whole file behind `h` (opened with O_DIRECT; `size` from its fstat) into `into` when it
 * fits, else into a new buffer, and returns the bytes read (fewer than `size` only if the file
 * shrank meanwhile). Node's errors are thrown as they are; EINVAL means the filesystem refuses
 * direct reads, and the caller reads through the cache instead.
 */
export async function readDirect(h: fsp.FileHandle, size: number, into?: Uint8Array): Promise<Uint8Array> {
  const rounded = Math.ceil(size / ALIGN) * ALIGN;
  if (into !== undefined && rounded <= into.length && isAligned(into)) return readInPlace(h, size, rounded, into);
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
      stats.copiedBytes += n;
      got += n;
      if (piece < want) break;
    }
  } finally {
    give(slot);
  }
  return got === size ? out : out.subarray(0, got);
}

/** readDirect straight into `into` (aligned, at least `rounded` bytes long). */
async function readInPlace(h: fsp.FileHandle, size: number, rounded: number, into: Uint8Array): Promise<Uint8Array> {
  let got = 0;
  while (got < rounded) {
    const { bytesRead } = await h.read(into, got, rounded - got, got);
    if (bytesRead === 0) break;
    got += bytesRead;
    if (bytesRead % ALIGN !== 0) break; // end of file: a direct read stops short there
  }
  const n = Math.min(got, size);
  stats.inPlaceBytes += n;
  return into.subarray(0, n);
}
