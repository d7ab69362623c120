/**
 * Cuts a byte stream (a pxar archive) into content-defined chunks with the PBS buzhash chunker.
 * Each chunk is yielded as its own ArrayBuffer (so it can move to a worker without a copy); input
 * buffers are only referenced until their chunk is complete, so memory stays under one maximum
 * chunk (16 MiB at the default average) plus the producer's buffers.
 */
import { BuzhashChunker } from './buzhash-chunker.ts';

function concat(parts: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export async function* dynamicChunks(source: AsyncIterable<Uint8Array>, avg?: number): AsyncGenerator<Uint8Array> {
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
      yield concat(parts, total + cut);
      parts = [];
      total = 0;
      buf = buf.subarray(cut);
    }
  }
  if (total > 0) yield concat(parts, total);
}
