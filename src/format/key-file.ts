/**
 * PBS encryption key files (`proxmox-backup-client key create`), read and written byte-compatibly.
 *
 *   { "kdf": null | {"Scrypt": {n, r, p, salt}} | {"PBKDF2": {iter, salt}},
 *     "created": RFC 3339, "modified": RFC 3339,
 *     "data": base64(raw key)                       when kdf is null
 *           | base64(iv[16] ‖ tag[16] ‖ AES-256-GCM(derived key, raw key))   otherwise,
 *     "fingerprint"?: colon hex, "hint"?: string }
 *
 * New keys use scrypt n=65536 r=8 p=1 with a 32-byte salt, like upstream; the parameters are
 * injectable only so tests can run fast. Reading honours whatever parameters the file names (PBKDF2
 * files from old clients too), under scrypt's 1025 MiB memory cap. A stored fingerprint must match
 * the decrypted key, which catches a wrong key that happens to decrypt.
 */
import { randomBytes, pbkdf2Sync, scryptSync } from 'node:crypto';
import { fail, isHoldfastError } from '../core/errors.ts';
import { formatRfc3339, parseRfc3339 } from '../core/time.ts';
import { CryptConfig, gcmDecryptInto, gcmEncryptInto, IV_BYTES, KEY_BYTES, TAG_BYTES } from './crypt-config.ts';

export interface ScryptParams {
  readonly n: number;
  readonly r: number;
  readonly p: number;
}

export const DEFAULT_SCRYPT: ScryptParams = { n: 65536, r: 8, p: 1 };
export const MIN_PASSPHRASE_BYTES = 5;
const SALT_BYTES = 32;
const SCRYPT_MAXMEM = 1025 * 1024 * 1024;

export type KeyDerivation = { Scrypt: ScryptParams & { salt: string } } | { PBKDF2: { iter: number; salt: string } };

export interface KeyFileJson {
  kdf: KeyDerivation | null;
  created: string;
  modified: string;
  data: string;
  fingerprint?: string;
  hint?: string;
}

export interface CreateKeyFileOptions {
  readonly kdf: 'scrypt' | 'none';
  readonly passphrase?: string;
  readonly hint?: string;
  /** Epoch seconds for `created`/`modified` (default: now). */
  readonly now?: number;
  /** Test hook: cheaper scrypt parameters. Real keys keep DEFAULT_SCRYPT. */
  readonly scrypt?: ScryptParams;
}

export function generateKey(): Uint8Array {
  return new Uint8Array(randomBytes(KEY_BYTES));
}

export function createKeyFile(rawKey: Uint8Array, opts: CreateKeyFileOptions): KeyFileJson {
  const crypt = new CryptConfig(rawKey); // validates the key length
  const stamp = formatRfc3339(opts.now ?? Math.floor(Date.now() / 1000));
  const sealed = opts.kdf === 'scrypt' ? sealWithScrypt(rawKey, requirePassphrase(opts.passphrase), opts.scrypt ?? DEFAULT_SCRYPT) : { kdf: null, data: rawKey };
  const out: KeyFileJson = { kdf: sealed.kdf, created: stamp, modified: stamp, data: base64(sealed.data), fingerprint: crypt.fingerprint() };
  if (opts.hint !== undefined) out.hint = opts.hint;
  return out;
}

function sealWithScrypt(rawKey: Uint8Array, passphrase: string, params: ScryptParams): { kdf: KeyDerivation; data: Uint8Array } {
  const salt = randomBytes(SALT_BYTES);
  const kdf: KeyDerivation = { Scrypt: { n: params.n, r: params.r, p: params.p, salt: base64(salt) } };
  const derived = deriveKey(kdf, passphrase);
  const data = new Uint8Array(IV_BYTES + TAG_BYTES + KEY_BYTES);
  const iv = data.subarray(0, IV_BYTES);
  iv.set(randomBytes(IV_BYTES));
  const tag = gcmEncryptInto(derived, iv, rawKey, data.subarray(IV_BYTES + TAG_BYTES));
  data.set(tag, IV_BYTES);
  return { kdf, data };
}

/**
 * Returns the raw 32-byte key. Errors: CORRUPT (not a key file), KEY_REQUIRED (passphrase needed),
 * INVALID_ARGUMENT (passphrase too short), DECRYPT_FAILED (wrong passphrase),
 * SIGNATURE_MISMATCH (the stored fingerprint belongs to another key).
 */
export function openKeyFile(json: unknown, passphrase?: string): Uint8Array {
  const file = parseKeyFile(json);
  const data = fromBase64(file.data, 'data');
  const key = file.kdf === null ? data : unseal(data, deriveKey(file.kdf, requirePassphrase(passphrase)));
  if (key.byteLength !== KEY_BYTES) throw fail('CORRUPT', `key file holds a ${key.byteLength}-byte key, not ${KEY_BYTES}`, { length: key.byteLength });
  if (file.fingerprint !== undefined) {
    const actual = new CryptConfig(key).fingerprint();
    if (actual !== file.fingerprint.toLowerCase()) {
      throw fail('SIGNATURE_MISMATCH', 'key file fingerprint does not match its key', { stored: file.fingerprint, actual });
    }
  }
  return key;
}

