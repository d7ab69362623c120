/**
 * The power-loss proof in CI (docs/durability.md, "The power-loss proof"): the crash explorer's
 * budget of at least 2,000 crash states per sync level over three crash models and six
 * workloads, plus the fault runs; and the mutation test, which switches on a deliberately broken
 * write order and shows the explorer catches it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SYNC_LEVELS } from '../../src/core/sync-level.ts';
import { CRASH_MODELS } from '../../src/storage/testing/sim-fs.ts';
import { explore } from './explorer.ts';
import { INVARIANTS } from './invariants.ts';
import { formatReport, type ExploreReport } from './report.ts';
import { WORKLOADS, workloadNamed } from './workloads.ts';

const CI_STATES_PER_LEVEL = 2000;

function violationsOf(report: ExploreReport, level: string): Record<string, number> {
  const totals = report.levels.find((l) => l.level === level)!;
  return { ...totals.violations, faults: totals.faultViolations };
}

test('explore (CI budget): every sync level keeps its promise in ≥ 2,000 crash states under posix-weak, ext4-ordered and lazyfs', async () => {
  const report = await explore({ levels: SYNC_LEVELS, workloads: WORKLOADS, models: CRASH_MODELS, statesPerLevel: CI_STATES_PER_LEVEL, seed: 1 });
  const table = formatReport(report);
  for (const level of SYNC_LEVELS) {
    const totals = report.levels.find((l) => l.level === level)!;
    assert.ok(totals.states >= CI_STATES_PER_LEVEL, `${level}: only ${totals.states} states checked\n${table}`);
    // I1 is checked for every snapshot finished at filesystem or file (at `none` only in level-change)
    assert.deepEqual(violationsOf(report, level), { ...Object.fromEntries(INVARIANTS.map((i) => [i, 0])), faults: 0 }, table);
  }
  for (const f of report.faults) assert.equal(f.failedCoded, f.runs, `${f.level} ${f.sync}: a failed sync did not fail the backup with a coded error\n${table}`);
  assert.ok(report.faults.some((f) => f.level === 'filesystem' && f.sync === 'syncfs'), 'the syncfs fault was not exercised');
  assert.equal(report.failed, false, table);
});

test('explore (mutation test): writing the manifest before the syncfs (testOnly.manifestBeforeSync) is reported as I1 violations', async () => {
  const report = await explore({
    levels: ['filesystem'],
    workloads: [workloadNamed('first-backup')!, workloadNamed('incremental')!],
    models: CRASH_MODELS,
    statesPerLevel: 600,
    seed: 1,
    faults: false,
    testOnly: { manifestBeforeSync: true },
  });
  const totals = report.levels[0]!;
  assert.ok(totals.violations.I1 > 0, `the broken write order went unnoticed\n${formatReport(report)}`);
  assert.equal(report.failed, true);
  const example = report.rows.flatMap((r) => r.examples).find((e) => e.invariant === 'I1');
  assert.match(example?.message ?? '', /listed as finished but does not restore/);
});

test('explore is deterministic per seed: the same options give the same table', async () => {
  const run = async (): Promise<unknown> => {
    const r = await explore({ levels: ['none'], workloads: [workloadNamed('two-groups')!], models: CRASH_MODELS, statesPerLevel: 60, seed: 7, faults: false });
    // examples name temp files, whose random suffixes differ between runs; the numbers must not
    return r.rows.map(({ examples: _examples, ...numbers }) => numbers);
  };
  assert.deepEqual(await run(), await run());
});
