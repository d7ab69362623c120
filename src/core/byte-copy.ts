/**
 * copyBytes: `dst.set(src, at)`, through the native addon's memcpy when it is built
 * (native/buzhash.c `copy`). V8 copies to or from a SharedArrayBuffer at an address that is not
 * 8-byte aligned with a relaxed atomic byte loop: 0.23 s per GiB against 0.075 s for memmove
 * (measured here). A backup copies every byte into shared chunk buffers (so that a worker hashes
 * and compresses them in place) at whatever offset the chunker left, so this was ~0.5 s of a
 * 1 GiB backup's client CPU (docs/benchmarks.md). Without the addon the result is the same, only
 * slower. `src` and `dst` must not overlap.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

type CopyFn = (dst: Uint8Array, at: number, src: Uint8Array) => void;

/** src/core/ and dist/core/ both sit two levels below the package root. */
const ADDON = fileURLToPath(new URL('../../native/build/Release/holdfast_buzhash.node', import.meta.url));

function load(): CopyFn | undefined {
  if (!existsSync(ADDON)) return undefined;
  try {
    const m = createRequire(import.meta.url)(ADDON) as { copy?: unknown };
    return typeof m.copy === 'function' ? (m.copy as CopyFn) : undefined;
  } catch {
    return undefined; // the chunker's loader reports an unloadable addon; a copy just falls back
  }
}

const nativeCopy = load();

/** Below this a native call costs more than V8's own copy saves. */
const NATIVE_MIN = 4096;

/**
 * Copies all of `src` into `dst` at `at` (RangeError when it does not fit). Natively only where
 * shared memory is involved: between plain buffers V8's copy is memmove already, and a native
 * call per small piece (a 16 KiB TLS record) would only add its overhead.
 */
export function copyBytes(dst: Uint8Array, src: Uint8Array, at = 0): void {
  const shared = dst.buffer instanceof SharedArrayBuffer || src.buffer instanceof SharedArrayBuffer;
  if (nativeCopy === undefined || !shared || src.length < NATIVE_MIN) dst.set(src, at);
  else nativeCopy(dst, at, src);
}

/** Whether the native copy is in use (tests). */
export const nativeCopyLoaded = nativeCopy !== undefined;
