/**
 * `holdfast benchmark` prints PBS's client rows beside PBS's reference figures: the TLS upload
 * row through the backup protocol's speedtest endpoint when a repository is set, "not tested"
 * without one. Only the shape is checked, never a speed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanEnv, describeCli, runCli, startTestServer } from '../helpers/server-fixture.ts';

interface Row {
  id: string;
  mbps: number | null;
  referenceMbps: number;
}

const REFERENCE = { tls: 1235, sha256: 2022, compress: 752, decompress: 1198, verify: 758, aes256gcm: 3645 };

test('holdfast benchmark --output-format json measures every PBS client row, TLS through the server', { timeout: 120_000 }, async () => {
  const server = await startTestServer();
  try {
    const r = await server.cli(['benchmark', '--seconds', '0.05', '--output-format', 'json']);
    assert.equal(r.code, 0, describeCli(r));
    const rows = (JSON.parse(r.stdout) as { rows: Row[] }).rows;
    assert.deepEqual(Object.fromEntries(rows.map((x) => [x.id, x.referenceMbps])), REFERENCE);
    for (const x of rows) assert.equal(typeof x.mbps, 'number', `${x.id} was measured`);
    const groups = await server.cli(['snapshot', 'list', 'host/benchmark', '--output-format', 'json']);
    assert.deepEqual(JSON.parse(groups.stdout), [], 'the speed test stores no snapshot');
  } finally {
    await server.close();
  }
});

test('holdfast benchmark without a repository skips only the TLS row and prints the reference column', { timeout: 60_000 }, async () => {
  const r = await runCli(['benchmark', '--seconds', '0.05'], cleanEnv());
  assert.equal(r.code, 0, describeCli(r));
  assert.match(r.stdout, /^Name +Value +Reference \(AMD Ryzen 7 2700X\)$/m);
  assert.match(r.stdout, /^TLS \(maximal backup upload speed\) +not tested \(no repository given\) +1235\.00 MB\/s$/m);
  assert.match(r.stdout, /^AES256 GCM encryption speed +\d+\.\d\d MB\/s \(\d+%\) +3645\.00 MB\/s$/m);
  const sync = await runCli(['benchmark', 'sync-level', '--help'], cleanEnv());
  assert.equal(sync.code, 0, 'benchmark sync-level is still there');
});
