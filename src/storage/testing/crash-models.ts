/**
 * Crash models: which subsets of the pending micro-ops a power cut may leave on disk
 * (crash-model.md §2.6). Each model is a space of choice vectors (one digit per dimension) plus
 * the rule that turns a vector into surviving ops:
 *
 * - `posix-weak` (ALICE's default model): one digit per op, each survives or not on its own, so
 *   writes tear at 4 KiB and a rename's unlink and link can split. A size op grown by a write has
 *   a third outcome: it survives and the grown region holds garbage where its data did not. The
 *   one real dependency (an entry in a directory created in the same window is seen only with
 *   the directory's own entry) holds by the replay rules of pending-ops.ts.
 * - `ext4-ordered` (data=ordered + delayed allocation, the realistic default): one digit for how
 *   many calls of the metadata journal committed (a prefix in program order: entries, truncates,
 *   atimes; a rename commits whole), and per file one digit for how far writeback got through its
 *   data stream (the sizes writes set and the data pieces, in order). So a committed rename or
 *   create can name a file whose data never arrived: zero length, or a zero-filled tail. The
 *   auto_da_alloc quirk: a committed rename over an existing name forces the data the renamed
 *   file had before it. (The truncate-then-rewrite quirk is not modelled: fewer guarantees, more
 *   states, never a false pass.)
 * - `lazyfs` (LazyFS clear-cache): every metadata op is eager and survives; each file keeps only a
 *   prefix of its unsynced data stream (LazyFS's torn-seq / torn-op), usually none.
 *
 * The durable image itself is the same for every model and as weak as POSIX allows: ext4's fsync
 * also commits every earlier journal entry, which is not modelled (again: more states, no false
 * pass).
 *
 * Every model's state list starts with its floor (the least that survives: nothing pending for
 * posix-weak and ext4-ordered, metadata only for lazyfs), then its ceiling (everything), then the
 * whole space when it has at most `max` states, else a seeded sample. Same ops, model and seed →
 * same list.
 */
import { fail } from '../../core/errors.ts';
import { isDataStreamOp, type ExtensionFill, type PendingOp } from './pending-ops.ts';
import { SeededRandom } from './seeded-random.ts';

export const CRASH_MODELS = ['posix-weak', 'ext4-ordered', 'lazyfs'] as const;
export type CrashModel = (typeof CRASH_MODELS)[number];

export const CRASH_STATE_KINDS = ['floor', 'ceiling', 'enumerated', 'sampled'] as const;
export type CrashStateKind = (typeof CRASH_STATE_KINDS)[number];

export interface CrashStatesOptions {
  readonly seed: number;
  /** Upper bound on the number of states returned (at least 1). */
  readonly max: number;
}

export interface Survivor {
  readonly op: PendingOp;
  readonly fill: ExtensionFill;
}

export interface CrashSelection {
  readonly kind: CrashStateKind;
  /** Surviving ops in program order. */
  readonly survivors: readonly Survivor[];
}

interface ChoiceSpace {
  readonly radix: readonly number[];
  readonly floor: readonly number[];
  readonly ceiling: readonly number[];
  sample(rng: SeededRandom): number[];
  /** Moves a vector, in place, to the least valid vector above it. */
  repair(choice: number[]): void;
  decode(choice: readonly number[]): Survivor[];
}

export function selectCrashStates(ops: readonly PendingOp[], model: CrashModel, options: CrashStatesOptions): CrashSelection[] {
  if (!Number.isSafeInteger(options.max) || options.max < 1) {
    throw fail('INVALID_ARGUMENT', `crash state max must be a positive integer: ${options.max}`, { max: options.max });
  }
  const space = spaceFor(model, ops);
  const out: CrashSelection[] = [];
  const seen = new Set<string>();
  const add = (kind: CrashStateKind, choice: number[]): void => {
    if (out.length >= options.max) return;
    space.repair(choice);
    const key = choice.join(',');
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ kind, survivors: space.decode(choice) });
  };
  add('floor', space.floor.slice());
  add('ceiling', space.ceiling.slice());
  if (spaceSize(space.radix, options.max) <= options.max) {
    for (const choice of allChoices(space.radix)) add('enumerated', choice);
  } else {
    const rng = new SeededRandom(options.seed);
    for (let attempt = 0; attempt < options.max * 8 && out.length < options.max; attempt++) add('sampled', space.sample(rng));
  }
  return out;
}

function spaceFor(model: CrashModel, ops: readonly PendingOp[]): ChoiceSpace {
  switch (model) {
    case 'posix-weak':
      return posixWeakSpace(ops);
    case 'ext4-ordered':
      return orderedSpace(ops, false);
    case 'lazyfs':
      return orderedSpace(ops, true);
  }
}

/** The number of vectors, saturating just above `cap`. */
function spaceSize(radix: readonly number[], cap: number): number {
  let size = 1;
  for (const r of radix) {
    size *= r;
    if (size > cap) return cap + 1;
  }
  return size;
}

