import { test } from 'node:test';
import assert from 'node:assert/strict';
import { constants, privateDecrypt } from 'node:crypto';
import { isHoldfastError } from '../core/errors.ts';
import { createKeyFile, generateKey } from './key-file.ts';
import { createMasterKeyPair, keyConfigForMaster, openMasterPrivateKey, parseMasterPublicKey, rsaDecryptKeyConfig, rsaEncryptKeyConfig, unpadPkcs1Type2 } from './master-key.ts';

const pair = createMasterKeyPair('master secret', 2048);

test('createMasterKeyPair writes an SPKI public PEM and a passphrase-encrypted PKCS#8 private PEM, as PBS does', () => {
  assert.match(pair.publicPem, /^-----BEGIN PUBLIC KEY-----\n/);
  assert.match(pair.privatePem, /^-----BEGIN ENCRYPTED PRIVATE KEY-----\n/);
  assert.throws(() => openMasterPrivateKey(pair.privatePem, 'wrong secret'), (e: unknown) => isHoldfastError(e, 'DECRYPT_FAILED'));
});

test('rsaEncryptKeyConfig / rsaDecryptKeyConfig recover the raw key and the original creation time', () => {
  const raw = generateKey();
  const file = createKeyFile(raw, { kdf: 'scrypt', passphrase: 'a passphrase', scrypt: { n: 1024, r: 8, p: 1 }, now: 1_700_000_000 });
  const json = keyConfigForMaster(raw, file);
  assert.deepEqual(Object.keys(JSON.parse(json) as object), ['kdf', 'created', 'modified', 'data', 'fingerprint'], "serde's field order");
  const enc = rsaEncryptKeyConfig(parseMasterPublicKey(pair.publicPem), json);
  assert.equal(enc.length, 256, 'one RSA block');
  const back = rsaDecryptKeyConfig(openMasterPrivateKey(pair.privatePem, 'master secret'), enc);
  assert.deepEqual(back.key, raw);
  assert.equal(back.json.created, file.created);
  assert.equal(back.json.fingerprint, file.fingerprint);
  // the manual unpadding agrees with OpenSSL's PKCS#1 decryption
  const viaOpenSsl = privateDecrypt({ key: openMasterPrivateKey(pair.privatePem, 'master secret'), padding: constants.RSA_NO_PADDING }, enc);
  assert.equal(Buffer.from(unpadPkcs1Type2(viaOpenSsl)).toString(), json);
});

test('rsaDecryptKeyConfig under another master key fails with DECRYPT_FAILED; a non-RSA PEM is CORRUPT', () => {
  const other = createMasterKeyPair('other secret', 2048);
  const enc = rsaEncryptKeyConfig(parseMasterPublicKey(pair.publicPem), keyConfigForMaster(generateKey(), createKeyFile(generateKey(), { kdf: 'none' })));
  assert.throws(() => rsaDecryptKeyConfig(openMasterPrivateKey(other.privatePem, 'other secret'), enc), (e: unknown) => isHoldfastError(e, 'DECRYPT_FAILED'));
  assert.throws(() => parseMasterPublicKey('not a pem'), (e: unknown) => isHoldfastError(e, 'CORRUPT'));
});
