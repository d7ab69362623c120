/**
 * Digests and hex: the SHA-256 identity of chunks, indexes and blobs, and the hex text form used in
 * chunk paths, manifests and protocol parameters.
 *
 * Invariants: `toHex` always writes lowercase (chunk file names and manifest csums are lowercase);
 * `fromHex` accepts either case, because PBS clients send digests through a hex decoder that does.
 */
import { createHash } from 'node:crypto';
import { fail } from './errors.ts';

/** A 32-byte SHA-256 value. */
export type Digest = Uint8Array;

export const DIGEST_BYTES = 32;

/** SHA-256 over the concatenation of `parts`, without building the concatenation. */
export function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return asPlainBytes(h.digest());
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

const HEX_RE = /^(?:[0-9a-fA-F]{2})*$/;

/** Parses hex of either case; throws INVALID_ARGUMENT on odd length, bad digits or a wrong length. */
export function fromHex(text: string, expectedBytes?: number): Uint8Array {
  if (!HEX_RE.test(text)) throw fail('INVALID_ARGUMENT', 'not a hex string', { value: text.slice(0, 80) });
  const bytes = text.length / 2;
  if (expectedBytes !== undefined && bytes !== expectedBytes) {
    throw fail('INVALID_ARGUMENT', `expected ${expectedBytes} hex bytes, got ${bytes}`, { value: text.slice(0, 80), expectedBytes });
  }
  return asPlainBytes(Buffer.from(text, 'hex'));
}

const DIGEST_HEX_RE = /^[0-9a-f]{64}$/;

/** True for the canonical (lowercase, 64-digit) text form of a digest, as used in chunk paths. */
export function isDigestHex(text: string): boolean {
  return DIGEST_HEX_RE.test(text);
}

export function digestEquals(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.compare(a, b) === 0;
}

/** A Uint8Array view of a Buffer's bytes, so callers never see Buffer-only methods. */
function asPlainBytes(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}
