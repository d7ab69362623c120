import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { isHoldfastError } from '../core/errors.ts';
import { BuzhashChunker, CHUNKER_IMPLS, PayloadChunker, chunkerLimits, type ChunkerImpl } from './buzhash-chunker.ts';

const KiB = 1024;
const MiB = 1024 * KiB;

/** VECTORS §3: u32 little-endian counter 0..262143. */
function counter1MiB(): Uint8Array {
  const b = Buffer.alloc(MiB);
  for (let i = 0; i < 262144; i++) b.writeUInt32LE(i, i * 4);
  return b;
}

/** VECTORS §3.4: SHA256(le64(0)) ‖ SHA256(le64(1)) ‖ … cut to n bytes. */
function shaStream(n: number): Uint8Array {
  const out = Buffer.alloc(n + 32);
  const le = Buffer.alloc(8);
  for (let i = 0; i * 32 < n; i++) {
    le.writeBigUInt64LE(BigInt(i));
    createHash('sha256').update(le).digest().copy(out, i * 32);
  }
  return out.subarray(0, n);
}

/** Chunk sizes when the whole input is scanned at once (the last is the remainder). */
function chunkSizes(data: Uint8Array, avg: number, impl: ChunkerImpl = 'auto'): number[] {
  const chunker = new BuzhashChunker(avg, impl);
  const sizes: number[] = [];
  let pos = 0;
  for (let k = chunker.scan(data); k !== 0; k = chunker.scan(data.subarray(pos))) {
    sizes.push(k);
    pos += k;
  }
  if (pos < data.length) sizes.push(data.length - pos);
  return sizes;
}

/** Chunk ends when the input arrives in the given pieces. */
function chunkEndsFed(pieces: Uint8Array[], avg: number, impl: ChunkerImpl = 'auto'): number[] {
  const chunker = new BuzhashChunker(avg, impl);
  const ends: number[] = [];
  let offset = 0;
  for (const piece of pieces) {
    let rest = piece;
    for (let k = chunker.scan(rest); k !== 0; k = chunker.scan(rest)) {
      offset += k;
      ends.push(offset);
      rest = rest.subarray(k);
    }
    offset += rest.length;
  }
  return ends;
}

// The upstream vectors pin both loops: the native one (`auto`, when built) and the JS fallback.
for (const impl of CHUNKER_IMPLS) {
  test(`BuzhashChunker cuts COUNTER_1MiB at 64 KiB average like upstream (VECTORS §3.2), ${impl} loop`, () => {
    const data = counter1MiB();
    assert.deepEqual(chunkSizes(data, 64 * KiB, impl), [143377, 262144, 262144, 262144, 118767]);
    const singleBytes = Array.from({ length: data.length }, (_, i) => data.subarray(i, i + 1));
    assert.deepEqual(chunkEndsFed(singleBytes, 64 * KiB, impl), [143377, 405521, 667665, 929809]);
  });

  test(`BuzhashChunker matches the SHA_STREAM vectors (VECTORS §3.4), ${impl} loop`, () => {
    const small = shaStream(MiB);
    assert.equal(createHash('sha256').update(small).digest('hex'), '8936491f7e7dd3ca297960ec425e8375f1b9db51278d5fff5481205c0992a132');
    assert.deepEqual(
      chunkSizes(small, 64 * KiB, impl),
      [66406, 60738, 125437, 51526, 16793, 17483, 54238, 43931, 37148, 36544, 67970, 68314, 42858, 84846, 88055, 158766, 24305, 3218],
    );
    const large = shaStream(12 * MiB);
    assert.equal(createHash('sha256').update(large).digest('hex'), 'a2592d13577fc38f18ca829e7a3a6e81bea5c200b537b14530c53c0115396625');
    assert.deepEqual(chunkSizes(large, 4 * MiB, impl), [1073993, 2680757, 1087418, 1184477, 6556267]);
  });

  test(`BuzhashChunker never cuts a zero stream below max (VECTORS §3.4), ${impl} loop`, () => {
    assert.deepEqual(chunkSizes(new Uint8Array(3 * MiB), MiB, impl), [3 * MiB]);
    assert.deepEqual(chunkSizes(new Uint8Array(9 * KiB), KiB, impl), [4 * KiB, 4 * KiB, KiB]);
  });
}

