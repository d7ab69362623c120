import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { fromHex, sha256, toHex } from '../core/digest.ts';
import { isHoldfastError } from '../core/errors.ts';
import { chunkDigest, CryptConfig, formatFingerprint, parseFingerprint } from './crypt-config.ts';

const filled = (byte: number): Uint8Array => new Uint8Array(32).fill(byte);
/** VECTORS.md §6.1 TEST_DATA: 100000 bytes, byte i = i % 255. */
const TEST_DATA = Uint8Array.from({ length: 100000 }, (_, i) => i % 255);
/** VECTORS.md §6.2 input: [0×10, 1×10, 2×10, 3×10, 4×10]. */
const FIFTY = Uint8Array.from({ length: 50 }, (_, i) => Math.floor(i / 10));

test('CryptConfig.fingerprint of key 00..1f is the upstream value (VECTORS §5.1)', () => {
  const c = new CryptConfig(Uint8Array.from({ length: 32 }, (_, i) => i));
  const bytes = [14, 171, 212, 70, 11, 110, 185, 202, 52, 80, 35, 222, 226, 183, 120, 199, 144, 229, 74, 22, 131, 185, 101, 156, 10, 87, 174, 25, 144, 144, 21, 155];
  assert.deepEqual([...c.fingerprintBytes()], bytes);
  assert.equal(toHex(c.fingerprintBytes()), '0eabd4460b6eb9ca345023dee2b778c790e54a1683b9659c0a57ae199090159b');
  assert.equal(c.fingerprint(), '0e:ab:d4:46:0b:6e:b9:ca:34:50:23:de:e2:b7:78:c7:90:e5:4a:16:83:b9:65:9c:0a:57:ae:19:90:90:15:9b');
  assert.equal(c.shortFingerprint(), '0e:ab:d4:46:0b:6e:b9:ca');
});

test('CryptConfig.idKey is PBKDF2(key, "_id_key", 10) (VECTORS §4, §6.1, §6.2)', () => {
  const sigKey = fromHex('28cdb1a3bef39396c3860e00d448fe7a0efd8244486ab6feb30457681d31597e');
  assert.equal(toHex(new CryptConfig(sigKey).idKey), '758495a21c31047f543f46d694700e02d168568bab37bb0ceece947b591f5100');
  assert.equal(new CryptConfig(sigKey).fingerprint().replaceAll(':', ''), '12b9b774bb3d89952b97cbc282f00c142b83ba7f96626aa15a449a63e891fe25');
  assert.equal(toHex(new CryptConfig(filled(1)).idKey), '421679d8d439d1cbf2a915904a91d1ba20b7e641f9c846378b899864189ff304');
  assert.equal(toHex(new CryptConfig(filled(9)).idKey), 'd8574fc7e9bcffc3127c21c78bebf73504a3be683e4dba652865f23435609353');
});

test('chunkDigest is SHA-256 without a key and SHA-256(data ‖ id key) with one (VECTORS §6.1)', () => {
  const plain = [83, 154, 96, 195, 167, 204, 38, 142, 204, 224, 130, 201, 24, 71, 2, 188, 130, 155, 177, 6, 162, 100, 61, 238, 38, 219, 63, 240, 191, 132, 87, 238];
  const keyed = [50, 162, 191, 93, 255, 132, 9, 14, 127, 23, 92, 39, 246, 102, 245, 204, 130, 104, 4, 106, 182, 239, 218, 14, 80, 17, 150, 188, 239, 253, 198, 117];
  const c = new CryptConfig(filled(1));
  assert.deepEqual([...chunkDigest(TEST_DATA)], plain);
  assert.deepEqual([...chunkDigest(TEST_DATA, c)], keyed);
  assert.deepEqual(c.digest(TEST_DATA), sha256(TEST_DATA, c.idKey));
});

test('chunkDigest of the 50-byte data_blob input (VECTORS §6.2)', () => {
  assert.equal(toHex(chunkDigest(FIFTY)), 'c8b59f3093e5268919b92e8e91074d14205c1ae70fac35aec7021603c9e3b63f');
  assert.equal(toHex(chunkDigest(FIFTY, new CryptConfig(filled(9)))), '01aa8f2cdd4ba5c87d86255764358ea2ab3dbf473379dcc9397217148908c1d1');
});

test('CryptConfig.authTag is HMAC-SHA256 keyed with the id key', () => {
  const c = new CryptConfig(filled(7));
  const msg = new TextEncoder().encode('manifest');
  assert.deepEqual(c.authTag(msg), new Uint8Array(createHmac('sha256', c.idKey).update(msg).digest()));
});

test('CryptConfig rejects keys that are not 32 bytes', () => {
  for (const n of [0, 16, 31, 33]) assert.throws(() => new CryptConfig(new Uint8Array(n)), (e: unknown) => isHoldfastError(e, 'INVALID_ARGUMENT'));
});

test('CryptConfig.encryptInto and decryptInto round-trip across slice boundaries', () => {
  const c = new CryptConfig(filled(3));
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 600_000 }), (len) => {
      const plain = new Uint8Array(randomBytes(len));
      const iv = new Uint8Array(randomBytes(16));
      const ct = new Uint8Array(len);
      const tag = c.encryptInto(plain, ct, iv);
      assert.equal(tag.byteLength, 16);
      const back = new Uint8Array(len);
      c.decryptInto(ct, iv, tag, back);
      assert.deepEqual(back, plain);
    }),
    { numRuns: 8 },
  );
});

test('CryptConfig.decryptInto fails with DECRYPT_FAILED and clears its output on a bad tag or key', () => {
  const c = new CryptConfig(filled(3));
  const plain = new TextEncoder().encode('secret data');
  const iv = new Uint8Array(16);
  const ct = new Uint8Array(plain.length);
  const tag = c.encryptInto(plain, ct, iv);
  const out = new Uint8Array(plain.length);
  const badTag = tag.slice();
  badTag[0] = (badTag[0] ?? 0) ^ 1;
  assert.throws(() => c.decryptInto(ct, iv, badTag, out), (e: unknown) => isHoldfastError(e, 'DECRYPT_FAILED'));
  assert.deepEqual(out, new Uint8Array(plain.length));
  assert.throws(() => new CryptConfig(filled(4)).decryptInto(ct, iv, tag, out), (e: unknown) => isHoldfastError(e, 'DECRYPT_FAILED'));
});

test('formatFingerprint and parseFingerprint use colon-separated lowercase hex (VECTORS §5.2)', () => {
  const bytes = fromHex('00112233445566778899aabbccddeeff102030405060708090a0b0c0d0e0f001');
  const text = '00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:10:20:30:40:50:60:70:80:90:a0:b0:c0:d0:e0:f0:01';
  assert.equal(formatFingerprint(bytes), text);
  assert.deepEqual(parseFingerprint(text), bytes);
  assert.deepEqual(parseFingerprint(text.toUpperCase()), bytes);
  for (const bad of [text.replace('00', 'zz'), '00:11:22:33', '00:'.repeat(33), `${text}:ff`, '']) {
    assert.throws(() => parseFingerprint(bad), (e: unknown) => isHoldfastError(e, 'INVALID_ARGUMENT'), bad);
  }
});
