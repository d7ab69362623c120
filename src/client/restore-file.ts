/**
 * Restoring an image or a blob into a file, so that a restore never overwrites without being
 * asked and never leaves something that looks complete.
 *
 * Invariants:
 * - an existing target is refused with ALREADY_EXISTS unless `overwrite` is set, checked before
 *   any byte is downloaded;
 * - a regular-file target is written as `TARGET.partial` (created exclusively), synced, and only
 *   then given its name: by link(2) without `overwrite` (which fails if TARGET appeared in the
 *   meantime) or rename(2) with it. On any failure the partial file is removed, so a failed
 *   restore leaves no TARGET and no 0-byte or truncated file;
 * - an existing block or character device (an image restored onto a disk) is written in place,
 *   and only with `overwrite`. A block device is synced before the restore reports success; a
 *   character device (`/dev/null`, a benchmark's sink) has nothing to sync, and fsync(2) refuses
 *   one with EINVAL, so it is not asked;
 * - in a regular file, runs of zero blocks become holes; a device gets every byte. A regular file
 *   is written through a FileSink (restore-sink.ts): in the background, around the page cache
 *   where the filesystem allows, while the next pieces are decoded.
 */
import { constants as fsc, promises as fsp } from 'node:fs';
import { fail, isHoldfastError } from '../core/errors.ts';
import { createFileSink, type FileSink } from './restore-sink.ts';

export const PARTIAL_SUFFIX = '.partial';

/**
 * The restored bytes, in order. Each piece is written whole before the next is asked for, so a
 * source may reuse a piece's memory from then on (RestoreReader.stream with `recycle`).
 */
export type PieceSource = AsyncIterable<Uint8Array>;

async function existing(target: string): Promise<import('node:fs').Stats | undefined> {
  try {
    return await fsp.stat(target);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw fail('IO_ERROR', `cannot stat restore target ${target}: ${(e as Error).message}`, { path: target }, e);
  }
}

function ioFail(what: string, path: string, e: unknown): Error {
  const errno = (e as NodeJS.ErrnoException).code;
  if (errno === 'EEXIST') return fail('ALREADY_EXISTS', `${path} exists; pass --overwrite to replace it`, { path }, e);
  return fail('IO_ERROR', `${what} ${path}: ${(e as Error).message}`, { path, errno }, e);
}

async function writeAll(handle: fsp.FileHandle, pieces: PieceSource): Promise<number> {
  let bytes = 0;
  for await (const piece of pieces) {
    let off = 0;
    while (off < piece.length) {
      const { bytesWritten } = await handle.write(piece, off, piece.length - off, bytes + off);
      off += bytesWritten;
    }
    bytes += piece.length;
  }
  return bytes;
}

/** Writes `pieces` into a new regular file with runs of zero blocks left as holes, as PBS does. */
async function writeSparse(sink: FileSink, pieces: PieceSource): Promise<number> {
  let bytes = 0;
  for await (const piece of pieces) {
    await sink.write(piece);
    bytes += piece.length;
  }
  await sink.finish();
  return bytes;
}

/** Checks the target before any download: refused when it exists and `overwrite` is not set. */
export async function checkRestoreTarget(target: string, overwrite: boolean): Promise<void> {
  const st = await existing(target);
  if (st && !overwrite) throw fail('ALREADY_EXISTS', `${target} exists; pass --overwrite to replace it`, { path: target });
  if (st?.isDirectory()) throw fail('INVALID_ARGUMENT', `${target} is a directory; an image or blob restores to a file`, { path: target });
}

/** Restores `pieces` into `target` under the invariants above; returns the bytes written. */
export async function restoreToFile(target: string, pieces: PieceSource, overwrite: boolean): Promise<number> {
  await checkRestoreTarget(target, overwrite);
  const st = await existing(target);
  if (st && (st.isBlockDevice() || st.isCharacterDevice())) return writeDevice(target, pieces, st.isBlockDevice());
  const partial = `${target}${PARTIAL_SUFFIX}`;
  const flags = fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL;
  const { sink } = await createFileSink(Buffer.from(partial), flags, 0o666, true).catch((e: unknown) => {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw fail('ALREADY_EXISTS', `${partial} exists, left by an interrupted restore; remove it first`, { path: partial }, e);
    throw ioFail('cannot create', partial, e);
  });
  let bytes: number;
  try {
    try {
      bytes = await writeSparse(sink, pieces);
      await sink.sync();
    } finally {
      await sink.close();
    }
    if (overwrite) await fsp.rename(partial, target).catch((e: unknown) => { throw ioFail('cannot rename to', target, e); });
    else await fsp.link(partial, target).catch((e: unknown) => { throw ioFail('cannot create', target, e); });
  } catch (e) {
    // best effort: the original error is what the user must see
    await fsp.rm(partial, { force: true }).catch(() => undefined);
    throw isHoldfastError(e) ? e : ioFail('cannot write', partial, e);
  }
  await fsp.rm(partial, { force: true });
  return bytes;
}

async function writeDevice(target: string, pieces: PieceSource, durable: boolean): Promise<number> {
  const handle = await fsp.open(target, 'r+').catch((e: unknown) => {
    throw ioFail('cannot open', target, e);
  });
  try {
    const bytes = await writeAll(handle, pieces).catch((e: unknown) => {
      throw isHoldfastError(e) ? e : ioFail('cannot write', target, e);
    });
    if (durable) await handle.sync().catch((e: unknown) => { throw ioFail('cannot sync', target, e); });
    return bytes;
  } finally {
    await handle.close();
  }
}
