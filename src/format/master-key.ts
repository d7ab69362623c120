/**
 * PBS master keys (reference/pbs-4.2-features.md, "RSA master key"; pbs-format.md §5.1): an RSA
 * key pair whose public half encrypts a copy of each backup's encryption key, stored with the
 * backup as `rsa-encrypted.key.blob`, so a lost key file can be recovered with the private half.
 *
 *   master-public.pem    SPKI PEM (`-----BEGIN PUBLIC KEY-----`)
 *   master-private.pem   PKCS#8 PEM encrypted with AES-256-CBC under a passphrase
 *                        (`-----BEGIN ENCRYPTED PRIVATE KEY-----`)
 *   rsa-encrypted.key    RSA PKCS#1 v1.5 encryption of the compact JSON of the key file *without*
 *                        a passphrase (kdf null, the raw key in `data`, the original `created`),
 *                        one RSA block (the modulus size: 512 bytes for PBS's 4096-bit keys)
 *
 * Decryption strips the PKCS#1 v1.5 padding itself (Node refuses that padding for private
 * decryption since CVE-2023-46809; the timing oracle it guards against needs an online victim,
 * while recovery is an offline, local operation).
 */
import { constants, createPrivateKey, createPublicKey, generateKeyPairSync, privateDecrypt, publicEncrypt, type KeyObject } from 'node:crypto';
import { fail, isHoldfastError } from '../core/errors.ts';
import { openKeyFile, parseKeyFile, type KeyFileJson } from './key-file.ts';

export const MASTER_KEY_BITS = 4096;
export const RSA_ENCRYPTED_KEY_BLOB = 'rsa-encrypted.key.blob';

export interface MasterKeyPair {
  readonly publicPem: string;
  readonly privatePem: string;
}

export function createMasterKeyPair(passphrase: string, bits: number = MASTER_KEY_BITS): MasterKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: bits, publicExponent: 0x10001 });
  return {
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase }).toString(),
  };
}

/** The public key of a PEM file; CORRUPT when it is not an RSA public key. */
export function parseMasterPublicKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (e) {
    throw fail('CORRUPT', `not an RSA public key in PEM format: ${(e as Error).message}`, {}, e);
  }
  if (key.asymmetricKeyType !== 'rsa') throw fail('CORRUPT', `the master key must be RSA, not ${String(key.asymmetricKeyType)}`, {});
  return key;
}

/** The private key of an encrypted PEM; DECRYPT_FAILED for a wrong passphrase. */
export function openMasterPrivateKey(pem: string, passphrase: string): KeyObject {
  try {
    const key = createPrivateKey({ key: pem, format: 'pem', passphrase });
    if (key.asymmetricKeyType !== 'rsa') throw fail('CORRUPT', 'the master key must be RSA', {});
    return key;
  } catch (e) {
    if (isHoldfastError(e)) throw e;
    throw fail('DECRYPT_FAILED', `cannot open the master private key (wrong passphrase?): ${(e as Error).message}`, {}, e);
  }
}

/** The key file as PBS encrypts it: passphrase-less, compact JSON in serde's field order. */
export function keyConfigForMaster(rawKey: Uint8Array, original: KeyFileJson): string {
  const plain: KeyFileJson = { kdf: null, created: original.created, modified: original.modified, data: Buffer.from(rawKey).toString('base64') };
  if (original.fingerprint !== undefined) plain.fingerprint = original.fingerprint;
  return JSON.stringify(plain);
}

export function rsaEncryptKeyConfig(publicKey: KeyObject, keyConfigJson: string): Uint8Array {
  return new Uint8Array(publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, Buffer.from(keyConfigJson, 'utf8')));
}

/** Removes PKCS#1 v1.5 type-2 padding: 00 02 PS(≥ 8 non-zero bytes) 00 M. */
export function unpadPkcs1Type2(block: Uint8Array): Uint8Array {
  const sep = block.indexOf(0, 2);
  if (block[0] !== 0 || block[1] !== 2 || sep < 10) throw fail('DECRYPT_FAILED', 'rsa-encrypted key does not decrypt under this master key', {});
  return block.subarray(sep + 1);
}

/** Recovers the raw key and its key-file JSON from `rsa-encrypted.key` bytes. */
export function rsaDecryptKeyConfig(privateKey: KeyObject, encrypted: Uint8Array): { key: Uint8Array; json: KeyFileJson } {
  let block: Uint8Array;
  try {
    block = new Uint8Array(privateDecrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, encrypted));
  } catch (e) {
    throw fail('DECRYPT_FAILED', `rsa-encrypted key does not decrypt under this master key: ${(e as Error).message}`, {}, e);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(unpadPkcs1Type2(block)).toString('utf8'));
  } catch (e) {
    if (e instanceof SyntaxError) throw fail('CORRUPT', 'the decrypted key is not JSON', {}, e);
    throw e;
  }
  const json = parseKeyFile(parsed);
  return { key: openKeyFile(json), json };
}
