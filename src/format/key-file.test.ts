import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pbkdf2Sync } from 'node:crypto';
import fc from 'fast-check';
import { fromHex } from '../core/digest.ts';
import { isHoldfastError } from '../core/errors.ts';
import type { ErrorCode } from '../core/error-codes.ts';
import { CryptConfig, gcmEncryptInto } from './crypt-config.ts';
import { createKeyFile, DEFAULT_SCRYPT, deriveKey, generateKey, openKeyFile, parseKeyFile, type KeyFileJson } from './key-file.ts';

const FAST = { n: 1024, r: 8, p: 1 };
const KEY_0_31 = Uint8Array.from({ length: 32 }, (_, i) => i);
const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');

function throwsCode(fn: () => unknown, code: ErrorCode): void {
  assert.throws(fn, (e: unknown) => isHoldfastError(e, code));
}

/** A key file sealed by hand, as another implementation would write it. */
function sealed(kdf: KeyFileJson['kdf'], derived: Uint8Array, rawKey: Uint8Array): KeyFileJson {
  const data = new Uint8Array(64);
  data.set(Uint8Array.from({ length: 16 }, (_, i) => i * 3));
  data.set(gcmEncryptInto(derived, data.subarray(0, 16), rawKey, data.subarray(32)), 16);
  return { kdf, created: '2020-06-26T15:56:05+02:00', modified: '2020-06-26T15:56:05+02:00', data: b64(data) };
}

test('openKeyFile with kdf null: a wrong stored fingerprint fails, an absent one succeeds (VECTORS §5.1)', () => {
  const file: KeyFileJson = { kdf: null, created: '2021-01-01T00:00:00Z', modified: '2021-01-01T00:00:00Z', data: b64(KEY_0_31) };
  assert.deepEqual(openKeyFile(file), KEY_0_31);
  throwsCode(() => openKeyFile({ ...file, fingerprint: Array(32).fill('00').join(':') }), 'SIGNATURE_MISMATCH');
  const right = '0e:ab:d4:46:0b:6e:b9:ca:34:50:23:de:e2:b7:78:c7:90:e5:4a:16:83:b9:65:9c:0a:57:ae:19:90:90:15:9b';
  assert.deepEqual(openKeyFile({ ...file, fingerprint: right }), KEY_0_31);
});

test('deriveKey runs scrypt as PBS: "test", empty salt, n=65536 r=8 p=1 (VECTORS §4)', () => {
  const derived = deriveKey({ Scrypt: { ...DEFAULT_SCRYPT, salt: '' } }, 'test');
  assert.deepEqual(derived, fromHex('28cdb1a3bef39396c3860e00d448fe7a0efd8244486ab6feb30457681d31597e'));
});

test('openKeyFile opens a scrypt key file sealed by another writer', () => {
  const salt = new Uint8Array(32).fill(1);
  const kdf = { Scrypt: { ...FAST, salt: b64(salt) } };
  const file = sealed(kdf, deriveKey(kdf, 'secret'), KEY_0_31);
  assert.deepEqual(openKeyFile(file, 'secret'), KEY_0_31);
});

test('openKeyFile reads PBKDF2 key files of older clients', () => {
  const salt = new Uint8Array(32).fill(5);
  const derived = new Uint8Array(pbkdf2Sync('my passphrase', salt, 1000, 32, 'sha256'));
  const file = sealed({ PBKDF2: { iter: 1000, salt: b64(salt) } }, derived, KEY_0_31);
  assert.deepEqual(openKeyFile(file, 'my passphrase'), KEY_0_31);
  throwsCode(() => openKeyFile(file, 'other passphrase'), 'DECRYPT_FAILED');
});

test('createKeyFile with kdf none round-trips any key through JSON text (property)', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.option(fc.string(), { nil: undefined }), (key, hint) => {
      const file = createKeyFile(key, hint === undefined ? { kdf: 'none', now: 1593179765 } : { kdf: 'none', hint, now: 1593179765 });
      assert.equal(file.kdf, null);
      assert.equal(file.created, '2020-06-26T13:56:05Z');
      assert.equal(file.fingerprint, new CryptConfig(key).fingerprint());
      assert.equal(file.hint, hint);
      const reread: unknown = JSON.parse(JSON.stringify(file));
      assert.deepEqual(parseKeyFile(reread), file);
      assert.deepEqual(openKeyFile(reread), key);
    }),
    { numRuns: 50 },
  );
});

test('createKeyFile with scrypt encrypts the key under the passphrase', () => {
  const key = generateKey();
  const file = createKeyFile(key, { kdf: 'scrypt', passphrase: 'correct horse', hint: 'horse', scrypt: FAST });
  assert.ok(file.kdf && 'Scrypt' in file.kdf);
  assert.equal(Buffer.from(file.kdf.Scrypt.salt, 'base64').length, 32);
  assert.equal(Buffer.from(file.data, 'base64').length, 64);
  assert.deepEqual(openKeyFile(JSON.parse(JSON.stringify(file)), 'correct horse'), key);
  throwsCode(() => openKeyFile(file, 'wrong horse'), 'DECRYPT_FAILED');
  throwsCode(() => openKeyFile(file), 'KEY_REQUIRED');
  throwsCode(() => openKeyFile(file, 'four'), 'INVALID_ARGUMENT');
});

test('createKeyFile defaults to upstream scrypt parameters n=65536 r=8 p=1', () => {
  const file = createKeyFile(KEY_0_31, { kdf: 'scrypt', passphrase: 'hello' });
  assert.ok(file.kdf && 'Scrypt' in file.kdf);
  assert.deepEqual({ ...file.kdf.Scrypt, salt: undefined }, { n: 65536, r: 8, p: 1, salt: undefined });
  assert.deepEqual(Object.keys(file), ['kdf', 'created', 'modified', 'data', 'fingerprint']);
});

test('createKeyFile enforces a 5-byte passphrase (counted in UTF-8) and a 32-byte key', () => {
  throwsCode(() => createKeyFile(KEY_0_31, { kdf: 'scrypt', passphrase: 'äö', scrypt: FAST }), 'INVALID_ARGUMENT');
  throwsCode(() => createKeyFile(KEY_0_31, { kdf: 'scrypt', scrypt: FAST }), 'KEY_REQUIRED');
  assert.ok(createKeyFile(KEY_0_31, { kdf: 'scrypt', passphrase: 'äöü', scrypt: FAST }).kdf);
  throwsCode(() => createKeyFile(new Uint8Array(31), { kdf: 'none' }), 'INVALID_ARGUMENT');
});

test('openKeyFile rejects malformed key files with CORRUPT', () => {
  const good = createKeyFile(KEY_0_31, { kdf: 'none', now: 0 });
  const bad: unknown[] = [
    null,
    [],
    'text',
    { ...good, data: 5 },
    { ...good, data: 'not base64!' },
    { ...good, data: b64(new Uint8Array(31)) },
    { ...good, created: 'yesterday' },
    { ...good, kdf: { Argon2: {} } },
    { ...good, kdf: { Scrypt: { n: 0, r: 8, p: 1, salt: '' } } },
    { ...good, kdf: { Scrypt: { n: 1000, r: 8, p: 1, salt: '' } } },
    { ...good, fingerprint: 7 },
  ];
  for (const b of bad) throwsCode(() => openKeyFile(b, 'passphrase'), 'CORRUPT');
});
