/**
 * Worker side of `pooledChunkEncoder`: hashes or encodes one chunk in its shared buffer. Only the
 * digest or the blob's offsets travel back; the bytes stay where they are.
 */
import { CryptConfig } from '../format/crypt-config.ts';
import { runEncoderJob, type EncoderJob } from './chunk-encoder.ts';

const configs = new Map<string, CryptConfig>();

export function handle(job: EncoderJob): { value: unknown; transfer: ArrayBuffer[] } {
  let crypt: CryptConfig | undefined;
  if (job.keyHex) {
    crypt = configs.get(job.keyHex);
    if (!crypt) configs.set(job.keyHex, (crypt = new CryptConfig(Buffer.from(job.keyHex, 'hex'))));
  }
  return { value: runEncoderJob(job, crypt), transfer: [] };
}
