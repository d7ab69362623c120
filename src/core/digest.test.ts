import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { digestEquals, fromHex, isDigestHex, sha256, toHex } from './digest.ts';
import { isHoldfastError } from './errors.ts';

test('sha256 hashes the concatenation of its parts', () => {
  const whole = sha256(new TextEncoder().encode('abc'));
  assert.equal(toHex(whole), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  assert.deepEqual(sha256(Uint8Array.of(0x61), Uint8Array.of(0x62, 0x63)), whole);
  assert.equal(Object.getPrototypeOf(whole), Uint8Array.prototype);
});

test('toHex writes lowercase and respects subarray views', () => {
  const b = Uint8Array.of(0x00, 0xab, 0xcd, 0xef);
  assert.equal(toHex(b), '00abcdef');
  assert.equal(toHex(b.subarray(1, 3)), 'abcd');
});

test('fromHex round-trips toHex and accepts uppercase', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
      assert.deepEqual(fromHex(toHex(b)), b);
      assert.deepEqual(fromHex(toHex(b).toUpperCase()), b);
    }),
  );
});

test('fromHex rejects bad digits, odd length and a wrong byte count with INVALID_ARGUMENT', () => {
  for (const [text, len] of [['0g', undefined], ['abc', undefined], [' 00', undefined], ['0011', 3]] as const) {
    assert.throws(() => fromHex(text, len), (e: unknown) => isHoldfastError(e, 'INVALID_ARGUMENT'));
  }
  assert.deepEqual(fromHex('0011', 2), Uint8Array.of(0, 0x11));
});

test('isDigestHex accepts only 64 lowercase hex digits', () => {
  assert.equal(isDigestHex('a'.repeat(64)), true);
  assert.equal(isDigestHex('A'.repeat(64)), false);
  assert.equal(isDigestHex('a'.repeat(63)), false);
  assert.equal(isDigestHex(`${'a'.repeat(63)}g`), false);
});

test('digestEquals compares bytes and lengths', () => {
  assert.equal(digestEquals(Uint8Array.of(1, 2), Uint8Array.of(1, 2)), true);
  assert.equal(digestEquals(Uint8Array.of(1, 2), Uint8Array.of(1, 3)), false);
  assert.equal(digestEquals(Uint8Array.of(1), Uint8Array.of(1, 0)), false);
});
