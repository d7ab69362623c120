/**
 * Cuts a byte stream (a pxar archive) into content-defined chunks with the PBS buzhash chunker.
 * Each chunk is yielded in a buffer of the backup writer's `ChunkBuffers` (the consumer then owns
 * it). Input is copied as it is scanned into a large buffer (`ChunkBuffers.growing`): a chunk
 * over 4 MiB is then sealed in place, a smaller one is copied into a 4 MiB buffer and the large
 * one reused. So an input piece is never referenced after the next one is pulled (the producer may
 * reuse its buffers: `createPxarStream` with `reuseReadBuffer`), and memory stays within the
 * writer's buffers.
 */
import { fail } from '../core/errors.ts';
import { MAX_CHUNK_SIZE } from '../format/blob.ts';
import { BuzhashChunker, chunkerLimits, DEFAULT_AVG_CHUNK_SIZE } from './buzhash-chunker.ts';
import type { ChunkBuffer, ChunkBuffers, GrowingChunk } from '../remote/chunk-buffers.ts';
import { copyBytes } from '../core/byte-copy.ts';

export async function* dynamicChunks(source: AsyncIterable<Uint8Array>, buffers: ChunkBuffers, avg = DEFAULT_AVG_CHUNK_SIZE): AsyncGenerator<ChunkBuffer> {
  if (chunkerLimits(avg).max > MAX_CHUNK_SIZE) throw fail('INVALID_ARGUMENT', `chunk size average ${avg} allows chunks over the protocol's ${MAX_CHUNK_SIZE} bytes`, { value: avg });
  const chunker = new BuzhashChunker(avg); // cuts at 4 × avg at the latest: within the 16 MiB of `room`
  let current: GrowingChunk | undefined;
  let used = 0;
  const emit = async (): Promise<ChunkBuffer> => {
    const length = used;
    used = 0;
    const { chunk, consumed } = await buffers.cut(current!, length);
    if (consumed) current = undefined;
    return chunk;
  };
  try {
    for await (const input of source) {
      let buf = input;
      while (buf.length > 0) {
        current ??= await buffers.growing();
        const cut = chunker.scan(buf);
        const taken = cut === 0 ? buf.length : cut;
        copyBytes(current.room, buf.subarray(0, taken), used);
        used += taken;
        if (cut === 0) break;
        yield await emit(); // the rest of `input` is still the producer's current piece: valid
        buf = buf.subarray(cut);
      }
    }
    if (used > 0) yield await emit();
  } finally {
    current?.release();
  }
}
