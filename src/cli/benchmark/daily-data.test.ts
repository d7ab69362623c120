import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { testTmpRoot } from '../../../test/helpers/tmp.ts';
import { changeFiles, dailyPlan, generateDailyTree } from './daily-data.ts';

test('dailyPlan spreads sizes over 4 KiB..8 MiB, alternates random and text, and adds up exactly', () => {
  const plan = dailyPlan(1024 ** 3, 1);
  assert.equal(plan.reduce((a, f) => a + f.bytes, 0), 1024 ** 3);
  assert.ok(plan.length > 300 && plan.length < 500, `${plan.length} files`);
  assert.ok(plan.slice(0, -1).every((f) => f.bytes >= 4096 && f.bytes <= 8 * 1024 * 1024));
  assert.equal(plan.filter((f) => f.text).length, Math.floor(plan.length / 2));
  assert.deepEqual(dailyPlan(1024 ** 3, 1), plan, 'deterministic per seed');
});

test('changeFiles rewrites 1% of the files (at least one) and leaves the others alone', async () => {
  const dir = mkdtempSync(join(testTmpRoot(), 'holdfast-daily-'));
  try {
    const n = await generateDailyTree(dir, 3 * 1024 * 1024, 5);
    const plan = dailyPlan(3 * 1024 * 1024, 5);
    assert.equal(n, plan.length);
    const before = new Map(plan.map((f) => [join(dir, f.path), readFileSync(join(dir, f.path))]));
    const changed = await changeFiles(dir, 0.01, 5);
    assert.equal(changed.length, Math.max(1, Math.round(plan.length * 0.01)));
    for (const [path, bytes] of before) {
      const same = readFileSync(path).equals(bytes);
      assert.equal(same, !changed.includes(path), path);
      assert.ok(statSync(path).size > 0);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
