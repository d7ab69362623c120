/**
 * Seeded, repeatable randomness for tests: xorshift32 as a number stream and as bytes. Tests stay
 * deterministic per seed, and differently seeded chunks never deduplicate.
 */

/** A number generator in [0, 1). */
export function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

/** `size` pseudo-random bytes for `seed`. */
export function pseudoRandom(size: number, seed: number): Uint8Array {
  const out = Buffer.allocUnsafe(size);
  let x = seed | 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
