/**
 * Cuts a byte stream (a pxar archive) into content-defined chunks with the PBS buzhash chunker.
 * `dynamicChunks` yields each chunk in a buffer taken from the backup writer's `ChunkBuffers`
 * (the writer then owns it), so no chunk is allocated afresh; input buffers are only referenced
 * until their chunk is complete, so memory stays under one maximum chunk (16 MiB at the default
 * average) plus the producer's buffers and the writer's chunks in flight.
 */
import { BuzhashChunker } from './buzhash-chunker.ts';
import type { ChunkBuffer, ChunkBuffers } from './chunk-buffers.ts';

/** One chunk as the pieces of input it spans. */
interface Pieces {
  readonly parts: readonly Uint8Array[];
  readonly total: number;
}

async function* chunkPieces(source: AsyncIterable<Uint8Array>, avg?: number): AsyncGenerator<Pieces> {
  const chunker = new BuzhashChunker(avg);
  let parts: Uint8Array[] = [];
  let total = 0;
  for await (const input of source) {
    let buf = input;
    while (buf.length > 0) {
      const cut = chunker.scan(buf);
      if (cut === 0) {
        parts.push(buf);
        total += buf.length;
        break;
      }
      parts.push(buf.subarray(0, cut));
      yield { parts, total: total + cut };
      parts = [];
      total = 0;
      buf = buf.subarray(cut);
    }
  }
  if (total > 0) yield { parts, total };
}

function copyPieces(p: Pieces, out: Uint8Array): void {
  let o = 0;
  for (const part of p.parts) {
    out.set(part, o);
    o += part.length;
  }
}

/** Each chunk in a buffer of `buffers`, owned by the consumer. */
export async function* dynamicChunks(source: AsyncIterable<Uint8Array>, buffers: ChunkBuffers, avg?: number): AsyncGenerator<ChunkBuffer> {
  for await (const p of chunkPieces(source, avg)) {
    const chunk = await buffers.take(p.total);
    copyPieces(p, chunk.data);
    yield chunk;
  }
}
