/**
 * Checks an uploaded chunk before it may enter the store (PBS §3.6, plus the 16 MiB limit):
 * the body length equals `encoded-size`, the magic is a blob magic, and for unencrypted chunks the
 * decoded plaintext has exactly `size` bytes and hashes to `digest`. Encrypted chunks cannot be
 * checked beyond their shape. The client's CRC is not trusted: the check computes it, and
 * `ChunkChecker.check` writes it into the header (as upstream does), so the upload's bytes must be
 * the server's own copy.
 *
 * `ChunkChecker` runs the check in a worker pool (decompress + SHA-256 are the server's heaviest
 * CPU work) or inline, for the power-loss simulator and small tools. Bytes in shared memory (the
 * server's upload slots) are checked in place; others are copied to the worker.
 *
 * `checkFetchedChunk` is the same check for a chunk copied from another server, whose stored CRC
 * must also match.
 *
 * Asked for it (`CheckOptions.blobSha256`), the check also answers the SHA-256 of the blob as it
 * will be stored (with the computed CRC): the digest an S3 PUT signs. For a plain chunk the three
 * passes over the data (CRC-32, the chunk's SHA-256, the blob's SHA-256) run as one, piece by
 * piece, while each piece is in the CPU cache: measured 1.8 → 1.3 CPU-s per GiB against a CRC and a
 * SHA-256 here and the payload SHA-256 on another thread later (docs/benchmarks.md).
 */

import { createHash } from 'node:crypto';
import { fail, HoldfastError } from '../core/errors.ts';
import { isErrorCode } from '../core/error-codes.ts';
import { sha256, toHex } from '../core/digest.ts';
import { WorkerPool } from '../core/worker-pool.ts';
import { blobHeader, computeBlobCrc, crcAndSha256, MAX_CHUNK_SIZE, peekPlainBlob, PLAIN_HEADER_SIZE, setBlobCrc, storedCrc } from '../format/blob.ts';

export interface ChunkUpload {
  readonly digestHex: string;
  readonly size: number;
  readonly encodedSize: number;
  readonly bytes: Uint8Array;
}

export interface CheckOptions {
  /** Also answer the SHA-256 of the blob as stored (its header with the computed CRC). */
  readonly blobSha256?: boolean;
}

export interface CheckResult {
  /** the CRC-32 the blob's header must carry */
  readonly crc: number;
  /** lowercase hex SHA-256 of the whole blob with that CRC; only when asked for */
  readonly blobSha256: string | undefined;
}

/** Checks `u` and returns the CRC-32 its header must carry (and the blob's SHA-256 when asked); does not modify the bytes. */
export function checkUploadedChunk(u: ChunkUpload, opts: CheckOptions = {}): CheckResult {
  if (u.size < 1 || u.size > MAX_CHUNK_SIZE) throw fail('CHUNK_TOO_LARGE', `chunk size ${u.size} is not in 1..${MAX_CHUNK_SIZE}`, { size: u.size, digest: u.digestHex });
  if (u.encodedSize < 13 || u.encodedSize > MAX_CHUNK_SIZE + 44) {
    throw fail('CHUNK_TOO_LARGE', `encoded size ${u.encodedSize} is not in 13..${MAX_CHUNK_SIZE + 44}`, { encodedSize: u.encodedSize, digest: u.digestHex });
  }
  if (u.bytes.length !== u.encodedSize) {
    throw fail('SIZE_MISMATCH', `chunk body has ${u.bytes.length} bytes, encoded-size says ${u.encodedSize}`, { got: u.bytes.length, encodedSize: u.encodedSize, digest: u.digestHex });
  }
  const header = blobHeader(u.bytes);
  const wantBlob = opts.blobSha256 === true;
  if (!header.encrypted && !header.compressed) return checkPlainFused(u, wantBlob);
  const crc = computeBlobCrc(u.bytes);
  if (!header.encrypted) {
    const plain = peekPlainBlob(u.bytes); // its CRC was just computed
    if (plain.length !== u.size) throw fail('SIZE_MISMATCH', `chunk ${u.digestHex} decodes to ${plain.length} bytes, size says ${u.size}`, { got: plain.length, size: u.size, digest: u.digestHex });
    const actual = toHex(sha256(plain));
    if (actual !== u.digestHex) throw fail('DIGEST_MISMATCH', `chunk data hashes to ${actual}, not ${u.digestHex}`, { digest: u.digestHex, actual });
  }
  return { crc, blobSha256: wantBlob ? blobSha256With(u.bytes, header.headerSize, crc) : undefined };
}

/**
 * A plain (uncompressed, unencrypted) chunk in one pass: CRC-32, the chunk's SHA-256 and, when
 * wanted, the blob's. The blob hash starts from the header as uploaded; a client whose CRC was
 * wrong (the server's replaces it) costs a second pass for the blob hash only.
 */
