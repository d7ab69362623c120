import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sha256, toHex } from '../core/digest.ts';
import * as m from './magics.ts';

// VECTORS.md §1: each magic is SHA-256(name)[0..8]; the bytes are the upstream-asserted values.
const CASES = [
  ['CATALOG_MAGIC', m.CATALOG_MAGIC, 'Proxmox Backup Catalog file v1.0', '91fd60f9c46758d5'],
  ['UNCOMPRESSED_BLOB_MAGIC', m.UNCOMPRESSED_BLOB_MAGIC, 'Proxmox Backup uncompressed blob v1.0', '42ab3807be8370a1'],
  ['COMPRESSED_BLOB_MAGIC', m.COMPRESSED_BLOB_MAGIC, 'Proxmox Backup zstd compressed blob v1.0', '31b958426fb6a37f'],
  ['ENCRYPTED_BLOB_MAGIC', m.ENCRYPTED_BLOB_MAGIC, 'Proxmox Backup encrypted blob v1.0', '7b6785be222d4cf0'],
  ['ENCR_COMPR_BLOB_MAGIC', m.ENCR_COMPR_BLOB_MAGIC, 'Proxmox Backup zstd compressed encrypted blob v1.0', 'e6591bbf0bbfd80b'],
  ['FIXED_INDEX_MAGIC', m.FIXED_INDEX_MAGIC, 'Proxmox Backup fixed sized chunk index v1.0', '2f7f41ed91fd0fcd'],
  ['DYNAMIC_INDEX_MAGIC', m.DYNAMIC_INDEX_MAGIC, 'Proxmox Backup dynamic sized chunk index v1.0', '1c914ea519bab3cd'],
] as const;

for (const [name, magic, text, hex] of CASES) {
  test(`magics.${name} is the upstream value and the first 8 bytes of SHA-256("${text}")`, () => {
    assert.equal(toHex(magic), hex);
    assert.equal(toHex(sha256(new TextEncoder().encode(text)).subarray(0, 8)), hex);
  });
}

test('magics.FINGERPRINT_INPUT is SHA-256("Proxmox Backup Encryption Key Fingerprint")', () => {
  const expected = '6ed0ef77471fff4d55c7a8fe4a9db62161407f134c725ddf30992d25ec45ed26';
  assert.equal(toHex(m.FINGERPRINT_INPUT), expected);
  assert.equal(toHex(sha256(new TextEncoder().encode('Proxmox Backup Encryption Key Fingerprint'))), expected);
});

test('magics.hasMagic matches prefixes only', () => {
  assert.equal(m.hasMagic(Uint8Array.of(...m.FIXED_INDEX_MAGIC, 1, 2), m.FIXED_INDEX_MAGIC), true);
  assert.equal(m.hasMagic(m.FIXED_INDEX_MAGIC.subarray(0, 7), m.FIXED_INDEX_MAGIC), false);
  assert.equal(m.hasMagic(m.DYNAMIC_INDEX_MAGIC, m.FIXED_INDEX_MAGIC), false);
});
