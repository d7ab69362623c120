/**
 * DataBlob: the container of every chunk and `.blob` file, byte-compatible with PBS.
 *
 *   plain:     magic[8] | crc32 LE[4] | payload            (12-byte header)
 *   encrypted: magic[8] | crc32 LE[4] | iv[16] | tag[16] | ciphertext   (44-byte header)
 *
 * The payload is raw data or one zstd frame; the magic says which (and whether it is encrypted).
 * The CRC-32 (zlib's) covers only what follows the header: for encrypted blobs the ciphertext, not
 * the IV or tag, which GCM authenticates instead. Compression is used only when the frame is no
 * larger than the input (PBS 4.x rule, `<=`), and always happens before encryption.
 *
 * Hot path: one output allocation per encode (none for `encodeBlobInPlace`, the chunk pipeline's
 * form); decode of a plain blob returns a view of its input.
 */
import { createHash, randomFillSync, type Hash } from 'node:crypto';
import { createRequire } from 'node:module';
import type * as Crc32 from '@node-rs/crc32';
import { digestEquals, sha256, toHex } from '../core/digest.ts';
import { fail } from '../core/errors.ts';
import { IV_BYTES, TAG_BYTES, type CryptConfig } from './crypt-config.ts';
import { COMPRESSED_BLOB_MAGIC, ENCR_COMPR_BLOB_MAGIC, ENCRYPTED_BLOB_MAGIC, hasMagic, MAGIC_BYTES, UNCOMPRESSED_BLOB_MAGIC } from './magics.ts';

// Required, not imported: see zstd.ts (node's CJS lexer over the package at every start).
const { crc32 } = createRequire(import.meta.url)('@node-rs/crc32') as typeof Crc32;
import { allocBytes, compressIfSmaller, decompress, decompressTransient, scratchFor } from './zstd.ts';
import { copyBytes } from '../core/byte-copy.ts';

/** The protocol's limit on one chunk's plaintext. */
export const MAX_CHUNK_SIZE = 16 * 1024 * 1024;
/** The largest input `encodeBlob` accepts, and the largest plaintext `decodeBlob` produces. */
export const MAX_BLOB_SIZE = 128 * 1024 * 1024;

export const PLAIN_HEADER_SIZE = 12;
export const ENCRYPTED_HEADER_SIZE = 44;
/** Room before the data that `encodeBlobInPlace` needs: the largest header. */
export const BLOB_HEADROOM = ENCRYPTED_HEADER_SIZE;
const CRC_OFFSET = MAGIC_BYTES;
const IV_OFFSET = PLAIN_HEADER_SIZE;
const TAG_OFFSET = IV_OFFSET + IV_BYTES;

export const BLOB_KINDS = ['plain', 'compressed', 'encrypted', 'encrypted-compressed'] as const;
export type BlobKind = (typeof BLOB_KINDS)[number];

export interface BlobHeader {
  readonly kind: BlobKind;
  readonly headerSize: typeof PLAIN_HEADER_SIZE | typeof ENCRYPTED_HEADER_SIZE;
  readonly encrypted: boolean;
  readonly compressed: boolean;
}

const HEADERS: readonly (BlobHeader & { readonly magic: Uint8Array })[] = [
  { kind: 'plain', magic: UNCOMPRESSED_BLOB_MAGIC, headerSize: PLAIN_HEADER_SIZE, encrypted: false, compressed: false },
  { kind: 'compressed', magic: COMPRESSED_BLOB_MAGIC, headerSize: PLAIN_HEADER_SIZE, encrypted: false, compressed: true },
  { kind: 'encrypted', magic: ENCRYPTED_BLOB_MAGIC, headerSize: ENCRYPTED_HEADER_SIZE, encrypted: true, compressed: false },
  { kind: 'encrypted-compressed', magic: ENCR_COMPR_BLOB_MAGIC, headerSize: ENCRYPTED_HEADER_SIZE, encrypted: true, compressed: true },
];

export function blobMagic(kind: BlobKind): Uint8Array {
  return headerOf(kind).magic;
}

function headerOf(kind: BlobKind): BlobHeader & { readonly magic: Uint8Array } {
  const h = HEADERS.find((x) => x.kind === kind);
  if (!h) throw fail('INTERNAL', `no blob kind ${kind}`);
  return h;
}

