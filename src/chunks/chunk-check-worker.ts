/**
 * Worker side of `pooledChunkChecker`: runs `checkUploadedChunk` and answers the CRC. Bytes in a
 * SharedArrayBuffer are read where they are; nothing is written to them here.
 */
import { checkUploadedChunk, type ChunkUpload } from './chunk-check.ts';

export function handle(u: ChunkUpload): { value: number; transfer: ArrayBuffer[] } {
  return { value: checkUploadedChunk(u), transfer: [] };
}
