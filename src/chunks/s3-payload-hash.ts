/**
 * The digest every S3 PUT body needs: the SigV4 payload SHA-256 (`x-amz-content-sha256`), which
 * the request signature covers, so the store refuses a body damaged on the way
 * (XAmzContentSHA256Mismatch; a test on the RGW shows it). No Content-MD5 is sent: it protected
 * the same bytes a second time and cost 1.4 s of CPU per GiB ingested (docs/benchmarks.md); the
 * MD5 is computed only where an ETag must be compared (s3-chunk-backend.ts, after a 412). For a
 * 4 MiB chunk the SHA-256 costs the event loop several milliseconds, so bodies from
 * `OFF_THREAD_BYTES` up are hashed on a worker thread (bytes in shared memory are read in place,
 * others copied there: the caller's buffer stays usable either way), smaller ones inline.
 *
 * The SDK's signer takes the payload hash from the `x-amz-content-sha256` header when it is set
 * (@smithy/signature-v4 getPayloadHash), so the body is not hashed a second time there.
 */
import { createHash } from 'node:crypto';
import { WorkerPool } from '../core/worker-pool.ts';

export interface PayloadHashes {
  readonly sha256Hex: string;
}

/** Below this a worker round trip costs more than the hashing it saves. */
export const OFF_THREAD_BYTES = 256 * 1024;

export function payloadHashes(bytes: Uint8Array): PayloadHashes {
  return { sha256Hex: createHash('sha256').update(bytes).digest('hex') };
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
