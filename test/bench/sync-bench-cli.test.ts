/**
 * `holdfast benchmark sync` end to end on a tiny size: two real servers (in network namespaces
 * when the machine allows, else on loopback), the link proxy, the raw baseline and the pull probe.
 * Asserts the report's shape, that every byte arrived and that nothing is left behind; never the
 * timing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseSyncBenchOptions, renderSyncBench, type SyncBenchReport } from '../../src/cli/benchmark/sync-bench.ts';
import { netnsUnavailable } from '../../src/cli/benchmark/netns.ts';
import { cleanEnv, describeCli, spawnCli } from '../helpers/server-fixture.ts';
import { makeTempDir } from '../helpers/tmp.ts';

const MIB = 1024 * 1024;

/** Namespaces the process `pid` made (netns.ts names them hf-PID-N-a|b). */
function namespacesOf(pid: number | undefined): string[] {
  try {
    return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').filter((l) => l.startsWith(`hf-${pid}-`));
  } catch {
    return [];
  }
}

test('benchmark sync --output-format json: raw, the sync job and the pull probe with N and with 1 worker thread, every byte across the link', { timeout: 300_000 }, async () => {
  const dir = makeTempDir('holdfast-sync-bench-');
  const work = join(dir, 'work');
  try {
    const bench = spawnCli(['benchmark', 'sync', '--size', '8M', '--groups', '2', '--worker-threads', '2', '--rtt', '20ms', '--path', work, '--output-format', 'json'], cleanEnv());
    const r = await bench.result;
    assert.equal(r.code, 0, describeCli(r));
    const report = JSON.parse(r.stdout) as SyncBenchReport;
    assert.equal(report.schema, 'holdfast-benchmark-sync/1');
    assert.equal(report.mode, netnsUnavailable() === undefined ? 'netns' : 'loopback');
    assert.deepEqual(report.rows.map((x) => x.name), [
      'raw TCP, one stream',
      'sync job, pull (worker-threads 2)',
      'sync job, pull (worker-threads 1)',
      'pull probe (worker-threads 2)',
      'pull probe (worker-threads 1)',
    ]);
    assert.equal(report.rows[0]!.bytes, 8 * MIB);
    for (const pull of report.rows.slice(1)) {
      assert.equal(pull.chunks, 2, 'two 4 MiB image chunks');
      assert.ok(pull.bytes > 8 * MIB, 'encoded chunks carry a header each');
    }
    for (const x of report.rows) assert.ok(x.linkFraction > 0 && x.mbps > 0);
    assert.match(renderSyncBench(report), /sync job, pull \(worker-threads 1\)\s+\d+\.\d\s+\d+\.\d%/);
    assert.ok(!existsSync(work), 'the work directory is removed');
    assert.deepEqual(namespacesOf(bench.child.pid), [], 'the namespaces are removed');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('parseSyncBenchOptions: 1 Gbit/s, 100 ms, 1 GiB, 4 groups and 4 worker threads by default; bad values are INVALID_ARGUMENT', () => {
  const o = parseSyncBenchOptions({});
  assert.deepEqual([o.rateBitsPerSec, o.rttMs, o.bytes, o.groups, o.workers, o.netns], [1e9, 100, 1024 ** 3, 4, 4, true]);
  assert.equal(parseSyncBenchOptions({ rate: '500Mbit', rtt: '0.15s', netns: false }).rttMs, 150);
  assert.throws(() => parseSyncBenchOptions({ workerThreads: '0' }), { code: 'INVALID_ARGUMENT' });
  assert.throws(() => parseSyncBenchOptions({ rate: 'fast' }), { code: 'INVALID_ARGUMENT' });
});
