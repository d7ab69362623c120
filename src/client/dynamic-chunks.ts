/**
 * Cuts a byte stream (a pxar archive) into content-defined chunks with the PBS buzhash chunker.
 * Each chunk is yielded in a buffer taken from the backup writer's `ChunkBuffers` (the consumer
 * then owns it). Input is copied as it is scanned into one buffer of the chunker's maximum size,
 * so an input piece is never referenced after the next one is pulled: the producer may reuse its
 * buffers (`createPxarStream` with `reuseReadBuffer`), and memory stays at that one buffer plus
 * the chunks in flight.
 */
import { BuzhashChunker, chunkerLimits, DEFAULT_AVG_CHUNK_SIZE } from './buzhash-chunker.ts';
import type { ChunkBuffer, ChunkBuffers } from './chunk-buffers.ts';

export async function* dynamicChunks(source: AsyncIterable<Uint8Array>, buffers: ChunkBuffers, avg = DEFAULT_AVG_CHUNK_SIZE): AsyncGenerator<ChunkBuffer> {
  const chunker = new BuzhashChunker(avg);
  // The chunker always cuts at `max`, so the current chunk always fits.
  const current = new Uint8Array(chunkerLimits(avg).max);
  let used = 0;
  const emit = async (): Promise<ChunkBuffer> => {
    const chunk = await buffers.take(used);
    chunk.data.set(current.subarray(0, used));
    used = 0;
    return chunk;
  };
  for await (const input of source) {
    let buf = input;
    while (buf.length > 0) {
      const cut = chunker.scan(buf);
      const taken = cut === 0 ? buf.length : cut;
      current.set(buf.subarray(0, taken), used);
      used += taken;
      if (cut === 0) break;
      yield await emit(); // the rest of `input` is still the producer's current piece: valid
      buf = buf.subarray(cut);
    }
  }
  if (used > 0) yield await emit();
}
