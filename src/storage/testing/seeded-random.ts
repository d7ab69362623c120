/**
 * A small deterministic PRNG (mulberry32) for the power-loss simulator. Crash states and the
 * garbage that fills torn appends must be reproducible from a seed, so a failing crash state can
 * be replayed exactly; Math.random would make every failure a one-off.
 */

export class SeededRandom {
  #state: number;

  constructor(seed: number) {
    this.#state = mixSeed(seed, 0x9e3779b9);
  }

  /** A uniformly distributed unsigned 32-bit integer. */
  nextUint32(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    return this.nextUint32() / 0x1_0000_0000;
  }

  /** An integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.next() * n);
  }

  fill(buf: Uint8Array): void {
    for (let i = 0; i < buf.length; i += 4) {
      const word = this.nextUint32();
      for (let b = 0; b < 4 && i + b < buf.length; b++) buf[i + b] = (word >>> (8 * b)) & 0xff;
    }
  }
}

/** Combines two integers into a well-spread 32-bit seed (murmur3's finaliser over both). */
export function mixSeed(a: number, b: number): number {
  let h = (Math.imul(a >>> 0, 0x85ebca6b) ^ Math.imul(b >>> 0, 0xc2b2ae35)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
