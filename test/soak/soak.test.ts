/**
 * The short soak that CI runs (issue #16): two minutes of concurrent backups, GC, verify, prune,
 * restores and a sync-level change against a real server; nothing may fail, every snapshot must
 * verify, the newest of each group must restore identical, and server RSS must not grow by more
 * than 1.2× after the first minute. `npm run soak -- --minutes 10` runs the long version.
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
