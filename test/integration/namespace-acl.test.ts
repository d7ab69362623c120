/**
 * Privileges on one namespace reach no further than the ACL says, through the real server: carol
 * is DatastoreAdmin on namespace `team` and NoAccess on `team/locked` below it.
 * - GC (and its status) is the whole datastore's: refused with `ns=team`, as without it;
 * - a prune or verify task over `team` acts in `team` and `team/open`, never in `team/locked`
 *   (its snapshots stay, and unverified);
 * - the namespace listing hides `team/locked`; the datastore's status and usage series are the
 *   whole store's and need a privilege on the datastore itself;
 * - deleting `team` with its groups is refused while `team/locked` is closed to carol (PBS would
 *   remove it), and removes nothing.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { isHoldfastError } from '../../src/core/errors.ts';
import type { HttpClient } from '../../src/remote/http-client.ts';
import { cliOk, startTestServer, type TestServer } from '../helpers/server-fixture.ts';
import { smallSource, tokenClient } from '../helpers/users-fixture.ts';

let srv: TestServer;
let carol: HttpClient;
const STORE = 'admin/datastore/default';

before(async () => {
  srv = await startTestServer();
  const src = smallSource(srv);
  for (const ns of ['team', 'team/locked', 'team/open']) cliOk(await srv.cli(['namespace', 'create', ns]), ns);
  let time = 1_800_000_000;
  for (const ns of ['team/locked', 'team/open']) {
    for (let i = 0; i < 2; i++) cliOk(await srv.cli(['backup', `root.pxar:${src}`, '--ns', ns, '--backup-id', 'web', '--backup-time', String((time += 60))]), `backup into ${ns}`);
  }
  carol = await tokenClient(srv, 'carol@pbs', [
    ['/datastore/default/team', 'DatastoreAdmin'],
    ['/datastore/default/team/locked', 'NoAccess'],
  ]);
});

after(async () => {
  await srv?.close();
});

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return isHoldfastError(e) ? e.code : String(e);
  }
}

async function waitTask(upid: string): Promise<{ status: string; log: string }> {
  const admin = await srv.admin();
  for (;;) {
    const s = (await admin.get(`nodes/localhost/tasks/${encodeURIComponent(upid)}/status`, { wait: 1 })) as { status: string; exitstatus?: string };
    if (s.status === 'stopped') {
      const log = (await admin.get(`nodes/localhost/tasks/${encodeURIComponent(upid)}/log`, { limit: 0 })) as { t: string }[];
      return { status: s.exitstatus ?? '?', log: log.map((l) => l.t).join('\n') };
    }
  }
}

async function snapshotCount(ns: string): Promise<number> {
  return ((await (await srv.admin()).get(`${STORE}/snapshots`, { ns })) as unknown[]).length;
}

test('GC and its status are the datastore\'s: a grant on one namespace does not reach them', async () => {
  assert.equal(await code(carol.post(`${STORE}/gc`, { ns: 'team' })), 'FORBIDDEN');
  assert.equal(await code(carol.post(`${STORE}/gc`)), 'FORBIDDEN');
  assert.equal(await code(carol.get(`${STORE}/gc`, { ns: 'team' })), 'FORBIDDEN');
  assert.equal(await code(carol.get(`${STORE}/status`, { ns: 'team' })), 'FORBIDDEN');
  assert.equal(await code(carol.get(`${STORE}/rrd`, { ns: 'team', timeframe: 'hour', cf: 'AVERAGE' })), 'FORBIDDEN');
});

test('the namespace listing hides what an ACL closes', async () => {
  const listed = ((await carol.get(`${STORE}/namespace`, { parent: 'team' })) as { ns: string }[]).map((n) => n.ns).sort();
  assert.deepEqual(listed, ['team', 'team/open']);
});

test('a prune or verify over a namespace tree skips the namespaces the caller may not touch', { timeout: 120_000 }, async () => {
  const prune = await waitTask((await carol.post(`${STORE}/prune-datastore`, { ns: 'team', 'keep-last': 1 })) as string);
  assert.equal(prune.status, 'WARNINGS: 1', prune.log); // the skip is the one warning
  assert.equal(await snapshotCount('team/open'), 1, 'pruned where carol may');
  assert.equal(await snapshotCount('team/locked'), 2, 'nothing removed where carol may not');
  assert.match(prune.log, /skipped 1 namespace\(s\)/);
  assert.doesNotMatch(prune.log, /locked/, 'the closed namespace is not even named');

  const verify = await waitTask((await carol.post(`${STORE}/verify`, { ns: 'team' })) as string);
  assert.equal(verify.status, 'WARNINGS: 1', verify.log);
  assert.doesNotMatch(verify.log, /locked/);
  assert.match(verify.log, /team\/open/);
});

test('deleting a namespace tree with its groups needs Datastore.Modify on every namespace in it', async () => {
  assert.equal(await code(carol.delete(`${STORE}/namespace`, { ns: 'team', 'delete-groups': true })), 'FORBIDDEN');
  assert.equal(await snapshotCount('team/locked'), 2, 'nothing removed');
  assert.equal(await snapshotCount('team/open'), 1);
});
