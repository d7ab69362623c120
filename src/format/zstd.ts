/**
 * zstd for DataBlobs: one compression and one decompression context per thread (module state is
 * per worker), plus a reused scratch buffer for compressed output.
 *
 * Why not zstd-napi's `Compressor`: it allocates a fresh compressBound-sized buffer for every input
 * over 128 KiB, and churning 4 MiB buffers through malloc was measured to cut zstd throughput to a
 * third. Here the context writes straight into a scratch buffer that lives as long as the thread;
 * callers copy the (smaller) compressed bytes out before the next call.
 *
 * Invariant: level 1, single frame, content size in the frame header (as PBS 4.x writes it).
 * Inputs whose samples do not compress are not compressed at all (`looksIncompressible`).
 * Decoding accepts any valid zstd stream (several frames, or no content size), capped at `maxOutput`.
 */
import { createRequire } from 'node:module';
import type * as Zstd from 'zstd-napi/binding.js';
import { fail, isHoldfastError } from '../core/errors.ts';

// Required, not imported: importing a CommonJS package runs node's CJS lexer over it to find its
// named exports, which with @node-rs/crc32 (blob.ts) cost ~70 ms of CPU at every CLI start.
const binding = createRequire(import.meta.url)('zstd-napi/binding.js') as typeof Zstd;

const ZSTD_LEVEL = 1;
/** Scratch above this size is not kept, so one huge blob does not pin memory for the thread's life. */
const SCRATCH_KEEP_LIMIT = binding.compressBound(16 * 1024 * 1024);

let cctx: Zstd.CCtx | undefined;
let dctx: Zstd.DCtx | undefined;
let scratch: Uint8Array | undefined;
let decodeScratch: Uint8Array | undefined;

function compressor(): Zstd.CCtx {
  if (!cctx) {
    cctx = new binding.CCtx();
    cctx.setParameter(binding.CParameter.compressionLevel, ZSTD_LEVEL);
  }
  return cctx;
}

function decompressor(): Zstd.DCtx {
  dctx ??= new binding.DCtx();
  return dctx;
}

