/**
 * The two digests every S3 PUT body needs: Content-MD5 (so the store refuses bytes damaged on the
 * way, and its ETag tells what it holds) and the SigV4 payload SHA-256 (`x-amz-content-sha256`,
 * signed). For a 4 MiB chunk they cost the event loop several milliseconds each, a third of the
 * server's main thread at full ingest; so bodies from `OFF_THREAD_BYTES` up are hashed on a worker
 * thread (one pass each; bytes in shared memory are read in place, others copied there: the
 * caller's buffer stays usable either way), smaller ones inline.
 *
 * The SDK's signer takes the payload hash from the `x-amz-content-sha256` header when it is set
 * (@smithy/signature-v4 getPayloadHash), so the body is not hashed a second time there.
 */
import { createHash } from 'node:crypto';
import { WorkerPool } from '../core/worker-pool.ts';

export interface PayloadHashes {
  readonly md5Base64: string;
  readonly md5Hex: string;
  readonly sha256Hex: string;
}

/** Below this a worker round trip costs more than the hashing it saves. */
export const OFF_THREAD_BYTES = 256 * 1024;

export function payloadHashes(bytes: Uint8Array): PayloadHashes {
  const md5 = createHash('md5').update(bytes).digest();
  return { md5Base64: md5.toString('base64'), md5Hex: md5.toString('hex'), sha256Hex: createHash('sha256').update(bytes).digest('hex') };
}

/** Hashes PUT bodies, large ones on one worker thread started at first use. */
export class PayloadHasher {
  #pool: WorkerPool | undefined;
  #closed = false;

  async hash(bytes: Uint8Array): Promise<PayloadHashes> {
    if (bytes.byteLength < OFF_THREAD_BYTES || this.#closed) return payloadHashes(bytes);
    this.#pool ??= new WorkerPool(new URL('./s3-payload-hash-worker.ts', import.meta.url), 1);
    return this.#pool.run<PayloadHashes>(bytes);
  }

  /** Stops the worker; later calls hash inline. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#pool?.close();
  }
}