test('BuzhashChunker boundaries do not depend on buffering (property)', () => {
  const data = shaStream(192 * KiB);
  const whole = chunkEndsFed([data], 1024);
  assert.ok(whole.length > 50);
  fc.assert(
    fc.property(fc.uniqueArray(fc.integer({ min: 1, max: data.length - 1 }), { maxLength: 300 }), (cuts) => {
      const points = [0, ...cuts.sort((a, b) => a - b), data.length];
      const pieces = points.slice(1).map((end, i) => data.subarray(points[i], end));
      assert.deepEqual(chunkEndsFed(pieces, 1024), whole);
    }),
    { numRuns: 60 },
  );
});

test('BuzhashChunker keeps chunk sizes within [min, max] (property)', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 20000 }), fc.constantFrom(256, 512, 1024), (data, avg) => {
      const sizes = chunkSizes(data, avg);
      assert.equal(sizes.reduce((a, b) => a + b, 0), data.length);
      sizes.slice(0, -1).forEach((s) => assert.ok(s >= avg / 4 && s <= avg * 4, `${s}`));
      assert.ok((sizes.at(-1) ?? 0) <= avg * 4);
    }),
    { numRuns: 50 },
  );
});

test('chunkerLimits derives min and max and rejects averages that are not powers of two', () => {
  assert.deepEqual(chunkerLimits(4 * MiB), { avg: 4 * MiB, min: MiB, max: 16 * MiB });
  for (const bad of [0, 100, 3 * KiB, 128, 2 ** 29]) {
    assert.throws(() => new BuzhashChunker(bad), (e: unknown) => isHoldfastError(e, 'INVALID_ARGUMENT') && e.message.includes(String(bad)));
  }
});

test('PayloadChunker honours suggested boundaries like upstream, whatever the buffering (VECTORS §3.1)', () => {
  const data = counter1MiB();
  const expected = [32768, 110609, 229376, 32768, 262144, 262144, 118767];
  const suggestAll = (c: PayloadChunker): void => [32768, 32768, 0, 405521].forEach((b) => c.suggest(b));

  // upstream's harness, quirk included: after a cut, base += the absolute stream position
  const chunker = new PayloadChunker(64 * KiB);
  suggestAll(chunker);
  const bytewise: number[] = [];
  let ctx = { base: 0, total: 0 };
  let last = 0;
  for (let pos = 0; pos < data.length; ) {
    ctx = { ...ctx, total: ctx.total + 1 };
    const k = chunker.scan(data.subarray(pos, pos + 1), ctx);
    pos += 1;
    if (k !== 0) {
      bytewise.push(pos - last);
      last = pos;
      ctx = { base: ctx.base + pos, total: 0 };
    }
  }
  bytewise.push(data.length - last);
  assert.deepEqual(bytewise, expected);

  chunker.reset();
  suggestAll(chunker);
  const whole: number[] = [];
  ctx = { base: 0, total: data.length };
  let pos = 0;
  for (let k = chunker.scan(data, ctx); k !== 0; k = chunker.scan(data.subarray(pos), ctx)) {
    whole.push(k);
    pos += k;
    ctx = { base: ctx.base + pos, total: data.length - pos };
  }
  whole.push(data.length - pos);
  assert.deepEqual(whole, expected);
});

