/**
 * Turns chunks into (digest, DataBlob) pairs: SHA-256 (keyed with the id key when encrypting),
 * zstd level 1 when it does not grow the data, AES-256-GCM when a key is given. The blob is built
 * in place in the chunk's buffer (`encodeBlobInPlace`).
 *
 * Two steps, so the caller can skip a known chunk after hashing it, before any compression:
 * `digest`, then (for new chunks only) `encode`. `pooledChunkEncoder` runs both on worker threads
 * on the chunk's shared memory, which keeps the main thread free for reading, TLS and HTTP/2.
 */
import { fail } from '../core/errors.ts';
import { WorkerPool } from '../core/worker-pool.ts';
import { BLOB_HEADROOM, encodeBlobInPlace } from '../format/blob.ts';
import { CryptConfig, chunkDigest } from '../format/crypt-config.ts';
import type { ChunkBuffer } from './chunk-buffers.ts';

export interface ChunkEncoder {
  /** The chunk's digest (keyed when encrypting). */
  digest(chunk: ChunkBuffer): Promise<Uint8Array>;
  /** Encodes the chunk into a blob inside `chunk.region` and returns it (a view); the data is overwritten. */
  encode(chunk: ChunkBuffer): Promise<Uint8Array>;
  close(): Promise<void>;
}

/** The message a worker gets: the chunk's region (shared, not copied) and what to do. */
export interface EncoderJob {
  readonly op: 'digest' | 'encode';
  readonly region: Uint8Array;
  readonly length: number;
  readonly keyHex: string | undefined;
}

/** Runs one job on `region` in place; `encode` answers the blob's offsets within the region. */
export function runEncoderJob(job: EncoderJob, crypt: CryptConfig | undefined): Uint8Array | { start: number; end: number } {
  if (job.op === 'digest') return chunkDigest(job.region.subarray(BLOB_HEADROOM, BLOB_HEADROOM + job.length), crypt);
  const blob = encodeBlobInPlace(job.region, job.length, crypt ? { compress: true, crypt } : { compress: true });
  const start = blob.byteOffset - job.region.byteOffset;
  return { start, end: start + blob.byteLength };
}

export function inlineChunkEncoder(key?: Uint8Array): ChunkEncoder {
  const crypt = key ? new CryptConfig(key) : undefined;
  return {
    digest: async (c) => chunkDigest(c.data, crypt),
    encode: async (c) => encodeBlobInPlace(c.region, c.data.byteLength, crypt ? { compress: true, crypt } : { compress: true }),
    close: async () => undefined,
  };
}

/** Hashes and encodes on `size` worker threads, in the chunk buffers' shared memory. */
export function pooledChunkEncoder(key?: Uint8Array, size?: number): ChunkEncoder {
  const pool = new WorkerPool(new URL('./chunk-encoder-worker.ts', import.meta.url), size);
  const keyHex = key ? Buffer.from(key).toString('hex') : undefined;
  const job = (op: EncoderJob['op'], c: ChunkBuffer): EncoderJob => {
    // A region outside shared memory would be copied to the worker, and the blob lost with the copy.
    if (!(c.region.buffer instanceof SharedArrayBuffer)) throw fail('INTERNAL', 'pooled chunk encoding needs a ChunkBuffers buffer');
    return { op, region: c.region, length: c.data.byteLength, keyHex };
  };
  return {
    digest: (c) => pool.run<Uint8Array>(job('digest', c)),
    encode: async (c) => {
      const at = await pool.run<{ start: number; end: number }>(job('encode', c));
      return c.region.subarray(at.start, at.end);
    },
    close: () => pool.close(),
  };
}
