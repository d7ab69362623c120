/**
 * `holdfast namespace list|create|delete` through the real CLI and server: namespaces made from
 * the command line take backups (`--ns`), are listed, refuse deletion while they hold a group
 * (pointing at --delete-groups) and go with it; a missing parent and an empty name are refused,
 * and listing groups or snapshots of a namespace that does not exist is NOT_FOUND.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliOk, describeCli, startTestServer, type TestServer } from '../helpers/server-fixture.ts';

let srv: TestServer;
let src = '';

before(async () => {
  srv = await startTestServer();
  src = join(srv.dir, 'src');
  mkdirSync(src);
  writeFileSync(join(src, 'a.txt'), 'a\n');
});

after(async () => {
  await srv?.close();
});

async function listed(parent?: string): Promise<string[]> {
  const r = cliOk(await srv.cli(['namespace', 'list', '--output-format', 'json', ...(parent ? ['--ns', parent] : [])]), 'namespace list');
  return (JSON.parse(r.stdout) as { ns: string }[]).map((e) => e.ns);
}

test('holdfast namespace create, list and delete, with a backup in between', { timeout: 120_000 }, async () => {
  const orphan = await srv.cli(['namespace', 'create', 'dept/web']);
  assert.equal(orphan.code, 3, describeCli(orphan));
  assert.match(orphan.stderr, /NOT_FOUND.*parent namespace 'dept'/);

  assert.match(cliOk(await srv.cli(['namespace', 'create', 'dept']), 'create dept').stdout, /created namespace 'dept'/);
  cliOk(await srv.cli(['namespace', 'create', 'web', '--ns', 'dept']), 'create web below dept');
  assert.deepEqual(await listed(), ['', 'dept', 'dept/web']);
  assert.deepEqual(await listed('dept'), ['dept', 'dept/web']);
  assert.match(cliOk(await srv.cli(['namespace', 'list']), 'list as text').stdout, /^\/\ndept\ndept\/web\n?$/);

  cliOk(await srv.cli(['backup', `root.pxar:${src}`, '--backup-id', 'site', '--ns', 'dept/web']), 'backup into dept/web');
  assert.match(cliOk(await srv.cli(['list', '--ns', 'dept/web']), 'list groups').stdout, /host\/site/);

  const refused = await srv.cli(['namespace', 'delete', 'dept']);
  assert.notEqual(refused.code, 0, describeCli(refused));
  assert.match(refused.stderr, /NAMESPACE_NOT_EMPTY.*--delete-groups/);
  assert.deepEqual(await listed(), ['', 'dept', 'dept/web'], 'nothing removed');

  assert.match(cliOk(await srv.cli(['namespace', 'delete', 'dept', '--delete-groups']), 'delete with groups').stdout, /deleted namespace 'dept' \(1 groups, 1 snapshots removed\)/);
  assert.deepEqual(await listed(), ['']);

  // listing a namespace that does not exist is NOT_FOUND (exit 3), not an empty list
  for (const args of [['list', '--ns', 'dept'], ['snapshot', 'list', '--ns', 'dept']]) {
    const gone = await srv.cli(args);
    assert.equal(gone.code, 3, describeCli(gone));
    assert.match(gone.stderr, /NOT_FOUND.*namespace 'dept' does not exist/);
  }

  const unnamed = await srv.cli(['namespace', 'create', '']);
  assert.equal(unnamed.code, 2, describeCli(unnamed));
});
