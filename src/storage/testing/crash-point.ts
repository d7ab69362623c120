/**
 * CrashPoint: the simulator frozen at one instant (durable image + pending ops), from which a
 * crash explorer draws post-crash filesystems. Taking one is cheap (the durable image is forked,
 * the pending list copied), and a CrashPoint never changes once taken, whatever the live SimFs
 * does next. States are materialised only by `CrashState.mount()`, each into a fresh SimFs whose
 * visible and durable views are both the post-crash image.
 */
import { selectCrashStates, type CrashModel, type CrashStateKind, type CrashStatesOptions, type Survivor } from './crash-models.ts';
import { applyOp, describeOp, type PendingOp } from './pending-ops.ts';
import { mixSeed, SeededRandom } from './seeded-random.ts';
import type { Image } from './sim-image.ts';
import type { KernelSnapshot } from './sim-kernel.ts';

/**
 * Builds a filesystem (`F`, a SimFs) over a post-crash image, with mount options `O`. SimFs
 * supplies it; this module is generic over both so that it never imports SimFs (no import cycle).
 */
export type MountImage<F, O> = (image: Image, nextIno: number, options?: O) => F;

export class CrashPoint<F, O> {
  /** The number of mutating calls that had started when the point was taken. */
  readonly opCount: number;
  readonly #snapshot: KernelSnapshot;
  readonly #mount: MountImage<F, O>;

  constructor(snapshot: KernelSnapshot, opCount: number, mount: MountImage<F, O>) {
    this.#snapshot = snapshot;
    this.opCount = opCount;
    this.#mount = mount;
  }

  /** The ops a crash here may lose, in program order. */
  get pendingOps(): readonly PendingOp[] {
    return this.#snapshot.pending;
  }

  /**
   * Post-crash states under `model`: its floor, its ceiling, then every other state or a sample
   * seeded by `seed`, at most `max` in all (see crash-models.ts).
   */
  crashStates(model: CrashModel, options: CrashStatesOptions): CrashState<F, O>[] {
    return selectCrashStates(this.#snapshot.pending, model, options).map(
      (selection, index) => new CrashState(model, index, selection.kind, selection.survivors, options.seed, this.#snapshot, this.#mount),
    );
  }
}

export class CrashState<F, O> {
  readonly model: CrashModel;
  readonly index: number;
  readonly kind: CrashStateKind;
  /** The pending ops that reached the disk, in program order. */
  readonly survivors: readonly Survivor[];
  readonly #seed: number;
  readonly #snapshot: KernelSnapshot;
  readonly #mount: MountImage<F, O>;

  constructor(model: CrashModel, index: number, kind: CrashStateKind, survivors: readonly Survivor[], seed: number, snapshot: KernelSnapshot, mount: MountImage<F, O>) {
    this.model = model;
    this.index = index;
    this.kind = kind;
    this.survivors = survivors;
    this.#seed = seed;
    this.#snapshot = snapshot;
    this.#mount = mount;
  }

  /** The pending ops this state lost, in program order. */
  lost(): PendingOp[] {
    const kept = new Set(this.survivors.map((s) => s.op.id));
    return this.#snapshot.pending.filter((op) => !kept.has(op.id));
  }

  /** A report for a failed invariant: which state, and what it kept and lost. */
  describe(limit = 40): string {
    const lost = this.lost();
    const lines = [`${this.model} state ${this.index} (${this.kind}, seed ${this.#seed}): ${lost.length} of ${this.#snapshot.pending.length} pending ops lost`];
    for (const op of lost.slice(0, limit)) lines.push(`  lost ${describeOp(op)}`);
    for (const s of this.survivors.filter((x) => x.fill === 'garbage').slice(0, limit)) lines.push(`  garbage-filled ${describeOp(s.op)}`);
    return lines.join('\n');
  }

  /** A fresh filesystem holding this post-crash state; each call builds a new one. */
  mount(options?: O): F {
    const image = this.#snapshot.durable.fork();
    const garbage = garbageSource(this.#seed, this.index);
    for (const { op, fill } of this.survivors) applyOp(image, op, fill === 'garbage' ? garbage(op.id) : undefined);
    return this.#mount(image, this.#snapshot.nextIno, options);
  }
}

const GARBAGE_POOL_SIZE = 64 * 1024;

/**
 * Garbage for torn appends, from a pool drawn once per mounted state: the bytes only need to be
 * reproducible and unlike real data, and drawing fresh random bytes for every grown region would
 * dominate the cost of a state.
 */
function garbageSource(seed: number, stateIndex: number): (opId: number) => (bytes: Uint8Array) => void {
  let pool: Uint8Array | undefined;
  return (opId) => (bytes) => {
    if (pool === undefined) {
      pool = new Uint8Array(GARBAGE_POOL_SIZE);
      new SeededRandom(mixSeed(seed, stateIndex)).fill(pool);
    }
    let at = (opId * 4099) % GARBAGE_POOL_SIZE;
    for (let done = 0; done < bytes.length; ) {
      const take = Math.min(bytes.length - done, GARBAGE_POOL_SIZE - at);
      bytes.set(pool.subarray(at, at + take), done);
      done += take;
      at = 0;
    }
  };
}
