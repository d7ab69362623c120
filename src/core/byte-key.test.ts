import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { byteKey } from './byte-key.ts';

describe('byteKey', () => {
  it('maps every byte to the character of its code, short (on V8 heap) and long alike', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    for (const len of [0, 1, 22, 64, 65, 256]) {
      const b = all.subarray(0, len);
      assert.equal(byteKey(b), Buffer.from(b).toString('latin1'));
      assert.equal(byteKey(b).length, len);
    }
  });

  it('reads only the view, not the rest of its buffer', () => {
    const big = Buffer.from('xx/a/bc/yy');
    assert.equal(byteKey(big.subarray(3, 7)), 'a/bc');
    const long = Buffer.alloc(200, 0x61);
    long[150] = 0xff;
    assert.equal(byteKey(long.subarray(100, 180)), 'a'.repeat(50) + '\u00ff' + 'a'.repeat(29));
  });

  it('tells apart byte strings that UTF-8 decoding would merge', () => {
    assert.notEqual(byteKey(Uint8Array.of(0xff)), byteKey(Uint8Array.of(0xfe)));
    assert.notEqual(byteKey(Uint8Array.of(0xc3, 0xa9)), byteKey(Uint8Array.of(0xe9)));
  });
});