/** Identifies a blob by its magic; TRUNCATED if shorter than its header, BAD_MAGIC if unknown. */
export function blobHeader(bytes: Uint8Array): BlobHeader {
  if (bytes.byteLength < MAGIC_BYTES) throw fail('TRUNCATED', `blob too small (${bytes.byteLength} bytes)`, { length: bytes.byteLength });
  const found = HEADERS.find((h) => hasMagic(bytes, h.magic));
  if (!found) throw fail('BAD_MAGIC', 'not a DataBlob (unknown magic)', { magic: toHex(bytes.subarray(0, MAGIC_BYTES)) });
  if (bytes.byteLength < found.headerSize) {
    throw fail('TRUNCATED', `blob too small (${bytes.byteLength} bytes, header needs ${found.headerSize})`, { length: bytes.byteLength, kind: found.kind });
  }
  const { kind, headerSize, encrypted, compressed } = found;
  return { kind, headerSize, encrypted, compressed };
}

/** The CRC-32 the blob's header holds (not checked). */
export function storedCrc(bytes: Uint8Array): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(CRC_OFFSET, true);
}

function writeCrc(bytes: Uint8Array, headerSize: number): void {
  new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).setUint32(CRC_OFFSET, crc32(bytes.subarray(headerSize)), true);
}

/** Checks magic, header length and CRC; BAD_MAGIC, TRUNCATED or BAD_CRC otherwise. */
export function verifyBlobCrc(bytes: Uint8Array): void {
  const { headerSize } = blobHeader(bytes);
  const expected = storedCrc(bytes);
  const actual = crc32(bytes.subarray(headerSize));
  if (actual !== expected) throw fail('BAD_CRC', 'blob CRC32 mismatch', { expected, actual });
}

/** The CRC-32 a blob's header should hold: over everything after the header. */
export function computeBlobCrc(bytes: Uint8Array): number {
  return crc32(bytes.subarray(blobHeader(bytes).headerSize));
}

/** Writes `crc` into the blob's header (the bytes are the caller's own copy). */
export function setBlobCrc(bytes: Uint8Array, crc: number): void {
  blobHeader(bytes);
  new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).setUint32(CRC_OFFSET, crc, true);
}

/**
 * The blob with its CRC recomputed, as the server stores uploaded chunks (the client's CRC is not
 * trusted). Returns `bytes` itself when the CRC is already right, else a corrected copy.
 */
export function withRecomputedCrc(bytes: Uint8Array): Uint8Array {
  const { headerSize } = blobHeader(bytes);
  if (crc32(bytes.subarray(headerSize)) === storedCrc(bytes)) return bytes;
  const copy = bytes.slice();
  writeCrc(copy, headerSize);
  return copy;
}

export interface EncodeBlobOptions {
  readonly compress: boolean;
  readonly crypt?: CryptConfig;
  /**
   * The CRC-32 of the data, when the caller computed it already (`crcAndSha256`): a plain blob's
   * CRC is that of its data, so it is not computed again. Only for unchanged data.
   */
  readonly plainCrc?: number;
}

export function encodeBlob(data: Uint8Array, opts: EncodeBlobOptions): Uint8Array {
  if (data.byteLength > MAX_BLOB_SIZE) throw fail('INVALID_ARGUMENT', `blob input of ${data.byteLength} bytes exceeds ${MAX_BLOB_SIZE}`, { length: data.byteLength });
  const compressed = opts.compress ? compressIfSmaller(data) : undefined;
  const payload = compressed ?? data;
  const isCompressed = compressed !== undefined;
  if (opts.crypt) return sealEncrypted(payload, isCompressed ? 'encrypted-compressed' : 'encrypted', opts.crypt);
  const h = headerOf(isCompressed ? 'compressed' : 'plain');
  const out = allocBytes(PLAIN_HEADER_SIZE + payload.byteLength);
  out.set(h.magic, 0);
  out.set(payload, PLAIN_HEADER_SIZE);
  writeCrc(out, PLAIN_HEADER_SIZE);
  return out;
}

/**
 * Encodes the `length` bytes at `region[BLOB_HEADROOM..]` into a blob inside `region` and returns
 * the blob as a view of it; the data is overwritten. An incompressible, unencrypted chunk costs
 * no copy at all: its header goes into the headroom before it. Byte-identical to `encodeBlob`
 * (for encrypted blobs: up to the random IV).
 */
