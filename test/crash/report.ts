/**
 * The crash explorer's report: one row per level × model × workload (crash points explored, states
 * checked, violations per invariant, I5 losses), one row per level × sync kind for the fault runs,
 * and per-level totals. Printed as a table and written as JSON; a few example violations per row
 * (with the crash state's description, enough to replay it from the seed) ride along.
 */
import type { CrashModel } from '../../src/storage/testing/sim-fs.ts';
import type { SyncLevel } from '../../src/core/sync-level.ts';
import type { BackupTestOnly } from '../../src/datastore/backup-session.ts';
import { INVARIANTS, type Exercised, type Invariant, type StateVerdict } from './invariants.ts';

const MAX_EXAMPLES = 3;

export interface Example {
  readonly invariant: string;
  readonly message: string;
  readonly state: string;
}

export interface Row {
  readonly kind: 'crash';
  readonly level: SyncLevel;
  readonly model: CrashModel;
  readonly workload: string;
  /** Crash points (op boundaries) explored, of `totalPoints` the workload had. */
  points: number;
  totalPoints: number;
  states: number;
  readonly violations: Record<Invariant, number>;
  /** I5: acknowledged `none` snapshots lost, summed over states, of `ackedAtNone`. */
  lost: number;
  ackedAtNone: number;
  /** posix-weak only: acknowledged manifests lost to a split rename-over (exempt from I1, see invariants.ts). */
  renameSplit: number;
  /** Damage the checked states held (summed): unrestorable snapshots, quarantined and repaired chunks. */
  readonly exercised: Exercised;
  readonly examples: Example[];
}

export interface FaultRow {
  readonly kind: 'fault';
  readonly level: SyncLevel;
  readonly sync: string;
  /** Backups run with the nth call of this kind failing, one per n. */
  runs: number;
  /** Of those, backups that failed with a coded error as they must. */
  failedCoded: number;
  /** Crash states checked after the failed backup. */
  states: number;
  violations: number;
  readonly codes: Record<string, number>;
  readonly examples: Example[];
}

export interface LevelTotals {
  readonly level: SyncLevel;
  readonly states: number;
  readonly violations: Record<Invariant, number>;
  readonly lost: number;
  readonly faultViolations: number;
}

export interface ExploreReport {
  readonly seed: number;
  readonly statesPerLevel: number;
  readonly statesPerPoint: number;
  readonly mutation: BackupTestOnly | null;
  readonly rows: Row[];
  readonly faults: FaultRow[];
  readonly levels: LevelTotals[];
  /** Any I1–I4 or fault violation. */
  readonly failed: boolean;
  elapsedMs?: number;
}

export function emptyRow(level: SyncLevel, model: CrashModel, workload: string): Row {
  const violations = Object.fromEntries(INVARIANTS.map((i) => [i, 0])) as Record<Invariant, number>;
  return { kind: 'crash', level, model, workload, points: 0, totalPoints: 0, states: 0, violations, lost: 0, ackedAtNone: 0, renameSplit: 0, exercised: { unrestorable: 0, quarantined: 0, repaired: 0 }, examples: [] };
}

export function tally(row: Row, verdict: StateVerdict, describeState: () => string): void {
  row.states++;
  row.lost += verdict.lost;
  row.ackedAtNone += verdict.ackedAtNone;
  row.renameSplit += verdict.renameSplit;
  row.exercised.unrestorable += verdict.exercised.unrestorable;
  row.exercised.quarantined += verdict.exercised.quarantined;
  row.exercised.repaired += verdict.exercised.repaired;
  const counted = new Set<Invariant>();
  for (const v of verdict.violations) {
    // a state counts once per invariant it breaks, however many snapshots it breaks it for
    if (!counted.has(v.invariant)) row.violations[v.invariant]++;
    counted.add(v.invariant);
    if (row.examples.length < MAX_EXAMPLES) row.examples.push({ invariant: v.invariant, message: v.message, state: describeState() });
  }
}

export function addExample(examples: Example[], e: Example): void {
  if (examples.length < MAX_EXAMPLES) examples.push(e);
}

export function formatReport(r: ExploreReport): string {
  const lines: string[] = [];
  const head = ['level', 'model', 'workload', 'points', 'states', ...INVARIANTS, 'I5 lost', 'split†', 'unrestorable', 'quarantined', 'repaired'];
  const table: string[][] = [head];
  for (const row of r.rows) {
    const lost = row.level === 'none' ? `${row.lost}/${row.ackedAtNone}` : '-';
    table.push([row.level, row.model, row.workload, `${row.points}/${row.totalPoints}`, `${row.states}`, ...INVARIANTS.map((i) => `${row.violations[i]}`), lost, `${row.renameSplit}`, `${row.exercised.unrestorable}`, `${row.exercised.quarantined}`, `${row.exercised.repaired}`]);
  }
  lines.push(...align(table));
  lines.push('† posix-weak only: acknowledged snapshots lost to a split rename, a manifest rewrite or a group move whose removal of the old name survived and whose new name did not (exempt from I1).');
  lines.push('unrestorable / quarantined / repaired: damage the states held (snapshots that failed restore with a code, chunks verify moved to .bad, broken chunks the next backup replaced).');
  if (r.faults.length > 0) {
    lines.push('', 'fault injection (sync call fails with EIO):');
    const ft: string[][] = [['level', 'sync', 'runs', 'failed-coded', 'states', 'violations', 'codes']];
    for (const f of r.faults) ft.push([f.level, f.sync, `${f.runs}`, `${f.failedCoded}`, `${f.states}`, `${f.violations}`, Object.entries(f.codes).map(([c, n]) => `${c}×${n}`).join(' ')]);
    lines.push(...align(ft));
  }
  lines.push('', 'per level:');
  const lt: string[][] = [['level', 'states', ...INVARIANTS, 'I5 lost', 'fault violations']];
  for (const l of r.levels) lt.push([l.level, `${l.states}`, ...INVARIANTS.map((i) => `${l.violations[i]}`), l.level === 'none' ? `${l.lost}` : '-', `${l.faultViolations}`]);
  lines.push(...align(lt));
  const examples = [...r.rows, ...r.faults].flatMap((row) => row.examples);
  if (examples.length > 0) {
    lines.push('', 'examples:');
    for (const e of examples.slice(0, 10)) lines.push(`- ${e.invariant}: ${e.message}`, ...e.state.split('\n').map((l) => `    ${l}`));
  }
  const seconds = r.elapsedMs === undefined ? '' : ` in ${(r.elapsedMs / 1000).toFixed(1)} s`;
  lines.push('', `seed ${r.seed}${seconds}: ${r.failed ? 'VIOLATIONS FOUND' : 'no I1–I4 or fault violations'}`);
  return lines.join('\n');
}

function align(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => (c < 3 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ').trimEnd());
}
