/**
 * The crash explorer: runs each workload on the power-loss simulator at each sync level, freezes a
 * crash point before every mutating op, and checks the invariants (invariants.ts) on post-crash
 * states drawn from each crash model. Then the fault runs (fault-runs.ts).
 *
 * Budget: `statesPerLevel` is split evenly over workloads × models. Crash points are visited in a
 * fixed priority order (the end, the ops around each manifest write, acknowledgement and deletion,
 * then every other op boundary in seeded random order); each round takes the next
 * `statesPerPoint` states of every point, so a large budget reaches every op boundary before it
 * takes more states of any. Everything is a function of the seed: the same options give the same
 * report.
 */
import type { SyncLevel } from '../../src/core/sync-level.ts';
import type { BackupTestOnly } from '../../src/datastore/backup-session.ts';
import type { CrashModel, CrashPoint, CrashState } from '../../src/storage/testing/sim-fs.ts';
import { mixSeed, SeededRandom } from '../../src/storage/testing/seeded-random.ts';
import { checkCrashState, INVARIANTS, type Invariant } from './invariants.ts';
import { BASE, CLOCK_START_MS, emptyStoreState, Journal, openStore, SimClock } from './workload-kit.ts';
import type { Workload, WorkloadName } from './workloads.ts';
import { emptyRow, tally, type ExploreReport, type FaultRow, type Row } from './report.ts';
import { faultRuns } from './fault-runs.ts';

/** The most states drawn from one crash point under one model (rounds slice this list). */
const STATES_CAP = 64;

export interface ExploreOptions {
  readonly levels: readonly SyncLevel[];
  readonly workloads: readonly Workload[];
  readonly models: readonly CrashModel[];
  /** Target number of crash states checked per level, over all workloads and models. */
  readonly statesPerLevel: number;
  /** States taken from one crash point per round (default 3: floor, ceiling, one more). */
  readonly statesPerPoint?: number;
  readonly seed: number;
  /** Fault runs (failing fsync / fsyncDir / syncfs); default true. */
  readonly faults?: boolean;
  /** TEST ONLY: the deliberately broken write order of the mutation test. */
  readonly testOnly?: BackupTestOnly;
  /** Called after each finished row, for progress output. */
  readonly onRow?: (row: Row | FaultRow) => void;
}

export interface Recording {
  readonly journal: Journal;
  /** points[i] is the crash point before op firstSeq + i; the last one is the state after the workload. */
  readonly points: readonly CrashPoint[];
  /** The first op of the workload (opening the store came before). */
  readonly firstSeq: number;
  /** Crash point seqs to visit first. */
  readonly keySeqs: readonly number[];
  readonly endMs: number;
}

export async function explore(o: ExploreOptions): Promise<ExploreReport> {
  const empty = await emptyStoreState();
  const rows: Row[] = [];
  const faults: FaultRow[] = [];
  const perCell = Math.ceil(o.statesPerLevel / Math.max(1, o.workloads.length * o.models.length));
  for (const level of o.levels) {
    for (const workload of o.workloads) {
      const rec = await record(workload, level, empty, o.testOnly);
      for (const model of o.models) {
        const row = await exploreCell(rec, level, workload.name, model, perCell, o);
        rows.push(row);
        o.onRow?.(row);
      }
    }
    if (o.faults !== false) {
      for (const row of await faultRuns({ level, empty, models: o.models, seed: o.seed, statesPerPoint: o.statesPerPoint ?? 3 })) {
        faults.push(row);
        o.onRow?.(row);
      }
    }
  }
  return buildReport(o, rows, faults);
}

/** Runs a workload once, freezing a crash point before every mutating op. */
export async function record(workload: Workload, level: SyncLevel, empty: CrashState, testOnly?: BackupTestOnly): Promise<Recording> {
  const clock = new SimClock(CLOCK_START_MS);
  const fs = empty.mount({ now: clock.now });
  const store = openStore(fs, workload.startLevel?.(level) ?? level);
  await store.markInUse();
  const journal = new Journal(BASE);
  const firstSeq = fs.opCount + 1;
  const points: CrashPoint[] = [];
  const syncSeqs: number[] = [];
  fs.onOp((op) => {
    journal.observe(op, store.syncLevel);
    if (op.kind === 'fsync' || op.kind === 'fsyncDir' || op.kind === 'syncfs') syncSeqs.push(op.seq);
    points.push(fs.snapshot());
  });
  await workload.run({ store, fs, clock, journal, level, ...(testOnly ? { testOnly } : {}) });
  points.push(fs.snapshot());
  return { journal, points, firstSeq, keySeqs: keySeqs(journal, syncSeqs, firstSeq, fs.opCount + 1), endMs: clock.ms };
}

