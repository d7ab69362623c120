import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { BuzhashChunker, type ChunkerImpl } from './buzhash-chunker.ts';
import { loadNativeChunker, nativeChunkerProblem, nativeRoll } from './buzhash-native.ts';

const notBuilt = nativeChunkerProblem() ?? false;

/** Chunk ends when `data` arrives cut at `splits` (offsets into it). */
function ends(data: Uint8Array, splits: readonly number[], avg: number, impl: ChunkerImpl): number[] {
  const chunker = new BuzhashChunker(avg, impl);
  const at = [...new Set(splits.map((s) => s % (data.length + 1)))].sort((a, b) => a - b);
  const out: number[] = [];
  let offset = 0;
  let prev = 0;
  for (const s of [...at, data.length]) {
    let rest = data.subarray(prev, s);
    prev = s;
    for (let k = chunker.scan(rest); k !== 0; k = chunker.scan(rest)) {
      offset += k;
      out.push(offset);
      rest = rest.subarray(k);
    }
    offset += rest.length;
  }
  return out;
}

test('BuzhashChunker cuts identically with the native and the JS loop, on random data and random buffer splits (property)', { skip: notBuilt }, () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 4 }).map((k) => 256 << k),
      fc.integer({ min: 1, max: 96 * 1024 }),
      fc.array(fc.nat(), { maxLength: 40 }),
      fc.boolean(),
      (avg, length, splits, lowEntropy) => {
        // low-entropy data (bytes 0..3) makes long runs without a cut, so max is hit too
        const data = randomBytes(length).map((b) => (lowEntropy ? b & 3 : b));
        assert.deepEqual(ends(data, splits, avg, 'auto'), ends(data, splits, avg, 'js'));
      },
    ),
    { numRuns: 300 },
  );
});

test('BuzhashChunker cuts a zero run at max with the native loop, as with the JS one', { skip: notBuilt }, () => {
  const data = new Uint8Array(10 * 4096 + 17);
  assert.deepEqual(ends(data, [5000, 5001], 1024, 'auto'), ends(data, [], 1024, 'js'));
});

test('native roll rejects offsets outside its buffer with a RangeError', { skip: notBuilt }, () => {
  const roll = nativeRoll!;
  const state = new Int32Array(1);
  assert.throws(() => roll(new Uint8Array(100), 10, 10, 20, 1, 0, state), RangeError);
  assert.throws(() => roll(new Uint8Array(100), 64, 64, 101, 1, 0, state), RangeError);
  assert.throws(() => roll(new Uint8Array(100), 64, 80, 70, 1, 0, state), RangeError);
});

test('native roll reads a Uint8Array over a SharedArrayBuffer at its byte offset', { skip: notBuilt }, () => {
  const shared = new Uint8Array(new SharedArrayBuffer(8192));
  shared.set(randomBytes(8192));
  const view = shared.subarray(1000, 5000);
  const copy = Uint8Array.from(view);
  const a = new Int32Array(1);
  const b = new Int32Array(1);
  assert.equal(nativeRoll!(view, 64, 64, view.length, 255, 250, a), nativeRoll!(copy, 64, 64, copy.length, 255, 250, b));
  assert.equal(a[0], b[0]);
});

test('loadNativeChunker reports a missing addon as a problem to warn about, not an error', () => {
  const r = loadNativeChunker('/nonexistent/holdfast_buzhash.node', {});
  assert.ok('problem' in r && !r.chosen && r.problem.includes('not built'), JSON.stringify(r));
});

test('loadNativeChunker reports an addon that does not load as a problem to warn about', () => {
  const dir = mkdtempSync(join(tmpdir(), 'holdfast-native-'));
  try {
    const bogus = join(dir, 'holdfast_buzhash.node');
    writeFileSync(bogus, 'not a shared object');
    const r = loadNativeChunker(bogus, {});
    assert.ok('problem' in r && !r.chosen && r.problem.includes('does not load'), JSON.stringify(r));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('loadNativeChunker uses the JS loop without a warning when HOLDFAST_CHUNKER=js', () => {
  const r = loadNativeChunker('/nonexistent/holdfast_buzhash.node', { HOLDFAST_CHUNKER: 'js' });
  assert.ok('problem' in r && r.chosen, JSON.stringify(r));
});

test("the native addon's mallopt sets glibc's malloc parameters (bin/holdfast.js uses it instead of koffi)", { skip: notBuilt || process.platform !== 'linux' }, () => {
  const addon = createRequire(import.meta.url)('../../native/build/Release/holdfast_buzhash.node') as { mallopt?: (param: number, value: number) => number };
  assert.equal(typeof addon.mallopt, 'function');
  const M_ARENA_MAX = -8;
  assert.equal(addon.mallopt!(M_ARENA_MAX, 2), 1, 'glibc accepts the setting');
  assert.throws(() => addon.mallopt!('x' as unknown as number, 2), TypeError);
});
