/**
 * copyBytes: `dst.set(src, at)`, through the native addon's memcpy when it is built
 * (native/buzhash.c `copy`). V8 copies to or from a SharedArrayBuffer at an address that is not
 * 8-byte aligned with a relaxed atomic byte loop: 0.23 s per GiB against 0.075 s for memmove
 * (measured here). A backup copies every byte into shared chunk buffers (so that a worker hashes
 * and compresses them in place) at whatever offset the chunker left, so this was ~0.5 s of a
 * 1 GiB backup's client CPU (docs/benchmarks.md). Without the addon the result is the same, only
 * slower. `src` and `dst` must not overlap.
 */
import { nativeFunction } from './native-addon.ts';

type CopyFn = (dst: Uint8Array, at: number, src: Uint8Array) => void;

const nativeCopy = nativeFunction<CopyFn>('copy');

/** Below this a native call costs more than V8's own copy saves. */
const NATIVE_MIN = 4096;

/**
 * Copies all of `src` into `dst` at `at` (RangeError when it does not fit). Natively only where
 * shared memory is involved: between plain buffers V8's copy is memmove already, and a native
 * call per small piece (a 16 KiB TLS record) would only add its overhead.
 */
export function copyBytes(dst: Uint8Array, src: Uint8Array, at = 0): void {
  // the length first: `.buffer` of a small array moves it off V8's heap (core/byte-key.ts), and
  // the metadata stream copies many items of a few dozen bytes
  if (nativeCopy === undefined || src.length < NATIVE_MIN) dst.set(src, at);
  else if (dst.buffer instanceof SharedArrayBuffer || src.buffer instanceof SharedArrayBuffer) nativeCopy(dst, at, src);
  else dst.set(src, at);
}

/** Whether the native copy is in use (tests). */
export const nativeCopyLoaded = nativeCopy !== undefined;
