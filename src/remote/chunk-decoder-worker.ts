/**
 * Worker side of `pooledChunkDecoder`: decodes and checks one chunk in the two buffers it was
 * lent, and hands both back by transfer with where the plaintext lies. Nothing is copied.
 */
import { CryptConfig } from '../format/crypt-config.ts';
import { runDecoderJob, type DecoderJob, type WorkerAnswer } from './chunk-decoder.ts';

const configs = new Map<string, CryptConfig>();

export function handle(job: DecoderJob): { value: unknown; transfer: ArrayBuffer[] } {
  let crypt: CryptConfig | undefined;
  if (job.keyHex) {
    crypt = configs.get(job.keyHex);
    if (!crypt) configs.set(job.keyHex, (crypt = new CryptConfig(Buffer.from(job.keyHex, 'hex'))));
  }
  const value: WorkerAnswer = { answer: runDecoderJob(job, crypt), raw: job.raw, output: job.output };
  return { value, transfer: [job.raw.buffer as ArrayBuffer, job.output.buffer as ArrayBuffer] };
}
