import { test } from 'node:test';
import assert from 'node:assert/strict';
import binding from 'zstd-napi/binding.js';
import { isHoldfastError } from '../core/errors.ts';
import { compressIfSmaller, decompress, looksIncompressible } from './zstd.ts';
import { randomBytes } from 'node:crypto';

const TEXT = new TextEncoder().encode('holdfast keeps backups; '.repeat(5000));

/** A zstd stream written without a content size, the way PBS 3.x's streaming encoder wrote chunks. */
function streamFrame(data: Uint8Array): Uint8Array {
  const cctx = new binding.CCtx();
  const out = new Uint8Array(binding.compressBound(data.length) + 64);
  let written = 0;
  let rest = data;
  // Feeding with `continue` first keeps zstd from learning the total size up front.
  while (rest.length > 0) {
    const [, produced, consumed] = cctx.compressStream2(out.subarray(written), rest, binding.EndDirective.continue);
    written += produced;
    rest = rest.subarray(consumed);
  }
  for (;;) {
    const [remaining, produced] = cctx.compressStream2(out.subarray(written), new Uint8Array(0), binding.EndDirective.end);
    written += produced;
    if (remaining === 0) break;
  }
  return out.slice(0, written);
}

const isCorrupt = (e: unknown): boolean => isHoldfastError(e, 'CORRUPT');

test('compressIfSmaller returns a frame with the content size, or undefined when it would grow', () => {
  const frame = compressIfSmaller(TEXT);
  assert.ok(frame && frame.length < TEXT.length);
  assert.equal(binding.getFrameContentSize(frame), TEXT.length);
  assert.deepEqual(decompress(frame.slice(), TEXT.length), TEXT);
  assert.equal(compressIfSmaller(Uint8Array.of(1, 2, 3)), undefined);
});

test('decompress decodes frames without a content size and several frames in a row', () => {
  const noSize = streamFrame(TEXT);
  assert.equal(binding.getFrameContentSize(noSize), null);
  assert.deepEqual(decompress(noSize, TEXT.length), TEXT);
  const zeros = streamFrame(new Uint8Array(3_000_000));
  assert.deepEqual(decompress(zeros, 3_000_000), new Uint8Array(3_000_000));
  const two = new Uint8Array([...noSize, ...streamFrame(Uint8Array.of(7, 8, 9))]);
  assert.deepEqual(decompress(two, 1 << 20), new Uint8Array([...TEXT, 7, 8, 9]));
});

test('decompress enforces maxOutput on both the sized and the streaming path with CORRUPT', () => {
  const sized = compressIfSmaller(TEXT)!.slice();
  assert.throws(() => decompress(sized, TEXT.length - 1), isCorrupt);
  assert.throws(() => decompress(streamFrame(TEXT), TEXT.length - 1), isCorrupt);
  assert.deepEqual(decompress(streamFrame(TEXT), TEXT.length), TEXT);
});

test('decompress rejects garbage, empty input, truncated frames and trailing junk with CORRUPT', () => {
  const frame = streamFrame(TEXT);
  const sized = compressIfSmaller(TEXT)!.slice();
  assert.throws(() => decompress(new Uint8Array(0), 100), isCorrupt);
  assert.throws(() => decompress(new TextEncoder().encode('not zstd at all'), 100), isCorrupt);
  assert.throws(() => decompress(frame.subarray(0, frame.length - 3), 1 << 20), isCorrupt);
  assert.throws(() => decompress(sized.subarray(0, sized.length - 3), 1 << 20), isCorrupt);
  assert.throws(() => decompress(new Uint8Array([...sized, 1, 2, 3, 4, 5]), 1 << 20), isCorrupt);
  // The context must be usable again after a failure.
  assert.deepEqual(decompress(frame, 1 << 20), TEXT);
});

test('looksIncompressible: random data is skipped, text and partly compressible data are not', () => {
  const random = randomBytes(4 * 1024 * 1024);
  assert.equal(looksIncompressible(random), true);
  assert.equal(compressIfSmaller(random), undefined);
  const text = Buffer.alloc(4 * 1024 * 1024);
  const line = Buffer.from('holdfast keeps backups: every chunk hashed, every blob checked, every byte accounted for\n');
  for (let o = 0; o < text.length; o += line.length) line.copy(text, o);
  assert.equal(looksIncompressible(text), false);
  // half random, half zeros: the samples see the zeros, so the chunk is compressed (to about half)
  const half = Buffer.concat([randomBytes(2 * 1024 * 1024), Buffer.alloc(2 * 1024 * 1024)]);
  assert.equal(looksIncompressible(half), false);
  assert.ok(compressIfSmaller(half)!.byteLength < 0.6 * half.length);
});

test('looksIncompressible never skips an input under 256 KiB: compressIfSmaller alone decides', () => {
  assert.equal(looksIncompressible(randomBytes(256 * 1024 - 1)), false);
});
