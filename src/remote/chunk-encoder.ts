/**
 * Turns chunks into (digest, DataBlob) pairs: SHA-256 (keyed with the id key when encrypting),
 * zstd level 1 when it does not grow the data, AES-256-GCM when a key is given. The blob is built
 * in place in the chunk's buffer (`encodeBlobInPlace`).
 *
 * Two steps, so the caller can skip a known chunk after hashing it, before any compression:
 * `digest`, then (for new chunks only) `encode`. The digest's pass also computes the data's CRC-32
 * (unencrypted), which an uncompressed blob carries, so `encode` need not read the data again. `pooledChunkEncoder` runs both on worker threads
 * on the chunk's shared memory, which keeps the main thread free for reading, TLS and HTTP/2.
 */
import { fail } from '../core/errors.ts';
import { WorkerPool } from '../core/worker-pool.ts';
import { BLOB_HEADROOM, crcAndSha256, encodeBlobInPlace, type EncodeBlobOptions } from '../format/blob.ts';
import { CryptConfig } from '../format/crypt-config.ts';
import type { ChunkBuffer } from './chunk-buffers.ts';

/** A chunk's digest, and what the same pass learned for its encoding. */
export interface ChunkDigest {
  /** SHA-256 of the data (keyed when encrypting) */
  readonly digest: Uint8Array;
  /** CRC-32 of the data (unencrypted only): the blob's CRC if it stays uncompressed */
  readonly plainCrc: number | undefined;
}

export interface ChunkEncoder {
  /** The chunk's digest (keyed when encrypting). */
  digest(chunk: ChunkBuffer): Promise<ChunkDigest>;
  /**
   * Encodes the chunk into a blob inside `chunk.region` and returns it (a view); the data is
   * overwritten. `plainCrc`: what `digest` answered for this same data.
   */
  encode(chunk: ChunkBuffer, plainCrc?: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

/** The message a worker gets: the chunk's region (shared, not copied) and what to do. */
export interface EncoderJob {
  readonly op: 'digest' | 'encode';
  readonly region: Uint8Array;
  readonly length: number;
  readonly keyHex: string | undefined;
  readonly plainCrc?: number | undefined;
}

/**
 * The digest of `data`; unencrypted, the CRC-32 comes from the same pass over it (the CRC of an
 * uncompressed blob is its data's: `encode` then skips a pass of its own).
 */
export function digestChunk(data: Uint8Array, crypt: CryptConfig | undefined): ChunkDigest {
  if (crypt) return { digest: crypt.digest(data), plainCrc: undefined };
  const { crc, sha256 } = crcAndSha256(data);
  return { digest: sha256, plainCrc: crc };
}

function encodeOptions(crypt: CryptConfig | undefined, plainCrc: number | undefined): EncodeBlobOptions {
  if (crypt) return { compress: true, crypt };
  return plainCrc === undefined ? { compress: true } : { compress: true, plainCrc };
}

/** Runs one job on `region` in place; `encode` answers the blob's offsets within the region. */
export function runEncoderJob(job: EncoderJob, crypt: CryptConfig | undefined): ChunkDigest | { start: number; end: number } {
  if (job.op === 'digest') return digestChunk(job.region.subarray(BLOB_HEADROOM, BLOB_HEADROOM + job.length), crypt);
  const blob = encodeBlobInPlace(job.region, job.length, encodeOptions(crypt, job.plainCrc));
  const start = blob.byteOffset - job.region.byteOffset;
  return { start, end: start + blob.byteLength };
}

export function inlineChunkEncoder(key?: Uint8Array): ChunkEncoder {
  const crypt = key ? new CryptConfig(key) : undefined;
  return {
    digest: async (c) => digestChunk(c.data, crypt),
    encode: async (c, plainCrc) => encodeBlobInPlace(c.region, c.data.byteLength, encodeOptions(crypt, plainCrc)),
    close: async () => undefined,
  };
}

/**
 * Chunks below this are hashed and encoded on the main thread: a worker round trip costs more
 * than hashing 64 KiB (~30 µs), and an unchanged re-backup, which encodes only a few small
 * metadata chunks, then starts no worker at all (WorkerPool starts them on first use).
 */
export const INLINE_CHUNK_BYTES = 64 * 1024;

/** A ChunkEncoder on worker threads, which says how many it started (tests). */
export interface PooledChunkEncoder extends ChunkEncoder {
  readonly workersStarted: number;
}

/**
 * Hashes and encodes on `size` worker threads, in the chunk buffers' shared memory; small chunks
 * inline. `warm` workers start at once, the others when work finds none idle.
 */
export function pooledChunkEncoder(key?: Uint8Array, size?: number, warm = 0): PooledChunkEncoder {
  const pool = new WorkerPool(new URL('./chunk-encoder-worker.ts', import.meta.url), size).warm(warm);
  const keyHex = key ? Buffer.from(key).toString('hex') : undefined;
  let inline: ChunkEncoder | undefined;
  const small = (c: ChunkBuffer): ChunkEncoder | undefined => (c.data.byteLength < INLINE_CHUNK_BYTES ? (inline ??= inlineChunkEncoder(key)) : undefined);
  const job = (op: EncoderJob['op'], c: ChunkBuffer, plainCrc?: number): EncoderJob => {
    // A region outside shared memory would be copied to the worker, and the blob lost with the copy.
    if (!(c.region.buffer instanceof SharedArrayBuffer)) throw fail('INTERNAL', 'pooled chunk encoding needs a ChunkBuffers buffer');
    return { op, region: c.region, length: c.data.byteLength, keyHex, plainCrc };
  };
  return {
    digest: (c) => small(c)?.digest(c) ?? pool.run<ChunkDigest>(job('digest', c)),
    encode: async (c, plainCrc) => {
      const here = small(c);
      if (here !== undefined) return here.encode(c, plainCrc);
      const at = await pool.run<{ start: number; end: number }>(job('encode', c, plainCrc));
      return c.region.subarray(at.start, at.end);
    },
    close: () => pool.close(),
    get workersStarted() {
      return pool.started;
    },
  };
}
