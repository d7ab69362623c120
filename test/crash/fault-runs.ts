/**
 * Fault runs (fsyncgate): a first backup in which the nth fsync, fsyncDir or syncfs fails with
 * EIO, once for every n the backup reaches. SimFs drops what a failed sync covered for good, as
 * Linux does. The backup must fail with a coded error, and no manifest may exist: not in the
 * volatile view, and not in any crash state drawn from the moment after the failure. Each such
 * state also goes through the full invariant check (the next backup must heal, and so on).
 */
import { join } from 'node:path';
import { isHoldfastError } from '../../src/core/errors.ts';
import type { SyncLevel } from '../../src/core/sync-level.ts';
import { MANIFEST_NAME } from '../../src/datastore/layout.ts';
import { mixSeed } from '../../src/storage/testing/seeded-random.ts';
import { SYNC_KINDS, type SyncKind } from '../../src/storage/testing/fault-fs.ts';
import type { CrashModel, CrashState, SimFs } from '../../src/storage/testing/sim-fs.ts';
import { checkCrashState } from './invariants.ts';
import { addExample, type FaultRow } from './report.ts';
import { backup, BASE, CLOCK_START_MS, Journal, makeData, openStore, SimClock } from './workload-kit.ts';
import type { SnapshotRef } from '../../src/core/backup-ref.ts';

export interface FaultRunOptions {
  readonly level: SyncLevel;
  readonly empty: CrashState;
  readonly models: readonly CrashModel[];
  readonly seed: number;
  readonly statesPerPoint: number;
}

const REF: SnapshotRef = { ns: '', type: 'host', id: 'f', time: 1_700_000_000 };
const DATA = makeData(11, 6);

export async function faultRuns(o: FaultRunOptions): Promise<FaultRow[]> {
  const counts = await countSyncCalls(o);
  const rows: FaultRow[] = [];
  for (const kind of SYNC_KINDS) {
    if (counts[kind] === 0) continue;
    const row: FaultRow = { kind: 'fault', level: o.level, sync: kind, runs: 0, failedCoded: 0, states: 0, violations: 0, codes: {}, examples: [] };
    for (let n = 1; n <= counts[kind]; n++) await faultRun(o, kind, n, row);
    rows.push(row);
  }
  return rows;
}

/** How many sync calls of each kind one fault-free backup makes (after the store is opened). */
async function countSyncCalls(o: FaultRunOptions): Promise<Record<SyncKind, number>> {
  const counts: Record<SyncKind, number> = { fsync: 0, fsyncDir: 0, syncfs: 0 };
  let armed = false;
  const fs = o.empty.mount({
    now: () => CLOCK_START_MS,
    failSync: (call) => {
      if (armed) counts[call.kind]++;
      return false;
    },
  });
  const store = openStore(fs, o.level);
  await store.markInUse();
  armed = true;
  await backup({ store, fs }, REF, DATA);
  return counts;
}

async function faultRun(o: FaultRunOptions, kind: SyncKind, n: number, row: FaultRow): Promise<void> {
  const clock = new SimClock(CLOCK_START_MS);
  let armed = false;
  let seen = 0;
  const fs = o.empty.mount({ now: clock.now, failSync: (call) => armed && call.kind === kind && ++seen === n });
  const store = openStore(fs, o.level);
  await store.markInUse();
  armed = true;
  const journal = new Journal(BASE);
  fs.onOp((op) => journal.observe(op, store.syncLevel));
  const where = `${o.level}: ${kind} #${n} fails`;
  const violation = (message: string, state = where): void => {
    row.violations++;
    addExample(row.examples, { invariant: 'fault', message, state });
  };
  row.runs++;
  try {
    await backup({ store, fs, journal }, REF, DATA);
    violation(`the backup was acknowledged although ${kind} #${n} failed`);
  } catch (e) {
    if (isHoldfastError(e)) {
      row.failedCoded++;
      row.codes[e.code] = (row.codes[e.code] ?? 0) + 1;
    } else violation(`the backup failed without a code: ${String(e)}`);
  }
  armed = false;
  const manifest = join(journal.snapshots.values().next().value?.dir ?? BASE, MANIFEST_NAME);
  if (await fs.stat(manifest)) violation('a manifest exists in the volatile view after the failed backup');
  await checkStatesAfter(o, fs, journal, manifest, n, row, violation);
}

async function checkStatesAfter(o: FaultRunOptions, fs: SimFs, journal: Journal, manifest: string, n: number, row: FaultRow, violation: (m: string, s?: string) => void): Promise<void> {
  const point = fs.snapshot();
  const crashSeq = fs.opCount + 1;
  const now = (): number => CLOCK_START_MS + 86_400_000;
  for (const model of o.models) {
    for (const state of point.crashStates(model, { seed: mixSeed(o.seed, n), max: o.statesPerPoint })) {
      row.states++;
      const mounted = state.mount({ now });
      if (await mounted.stat(manifest)) violation('a manifest exists in a crash state after the failed backup', state.describe(12));
      const verdict = await checkCrashState(mounted, { level: o.level, journal, crashSeq, now });
      for (const v of verdict.violations) violation(`${v.invariant}: ${v.message}`, state.describe(12));
    }
  }
}
