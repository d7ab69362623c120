/**
 * The short soak that CI runs (issue #16): two minutes of concurrent backups, GC, verify, prune,
 * restores and a sync-level change against a real server; nothing may fail, every snapshot must
 * verify, and the newest of each group must restore identical. The RSS leak check needs a longer
 * run (see LEAK_CHECK_MINUTES): `npm run soak -- --minutes 10` runs it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_SOAK, formatSoakReport, runSoak } from './soak.ts';

test('soak: concurrent backups, GC, verify, prune and restores for two minutes leave nothing failed or lost', { timeout: 15 * 60_000 }, async (t) => {
  const report = await runSoak({ ...DEFAULT_SOAK, minutes: Number(process.env['HOLDFAST_SOAK_MINUTES'] ?? 2), log: (l) => t.diagnostic(l) });
  const text = formatSoakReport(report);
  t.diagnostic(text);
  assert.deepEqual(report.failures, [], text);
  assert.ok(report.backups.ok > 0 && report.gc.ok > 0 && report.verify.ok > 0 && report.prune.ok > 0, text);
  assert.equal(report.final.restoredIdentical, DEFAULT_SOAK.clients, text);
  assert.ok(report.syncLevelChanged, text);
});
