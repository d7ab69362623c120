/**
 * A small mutation fuzzer: from a target's seed inputs it derives inputs by byte-level mutations
 * (bit flips, byte sets, "interesting" integers, inserts, deletes, truncation, duplication and
 * splicing with another seed), runs the target on each and classifies the outcome.
 *
 * A crash is (issue #11 item 11): an exception that is not a coded HoldfastError, a run longer
 * than HANG_MS (twice in a row: once can be the machine's load), or the process losing an error (an unhandled rejection or uncaught exception while
 * the input ran: for the protocol target, the server going down). Coded errors are the expected
 * answer to hostile input and count as "rejected".
 *
 * Deterministic: the same seed and count give the same inputs, so a crash reproduces with
 * `npm run fuzz -- --target T --seed S --count N`.
 */
import { isHoldfastError } from '../../src/core/errors.ts';

export const HANG_MS = 1000;

export interface FuzzTarget {
  readonly name: string;
  /** One-time setup outside the timed runs (a datastore to write into). */
  prepare?(): Promise<void>;
  /** Valid inputs to mutate from (at least one). */
  seeds(): Uint8Array[];
  /** Runs one input; may throw coded errors. */
  run(input: Uint8Array): unknown;
  /** Releases what `seeds`/`run` set up (temp dirs). */
  close?(): Promise<void>;
}

export interface FuzzCrash {
  readonly target: string;
  readonly index: number;
  readonly kind: 'exception' | 'hang' | 'process';
  readonly message: string;
  readonly input: Uint8Array;
}

export interface FuzzReport {
  readonly target: string;
  readonly runs: number;
  readonly accepted: number;
  readonly rejected: number;
  readonly crashes: FuzzCrash[];
}

/** xorshift128+ over two 32-bit halves; good enough to pick mutations reproducibly. */
export class Rng {
  #a: number;
  #b: number;

  constructor(seed: number) {
    this.#a = seed >>> 0 || 0x9e3779b9;
    this.#b = (seed * 2654435761) >>> 0 || 0x7f4a7c15;
  }

  next(): number {
    let x = this.#a;
    const y = this.#b;
    this.#a = y;
    x ^= x << 23;
    x ^= x >>> 17;
    x ^= y ^ (y >>> 26);
    this.#b = x >>> 0;
    return (this.#a + this.#b) >>> 0;
  }

  below(n: number): number {
    return n <= 0 ? 0 : this.next() % n;
  }
}

const INTERESTING = [0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff];

/** One to four stacked mutations of `base`, with `other` for splicing. */
export function mutate(rng: Rng, base: Uint8Array, other: Uint8Array): Uint8Array {
  let b: Buffer = Buffer.from(base);
  const rounds = 1 + rng.below(4);
  for (let r = 0; r < rounds; r++) b = mutateOnce(rng, b, other);
  return b;
}

function mutateOnce(rng: Rng, b: Buffer, other: Uint8Array): Buffer {
  const at = rng.below(b.length + 1);
  switch (rng.below(9)) {
    case 0: // flip a bit
      if (b.length > 0) b[at % b.length]! ^= 1 << rng.below(8);
      return b;
    case 1: // set a random byte
      if (b.length > 0) b[at % b.length] = rng.below(256);
      return b;
    case 2: {
      // write an interesting little-endian integer
      const v = INTERESTING[rng.below(INTERESTING.length)]!;
      const width = [1, 2, 4, 8][rng.below(4)]!;
      for (let i = 0; i < width && at + i < b.length; i++) b[at + i] = i < 4 ? (v >>> (8 * i)) & 0xff : 0;
      return b;
    }
    case 3: // insert random bytes
      return Buffer.concat([b.subarray(0, at), Buffer.from(Array.from({ length: 1 + rng.below(16) }, () => rng.below(256))), b.subarray(at)]);
    case 4: // delete a range
      return Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + rng.below(32)))]);
    case 5: // truncate
      return b.subarray(0, at);
    case 6: {
      // duplicate a range
      const len = rng.below(Math.min(64, b.length - at) + 1);
      return Buffer.concat([b.subarray(0, at + len), b.subarray(at, at + len), b.subarray(at + len)]);
    }
    case 7: {
      // splice with another seed
      const cut = rng.below(other.length + 1);
      return Buffer.concat([b.subarray(0, at), other.subarray(cut)]);
    }
    default: // an ASCII digit or JSON punctuation (text formats)
      if (b.length > 0) b[at % b.length] = '0123456789-+.e{}[]":,\\'.charCodeAt(rng.below(22));
      return b;
  }
}

/** Process-level losses (the "server going down") seen while a target runs. */
class ProcessWatch {
  lost: string | undefined;
  readonly #onError = (e: unknown): void => {
    this.lost ??= e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  };

  start(): void {
    process.on('unhandledRejection', this.#onError);
    process.on('uncaughtException', this.#onError);
  }

  stop(): void {
    process.off('unhandledRejection', this.#onError);
    process.off('uncaughtException', this.#onError);
  }
}

async function runOne(target: FuzzTarget, input: Uint8Array): Promise<{ kind: 'accepted' } | { kind: 'rejected' } | { kind: 'exception' | 'hang'; message: string }> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const hang = new Promise<'hang'>((resolve) => (timer = setTimeout(() => resolve('hang'), HANG_MS)));
    const outcome = await Promise.race([Promise.resolve().then(() => target.run(input)), hang]);
    // a synchronous decoder blocks the timer: measure it too
    if (outcome === 'hang' || performance.now() - started > HANG_MS) return { kind: 'hang', message: `ran longer than ${HANG_MS} ms` };
    return { kind: 'accepted' };
  } catch (e) {
    if (isHoldfastError(e)) return { kind: 'rejected' };
    return { kind: 'exception', message: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `count` inputs against `target`: the seeds themselves first, then mutations. */
export async function fuzz(target: FuzzTarget, opts: { readonly count: number; readonly seed: number; readonly onProgress?: (done: number) => void }): Promise<FuzzReport> {
  await target.prepare?.();
  const seeds = target.seeds();
  const rng = new Rng(opts.seed);
  const watch = new ProcessWatch();
  const report = { target: target.name, runs: 0, accepted: 0, rejected: 0, crashes: [] as FuzzCrash[] };
  watch.start();
  try {
    for (let i = 0; i < opts.count; i++) {
      const input = i < seeds.length ? seeds[i]! : mutate(rng, seeds[rng.below(seeds.length)]!, seeds[rng.below(seeds.length)]!);
      let r = await runOne(target, input);
      // a loaded machine can stall any run for a second: a hang counts only if it happens again
      if (r.kind === 'hang') r = await runOne(target, input);
      report.runs++;
      if (r.kind === 'accepted') report.accepted++;
      else if (r.kind === 'rejected') report.rejected++;
      else report.crashes.push({ target: target.name, index: i, kind: r.kind, message: r.message, input });
      if (watch.lost !== undefined) {
        report.crashes.push({ target: target.name, index: i, kind: 'process', message: watch.lost, input });
        watch.lost = undefined;
      }
      if (i % 1000 === 999) opts.onProgress?.(i + 1);
    }
  } finally {
    watch.stop();
  }
  return report;
}