function unseal(data: Uint8Array, derived: Uint8Array): Uint8Array {
  if (data.byteLength < IV_BYTES + TAG_BYTES) throw fail('CORRUPT', 'encrypted key data is too short', { length: data.byteLength });
  const ciphertext = data.subarray(IV_BYTES + TAG_BYTES);
  const key = new Uint8Array(ciphertext.byteLength);
  try {
    gcmDecryptInto(derived, data.subarray(0, IV_BYTES), data.subarray(IV_BYTES, IV_BYTES + TAG_BYTES), ciphertext, key);
  } catch (e) {
    if (isHoldfastError(e, 'DECRYPT_FAILED')) throw fail('DECRYPT_FAILED', 'unable to decrypt the key (wrong passphrase?)', {}, e);
    throw e;
  }
  return key;
}

function requirePassphrase(passphrase: string | undefined): string {
  if (passphrase === undefined) throw fail('KEY_REQUIRED', 'this key file is protected by a passphrase', {});
  const bytes = Buffer.byteLength(passphrase, 'utf8');
  if (bytes < MIN_PASSPHRASE_BYTES) throw fail('INVALID_ARGUMENT', `passphrase is too short (${bytes} bytes, needs ${MIN_PASSPHRASE_BYTES})`, { bytes });
  return passphrase;
}

/** The key-encryption key a kdf gives for `passphrase` (no length policy here; see requirePassphrase). */
export function deriveKey(kdf: KeyDerivation, passphrase: string): Uint8Array {
  try {
    if ('Scrypt' in kdf) {
      const { n, r, p, salt } = kdf.Scrypt;
      return new Uint8Array(scryptSync(passphrase, fromBase64(salt, 'salt'), KEY_BYTES, { N: n, r, p, maxmem: SCRYPT_MAXMEM }));
    }
    return new Uint8Array(pbkdf2Sync(passphrase, fromBase64(kdf.PBKDF2.salt, 'salt'), kdf.PBKDF2.iter, KEY_BYTES, 'sha256'));
  } catch (e) {
    if (isHoldfastError(e)) throw e;
    throw fail('CORRUPT', 'key file has unusable key derivation parameters', { kdf }, e);
  }
}

/** Checks the shape of a key file (not its key); CORRUPT on anything PBS would not deserialize. */
export function parseKeyFile(json: unknown): KeyFileJson {
  const o = asObject(json, 'key file');
  const out: KeyFileJson = { kdf: parseKdf(o['kdf']), created: str(o, 'created'), modified: str(o, 'modified'), data: str(o, 'data') };
  for (const field of ['created', 'modified'] as const) {
    try {
      parseRfc3339(out[field]);
    } catch (e) {
      throw fail('CORRUPT', `key file ${field} is not an RFC 3339 time`, { value: out[field] }, e);
    }
  }
  if (o['fingerprint'] !== undefined) out.fingerprint = str(o, 'fingerprint');
  if (o['hint'] !== undefined) out.hint = str(o, 'hint');
  return out;
}

function parseKdf(v: unknown): KeyDerivation | null {
  if (v === null || v === undefined) return null;
  const o = asObject(v, 'kdf');
  if (o['Scrypt'] !== undefined) {
    const s = asObject(o['Scrypt'], 'kdf.Scrypt');
    return { Scrypt: { n: int(s, 'n'), r: int(s, 'r'), p: int(s, 'p'), salt: str(s, 'salt') } };
  }
  if (o['PBKDF2'] !== undefined) {
    const s = asObject(o['PBKDF2'], 'kdf.PBKDF2');
    return { PBKDF2: { iter: int(s, 'iter'), salt: str(s, 'salt') } };
  }
  throw fail('CORRUPT', 'unknown key derivation', { kdf: Object.keys(o) });
}

function asObject(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw fail('CORRUPT', `${what} is not an object`, {});
  return v as Record<string, unknown>;
}

function str(o: Record<string, unknown>, key: string): string {
  const v = o[key];
  if (typeof v !== 'string') throw fail('CORRUPT', `key file field ${key} must be a string`, { key });
  return v;
}

function int(o: Record<string, unknown>, key: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw fail('CORRUPT', `key file field ${key} must be a positive integer`, { key });
  return v;
}

const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function fromBase64(text: string, what: string): Uint8Array {
  if (!BASE64_RE.test(text)) throw fail('CORRUPT', `key file ${what} is not base64`, {});
  return new Uint8Array(Buffer.from(text, 'base64'));
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}
