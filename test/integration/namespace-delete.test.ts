/**
 * DELETE /api2/json/admin/datastore/{store}/namespace on a local datastore, through a real server:
 * Datastore.Modify on the parent namespace is needed; a namespace without groups goes with those
 * below it; one with a group (in it or below) is refused with NAMESPACE_NOT_EMPTY (409) and stays;
 * with delete-groups the groups go first; the root is refused. (S3: test/integration/s3-datastore-remove-rgw.test.ts.)
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HttpClient } from '../../src/remote/http-client.ts';
import { describeCli, startTestServer, type TestServer } from '../helpers/server-fixture.ts';

let srv: TestServer;
let admin: HttpClient;
const NS = 'admin/datastore/default/namespace';

const namespaces = async (): Promise<string[]> => ((await admin.get(NS)) as { ns: string }[]).map((n) => n.ns);

before(async () => {
  srv = await startTestServer();
  admin = await srv.admin();
});

after(async () => {
  await srv?.close();
});

test('DELETE …/namespace removes an empty namespace and those below it; the root is refused', async () => {
  await admin.post(NS, { name: 'a' });
  await admin.post(NS, { parent: 'a', name: 'b' });
  await admin.post(NS, { name: 'z' });
  await admin.delete(NS, { ns: 'a' });
  assert.deepEqual(await namespaces(), ['', 'z']);
  await assert.rejects(admin.delete(NS, { ns: '' }), (e: { code?: string }) => e.code === 'INVALID_ARGUMENT');
  await assert.rejects(admin.delete(NS, { ns: 'nope' }), (e: { code?: string }) => e.code === 'NOT_FOUND');
  assert.deepEqual(await namespaces(), ['', 'z']);
});

test('DELETE …/namespace refuses a namespace with a backup group below it (NAMESPACE_NOT_EMPTY) and removes nothing', async () => {
  await admin.post(NS, { name: 'full' });
  await admin.post(NS, { parent: 'full', name: 'inner' });
  const src = join(srv.dir, 'src');
  mkdirSync(src, { recursive: true });
  writeFileSync(join(src, 'f.txt'), 'namespace delete\n');
  const r = await srv.cli(['backup', `root.pxar:${src}`, '--ns', 'full/inner', '--backup-id', 'h']);
  assert.equal(r.code, 0, describeCli(r));
  await assert.rejects(admin.delete(NS, { ns: 'full' }), (e: { code?: string; message?: string }) => e.code === 'NAMESPACE_NOT_EMPTY' && /ns\/full\/inner\/host\/h/.test(e.message ?? ''));
  assert.deepEqual(await namespaces(), ['', 'full', 'full/inner', 'z']);
});

test('DELETE …/namespace with delete-groups removes the groups below it, then the namespaces', async () => {
  await admin.post(NS, { name: 'gone' });
  await admin.post(NS, { parent: 'gone', name: 'inner' });
  const src = join(srv.dir, 'src-gone');
  mkdirSync(src, { recursive: true });
  writeFileSync(join(src, 'f.txt'), 'namespace delete with groups\n');
  const r = await srv.cli(['backup', `root.pxar:${src}`, '--ns', 'gone/inner', '--backup-id', 'h']);
  assert.equal(r.code, 0, describeCli(r));
  const answer = (await admin.delete(NS, { ns: 'gone', 'delete-groups': true })) as Record<string, number>;
  assert.deepEqual(answer, { 'removed-groups': 1, 'removed-snapshots': 1, 'protected-snapshots': 0 });
  assert.deepEqual(await namespaces(), ['', 'full', 'full/inner', 'z']);
});

test('DELETE …/namespace needs Datastore.Modify on the parent namespace', async () => {
  await admin.post('access/users', { userid: 'nsop@pbs', password: 'secret-password-1' });
  await admin.put('access/acl', { path: '/datastore/default/z', role: 'DatastoreAdmin', 'auth-id': 'nsop@pbs' });
  await admin.post(NS, { parent: 'z', name: 'child' });
  const op = srv.http();
  await op.login('nsop@pbs', 'secret-password-1');
  await assert.rejects(op.delete(NS, { ns: 'z' }), (e: { code?: string }) => e.code === 'FORBIDDEN');
  await op.delete(NS, { ns: 'z/child' });
  assert.deepEqual(await namespaces(), ['', 'full', 'full/inner', 'z']);
});
