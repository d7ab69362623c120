import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BACKUP_TYPES } from '../core/backup-ref.ts';
import { fromHex, toHex } from '../core/digest.ts';
import { isHoldfastError } from '../core/errors.ts';
import type { ErrorCode } from '../core/error-codes.ts';
import { blobHeader, encodeBlob } from './blob.ts';
import { CryptConfig } from './crypt-config.ts';
import {
  CRYPT_MODES,
  decodeManifestBlob,
  encodeManifestBlob,
  manifestSignature,
  manifestToJson,
  parseManifestJson,
  signedManifestBytes,
  signManifest,
  verifyManifestSignature,
  type Manifest,
} from './manifest.ts';

function throwsCode(fn: () => unknown, code: ErrorCode): void {
  assert.throws(fn, (e: unknown) => isHoldfastError(e, code));
}

/** VECTORS §4: scrypt("test", empty salt) — the key of upstream's test_manifest_signature. */
const SIG_KEY = new CryptConfig(fromHex('28cdb1a3bef39396c3860e00d448fe7a0efd8244486ab6feb30457681d31597e'));
const SIG_FINGERPRINT = '12:b9:b7:74:bb:3d:89:95:2b:97:cb:c2:82:f0:0c:14:2b:83:ba:7f:96:62:6a:a1:5a:44:9a:63:e8:91:fe:25';
const SIG_VALUE = 'd7b446fb7db081662081d4b40fedd858a1d6307a5aff4ecff7d5bf4fd35679e9';

function elsa(): Manifest {
  return {
    backupType: 'host',
    backupId: 'elsa',
    backupTime: 1593179765,
    files: [
      { filename: 'test1.img.fidx', cryptMode: 'encrypt', size: 200, csum: '01'.repeat(32) },
      { filename: 'abc.blob', cryptMode: 'none', size: 200, csum: '02'.repeat(32) },
    ],
    unprotected: { note: 'This is not protected by the signature.' },
    signature: null,
  };
}

test('signManifest reproduces upstream test_manifest_signature (VECTORS §4)', () => {
  const canonical =
    '{"backup-id":"elsa","backup-time":1593179765,"backup-type":"host","files":[{"crypt-mode":"encrypt","csum":"0101010101010101010101010101010101010101010101010101010101010101","filename":"test1.img.fidx","size":200},{"crypt-mode":"none","csum":"0202020202020202020202020202020202020202020202020202020202020202","filename":"abc.blob","size":200}]}';
  assert.equal(new TextDecoder().decode(signedManifestBytes(elsa())), canonical);
  const signed = signManifest(elsa(), SIG_KEY);
  assert.equal(signed.signature, SIG_VALUE);
  assert.equal(signed.unprotected['key-fingerprint'], SIG_FINGERPRINT);
  assert.equal(signed.unprotected['note'], 'This is not protected by the signature.');
  const reread = parseManifestJson(manifestToJson(signed));
  assert.equal(manifestSignature(reread, SIG_KEY), SIG_VALUE);
  assert.equal(verifyManifestSignature(reread, SIG_KEY), 'valid');
});

test('manifestToJson writes serde to_string_pretty shape with struct key order', () => {
  const expected = `{
  "backup-type": "host",
  "backup-id": "elsa",
  "backup-time": 1593179765,
  "files": [
    {
      "filename": "test1.img.fidx",
      "crypt-mode": "encrypt",
      "size": 200,
      "csum": "${'01'.repeat(32)}"
    },
    {
      "filename": "abc.blob",
      "crypt-mode": "none",
      "size": 200,
      "csum": "${'02'.repeat(32)}"
    }
  ],
  "unprotected": {
    "key-fingerprint": "${SIG_FINGERPRINT}",
    "note": "This is not protected by the signature."
  },
  "signature": "${SIG_VALUE}"
}`;
  assert.equal(manifestToJson(signManifest(elsa(), SIG_KEY)), expected);
  const empty: Manifest = { backupType: 'vm', backupId: '100', backupTime: 1, files: [], unprotected: {}, signature: null };
  assert.equal(manifestToJson(empty), '{\n  "backup-type": "vm",\n  "backup-id": "100",\n  "backup-time": 1,\n  "files": [],\n  "unprotected": {},\n  "signature": null\n}');
});

