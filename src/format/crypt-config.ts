/**
 * CryptConfig: everything derived from one raw 32-byte encryption key, as PBS derives it.
 *
 * - id key = PBKDF2-HMAC-SHA256(password = raw key, salt "_id_key", 10 rounds, 32 bytes);
 * - chunk digest of encrypted data = SHA-256(plaintext ‖ id key): appended, not HMAC, because that
 *   is the byte-exact PBS identity of an encrypted chunk;
 * - manifest signature = HMAC-SHA256(id key, canonical JSON);
 * - fingerprint = SHA-256(FINGERPRINT_INPUT ‖ id key), shown as colon-separated lowercase hex;
 * - AES-256-GCM with a 16-byte IV, empty AAD and a 16-byte tag, keyed by the raw key itself.
 *
 * Encryption streams through the cipher in slices so that a 4 MiB chunk never needs a second
 * 4 MiB intermediate buffer: node's cipher API cannot write into a caller's buffer, and large
 * short-lived allocations are what slows the hot path down.
 */
import { createCipheriv, createDecipheriv, createHmac, createSecretKey, pbkdf2Sync, type KeyObject } from 'node:crypto';
import { sha256, toHex } from '../core/digest.ts';
import { fail } from '../core/errors.ts';
import { FINGERPRINT_INPUT } from './magics.ts';

export const KEY_BYTES = 32;
export const IV_BYTES = 16;
export const TAG_BYTES = 16;
export const FINGERPRINT_BYTES = 32;

const ID_KEY_SALT = '_id_key';
const ID_KEY_ROUNDS = 10;
/** Cipher input per update call: big enough to amortise the call, small enough to recycle cheaply. */
const CIPHER_SLICE = 256 * 1024;

export class CryptConfig {
  readonly idKey: Uint8Array;
  #encKey: KeyObject;
  #fingerprint: Uint8Array;

  constructor(rawKey: Uint8Array) {
    if (rawKey.byteLength !== KEY_BYTES) {
      throw fail('INVALID_ARGUMENT', `an encryption key has ${KEY_BYTES} bytes, not ${rawKey.byteLength}`, { length: rawKey.byteLength });
    }
    this.#encKey = createSecretKey(rawKey);
    this.idKey = new Uint8Array(pbkdf2Sync(rawKey, ID_KEY_SALT, ID_KEY_ROUNDS, KEY_BYTES, 'sha256'));
    this.#fingerprint = sha256(FINGERPRINT_INPUT, this.idKey);
  }

  /** The chunk identity of plaintext `data` under this key: SHA-256(data ‖ id key). */
  digest(data: Uint8Array): Uint8Array {
    return sha256(data, this.idKey);
  }

  /** HMAC-SHA256 keyed with the id key (PBS `compute_auth_tag`); signs manifests. */
  authTag(data: Uint8Array): Uint8Array {
    return new Uint8Array(createHmac('sha256', this.idKey).update(data).digest());
  }

  fingerprintBytes(): Uint8Array {
    return this.#fingerprint.slice();
  }

  /** All 32 bytes, lowercase, colon-separated: the form stored in manifests and key files. */
  fingerprint(): string {
    return formatFingerprint(this.#fingerprint);
  }

  /** The raw key, for a worker thread that must build the same config (chunk-decoder.ts). */
  rawKey(): Uint8Array {
    return new Uint8Array(this.#encKey.export());
  }

  /** The first 8 bytes, the form PBS shows to people. */
  shortFingerprint(): string {
    return formatFingerprint(this.#fingerprint.subarray(0, 8));
  }

  /** Encrypts `plain` into `dest` (same length) and returns the 16-byte tag. */
  encryptInto(plain: Uint8Array, dest: Uint8Array, iv: Uint8Array): Uint8Array {
    return gcmEncryptInto(this.#encKey, iv, plain, dest);
  }

  /** Decrypts `ciphertext` into `dest` (same length); DECRYPT_FAILED if the tag does not match. */
  decryptInto(ciphertext: Uint8Array, iv: Uint8Array, tag: Uint8Array, dest: Uint8Array): void {
    gcmDecryptInto(this.#encKey, iv, tag, ciphertext, dest);
  }
}

/** SHA-256 of the plaintext, or the keyed identity when the chunk will be encrypted. */
export function chunkDigest(data: Uint8Array, crypt?: CryptConfig): Uint8Array {
  return crypt ? crypt.digest(data) : sha256(data);
}

export function gcmEncryptInto(key: KeyObject | Uint8Array, iv: Uint8Array, plain: Uint8Array, dest: Uint8Array): Uint8Array {
  checkGcmArgs(iv, plain.byteLength, dest.byteLength);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  pumpSlices(plain, dest, (s) => cipher.update(s));
  const tail = cipher.final();
  if (tail.byteLength !== 0) throw fail('INTERNAL', 'GCM produced bytes at final()', {});
  return new Uint8Array(cipher.getAuthTag());
}

export function gcmDecryptInto(key: KeyObject | Uint8Array, iv: Uint8Array, tag: Uint8Array, ciphertext: Uint8Array, dest: Uint8Array): void {
  checkGcmArgs(iv, ciphertext.byteLength, dest.byteLength);
  if (tag.byteLength !== TAG_BYTES) throw fail('INVALID_ARGUMENT', `a GCM tag has ${TAG_BYTES} bytes`, { length: tag.byteLength });
  const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  decipher.setAuthTag(tag);
  pumpSlices(ciphertext, dest, (s) => decipher.update(s));
  try {
    decipher.final();
  } catch (e) {
    dest.fill(0); // unauthenticated plaintext must not leak to a caller that ignores the throw
    throw fail('DECRYPT_FAILED', 'decryption failed: wrong key or corrupted data', {}, e);
  }
}

function checkGcmArgs(iv: Uint8Array, inLength: number, outLength: number): void {
  if (iv.byteLength !== IV_BYTES) throw fail('INVALID_ARGUMENT', `a PBS IV has ${IV_BYTES} bytes`, { length: iv.byteLength });
  if (outLength !== inLength) throw fail('INVALID_ARGUMENT', 'GCM output must be as long as its input', { inLength, outLength });
}

function pumpSlices(src: Uint8Array, dest: Uint8Array, update: (slice: Uint8Array) => Uint8Array): void {
  let written = 0;
  for (let at = 0; at < src.byteLength; at += CIPHER_SLICE) {
    const out = update(src.subarray(at, Math.min(at + CIPHER_SLICE, src.byteLength)));
    dest.set(out, written);
    written += out.byteLength;
  }
  if (written !== src.byteLength) throw fail('INTERNAL', 'GCM output length differs from its input', { written, expected: src.byteLength });
}

export function formatFingerprint(bytes: Uint8Array): string {
  return toHex(bytes).replace(/(..)(?!$)/g, '$1:');
}

const FINGERPRINT_RE = /^[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){31}$/;

/** Parses the colon-separated form of a 32-byte fingerprint (either case). */
export function parseFingerprint(text: string): Uint8Array {
  if (!FINGERPRINT_RE.test(text)) throw fail('INVALID_ARGUMENT', 'not a 32-byte colon-separated fingerprint', { value: text.slice(0, 120) });
  return new Uint8Array(Buffer.from(text.replaceAll(':', ''), 'hex'));
}