function* allChoices(radix: readonly number[]): Generator<number[]> {
  const choice = radix.map(() => 0);
  for (;;) {
    yield choice.slice();
    let i = 0;
    while (i < radix.length && ++choice[i]! === radix[i]) choice[i++] = 0;
    if (i === radix.length) return;
  }
}

const GARBAGE = 2;

function posixWeakSpace(ops: readonly PendingOp[]): ChoiceSpace {
  const radix = ops.map((op) => (op.kind === 'size' && op.cause === 'write' ? 3 : 2));
  return {
    radix,
    floor: radix.map(() => 0),
    ceiling: radix.map(() => 1),
    sample(rng) {
      const keep = rng.next();
      return radix.map((r) => (rng.next() >= keep ? 0 : r === 3 && rng.below(2) === 1 ? GARBAGE : 1));
    },
    repair() {},
    decode(choice) {
      const survivors: Survivor[] = [];
      for (const [i, op] of ops.entries()) {
        const c = choice[i] ?? 0;
        if (c > 0) survivors.push({ op, fill: c === GARBAGE ? 'garbage' : 'zero' });
      }
      return survivors;
    },
  };
}

/**
 * ext4-ordered (`eagerMetadata` false) and lazyfs (true). Digit 0 is the number of journal calls
 * committed (lazyfs: a single option, all of them); digit 1 + f is how many ops of file f's data
 * stream were written back.
 */
function orderedSpace(ops: readonly PendingOp[], eagerMetadata: boolean): ChoiceSpace {
  const dimOf: number[] = [];
  const rankOf: number[] = [];
  const streamLength: number[] = [];
  const fileDim = new Map<number, number>();
  let journalCalls = 0;
  let lastJournalSeq: number | undefined;
  for (const op of ops) {
    if (isDataStreamOp(op)) {
      let dim = fileDim.get(op.inode.ino);
      if (dim === undefined) {
        dim = streamLength.push(0);
        fileDim.set(op.inode.ino, dim);
      }
      dimOf.push(dim);
      rankOf.push(streamLength[dim - 1]!++);
    } else {
      if (op.seq !== lastJournalSeq) journalCalls++;
      lastJournalSeq = op.seq;
      dimOf.push(0);
      rankOf.push(journalCalls - 1);
    }
  }
  const forced = eagerMetadata ? [] : autoDaAllocRules(ops, dimOf, rankOf, fileDim);
  const journalRadix = eagerMetadata ? 1 : journalCalls + 1;
  const radix = [journalRadix, ...streamLength.map((n) => n + 1)];
  const committed = (choice: readonly number[], rank: number): boolean => eagerMetadata || rank < (choice[0] ?? 0);
  return {
    radix,
    floor: radix.map(() => 0),
    ceiling: radix.map((r) => r - 1),
    sample(rng) {
      return radix.map((r) => samplePrefix(rng, r));
    },
    repair(choice) {
      for (const rule of forced) {
        if ((choice[0] ?? 0) > rule.journalRank) choice[rule.dim] = Math.max(choice[rule.dim] ?? 0, rule.streamPrefix);
      }
    },
    decode(choice) {
      const survivors: Survivor[] = [];
      for (const [i, op] of ops.entries()) {
        const dim = dimOf[i]!;
        const kept = dim === 0 ? committed(choice, rankOf[i]!) : rankOf[i]! < (choice[dim] ?? 0);
        if (kept) survivors.push({ op, fill: 'zero' });
      }
      return survivors;
    },
  };
}

interface ForcedPrefix {
  /** When the journal prefix covers this rank... */
  readonly journalRank: number;
  /** ...file digit `dim` is at least `streamPrefix`. */
  readonly dim: number;
  readonly streamPrefix: number;
}

/** ext4 auto_da_alloc: a rename over an existing file commits only after the file's data. */
function autoDaAllocRules(ops: readonly PendingOp[], dimOf: readonly number[], rankOf: readonly number[], fileDim: ReadonlyMap<number, number>): ForcedPrefix[] {
  const rules: ForcedPrefix[] = [];
  const writtenSoFar = new Map<number, number>();
  for (const [i, op] of ops.entries()) {
    const dim = dimOf[i]!;
    if (dim !== 0) writtenSoFar.set(dim, rankOf[i]! + 1);
    if (op.kind !== 'link' || !op.replaces) continue;
    const fileDimension = fileDim.get(op.inode.ino);
    if (fileDimension === undefined) continue;
    rules.push({ journalRank: rankOf[i]!, dim: fileDimension, streamPrefix: writtenSoFar.get(fileDimension) ?? 0 });
  }
  return rules;
}

/** A prefix length in [0, radix): often none or all, otherwise uniform. */
function samplePrefix(rng: SeededRandom, radix: number): number {
  const u = rng.next();
  if (u < 0.2) return 0;
  if (u < 0.4) return radix - 1;
  return rng.below(radix);
}
