/**
 * `holdfast benchmark daily` end to end on a tiny size: real server, real client, one run, no
 * peers. Asserts the report's shape (every step measured with a peak RSS) and that the work
 * directory is removed; never the timing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { DailyReport } from '../../src/cli/benchmark/daily-bench.ts';
import { renderDaily } from '../../src/cli/benchmark/daily-render.ts';
import { cleanEnv, describeCli, runCli } from '../helpers/server-fixture.ts';
import { makeTempDir } from '../helpers/tmp.ts';

test('benchmark daily --output-format json: first, unchanged, changed and restore for Holdfast, with peak RSS', { timeout: 180_000 }, async () => {
  const dir = makeTempDir('holdfast-daily-cli-');
  const work = join(dir, 'work');
  try {
    const r = await runCli(['benchmark', 'daily', '--size', '6M', '--runs', '1', '--peers', 'none', '--path', work, '--no-drop-caches', '--out', join(dir, 'results'), '--output-format', 'json'], cleanEnv());
    assert.equal(r.code, 0, describeCli(r));
    const report = JSON.parse(r.stdout) as DailyReport;
    assert.equal(report.schema, 'holdfast-benchmark-daily/1');
    assert.equal(report.bytes, 6 * 1024 * 1024);
    assert.deepEqual(report.cells.map((c) => `${c.tool}:${c.step}`), ['holdfast:first', 'holdfast:unchanged', 'holdfast:changed', 'holdfast:restore']);
    for (const c of report.cells) {
      assert.equal(c.seconds.length, 1);
      assert.ok((c.peakRss ?? 0) > 0, `${c.step} has a peak RSS`);
    }
    assert.match(renderDaily(report), /\| holdfast 0\.\d+\.\d+ \|/);
    assert.ok(!existsSync(work), 'the work directory is removed');
    const written = readdirSync(join(dir, 'results'));
    assert.equal(written.length, 1);
    assert.match(written[0] ?? '', /^daily-\d{8}T\d{6}Z\.json$/);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'results', written[0] ?? ''), 'utf8')), report, 'the result file (which the web UI reads) holds the report');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
