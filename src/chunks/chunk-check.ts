/**
 * Checks an uploaded chunk before it may enter the store (PBS §3.6, plus the 16 MiB limit):
 * the body length equals `encoded-size`, the magic is a blob magic, and for unencrypted chunks the
 * decoded plaintext has exactly `size` bytes and hashes to `digest`. Encrypted chunks cannot be
 * checked beyond their shape. The client's CRC is not trusted: the returned bytes carry a CRC the
 * server computed (as upstream does).
 *
 * `ChunkChecker` runs the check in a worker pool (decompress + SHA-256 are the server's heaviest
 * CPU work) or inline, for the power-loss simulator and small tools.
 */

import { fail } from '../core/errors.ts';
import { sha256, toHex } from '../core/digest.ts';
import { WorkerPool } from '../core/worker-pool.ts';
import { blobHeader, MAX_CHUNK_SIZE, openBlob, withRecomputedCrc } from '../format/blob.ts';

export interface ChunkUpload {
  readonly digestHex: string;
  readonly size: number;
  readonly encodedSize: number;
  readonly bytes: Uint8Array;
}

export function checkUploadedChunk(u: ChunkUpload): Uint8Array {
  if (u.size < 1 || u.size > MAX_CHUNK_SIZE) throw fail('CHUNK_TOO_LARGE', `chunk size ${u.size} is not in 1..${MAX_CHUNK_SIZE}`, { size: u.size, digest: u.digestHex });
  if (u.encodedSize < 13 || u.encodedSize > MAX_CHUNK_SIZE + 44) {
    throw fail('CHUNK_TOO_LARGE', `encoded size ${u.encodedSize} is not in 13..${MAX_CHUNK_SIZE + 44}`, { encodedSize: u.encodedSize, digest: u.digestHex });
  }
  if (u.bytes.length !== u.encodedSize) {
    throw fail('SIZE_MISMATCH', `chunk body has ${u.bytes.length} bytes, encoded-size says ${u.encodedSize}`, { got: u.bytes.length, encodedSize: u.encodedSize, digest: u.digestHex });
  }
  const fixed = withRecomputedCrc(u.bytes);
  if (blobHeader(fixed).encrypted) return fixed;
  const plain = openBlob(fixed); // the CRC was just computed by withRecomputedCrc
  if (plain.length !== u.size) throw fail('SIZE_MISMATCH', `chunk ${u.digestHex} decodes to ${plain.length} bytes, size says ${u.size}`, { got: plain.length, size: u.size, digest: u.digestHex });
  const actual = toHex(sha256(plain));
  if (actual !== u.digestHex) throw fail('DIGEST_MISMATCH', `chunk data hashes to ${actual}, not ${u.digestHex}`, { digest: u.digestHex, actual });
  return fixed;
}

export interface ChunkChecker {
  check(u: ChunkUpload): Promise<Uint8Array>;
  close(): Promise<void>;
}

export const inlineChunkChecker: ChunkChecker = {
  check: async (u) => checkUploadedChunk(u),
  close: async () => undefined,
};

/** Checks chunks on worker threads; the body buffer is moved there and back without copies. */
export function pooledChunkChecker(size?: number): ChunkChecker {
  const pool = new WorkerPool(new URL('./chunk-check-worker.ts', import.meta.url), size);
  return {
    check: async (u) => {
      const own = ownBuffer(u.bytes);
      return pool.run<Uint8Array>({ ...u, bytes: own }, [own.buffer as ArrayBuffer]);
    },
    close: () => pool.close(),
  };
}

/** A copy only when the bytes share their ArrayBuffer with others (pooled small buffers). */
function ownBuffer(b: Uint8Array): Uint8Array {
  if (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && b.buffer instanceof ArrayBuffer) return b;
  return new Uint8Array(b);
}

