import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isHoldfastError } from '../../core/errors.ts';
import { CatalogWriter, listCatalog } from './catalog.ts';
import { decodeVarI64, decodeVarU64, encodeVarI64, encodeVarU64 } from './catalog-varint.ts';
import { FIXTURE_SKIP, readFixture } from './fixtures.ts';
import { pathText } from './names.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const enc = new TextEncoder();

test('encodeVarU64 / encodeVarI64 give the encodings of VECTORS.md §7 and decode back', () => {
  const u64: [bigint, string][] = [[0n, '00'], [126n, '7e'], [127n, '7f'], [128n, '8001'], [300n, 'ac02'], [4095n, 'ff1f'], [1048575n, 'ffff3f'], [2n ** 50n - 1n, 'ffffffffffffff01'], [2n ** 64n - 1n, 'ffffffffffffffffff01']];
  const i64: [bigint, string][] = [[0n, '00'], [126n, '7e'], [128n, '8001'], [4095n, 'ff1f'], [-1n, '8100'], [-126n, 'fe00'], [-127n, 'ff00'], [-128n, '808100'], [-4097n, '81a000'], [1700000000n, '80e2cfaa06'], [-1700000000n, '80e2cfaa8600'], [-(2n ** 63n), '8080808080808080808100'], [2n ** 63n - 1n, 'ffffffffffffffff7f']];
  for (const [v, h] of u64) {
    assert.equal(hex(encodeVarU64(v)), h, `u64 ${v}`);
    assert.deepEqual(decodeVarU64(Buffer.from(h, 'hex'), 0), { value: v, next: h.length / 2 });
    // a u64 encoding read as i64 gives the same value, cast (upstream round trip)
    assert.equal(decodeVarI64(Buffer.from(h, 'hex'), 0).value, BigInt.asIntN(64, v));
  }
  for (const [v, h] of i64) {
    assert.equal(hex(encodeVarI64(v)), h, `i64 ${v}`);
    assert.deepEqual(decodeVarI64(Buffer.from(h, 'hex'), 0), { value: v, next: h.length / 2 });
  }
});

test('catalog varints round-trip every value and reject truncated or overlong input with coded errors', () => {
  fc.assert(fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (v) => decodeVarI64(encodeVarI64(v), 0).value === v));
  fc.assert(fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (v) => decodeVarU64(encodeVarU64(v), 0).value === v));
  assert.throws(() => decodeVarU64(Uint8Array.of(0x80, 0x80), 0), (e) => isHoldfastError(e, 'TRUNCATED'));
  assert.throws(() => decodeVarU64(new Uint8Array(11).fill(0xff), 0), (e) => isHoldfastError(e, 'CORRUPT'));
  assert.throws(() => decodeVarU64(Buffer.from('ffffffffffffffffff02', 'hex'), 0), (e) => isHoldfastError(e, 'CORRUPT'));
});

test('CatalogWriter writes derived/example.pcat1 byte for byte and listCatalog reads it (pxar-format.md §10.3)', { skip: FIXTURE_SKIP }, () => {
  const w = new CatalogWriter();
  w.startDirectory(enc.encode('root.pxar.didx'));
  w.addFile(enc.encode('a'), 2, 0);
  w.endDirectory();
  const bytes = Buffer.concat(w.finish());
  assert.deepEqual(bytes, Buffer.from(readFixture('derived/example.pcat1')));
  const listed = listCatalog(bytes);
  assert.deepEqual(listed.map((e) => [pathText(e.path), e.entry.type, e.entry.size, e.entry.mtime]), [
    ['root.pxar.didx', 'directory', undefined, undefined],
    ['root.pxar.didx/a', 'file', 2n, 0n],
  ]);
});

test('listCatalog returns nested trees in stored order and rejects bad magic, truncation and bad blocks', () => {
  const w = new CatalogWriter();
  w.startDirectory(enc.encode('x.pxar.didx'));
  w.startDirectory(enc.encode('sub'));
  w.addFile(enc.encode('f'), 123456789n, -1700000000n);
  w.addOther('symlink', enc.encode('l'));
  w.endDirectory();
  w.addOther('fifo', enc.encode('p'));
  w.endDirectory();
  const bytes = Buffer.concat(w.finish());
  assert.deepEqual(listCatalog(bytes).map((e) => `${e.entry.type}:${pathText(e.path)}`), ['directory:x.pxar.didx', 'directory:x.pxar.didx/sub', 'file:x.pxar.didx/sub/f', 'symlink:x.pxar.didx/sub/l', 'fifo:x.pxar.didx/p']);
  const code = (c: string) => (e: unknown) => isHoldfastError(e) && e.code === c;
  assert.throws(() => listCatalog(Buffer.concat([Buffer.from([0]), bytes.subarray(1)])), code('BAD_MAGIC'));
  assert.throws(() => listCatalog(bytes.subarray(0, 10)), code('TRUNCATED'));
  for (let i = 8; i < bytes.length - 8; i++) {
    const flipped = Buffer.from(bytes);
    flipped[i] = (flipped[i] as number) ^ 0x40;
    try {
      listCatalog(flipped);
    } catch (e) {
      assert.ok(isHoldfastError(e), String(e));
    }
  }
});