export function encodeBlobInPlace(region: Uint8Array, length: number, opts: EncodeBlobOptions): Uint8Array {
  if (length > MAX_BLOB_SIZE) throw fail('INVALID_ARGUMENT', `blob input of ${length} bytes exceeds ${MAX_BLOB_SIZE}`, { length });
  if (region.byteLength < BLOB_HEADROOM + length) throw fail('INVALID_ARGUMENT', `region of ${region.byteLength} bytes has no room for ${length} bytes after its headroom`, { length });
  const data = region.subarray(BLOB_HEADROOM, BLOB_HEADROOM + length);
  const compressed = opts.compress ? compressIfSmaller(data) : undefined;
  const payloadLength = compressed?.byteLength ?? length;
  if (compressed) copyBytes(data, compressed); // scratch → region; the plaintext is no longer needed
  const payload = region.subarray(BLOB_HEADROOM, BLOB_HEADROOM + payloadLength);
  const isCompressed = compressed !== undefined;
  if (opts.crypt) {
    // GCM is a stream cipher applied slice by slice: encrypting a buffer onto itself is safe.
    const out = region.subarray(0, ENCRYPTED_HEADER_SIZE + payloadLength);
    out.set(blobMagic(isCompressed ? 'encrypted-compressed' : 'encrypted'), 0);
    const iv = out.subarray(IV_OFFSET, IV_OFFSET + IV_BYTES);
    randomFillSync(iv);
    const tag = opts.crypt.encryptInto(payload, payload, iv);
    out.set(tag, TAG_OFFSET);
    writeCrc(out, ENCRYPTED_HEADER_SIZE);
    return out;
  }
  const out = region.subarray(BLOB_HEADROOM - PLAIN_HEADER_SIZE, BLOB_HEADROOM + payloadLength);
  out.set(headerOf(isCompressed ? 'compressed' : 'plain').magic, 0);
  if (!isCompressed && opts.plainCrc !== undefined) new DataView(out.buffer, out.byteOffset, out.byteLength).setUint32(CRC_OFFSET, opts.plainCrc, true);
  else writeCrc(out, PLAIN_HEADER_SIZE);
  return out;
}

function sealEncrypted(payload: Uint8Array, kind: BlobKind, crypt: CryptConfig): Uint8Array {
  const out = allocBytes(ENCRYPTED_HEADER_SIZE + payload.byteLength);
  out.set(blobMagic(kind), 0);
  const iv = out.subarray(IV_OFFSET, IV_OFFSET + IV_BYTES);
  randomFillSync(iv);
  const tag = crypt.encryptInto(payload, out.subarray(ENCRYPTED_HEADER_SIZE), iv);
  out.set(tag, TAG_OFFSET);
  writeCrc(out, ENCRYPTED_HEADER_SIZE);
  return out;
}

/**
 * Checks and opens a blob, returning its plaintext. For a plain blob the result is a view of
 * `bytes` (no copy); otherwise it is a fresh array. Errors: BAD_MAGIC, TRUNCATED, BAD_CRC,
 * KEY_REQUIRED (encrypted, no key), DECRYPT_FAILED (wrong key or tampered IV/tag/ciphertext),
 * CORRUPT (bad zstd or over MAX_BLOB_SIZE).
 */
export function decodeBlob(bytes: Uint8Array, crypt?: CryptConfig, output?: BlobOutput): Uint8Array {
  verifyBlobCrc(bytes);
  return openBlob(bytes, crypt, output);
}

/**
 * Where the plaintext of a compressed or encrypted blob goes: an array of exactly `length` bytes
 * (default: a new one). A zstd stream that does not declare its size still decodes into new memory.
 */
export type BlobOutput = (length: number) => Uint8Array;

/**
 * decodeBlob without the CRC pass, for callers that have just computed the CRC themselves (the
 * server's upload check recomputes it anyway): one pass over 4 MiB less per chunk.
 */