test('manifestToJson refuses manifests PBS could not read back with INVALID_ARGUMENT', () => {
  const f0 = elsa().files[0]!;
  for (const bad of [
    { ...elsa(), backupTime: 1.5 },
    { ...elsa(), files: [{ ...f0, size: -1 }] },
    { ...elsa(), files: [{ ...f0, csum: 'AB'.repeat(32) }] },
    { ...elsa(), signature: 'xyz' },
  ]) {
    throwsCode(() => manifestToJson(bad), 'INVALID_ARGUMENT');
  }
});

test('manifestToJson sorts unprotected keys byte-wise and keeps nested values', () => {
  const m: Manifest = { ...elsa(), unprotected: { verify_state: { upid: 'UPID:x', state: 'ok' }, notes: 'n', chunk_upload_stats: { size: 1, count: 2 } } };
  const text = manifestToJson(m);
  assert.ok(text.includes('"unprotected": {\n    "chunk_upload_stats": {\n      "count": 2,\n      "size": 1\n    },\n    "notes": "n",\n    "verify_state": {'));
  assert.deepEqual(parseManifestJson(text), m);
});

test('parseManifestJson applies serde defaults: crypt-mode none, unprotected {}, signature null', () => {
  const m = parseManifestJson(JSON.stringify({ 'backup-type': 'ct', 'backup-id': 'a', 'backup-time': 5, files: [{ filename: 'x.blob', size: 3, csum: 'AB'.repeat(32) }] }));
  assert.deepEqual(m, { backupType: 'ct', backupId: 'a', backupTime: 5, files: [{ filename: 'x.blob', cryptMode: 'none', size: 3, csum: 'ab'.repeat(32) }], unprotected: {}, signature: null });
});

test('parseManifestJson keeps unknown top-level keys, writes them back and signs them', () => {
  const text = manifestToJson(elsa()).replace('"signature": null', '"signature": null,\n  "future-field": [1, 2]');
  const m = parseManifestJson(text);
  assert.deepEqual(m.extra, { 'future-field': [1, 2] });
  assert.deepEqual(parseManifestJson(manifestToJson(m)), m);
  assert.ok(new TextDecoder().decode(signedManifestBytes(m)).includes('"future-field":[1,2]'));
  assert.notEqual(manifestSignature(m, SIG_KEY), SIG_VALUE);
});

test('parseManifestJson rejects what PBS would not deserialize with CORRUPT', () => {
  const base = JSON.parse(manifestToJson(elsa())) as Record<string, unknown>;
  const file = (over: Record<string, unknown>): Record<string, unknown> => ({ ...base, files: [{ filename: 'a', size: 1, csum: '00'.repeat(32), ...over }] });
  const bad: unknown[] = [
    [],
    { ...base, 'backup-type': 'lxc' },
    { ...base, 'backup-id': 7 },
    { ...base, 'backup-time': 1.5 },
    { ...base, 'backup-time': '1' },
    { ...base, files: {} },
    { ...base, unprotected: [] },
    { ...base, signature: 5 },
    file({ size: -1 }),
    file({ size: 2 ** 60 }),
    file({ csum: 'zz'.repeat(32) }),
    file({ csum: '00'.repeat(31) }),
    file({ 'crypt-mode': 'aes' }),
    file({ chunks: 3 }),
  ];
  for (const b of bad) throwsCode(() => parseManifestJson(JSON.stringify(b)), 'CORRUPT');
  throwsCode(() => parseManifestJson('{not json'), 'CORRUPT');
  throwsCode(() => parseManifestJson(`${'['.repeat(200)}${']'.repeat(200)}`), 'CORRUPT');
  throwsCode(() => parseManifestJson(JSON.stringify({ ...base, unprotected: { deep: JSON.parse(`${'['.repeat(200)}${']'.repeat(200)}`) as unknown } })), 'CORRUPT');
});

