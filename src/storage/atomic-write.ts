/**
 * The one routine through which Holdfast writes a file. It writes a temp file named after the
 * target, checks the length, fsyncs if asked, closes, renames over the target, and fsyncs the
 * directory if asked. On any failure the temp file is removed and the target is untouched, so a
 * reader sees either the old file or the complete new one, never a partial one.
 *
 * Invariant: with `durable: true`, the new content and its name are both on stable storage when the
 * promise resolves. A sync error propagates as SYNC_FAILED and is never retried here.
 */
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { fail } from '../core/errors.ts';
import type { Fs } from './fs-port.ts';

export interface AtomicWriteOptions {
  /** fsync the file before the rename and its directory after it. */
  readonly durable: boolean;
  /** without `durable`: start writeback of the data before closing (FileHandle.startWriteback) */
  readonly writeback?: boolean;
  readonly perm?: number;
  /** write around the page cache (the port's 'wx-direct'): for data read rarely, i.e. chunks */
  readonly direct?: boolean;
  /** Suffix stem for the temp file; chunk inserts use `tmp_` so GC can recognise leftovers. */
  readonly tempStem?: string;
}

export const TEMP_MARKER = '.tmp_';

export function tempPathFor(target: string): string {
  return join(dirname(target), `${basename(target)}${TEMP_MARKER}${randomBytes(6).toString('hex')}`);
}

export function isTempName(name: string): boolean {
  return name.includes(TEMP_MARKER);
}

export async function atomicWrite(fs: Fs, target: string, data: Uint8Array, options: AtomicWriteOptions): Promise<void> {
  const tmp = tempPathFor(target);
  const h = await fs.open(tmp, options.direct === true ? 'wx-direct' : 'wx', options.perm ?? 0o644);
  let renamed = false;
  try {
    try {
      await h.write(data, 0);
      const st = await h.stat();
      if (st.size !== data.length) {
        throw fail('IO_ERROR', `short write to ${tmp}: ${st.size} of ${data.length} bytes`, { path: tmp, size: st.size, expected: data.length });
      }
      if (options.durable) await h.sync();
      else if (options.writeback === true) await h.startWriteback();
    } finally {
      await h.close();
    }
    await fs.rename(tmp, target);
    renamed = true;
    if (options.durable) await fs.fsyncDir(dirname(target));
  } catch (e) {
    if (!renamed) await fs.unlink(tmp).catch(() => undefined);
    throw e;
  }
}