export function openBlob(bytes: Uint8Array, crypt?: CryptConfig, output: BlobOutput = allocBytes): Uint8Array {
  const h = blobHeader(bytes);
  const payload = bytes.subarray(h.headerSize);
  if (!h.encrypted) return h.compressed ? decompress(payload, MAX_BLOB_SIZE, output) : payload;
  if (!crypt) throw fail('KEY_REQUIRED', 'the blob is encrypted and no key was given', { kind: h.kind });
  const iv = bytes.subarray(IV_OFFSET, IV_OFFSET + IV_BYTES);
  const tag = bytes.subarray(TAG_OFFSET, TAG_OFFSET + TAG_BYTES);
  // A compressed payload is only a stepping stone: decrypt it into the thread's scratch.
  const opened = h.compressed ? scratchFor(payload.byteLength).subarray(0, payload.byteLength) : output(payload.byteLength);
  crypt.decryptInto(payload, iv, tag, opened);
  return h.compressed ? decompress(opened, MAX_BLOB_SIZE, output) : opened;
}

/** Piece size of `crcAndSha256`: well inside the L2 cache, and large for each native call. */
const FUSED_PIECE = 64 * 1024;

/**
 * CRC-32 and SHA-256 of `data` in one pass, piece by piece, each piece hashed while it is in the
 * CPU cache; `also` (a hash already fed whatever precedes `data` there) gets the same pieces. One
 * pass instead of two or three over memory: measured 0.88 → 0.76 CPU-s per GiB for CRC and
 * SHA-256, 1.78 → 1.32 with a second SHA-256 (docs/benchmarks.md).
 */
export function crcAndSha256(data: Uint8Array, also?: Hash): { readonly crc: number; readonly sha256: Uint8Array } {
  const h = createHash('sha256');
  let crc = 0;
  for (let at = 0; at < data.length; at += FUSED_PIECE) {
    const piece = data.subarray(at, at + FUSED_PIECE);
    crc = crc32(piece, crc);
    h.update(piece);
    also?.update(piece);
  }
  const d = h.digest();
  return { crc, sha256: new Uint8Array(d.buffer, d.byteOffset, d.byteLength) };
}

/**
 * The plaintext of an unencrypted blob whose CRC the caller already checked, for a look only: a
 * compressed payload decodes into a thread-owned buffer that the next call reuses.
 */
export function peekPlainBlob(bytes: Uint8Array): Uint8Array {
  const h = blobHeader(bytes);
  if (h.encrypted) throw fail('INTERNAL', 'peekPlainBlob needs an unencrypted blob', { kind: h.kind });
  const payload = bytes.subarray(h.headerSize);
  return h.compressed ? decompressTransient(payload, MAX_BLOB_SIZE) : payload;
}

export interface DecodeChunkOptions {
  /** The digest the chunk is stored under. */
  readonly digest: Uint8Array;
  /** Needed for encrypted chunks, whose digest is SHA-256(plaintext ‖ id key). */
  readonly crypt?: CryptConfig;
  /** When given, the plaintext must have exactly this length (SIZE_MISMATCH otherwise). */
  readonly size?: number;
  /**
   * false: skip the CRC pass. The digest check below already proves the chunk (a flipped byte in
   * a compressed payload fails zstd or the digest, in an encrypted one the GCM tag), so the CRC
   * only names the fault earlier (BAD_CRC) at the cost of one more pass over the blob. Restore
   * skips it (the digest is what proves a chunk); verify keeps it, where naming the fault matters.
   */
  readonly crc?: boolean;
  /** Where a compressed or encrypted chunk's plaintext goes (see BlobOutput). */
  readonly output?: BlobOutput;
}

/**
 * Decodes a chunk and proves it is the chunk it claims to be (DIGEST_MISMATCH otherwise). The
 * digest rule follows the blob, not the caller: an unencrypted chunk (also in sign-only backups)
 * is identified by plain SHA-256, an encrypted one by the keyed digest.
 */
export function decodeChunk(bytes: Uint8Array, opts: DecodeChunkOptions): Uint8Array {
  const { encrypted } = blobHeader(bytes);
  const data = opts.crc === false ? openBlob(bytes, opts.crypt, opts.output) : decodeBlob(bytes, opts.crypt, opts.output);
  if (opts.size !== undefined && data.byteLength !== opts.size) {
    throw fail('SIZE_MISMATCH', `chunk has ${data.byteLength} bytes, expected ${opts.size}`, { expected: opts.size, actual: data.byteLength });
  }
  const actual = encrypted && opts.crypt ? opts.crypt.digest(data) : sha256(data);
  if (!digestEquals(actual, opts.digest)) {
    throw fail('DIGEST_MISMATCH', 'chunk content does not match its digest', { expected: toHex(opts.digest), actual: toHex(actual) });
  }
  return data;
}