const jsonish = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.string(),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(fc.string(), tie('value'), { maxKeys: 3, noNullPrototype: true }),
  ),
})).value;

const PLAIN = { noNullPrototype: true } as const;
const fileArb = fc.record(
  {
    filename: fc.string({ minLength: 1 }),
    cryptMode: fc.constantFrom(...CRYPT_MODES),
    size: fc.maxSafeNat(),
    csum: fc.uint8Array({ minLength: 32, maxLength: 32 }).map(toHex),
  },
  PLAIN,
);
const manifestArb: fc.Arbitrary<Manifest> = fc.record(
  {
    backupType: fc.constantFrom(...BACKUP_TYPES),
    backupId: fc.string({ minLength: 1 }),
    backupTime: fc.integer({ min: 0, max: 2 ** 40 }),
    files: fc.array(fileArb, { maxLength: 4 }),
    unprotected: fc.dictionary(fc.string(), jsonish, { maxKeys: 4, ...PLAIN }),
    signature: fc.option(fc.uint8Array({ minLength: 32, maxLength: 32 }).map(toHex), { nil: null }),
  },
  PLAIN,
);

test('manifestToJson / parseManifestJson and the manifest blob round-trip (property)', () => {
  fc.assert(
    fc.property(manifestArb, (m) => {
      assert.deepEqual(parseManifestJson(manifestToJson(m)), m);
      const blob = encodeManifestBlob(m);
      assert.equal(blobHeader(blob).encrypted, false);
      assert.deepEqual(decodeManifestBlob(blob), m);
    }),
    { numRuns: 150 },
  );
});

test('signManifest / verifyManifestSignature accept the signer and refuse tampering (property)', () => {
  const other = new CryptConfig(new Uint8Array(32).fill(3));
  fc.assert(
    fc.property(manifestArb.filter((m) => m.files.length > 0), (m) => {
      const signed = parseManifestJson(manifestToJson(signManifest({ ...m, unprotected: {} }, SIG_KEY)));
      assert.equal(verifyManifestSignature(signed, SIG_KEY), 'valid');
      assert.equal(verifyManifestSignature({ ...signed, unprotected: { ...signed.unprotected, notes: 'edited' } }, SIG_KEY), 'valid');
      const f0 = signed.files[0]!;
      throwsCode(() => verifyManifestSignature({ ...signed, files: [{ ...f0, size: f0.size === 0 ? 1 : f0.size - 1 }, ...signed.files.slice(1)] }, SIG_KEY), 'SIGNATURE_MISMATCH');
      throwsCode(() => verifyManifestSignature(signed, other), 'SIGNATURE_MISMATCH');
    }),
    { numRuns: 40 },
  );
});

test('verifyManifestSignature reports unsigned manifests and checks a recorded fingerprint anyway', () => {
  assert.equal(verifyManifestSignature(elsa(), SIG_KEY), 'unsigned');
  const stamped = { ...elsa(), unprotected: { 'key-fingerprint': SIG_FINGERPRINT } };
  assert.equal(verifyManifestSignature(stamped, SIG_KEY), 'unsigned');
  throwsCode(() => verifyManifestSignature(stamped, new CryptConfig(new Uint8Array(32))), 'SIGNATURE_MISMATCH');
  throwsCode(() => verifyManifestSignature({ ...elsa(), signature: 'not hex' }, SIG_KEY), 'SIGNATURE_MISMATCH');
});

test('decodeManifestBlob rejects damaged blobs and non-UTF-8 content with coded errors', () => {
  const blob = encodeManifestBlob(elsa());
  assert.equal(blobHeader(blob).kind, 'compressed');
  const damaged = blob.slice();
  damaged[20] = (damaged[20] ?? 0) ^ 1;
  throwsCode(() => decodeManifestBlob(damaged), 'BAD_CRC');
  throwsCode(() => decodeManifestBlob(encodeBlob(Uint8Array.of(0xff, 0xfe, 0x7b), { compress: false })), 'CORRUPT');
  throwsCode(() => decodeManifestBlob(encodeBlob(new TextEncoder().encode('[]'), { compress: false })), 'CORRUPT');
});
