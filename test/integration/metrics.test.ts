/**
 * `GET /metrics` scraped as Prometheus would (issue #15): over HTTPS with an API token holding
 * Sys.Audit on /system/status, parsed by an independent Prometheus text-format parser, after a
 * backup, a failed request and a GC; refused without the privilege.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { RawApi, tokenHeader } from '../conformance/raw-client.ts';
import { backupUser, chunkOf, fullBackup, openBackup } from '../helpers/raw-backup.ts';
import { fastRandom, startTestServer } from '../helpers/server-fixture.ts';

type Families = ReturnType<typeof parsePrometheusTextFormat>;

function value(f: Families, name: string, labels: Readonly<Record<string, string>> = {}): number | undefined {
  const fam = f.find((x) => x.name === name);
  const m = fam?.metrics.find((s) => Object.entries(labels).every(([k, v]) => s.labels?.[k] === v));
  if (m === undefined) return undefined;
  return Number(m.value ?? m.count);
}

test('GET /metrics reports datastores, backups, GC, sync calls, HTTP errors and memory to a token with Sys.Audit, in parseable Prometheus text', { timeout: 120_000 }, async () => {
  const srv = await startTestServer();
  try {
    const admin = await srv.admin();
    const alice = await backupUser(srv, admin, 'alice@pbs');
    const h2 = await openBackup(alice, 'm1', 1_800_000_000);
    const chunks = [chunkOf(fastRandom(100_000, 1)), chunkOf(fastRandom(50_000, 2)), chunkOf(fastRandom(100_000, 1))];
    await fullBackup(h2, 'm1', 1_800_000_000, chunks);
    await h2.close();
    await assert.rejects(admin.get('admin/datastore/nope/status'));
    const upid = (await admin.post('admin/datastore/default/gc')) as string;
    await srv.hs.jobs.tasks.wait(upid);

    const scraper = (await admin.post('access/users/admin@pbs/token/prometheus')) as { tokenid: string; value: string };
    await admin.put('access/acl', { path: '/system/status', role: 'Audit', 'auth-id': scraper.tokenid, propagate: false });
    const r = await new RawApi(srv.port, tokenHeader(scraper.tokenid, scraper.value, ' ')).request('GET', '/metrics');
    assert.equal(r.status, 200, r.body.toString());
    assert.match(String(r.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    const f = parsePrometheusTextFormat(r.body.toString());

    assert.equal(value(f, 'holdfast_backups_total', { store: 'default', outcome: 'ok' }), 1);
    assert.equal(value(f, 'holdfast_backup_chunks_total', { store: 'default', kind: 'new' }), 2);
    assert.equal(value(f, 'holdfast_backup_chunks_total', { store: 'default', kind: 'reused' }), 1);
    assert.equal(value(f, 'holdfast_backup_bytes_total', { store: 'default' }), 250_000);
    // (this parser keeps only the buckets of a histogram whose `le` label comes first, as prom-client writes it)
    assert.equal(f.find((x) => x.name === 'holdfast_backup_duration_seconds')?.metrics[0]?.buckets?.['+Inf'], '1', 'one observation');
    assert.equal(value(f, 'holdfast_datastore_snapshots', { store: 'default' }), 1);
    const st = (await admin.get('admin/datastore/default/status')) as { 'gc-status': Record<string, number> };
    assert.equal(value(f, 'holdfast_datastore_chunks', { store: 'default' }), st['gc-status']['disk-chunks']);
    assert.equal(value(f, 'holdfast_datastore_used_bytes', { store: 'default' }), st['gc-status']['disk-bytes']);
    assert.ok((value(f, 'holdfast_datastore_dedup_factor', { store: 'default' }) ?? 0) > 1, 'one chunk referenced twice');
    assert.equal(value(f, 'holdfast_datastore_last_task_success', { store: 'default', task: 'gc' }), 1);
    assert.equal(value(f, 'holdfast_datastore_sync_level_info', { store: 'default', level: 'filesystem' }), 1);
    assert.ok((value(f, 'holdfast_sync_calls_total', { store: 'default', level: 'filesystem', kind: 'syncfs' }) ?? 0) >= 1, 'the backup synced the filesystem');
    assert.ok(value(f, 'holdfast_sync_seconds_total', { store: 'default', level: 'filesystem', kind: 'syncfs' }) !== undefined);
    assert.ok((value(f, 'holdfast_http_errors_total', { code: 'DATASTORE_NOT_FOUND' }) ?? 0) >= 1);
    assert.ok((value(f, 'holdfast_http_requests_total', { method: 'POST', status: '2xx' }) ?? 0) >= 1);
    assert.ok((value(f, 'holdfast_process_resident_memory_bytes') ?? 0) > 0);
    assert.equal(value(f, 'holdfast_upload_pool_slots_in_use'), 0);

    // without the privilege, and without credentials: refused
    const nosy = (await admin.post('access/users/alice@pbs/token/nosy')) as { tokenid: string; value: string };
    assert.equal((await new RawApi(srv.port, tokenHeader(nosy.tokenid, nosy.value, '=')).request('GET', '/metrics')).status, 403);
    assert.equal((await new RawApi(srv.port, '').request('GET', '/metrics')).status, 401);
  } finally {
    await srv.close();
  }
});
