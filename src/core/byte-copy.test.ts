/**
 * copyBytes gives what `dst.set(src, at)` gives, between plain and shared memory, at odd offsets,
 * above and below the native threshold, and refuses a source that does not fit. The addon is
 * built by `npm ci` / `npm run build`; without it the fallback is checked the same way.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { copyBytes, nativeCopyLoaded } from './byte-copy.ts';

const pattern = (n: number, salt: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + salt) & 0xff);

test('the native copy is in use when the addon is built', () => {
  assert.equal(nativeCopyLoaded, existsSync(new URL('../../native/build/Release/holdfast_buzhash.node', import.meta.url)));
});

for (const [name, make] of [
  ['plain', (n: number) => new Uint8Array(n)],
  ['shared', (n: number) => new Uint8Array(new SharedArrayBuffer(n))],
] as const) {
  test(`copyBytes into ${name} memory equals Uint8Array.set, at odd offsets and sizes`, () => {
    for (const size of [0, 1, 4095, 4096, 100_003]) {
      for (const at of [0, 1, 12, 4099]) {
        const src = make(size + 7).subarray(5, 5 + size);
        src.set(pattern(size, at));
        const dst = make(size + at + 3);
        const want = new Uint8Array(dst.length);
        want.set(src, at);
        copyBytes(dst, src, at);
        assert.deepEqual(Buffer.from(dst), Buffer.from(want), `size ${size} at ${at}`);
      }
    }
  });
}

test('copyBytes refuses a source that does not fit', () => {
  assert.throws(() => copyBytes(new Uint8Array(10_000), new Uint8Array(8_000), 2_001), RangeError);
  assert.throws(() => copyBytes(new Uint8Array(10), new Uint8Array(8), 3), RangeError);
});
