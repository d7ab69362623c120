/**
 * Reads a file or block device as fixed 4 MiB chunks for a `.img` archive (PBS §7.1), straight
 * into the backup writer's chunk buffers (no allocation, no copy per chunk). For a block device,
 * whose stat size is 0, the size comes from seeking to its end.
 */
import { open } from 'node:fs/promises';
import { fail } from '../core/errors.ts';
import { FIXED_CHUNK_SIZE } from '../format/fixed-index.ts';
import type { ChunkBuffer, ChunkBuffers } from '../remote/chunk-buffers.ts';

export async function imageSize(path: string): Promise<number> {
  const h = await open(path, 'r').catch((e: unknown) => {
    throw fail('NOT_FOUND', `cannot open image ${path}: ${e instanceof Error ? e.message : 'error'}`, { path }, e);
  });
  try {
    const st = await h.stat();
    if (st.isFile()) return st.size;
    if (st.isBlockDevice()) {
      // Binary search the device end with 1-byte reads; block devices report size 0 in stat.
      let lo = 0;
      let hi = 1;
      const probe = Buffer.alloc(1);
      while ((await h.read(probe, 0, 1, hi)).bytesRead === 1) hi *= 2;
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        if ((await h.read(probe, 0, 1, mid)).bytesRead === 1) lo = mid;
        else hi = mid;
      }
      return hi;
    }
    throw fail('INVALID_ARGUMENT', `${path} is neither a regular file nor a block device`, { path });
  } finally {
    await h.close();
  }
}

/** Yields buffers taken from `buffers`; the consumer owns (and releases) each one it receives. */
export async function* imageChunks(path: string, size: number, buffers: ChunkBuffers): AsyncGenerator<ChunkBuffer> {
  const h = await open(path, 'r');
  try {
    for (let pos = 0; pos < size; pos += FIXED_CHUNK_SIZE) {
      const len = Math.min(FIXED_CHUNK_SIZE, size - pos);
      const chunk = await buffers.take(len);
      try {
        let got = 0;
        while (got < len) {
          const { bytesRead } = await h.read(chunk.data, got, len - got, pos + got);
          if (bytesRead === 0) throw fail('TRUNCATED', `${path} ended at ${pos + got} bytes, expected ${size}`, { path, size });
          got += bytesRead;
        }
      } catch (e) {
        chunk.release();
        throw e;
      }
      yield chunk;
    }
  } finally {
    await h.close();
  }
}