/** An uninitialised byte array (every caller overwrites all of it) that is a plain Uint8Array. */
export function allocBytes(length: number): Uint8Array {
  const b = Buffer.allocUnsafeSlow(length);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * A buffer of at least `length` bytes owned by this thread, reused across calls. Valid only until
 * the next call into this module or `compressIfSmaller`; never hand it to a caller.
 */
export function scratchFor(length: number): Uint8Array {
  if (scratch && scratch.byteLength >= length) return scratch;
  const fresh = allocBytes(length);
  if (length <= SCRATCH_KEEP_LIMIT) scratch = fresh;
  return fresh;
}

/**
 * The incompressibility probe: 8 samples of 4 KiB spread over an input of 256 KiB or more are
 * compressed together; when that saves under 2%, the whole input is not tried. Measured on 4 MiB
 * chunks (docs/benchmarks.md): it costs 0.02 ms on random data and spares zstd's 1.1 ms, and costs
 * 0.1 ms (6%) on text, which it passes on. What it can miss: repetition longer than a sample's
 * reach (a chunk of one random block repeated); such a chunk is stored plain, which is valid.
 */
const PROBE = { pieces: 8, pieceSize: 4096, minInput: 256 * 1024, minSaving: 0.02 } as const;
let probeBuffer: Uint8Array | undefined;

/** True when samples of `data` do not compress: zstd on all of it would be wasted time. */
export function looksIncompressible(data: Uint8Array): boolean {
  if (data.byteLength < PROBE.minInput) return false;
  const sample = (probeBuffer ??= allocBytes(PROBE.pieces * PROBE.pieceSize));
  const step = Math.floor((data.byteLength - PROBE.pieceSize) / (PROBE.pieces - 1));
  for (let k = 0; k < PROBE.pieces; k++) sample.set(data.subarray(k * step, k * step + PROBE.pieceSize), k * PROBE.pieceSize);
  const dest = scratchFor(binding.compressBound(sample.byteLength));
  const n = compressor().compress2(dest, sample);
  return n > sample.byteLength * (1 - PROBE.minSaving);
}

/**
 * Compresses `data` at level 1. Returns a view of the thread's scratch buffer, valid only until the
 * next call, or undefined when the frame would be larger than the input or the probe
 * (`looksIncompressible`) says it would barely be smaller (PBS then stores it plain).
 */
export function compressIfSmaller(data: Uint8Array): Uint8Array | undefined {
  if (looksIncompressible(data)) return undefined;
  const dest = scratchFor(binding.compressBound(data.byteLength));
  const n = compressor().compress2(dest, data);
  return n <= data.byteLength ? dest.subarray(0, n) : undefined;
}

/**
 * Decompresses a zstd stream; CORRUPT for anything that is not one, or that decodes past
 * `maxOutput`. A single frame that declares its size decodes into `output(size)` (exactly that
 * long; default a new array); any other stream into new memory.
 */
export function decompress(src: Uint8Array, maxOutput: number, output: (length: number) => Uint8Array = allocBytes): Uint8Array {
  return decompressWith(src, maxOutput, output);
}

/**
 * `decompress` for a caller that only looks at the result (the server's upload check hashes it):
 * the output is a view of a thread-owned buffer, valid until the next call, so checking a stream
 * of 4 MiB chunks allocates nothing per chunk.
 */
export function decompressTransient(src: Uint8Array, maxOutput: number): Uint8Array {
  return decompressWith(src, maxOutput, (n) => {
    if (decodeScratch && decodeScratch.byteLength >= n) return decodeScratch.subarray(0, n);
    const fresh = allocBytes(n);
    if (n <= SCRATCH_KEEP_LIMIT) decodeScratch = fresh;
    return fresh;
  });
}

function decompressWith(src: Uint8Array, maxOutput: number, alloc: (n: number) => Uint8Array): Uint8Array {
  const single = singleFrameSize(src);
  if (single === undefined) return decompressStreaming(src, maxOutput);
  if (single > maxOutput) throw fail('CORRUPT', `zstd frame claims ${single} bytes, over the limit ${maxOutput}`, { size: single, maxOutput });
  const out = alloc(single);
  let n: number;
  try {
    n = decompressor().decompress(out, src);
  } catch (e) {
    throw fail('CORRUPT', 'invalid zstd data', {}, e);
  }
  if (n !== single) throw fail('CORRUPT', 'zstd frame decoded to a size other than its header says', { expected: single, actual: n });
  return out;
}

/** The declared size when `src` is exactly one frame that declares it; undefined otherwise. */
function singleFrameSize(src: Uint8Array): number | undefined {
  try {
    const size = binding.getFrameContentSize(src);
    if (size === null) return undefined;
    return binding.findFrameCompressedSize(src) === src.byteLength ? size : undefined;
  } catch (e) {
    throw fail('CORRUPT', 'invalid zstd frame header', {}, e);
  }
}

function decompressStreaming(src: Uint8Array, maxOutput: number): Uint8Array {
  const d = decompressor();
  d.reset(binding.ResetDirective.sessionOnly);
  const pieces: Uint8Array[] = [];
  let total = 0;
  let rest = src;
  let pending = 0;
  try {
    do {
      // Grow geometrically: old PBS frames lack a content size, and zero chunks shrink 10000-fold.
      const want = Math.max(binding.dStreamOutSize(), src.byteLength * 4, total);
      const piece = allocBytes(Math.min(want, maxOutput + 1 - total));
      const [ret, produced, consumed] = d.decompressStream(piece, rest);
      if (produced === 0 && consumed === 0) break;
      pending = ret;
      total += produced;
      if (total > maxOutput) throw fail('CORRUPT', `zstd data decodes past the limit ${maxOutput}`, { maxOutput });
      pieces.push(piece.subarray(0, produced));
      rest = rest.subarray(consumed);
    } while (rest.byteLength > 0 || pending !== 0);
  } catch (e) {
    d.reset(binding.ResetDirective.sessionOnly);
    if (isHoldfastError(e)) throw e;
    throw fail('CORRUPT', 'invalid zstd data', {}, e);
  }
  if (pending !== 0 || src.byteLength === 0) throw fail('CORRUPT', 'zstd data ends inside a frame', { consumed: src.byteLength - rest.byteLength });
  return concat(pieces, total);
}

function concat(pieces: readonly Uint8Array[], total: number): Uint8Array {
  if (pieces.length === 1 && pieces[0]) return pieces[0];
  const out = allocBytes(total);
  let at = 0;
  for (const p of pieces) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
