/**
 * `holdfast benchmark sync-level` end to end on a tiny size: real server, real client, one run per
 * level, datastore on tmpfs. Asserts the report's shape and that the datastore's own sync counters
 * agree with each level; never the timing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, rmSync } from 'node:fs';
import type { BenchReport } from '../../src/cli/benchmark/report.ts';
import { cleanEnv, describeCli, runCli } from '../helpers/server-fixture.ts';
import { makeTempDir } from '../helpers/tmp.ts';

test('benchmark sync-level --output-format json: all three levels, counters matching each level', async () => {
  const dir = makeTempDir('holdfast-bench-cli-');
  try {
    const r = await runCli(['benchmark', 'sync-level', '--sizes', '1M', '--runs', '1', '--path', dir, '--no-files', '--no-drop-caches', '--output-format', 'json'], cleanEnv());
    assert.equal(r.code, 0, describeCli(r));
    const report = JSON.parse(r.stdout) as BenchReport;
    assert.equal(report.schema, 'holdfast-benchmark-sync-level/1');
    assert.deepEqual(report.summary[0]!.columns, ['none', 'filesystem', 'file']);
    const byLevel = new Map(report.measurements.map((m) => [m.column, m]));
    assert.deepEqual(byLevel.get('none')!.syncCounts, { fsyncFile: 0, fsyncDir: 0, syncfs: 0 });
    assert.ok(byLevel.get('filesystem')!.syncCounts!.syncfs >= 1);
    const file = byLevel.get('file')!;
    assert.ok(file.newChunks! >= 1);
    assert.ok(file.syncCounts!.fsyncFile >= file.newChunks!);
    assert.ok(report.measurements.every((m) => m.syncCheck?.ok === true && m.bytes === 1024 * 1024));
    const row = report.summary[0]!.rows[0]!;
    assert.equal(row.cells.find((c) => c.column === 'none')!.ratioToNone, 1);
    assert.equal(row.sizeLabel, '1 MiB');
    assert.deepEqual(readdirSync(dir), [], 'the work directory is removed');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
