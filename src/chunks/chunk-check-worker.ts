/** Worker side of `pooledChunkChecker`: runs `checkUploadedChunk` and hands the bytes back. */
import { checkUploadedChunk, type ChunkUpload } from './chunk-check.ts';

export function handle(u: ChunkUpload): { value: Uint8Array; transfer: ArrayBuffer[] } {
  const fixed = checkUploadedChunk(u);
  return { value: fixed, transfer: fixed.buffer instanceof ArrayBuffer && fixed.byteLength === fixed.buffer.byteLength ? [fixed.buffer] : [] };
}
