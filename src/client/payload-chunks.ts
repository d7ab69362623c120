/**
 * payloadChunks: cuts the payload stream of a split pxar archive (`.ppxar`) into chunks, as the
 * PBS client's chunk stream does (pxar-format.md §8.5). The source yields three kinds of item:
 * - bytes, scanned by a `PayloadChunker`;
 * - `{ suggest }`: the stream offset of a new file's PAYLOAD header, where the chunker prefers to
 *   cut (so that an unchanged file's chunks can be reused on their own next time);
 * - `{ inject }`: whole chunks of the previous payload stream, reused by digest. The bytes before
 *   them become a chunk however small, and the injected chunks pass through as `KnownChunk`s
 *   without being read, hashed or uploaded.
 * Offsets are stream offsets counting injected bytes. Buffer handling is that of dynamicChunks.
 */
import { PayloadChunker, DEFAULT_AVG_CHUNK_SIZE } from './buzhash-chunker.ts';
import type { ChunkBuffer, ChunkBuffers, GrowingChunk } from '../remote/chunk-buffers.ts';
import type { KnownChunk } from '../remote/backup-writer.ts';
import { copyBytes } from '../core/byte-copy.ts';

export type PayloadItem = Uint8Array | { readonly suggest: number } | { readonly inject: readonly KnownChunk[] };

export async function* payloadChunks(source: AsyncIterable<PayloadItem>, buffers: ChunkBuffers, avg = DEFAULT_AVG_CHUNK_SIZE): AsyncGenerator<ChunkBuffer | KnownChunk> {
  const chunker = new PayloadChunker(avg);
  let current: GrowingChunk | undefined;
  let used = 0;
  /** Stream offset where the current chunk starts. */
  let base = 0;
  const emit = async (): Promise<ChunkBuffer> => {
    const length = used;
    used = 0;
    base += length;
    const { chunk, consumed } = await buffers.cut(current!, length);
    if (consumed) current = undefined;
    return chunk;
  };
  try {
    for await (const item of source) {
      if (item instanceof Uint8Array) {
        let buf = item;
        while (buf.length > 0) {
          current ??= await buffers.growing();
          const cut = chunker.scan(buf, { base, total: used + buf.length });
          const taken = cut === 0 ? buf.length : cut;
          copyBytes(current.room, buf.subarray(0, taken), used);
          used += taken;
          if (cut === 0) break;
          yield await emit();
          buf = buf.subarray(cut);
        }
      } else if ('suggest' in item) {
        // A boundary at the end of the bytes scanned so far (the usual case: a file starts right
        // after the previous one's data) cannot wait for the next scan, which would start at it.
        const { min, max } = chunker.limits;
        if (item.suggest === base + used && used >= min && used <= max) {
          yield await emit();
          chunker.reset();
        } else {
          chunker.suggest(item.suggest);
        }
      } else {
        if (used > 0) yield await emit();
        chunker.reset();
        for (const c of item.inject) {
          yield c;
          base += c.size;
        }
      }
    }
    if (used > 0) yield await emit();
  } finally {
    current?.release();
  }
}
