/**
 * Worker side of `pooledChunkDecoder`: decodes and checks one chunk in the two buffers it was
 * lent, and hands both back by transfer with where the plaintext lies. Nothing is copied.
 */
import { runDecoderJob, type DecoderJob, type WorkerAnswer } from './chunk-decoder.ts';
import { cryptForKey } from './worker-crypt.ts';

export function handle(job: DecoderJob): { value: unknown; transfer: ArrayBuffer[] } {
  const value: WorkerAnswer = { answer: runDecoderJob(job, cryptForKey(job.keyHex)), raw: job.raw, output: job.output };
  return { value, transfer: [job.raw.buffer as ArrayBuffer, job.output.buffer as ArrayBuffer] };
}
