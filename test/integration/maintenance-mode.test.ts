/**
 * Maintenance mode on a real server (datastore.cfg `maintenance-mode`, src/datastore/maintenance.ts):
 * read-only lets snapshots be listed and restored and refuses backups and GC; offline refuses even
 * a listing; clearing the mode lets everything run again. Refusals are DATASTORE_MAINTENANCE (503,
 * exit 4) with the operator's message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isHoldfastError } from '../../src/core/errors.ts';
import { main } from '../../src/cli/main.ts';
import { startTestServer, type TestServer } from '../helpers/server-fixture.ts';

async function cli(srv: TestServer, args: readonly string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { env: srv.env(), out: (t) => out.push(t), err: (t) => err.push(t), isTTY: false });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

test('maintenance mode: read-only serves reads and refuses writes, offline refuses everything, clearing it restores service', { timeout: 120_000 }, async () => {
  const srv = await startTestServer();
  try {
    const admin = await srv.admin();
    const src = join(srv.dir, 'src');
    mkdirSync(src);
    writeFileSync(join(src, 'a.txt'), 'hello maintenance\n');
    const first = await cli(srv, ['backup', `root.pxar:${src}`, '--backup-id', 'mm', '--backup-time', '1800000000']);
    assert.equal(first.code, 0, first.err);

    await admin.put('config/datastore/default', { 'maintenance-mode': 'type=read-only,message=moving disks' });
    const refused = await cli(srv, ['backup', `root.pxar:${src}`, '--backup-id', 'mm', '--backup-time', '1800000100']);
    assert.equal(refused.code, 4, refused.err);
    assert.match(refused.err, /DATASTORE_MAINTENANCE.*read-only for maintenance: moving disks/);
    await assert.rejects(admin.post('admin/datastore/default/gc'), (e) => isHoldfastError(e, 'DATASTORE_MAINTENANCE') && e.details['status'] === 503);
    const listed = await cli(srv, ['snapshot', 'list', '--output-format', 'json']);
    assert.equal(listed.code, 0, listed.err);
    assert.equal((JSON.parse(listed.out) as unknown[]).length, 1);
    const restored = await cli(srv, ['restore', 'host/mm/1800000000', 'root.pxar', join(srv.dir, 'out')]);
    assert.equal(restored.code, 0, restored.err);
    assert.equal(readFileSync(join(srv.dir, 'out', 'a.txt'), 'utf8'), 'hello maintenance\n');

    await admin.put('config/datastore/default', { 'maintenance-mode': 'offline' });
    const offline = await cli(srv, ['snapshot', 'list']);
    assert.equal(offline.code, 4);
    assert.match(offline.err, /DATASTORE_MAINTENANCE.*is offline/);

    await admin.put('config/datastore/default', { delete: 'maintenance-mode' });
    const again = await cli(srv, ['backup', `root.pxar:${src}`, '--backup-id', 'mm', '--backup-time', '1800000200']);
    assert.equal(again.code, 0, again.err);
  } finally {
    await srv.close();
  }
});
