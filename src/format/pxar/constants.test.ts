import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PXAR_TYPE_NAMES, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK } from './constants.ts';
import { PXAR_HASH_KEY, pxarNameHash, sipHash24 } from './siphash.ts';

const enc = new TextEncoder();

test('sipHash24 matches the SipHash paper vector (key 00..0f, message 00..0e)', () => {
  const key = { k0: 0x0706050403020100n, k1: 0x0f0e0d0c0b0a0908n };
  assert.equal(sipHash24(key, Uint8Array.from({ length: 15 }, (_, i) => i)), 0xa129ca6149be45e5n);
});

test('sipHash24 agrees with a BigInt reference for every message length 0..40', () => {
  const mask = (1n << 64n) - 1n;
  const rotl = (x: bigint, b: bigint): bigint => ((x << b) | (x >> (64n - b))) & mask;
  const reference = (k0: bigint, k1: bigint, m: Uint8Array): bigint => {
    let v0 = k0 ^ 0x736f6d6570736575n, v1 = k1 ^ 0x646f72616e646f6dn, v2 = k0 ^ 0x6c7967656e657261n, v3 = k1 ^ 0x7465646279746573n;
    const round = (): void => {
      v0 = (v0 + v1) & mask; v1 = rotl(v1, 13n) ^ v0; v0 = rotl(v0, 32n);
      v2 = (v2 + v3) & mask; v3 = rotl(v3, 16n) ^ v2;
      v0 = (v0 + v3) & mask; v3 = rotl(v3, 21n) ^ v0;
      v2 = (v2 + v1) & mask; v1 = rotl(v1, 17n) ^ v2; v2 = rotl(v2, 32n);
    };
    const padded = new Uint8Array(Math.floor(m.length / 8) * 8 + 8);
    padded.set(m);
    padded[padded.length - 1] = m.length & 0xff;
    const view = new DataView(padded.buffer);
    for (let at = 0; at < padded.length; at += 8) {
      const w = view.getBigUint64(at, true);
      v3 ^= w; round(); round(); v0 ^= w;
    }
    v2 ^= 0xffn;
    for (let i = 0; i < 4; i++) round();
    return v0 ^ v1 ^ v2 ^ v3;
  };
  for (let len = 0; len <= 40; len++) {
    const msg = Uint8Array.from({ length: len }, (_, i) => (i * 37 + len) & 0xff);
    assert.equal(sipHash24(PXAR_HASH_KEY, msg), reference(PXAR_HASH_KEY.k0, PXAR_HASH_KEY.k1, msg), `length ${len}`);
  }
});

test('PXAR_TYPE_NAMES: all 23 type constants are SipHash-2-4 of their format strings (VECTORS.md §2.1)', () => {
  assert.equal(PXAR_TYPE_NAMES.length, 23);
  for (const [name, code, text] of PXAR_TYPE_NAMES) assert.equal(pxarNameHash(enc.encode(text)), code, name);
});

test('PXAR_TYPE_NAMES: any two constants differ in at least 8 bits, so no single bit flip turns one into another', () => {
  const popcount = (x: bigint): number => x.toString(2).replaceAll('0', '').length;
  for (const [a, ca] of PXAR_TYPE_NAMES) for (const [b, cb] of PXAR_TYPE_NAMES) if (a !== b) assert.ok(popcount(ca ^ cb) >= 8, `${a} vs ${b}`);
});

test('pxarNameHash gives the goodbye hashes of VECTORS.md §2.1 and upstream/VECTORS.md', () => {
  const expected: Record<string, bigint> = {
    a: 0x0c26e9067c2c7bcfn,
    'file.txt': 0x967764f630c3da14n,
    file1: 0x3d21c7e25c46b0a3n,
    file2: 0xcf00c084b2c264e7n,
    file3: 0x7cdb8425e43e4492n,
    file4: 0x8cf24359a5a54895n,
    subdir1: 0xb024e25ca4f3ea73n,
    'a-test-symlink': 0xfe2952f711141770n,
    '.pxarexclude-cli': 0x046975ce672e09ebn,
    '': 0x76614015f8d1bb6cn,
    file_5: 0xc0a945556b0956bfn,
    file_4: 0x00bfd4686af02b7dn,
    folder_0: 0xe093b923517a4b01n,
    folder_4: 0x0946031245adf827n,
  };
  for (const [name, hash] of Object.entries(expected)) assert.equal(pxarNameHash(enc.encode(name)), hash, name);
});

test('file-type mode bits equal the Linux values (pxar-format.md §2.3)', () => {
  assert.deepEqual([S_IFMT, S_IFSOCK, S_IFLNK, S_IFREG, S_IFBLK, S_IFDIR, S_IFCHR, S_IFIFO], [0o170000, 0o140000, 0o120000, 0o100000, 0o060000, 0o040000, 0o020000, 0o010000]);
});
