/**
 * byteKey: a byte string as a JS string of one character per byte (latin1), for Map and Set keys
 * (paths, names). Equal bytes give equal strings, and no two byte strings share one.
 *
 * Why not `Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1')`: V8 keeps a typed
 * array of up to 64 bytes on its own heap, and asking for its `.buffer` moves it out: a malloc, a
 * copy, and later a free on a GC thread, ~0.3 µs a call here against ~0.1 µs for this. A backup of
 * a tree of small files made that call several times per file (every path and name is such an
 * array), and glibc's malloc and free were an eighth of the client's main thread (perf,
 * docs/benchmarks.md). Longer arrays live outside V8's heap already, so theirs is free.
 */
const ON_HEAP_MAX = 64;

export function byteKey(b: Uint8Array): string {
  // apply takes any array-like; each byte becomes the character of that code (0..255)
  if (b.length <= ON_HEAP_MAX) return String.fromCharCode.apply(null, b as unknown as number[]);
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}