/** A growable byte queue for the stream emulation below. */
class ByteQueue {
  #data = new Uint8Array(64 * KiB);
  #start = 0;
  #end = 0;
  get length(): number {
    return this.#end - this.#start;
  }
  view(from = 0): Uint8Array {
    return this.#data.subarray(this.#start + from, this.#end);
  }
  push(bytes: Uint8Array): void {
    if (this.#end + bytes.length > this.#data.length) {
      const next = new Uint8Array(Math.max(this.#data.length, 2 * (this.length + bytes.length)));
      next.set(this.view());
      this.#end = this.length;
      this.#start = 0;
      this.#data = next;
    }
    this.#data.set(bytes, this.#end);
    this.#end += bytes.length;
  }
  take(n: number): Uint8Array {
    const out = this.#data.slice(this.#start, this.#start + n);
    this.#start += n;
    return out;
  }
}

interface Injection {
  readonly boundary: number;
  readonly size: number;
}

/**
 * Emulates upstream's ChunkStream: boundaries from a PayloadChunker, plus forced cuts where reused
 * chunks are injected (offsets count injected bytes too, so each forced cut adds its size).
 */
function chunkStream(pieces: Iterable<Uint8Array>, chunker: PayloadChunker, injections: Injection[], onChunk: (c: Uint8Array) => void): void {
  const buffer = new ByteQueue();
  const pending = [...injections];
  const input = pieces[Symbol.iterator]();
  let scanPos = 0;
  let consumed = 0;
  const emit = (size: number): void => {
    onChunk(buffer.take(size));
    consumed += size;
    scanPos = 0;
  };
  for (;;) {
    const ctx = { base: consumed, total: buffer.length };
    const inject = pending[0];
    if (inject !== undefined) {
      const pos = scanPos < buffer.length ? chunker.scan(buffer.view(scanPos), ctx) : 0;
      const next = consumed + (pos === 0 ? buffer.length : scanPos + pos);
      if (inject.boundary <= next) {
        emit(inject.boundary - consumed);
        chunker.reset();
        consumed += inject.size;
        pending.shift();
        continue;
      }
      if (pos !== 0) {
        emit(scanPos + pos);
        continue;
      }
      scanPos = buffer.length;
    }
    if (scanPos < buffer.length) {
      const k = chunker.scan(buffer.view(scanPos), ctx);
      if (k !== 0) {
        emit(scanPos + k);
        continue;
      }
      scanPos = buffer.length;
    }
    const piece = input.next();
    if (piece.done === true) {
      if (buffer.length > 0) emit(buffer.length);
      return;
    }
    buffer.push(piece.value);
  }
}

test('PayloadChunker in a stream with forced boundaries gives upstream chunks (VECTORS §3.3)', () => {
  const data = counter1MiB();
  const pieces = Array.from({ length: Math.ceil(data.length / 10) }, (_, i) => data.subarray(i * 10, i * 10 + 10));
  const chunker = new PayloadChunker(64 * KiB);
  chunker.suggest(32 * KiB);
  chunker.suggest(64 * KiB);
  const injections = [
    { boundary: 32 * KiB, size: 1024 },
    { boundary: 128 * KiB, size: 2048 },
    { boundary: 657408, size: 512 },
    { boundary: 657408 + 1024, size: 0 },
  ];
  const sizes: number[] = [];
  chunkStream(pieces, chunker, injections, (c) => sizes.push(c.length));
  assert.deepEqual(sizes.slice(0, 8), [32768, 31744, 65536, 262144, 262144, 512, 262144, 131584]);
  const total = sizes.reduce((a, b) => a + b, 0) + injections.reduce((a, b) => a + b.size, 0);
  assert.equal(total, 4 * 256 * KiB + 1024 + 2048 + 512);
});

const DIDX = new URL('../../../shared/reference/vectors/upstream/backup-client-pxar-data.ppxar.didx', import.meta.url);

test('PayloadChunker cuts the fixture payload stream at every file (VECTORS §3.5)', { skip: existsSync(DIDX) ? false : 'needs ../shared fixtures' }, () => {
  const index = readFileSync(DIDX);
  const expected = Array.from({ length: (index.length - 4096) / 40 }, (_, i) => ({
    end: Number(index.readBigUInt64LE(4096 + i * 40)),
    digest: index.subarray(4096 + i * 40 + 8, 4096 + i * 40 + 40).toString('hex'),
  }));
  const header = (htype: bigint, fullSize: number): Uint8Array => {
    const b = Buffer.alloc(16);
    b.writeBigUInt64LE(htype, 0);
    b.writeBigUInt64LE(BigInt(fullSize), 8);
    return b;
  };
  const zeros = new Uint8Array(MiB);
  function* payloadStream(): Generator<Uint8Array> {
    yield header(0x834c68c2194a4ed2n, 16); // PAYLOAD_START_MARKER
    for (let i = 0; i < 100; i++) {
      yield header(0x28147a1b0b7c1a25n, 16 + MiB); // PAYLOAD
      yield zeros;
    }
    yield header(0x6c72b78b984c81b5n, 16); // PAYLOAD_TAIL_MARKER
  }
  const chunker = new PayloadChunker(4 * MiB);
  for (let i = 0; i < 100; i++) chunker.suggest(16 + i * (16 + MiB));
  const got: { end: number; digest: string }[] = [];
  let end = 0;
  chunkStream(payloadStream(), chunker, [], (c) => {
    end += c.length;
    got.push({ end, digest: createHash('sha256').update(c).digest('hex') });
  });
  assert.equal(got.length, 100);
  assert.deepEqual(got, expected);
});
