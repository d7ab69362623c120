/**
 * Worker side of `pooledChunkEncoder`: hashes or encodes one chunk in its shared buffer. Only the
 * digest or the blob's offsets travel back; the bytes stay where they are.
 */
import { runEncoderJob, type EncoderJob } from './chunk-encoder.ts';
import { cryptForKey } from './worker-crypt.ts';

export function handle(job: EncoderJob): { value: unknown; transfer: ArrayBuffer[] } {
  return { value: runEncoderJob(job, cryptForKey(job.keyHex)), transfer: [] };
}
