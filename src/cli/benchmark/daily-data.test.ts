import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '../../../test/helpers/tmp.ts';
import { changeFiles, dailyPlan, generateDailyTree, generateSmallFilesTree, smallFilePath } from './daily-data.ts';

test('dailyPlan spreads sizes over 4 KiB..8 MiB, alternates random and text, and adds up exactly', () => {
  const plan = dailyPlan(1024 ** 3, 1);
  assert.equal(plan.reduce((a, f) => a + f.bytes, 0), 1024 ** 3);
  assert.ok(plan.length > 300 && plan.length < 500, `${plan.length} files`);
  assert.ok(plan.slice(0, -1).every((f) => f.bytes >= 4096 && f.bytes <= 8 * 1024 * 1024));
  assert.equal(plan.filter((f) => f.text).length, Math.floor(plan.length / 2));
  assert.deepEqual(dailyPlan(1024 ** 3, 1), plan, 'deterministic per seed');
});

test('changeFiles rewrites 1% of the files (at least one) and leaves the others alone', async () => {
  const dir = makeTempDir('holdfast-daily-');
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

test('generateSmallFilesTree writes N files of 0..8 KiB, 1,000 a directory, the same bytes for the same seed', async () => {
  const a = makeTempDir('holdfast-small-');
  const b = makeTempDir('holdfast-small-');
  try {
    const total = await generateSmallFilesTree(a, 1203, 3);
    assert.equal(await generateSmallFilesTree(b, 1203, 3), total);
    const files = readdirSync(a, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
    assert.equal(files.length, 1203);
    let sum = 0;
    for (let i = 0; i < 1203; i++) {
      const bytes = readFileSync(join(a, smallFilePath(i)));
      assert.ok(bytes.length <= 8192);
      assert.ok(bytes.equals(readFileSync(join(b, smallFilePath(i)))), smallFilePath(i));
      sum += bytes.length;
    }
    assert.equal(sum, total);
    assert.equal(new Set(files.map((e) => e.parentPath)).size, 2, '1,000 files a directory');
  } finally {
    rmSync(a, { recursive: true, force: true });
    rmSync(b, { recursive: true, force: true });
  }
});