function checkPlainFused(u: ChunkUpload, wantBlob: boolean): CheckResult {
  const payload = u.bytes.subarray(PLAIN_HEADER_SIZE);
  if (payload.length !== u.size) throw fail('SIZE_MISMATCH', `chunk ${u.digestHex} decodes to ${payload.length} bytes, size says ${u.size}`, { got: payload.length, size: u.size, digest: u.digestHex });
  const blob = wantBlob ? createHash('sha256').update(u.bytes.subarray(0, PLAIN_HEADER_SIZE)) : undefined;
  const { crc, sha256: data } = crcAndSha256(payload, blob);
  const actual = toHex(data);
  if (actual !== u.digestHex) throw fail('DIGEST_MISMATCH', `chunk data hashes to ${actual}, not ${u.digestHex}`, { digest: u.digestHex, actual });
  if (blob === undefined) return { crc, blobSha256: undefined };
  return { crc, blobSha256: crc === storedCrc(u.bytes) ? blob.digest('hex') : blobSha256With(u.bytes, PLAIN_HEADER_SIZE, crc) };
}

/** SHA-256 of `bytes` as they will be stored: header with `crc`, then the rest. */
function blobSha256With(bytes: Uint8Array, headerSize: number, crc: number): string {
  const head = bytes.slice(0, headerSize);
  setBlobCrc(head, crc);
  return createHash('sha256').update(head).update(bytes.subarray(headerSize)).digest('hex');
}

/**
 * Checks a chunk fetched from another server (a sync pull) as an upload is checked, and also that
 * the CRC it carries is right: an uploader's CRC is the server's to fix, a stored one must match.
 * The bytes go to the checker's worker by transfer when they own their whole buffer (no copy);
 * resolves with the checked bytes (a new view of the same memory after a transfer).
 */
export async function checkFetchedChunk(checker: ChunkChecker, u: ChunkUpload, opts: CheckOptions = {}): Promise<CheckedChunk> {
  if (u.bytes.length < PLAIN_HEADER_SIZE) throw fail('CORRUPT', `chunk ${u.digestHex} is ${u.bytes.length} bytes, shorter than a blob header`, { digest: u.digestHex });
  const carried = storedCrc(u.bytes);
  const whole = u.bytes.byteOffset === 0 && u.bytes.byteLength === u.bytes.buffer.byteLength;
  // lent with an owner that keeps nothing: `checked` is the view of the memory that came back
  const checked = await checker.check(u, whole ? { adopt: () => undefined } : undefined, opts);
  const crc = storedCrc(checked.bytes); // the checker wrote the computed CRC
  if (crc !== carried) throw fail('BAD_CRC', 'blob CRC32 mismatch', { expected: carried, actual: crc, digest: u.digestHex });
  return checked;
}

/** Whoever lends the upload's buffer: takes it back after a worker borrowed it (a SlotLease). */
export interface BufferOwner {
  adopt(buffer: ArrayBufferLike): void;
}

/** A checked chunk: its bytes, CRC fixed, and the blob's SHA-256 when it was asked for. */
export interface CheckedChunk {
  readonly bytes: Uint8Array;
  readonly blobSha256: string | undefined;
}

export interface ChunkChecker {
  /**
   * Checks the upload and fixes its header CRC in place; resolves with the bytes (the same
   * memory; a new view when the buffer went to a worker and came back to `owner`), rejects with
   * the check's error. Either way `owner` has its buffer back when the promise settles.
   */
  check(u: ChunkUpload, owner?: BufferOwner, opts?: CheckOptions): Promise<CheckedChunk>;
  close(): Promise<void>;
}

export const inlineChunkChecker: ChunkChecker = {
  check: async (u, _owner, opts) => {
    const r = checkUploadedChunk(u, opts);
    setBlobCrc(u.bytes, r.crc);
    return { bytes: u.bytes, blobSha256: r.blobSha256 };
  },
  close: async () => undefined,
};

/** What the check worker is sent: the upload and what to answer besides the CRC. */
export type CheckJob = ChunkUpload & CheckOptions;

/** What the check worker answers; it never throws, so a lent buffer always comes back. */
export type CheckReply = { readonly bytes: Uint8Array } & (CheckResult | { readonly error: { code: string; message: string; details: Record<string, unknown> } });

/**
 * Checks chunks on worker threads. A buffer with an `owner` is lent to the worker by transfer
 * (no copy, and no reference left in the worker); shared memory is read in place; anything else
 * is copied there, and only the CRC matters on the way back.
 */
export function pooledChunkChecker(size?: number): ChunkChecker {
  // started at once: a server checks every upload, and the first should not wait for a thread
  const pool = new WorkerPool(new URL('./chunk-check-worker.ts', import.meta.url), size).warm();
  return {
    check: async (u, owner, opts) => {
      const lend = owner !== undefined && u.bytes.buffer instanceof ArrayBuffer;
      const job: CheckJob = { ...u, ...(opts?.blobSha256 === true ? { blobSha256: true } : {}) };
      const reply = await pool.run<CheckReply>(job, lend ? [u.bytes.buffer] : []);
      const bytes = lend ? reply.bytes : u.bytes;
      if (lend) owner.adopt(bytes.buffer);
      if ('error' in reply) throw new HoldfastError(isErrorCode(reply.error.code) ? reply.error.code : 'INTERNAL', reply.error.message, reply.error.details);
      setBlobCrc(bytes, reply.crc);
      return { bytes, blobSha256: reply.blobSha256 };
    },
    close: () => pool.close(),
  };
}