/** The end, the ops around each manifest's appearance, acknowledgement and deletion, and after each sync. */
function keySeqs(journal: Journal, syncSeqs: readonly number[], first: number, last: number): number[] {
  const seqs = [last];
  for (const r of journal.snapshots.values()) {
    for (const s of [r.manifestSeq, r.ackSeq, r.deleteSeq]) if (s !== undefined) seqs.push(s, s + 1);
  }
  for (const s of syncSeqs) seqs.push(s + 1);
  return [...new Set(seqs)].filter((s) => s >= first && s <= last);
}

/** Crash point seqs in visiting order: key ones first (in op order), then the rest shuffled by seed. */
export function visitOrder(rec: Recording, seed: number): number[] {
  const key = [...rec.keySeqs].sort((a, b) => a - b);
  const keySet = new Set(key);
  const rest: number[] = [];
  for (let s = rec.firstSeq; s < rec.firstSeq + rec.points.length; s++) if (!keySet.has(s)) rest.push(s);
  const rng = new SeededRandom(seed);
  for (let i = rest.length - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    [rest[i], rest[j]] = [rest[j]!, rest[i]!];
  }
  return [...key, ...rest];
}

async function exploreCell(rec: Recording, level: SyncLevel, workload: WorkloadName, model: CrashModel, quota: number, o: ExploreOptions): Promise<Row> {
  const row = emptyRow(level, model, workload);
  const per = o.statesPerPoint ?? 3;
  const order = visitOrder(rec, mixSeed(o.seed, hashName(`${level}/${workload}`)));
  const visited = new Set<number>();
  const now = (): number => rec.endMs + 86_400_000;
  for (let round = 0; round * per < STATES_CAP && row.states < quota; round++) {
    let progressed = false;
    for (const seq of order) {
      if (row.states >= quota) break;
      const point = rec.points[seq - rec.firstSeq]!;
      const states = point.crashStates(model, { seed: mixSeed(o.seed, seq), max: STATES_CAP }).slice(round * per, (round + 1) * per);
      if (states.length === 0) continue;
      progressed = true;
      visited.add(seq);
      for (const state of states) {
        const verdict = await checkCrashState(state.mount({ now }), { level, journal: rec.journal, crashSeq: seq, now, splitRenames: splitRenames(state) });
        tally(row, verdict, () => `${level} ${workload} crash before op ${seq}: ${state.describe(12)}`);
      }
    }
    if (!progressed) break;
  }
  row.points = visited.size;
  row.totalPoints = rec.points.length;
  return row;
}

/**
 * Targets of renames this state split: the new name lost while the same rename's removal of the
 * old entry it replaced, or of its source name, survived, so what was renamed is under neither
 * name (posix-weak only; a manifest rewrite or a snapshot's move to another group).
 */
export function splitRenames(state: CrashState): Set<string> {
  const out = new Set<string>();
  const survived = new Set(state.survivors.map((s) => s.op.id));
  const unlinkedAt = new Set(state.survivors.filter((s) => s.op.kind === 'unlink').map((s) => s.op.seq));
  for (const op of state.lost()) {
    // a rename's link and unlinks share its seq; a create's link has no unlink beside it
    if (op.kind === 'link' && !survived.has(op.id) && unlinkedAt.has(op.seq)) out.add(op.path);
  }
  return out;
}

function hashName(name: string): number {
  let h = 0;
  for (const ch of name) h = (Math.imul(h, 31) + ch.charCodeAt(0)) >>> 0;
  return h;
}

function buildReport(o: ExploreOptions, rows: Row[], faults: FaultRow[]): ExploreReport {
  const levels = o.levels.map((level) => {
    const mine = rows.filter((r) => r.level === level);
    const violations = Object.fromEntries(INVARIANTS.map((i) => [i, mine.reduce((n, r) => n + r.violations[i], 0)])) as Record<Invariant, number>;
    const faultViolations = faults.filter((f) => f.level === level).reduce((n, f) => n + f.violations, 0);
    return { level, states: mine.reduce((n, r) => n + r.states, 0), violations, lost: mine.reduce((n, r) => n + r.lost, 0), faultViolations };
  });
  const failed = levels.some((l) => INVARIANTS.some((i) => l.violations[i] > 0) || l.faultViolations > 0);
  return {
    seed: o.seed,
    statesPerLevel: o.statesPerLevel,
    statesPerPoint: o.statesPerPoint ?? 3,
    mutation: o.testOnly ?? null,
    rows,
    faults,
    levels,
    failed,
  };
}
